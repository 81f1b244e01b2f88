// Command tollkeys is tollkeys itself: cmd/tollkeys, a launcher that
// compiles in seconds, builds it into the module's .tollgate/bin and
// becomes it (internal/launch). Its documentation is cmd/tollkeys's.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"tollgate/authorizer"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, time.Now))
}

// usage is printed for -h and for a wrong command line.
const usage = `usage: tollkeys COMMAND [flags] FILE|dynamodb:TABLE
commands: new, rotate, remove, disable, enable, list, import, export, digest, check, scan, refresh, usage, last-used
(go doc tollgate/cmd/tollkeys for the details)
`

// commandFlags are the flags of the commands that change keys.
type commandFlags struct {
	id, routes, expires string
	grace               time.Duration
	endpoint, region    string
	from, to            string
}

// run is the command; it returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, now func() time.Time) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stderr, usage)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd := args[0]
	switch cmd {
	case "refresh":
		return refreshCommand(args[1:], stdout, stderr, now)
	case "usage":
		return usageCommand(args[1:], stdout, stderr, now)
	case "last-used":
		return lastUsedCommand(args[1:], stdout, stderr, now)
	}
	fs := flag.NewFlagSet("tollkeys "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var f commandFlags
	fs.StringVar(&f.id, "id", "", "the client's id")
	fs.StringVar(&f.routes, "routes", "", "new: comma-separated routes the key is limited to, like 'GET /orders/*,POST /orders'")
	fs.StringVar(&f.expires, "expires", "", "new: when the key stops, RFC 3339")
	fs.DurationVar(&f.grace, "grace", 0, "rotate: how long the replaced key, and at most any older one, keeps working")
	fs.StringVar(&f.endpoint, "endpoint", "", "dynamodb:TABLE: DynamoDB's endpoint (default AWS_ENDPOINT_URL_DYNAMODB, else the Region's)")
	fs.StringVar(&f.region, "region", "", "dynamodb:TABLE: AWS Region (default: the AWS configuration's)")
	fs.StringVar(&f.from, "from", "", "import: the keyring file to import")
	fs.StringVar(&f.to, "to", "", "export: the keyring file to write")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if cmd == "scan" {
		return scan(fs.Args(), stdin, stdout, stderr)
	}
	if fs.NArg() != 1 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	path := fs.Arg(0)
	err := func() error {
		if f.grace < 0 {
			return errors.New("-grace cannot be negative")
		}
		if _, ok := tableName(path); ok {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			return tableCommand(ctx, cmd, path, f, stdout, now())
		}
		switch cmd {
		case "new":
			k, err := newEntry(f.id, f.routes, f.expires)
			if err != nil {
				return err
			}
			return edit(path, true, stdout, func(kr *authorizer.Keyring) (string, error) { return add(kr, k) })
		case "rotate":
			return edit(path, false, stdout, func(kr *authorizer.Keyring) (string, error) { return rotate(kr, f.id, f.grace, now()) })
		case "remove", "disable", "enable":
			return edit(path, false, stdout, func(kr *authorizer.Keyring) (string, error) { return "", change(kr, cmd, f.id) })
		case "digest":
			return edit(path, false, stdout, func(kr *authorizer.Keyring) (string, error) {
				*kr = kr.ToDigests()
				return "", nil
			})
		case "check":
			return check(path, stdout)
		case "list":
			kr, _, err := readKeyringFile(path)
			if err != nil {
				return err
			}
			printList(stdout, kr, now())
			return nil
		case "import", "export":
			return fmt.Errorf("%s works on a key table (%sTABLE), not on a keyring file", cmd, TablePrefix)
		}
		fmt.Fprint(stderr, usage)
		return errUsage
	}()
	switch {
	case errors.Is(err, errUsage):
		return 2
	case err != nil:
		fmt.Fprintln(stderr, "tollkeys:", err)
		return 1
	}
	return 0
}

var errUsage = errors.New("usage")

// newEntry is the keyring entry of tollkeys new's flags, before its key.
func newEntry(id, routes, expires string) (authorizer.Key, error) {
	k := authorizer.Key{ID: id}
	if routes != "" {
		for r := range strings.SplitSeq(routes, ",") {
			k.Routes = append(k.Routes, strings.TrimSpace(r))
		}
	}
	if expires != "" {
		t, err := time.Parse(time.RFC3339, expires)
		if err != nil {
			return k, fmt.Errorf("-expires: want RFC 3339, like 2027-06-30T00:00:00Z")
		}
		k.Expires = &t
	}
	return k, nil
}

// readKeyringFile reads and validates the keyring file at path.
func readKeyringFile(path string) (authorizer.Keyring, []byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return authorizer.Keyring{}, nil, err
	}
	kr, err := authorizer.ParseKeyring(b)
	return kr, b, err
}

// check validates the keyring at path and names the clients whose keys
// are stored in plain.
func check(path string, stdout io.Writer) error {
	kr, b, err := readKeyringFile(path)
	if err != nil {
		return err
	}
	if err := authorizer.CheckKeyringSize(len(b), len(kr.Keys)); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d clients, valid, %d of the secret's %d bytes\n", path, len(kr.Keys), len(b), authorizer.MaxKeyringBytes)
	for _, k := range kr.Keys {
		if k.Key != "" {
			fmt.Fprintf(stdout, "client %q: a plain key; store its digest with: tollkeys digest %s\n", k.ID, path)
		}
	}
	return nil
}

// edit reads the keyring at path (an empty one if create and the file does
// not exist), applies fn, validates the result and writes it back. A key
// fn returns is printed once, after the file is written.
func edit(path string, create bool, stdout io.Writer, fn func(*authorizer.Keyring) (string, error)) error {
	var kr authorizer.Keyring
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist) && create:
	case err != nil:
		return err
	default:
		if kr, err = authorizer.ParseKeyring(b); err != nil {
			return err
		}
	}
	key, err := fn(&kr)
	if err != nil {
		return err
	}
	if err := kr.Validate(); err != nil {
		return err
	}
	out, err := json.MarshalIndent(kr, "", "  ")
	if err != nil {
		return err
	}
	if len(out)+1 > authorizer.MaxKeyringBytes {
		// Without the indentation more clients fit; past that, the
		// secret cannot hold it, and AWS would refuse it at the put.
		if out, err = json.Marshal(kr); err != nil {
			return err
		}
		if err := authorizer.CheckKeyringSize(len(out)+1, len(kr.Keys)); err != nil {
			return err
		}
	}
	if err := writeFile(path, append(out, '\n')); err != nil {
		return err
	}
	if key != "" {
		fmt.Fprintf(stdout, "%s\n", key)
	}
	return nil
}

// writeFile replaces path with data atomically, mode 0600.
func writeFile(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".tollkeys-*")
	if err != nil {
		return err
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if err := f.Chmod(0o600); err != nil {
		_ = f.Close()
		return err
	}
	if _, err := f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

func find(kr *authorizer.Keyring, id string) (int, error) {
	if id == "" {
		return 0, errors.New("-id is required")
	}
	if err := authorizer.ValidateID(id); err != nil {
		return 0, fmt.Errorf("-id: %w", err) // not quoted: it may be a key pasted there
	}
	i := slices.IndexFunc(kr.Keys, func(k authorizer.Key) bool { return k.ID == id })
	if i < 0 {
		return 0, fmt.Errorf("no client %q in the keyring", id)
	}
	return i, nil
}

// add adds client k with a new key, and returns the key.
func add(kr *authorizer.Keyring, k authorizer.Key) (string, error) {
	if k.ID == "" {
		return "", errors.New("-id is required")
	}
	if err := authorizer.ValidateID(k.ID); err != nil {
		return "", fmt.Errorf("-id: %w", err) // not quoted: it may be a key pasted there
	}
	if slices.ContainsFunc(kr.Keys, func(o authorizer.Key) bool { return o.ID == k.ID }) {
		return "", fmt.Errorf("client %q exists: rotate its key instead", k.ID)
	}
	key := authorizer.NewKey()
	k.SHA256 = authorizer.Digest(key)
	kr.Keys = append(kr.Keys, k)
	return key, nil
}

// rotate gives client id a new key and returns it. The replaced key keeps
// working until now + grace, and so at most does every older one: the
// grace bounds them all, so that -grace 0 (after a leak, say) leaves the
// new key alone working. Previous keys past their grace are dropped.
func rotate(kr *authorizer.Keyring, id string, grace time.Duration, now time.Time) (string, error) {
	i, err := find(kr, id)
	if err != nil {
		return "", err
	}
	k := &kr.Keys[i]
	old := k.SHA256
	if old == "" {
		old = authorizer.Digest(k.Key)
	}
	until := now.Add(grace).UTC().Truncate(time.Second)
	for i, p := range k.Previous {
		if p.Until.After(until) {
			k.Previous[i].Until = until
		}
	}
	k.Previous = slices.DeleteFunc(k.Previous, func(p authorizer.PreviousKey) bool { return !now.Before(p.Until) })
	if grace > 0 {
		k.Previous = append(k.Previous, authorizer.PreviousKey{SHA256: old, Until: until})
	}
	key := authorizer.NewKey()
	k.SHA256, k.Key = authorizer.Digest(key), ""
	if len(k.Previous) == 0 {
		k.Previous = nil
	}
	return key, nil
}

// change removes, disables or enables client id.
func change(kr *authorizer.Keyring, what, id string) error {
	i, err := find(kr, id)
	if err != nil {
		return err
	}
	switch what {
	case "remove":
		if len(kr.Keys) == 1 {
			return errors.New("the keyring's last client cannot be removed (a keyring with no keys is invalid): disable it")
		}
		kr.Keys = slices.Delete(kr.Keys, i, i+1)
	case "disable":
		kr.Keys[i].Disabled = true
	case "enable":
		kr.Keys[i].Disabled = false
	}
	return nil
}

var keyPattern = regexp.MustCompile(authorizer.KeyPattern)

// scan reports every tollgate key in files (stdin without any) by place.
func scan(files []string, stdin io.Reader, stdout, stderr io.Writer) int {
	found := 0
	one := func(name string, r io.Reader) error {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for n := 1; sc.Scan(); n++ {
			for _, m := range keyPattern.FindAll(sc.Bytes(), -1) {
				if authorizer.CheckKey(m) {
					found++
					fmt.Fprintf(stdout, "%s:%d: a tollgate key (%s…)\n", name, n, m[:len(authorizer.KeyPrefix)])
				}
			}
		}
		return sc.Err()
	}
	if len(files) == 0 {
		if err := one("stdin", stdin); err != nil {
			fmt.Fprintln(stderr, "tollkeys:", err)
			return 2
		}
	}
	for _, f := range files {
		h, err := os.Open(f)
		if err == nil {
			err = one(f, h)
			_ = h.Close()
		}
		if err != nil {
			fmt.Fprintln(stderr, "tollkeys:", err)
			return 2
		}
	}
	if found > 0 {
		return 1
	}
	return 0
}

package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"tollgate/authorizer"
	"tollgate/internal/keytable"
)

// TablePrefix marks a key table where a keyring file is named:
// dynamodb:TABLE.
const TablePrefix = "dynamodb:"

// tableName is the table path names, if it names one.
func tableName(path string) (string, bool) {
	name, ok := strings.CutPrefix(path, TablePrefix)
	return name, ok && name != ""
}

// keyTable is a key table tollkeys changes.
type keyTable struct {
	c    *authorizer.DynamoDBClient
	name string
}

// openTable is a client of table with the AWS configuration's Region and
// credentials (the SDK's chain: AWS_PROFILE, the AWS_* variables, SSO…),
// at endpoint, else AWS_ENDPOINT_URL_DYNAMODB or AWS_ENDPOINT_URL (the
// SDK's variables: a local DynamoDB, or moto), else DynamoDB's endpoint in
// the Region.
func openTable(ctx context.Context, table, endpoint, region string) (*keyTable, error) {
	var opts []func(*config.LoadOptions) error
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	// An emulator (moto_server, DynamoDB Local) takes any Region and
	// credentials: without AWS configuration, stand-ins do.
	emulated := cmp.Or(endpoint, os.Getenv(authorizer.EnvAWSEndpointDynamoDB), os.Getenv(authorizer.EnvAWSEndpointAll))
	if cfg.Region == "" && emulated != "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Region == "" {
		return nil, errors.New("no AWS Region: set AWS_REGION, or give -region")
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	switch {
	case err != nil && emulated != "":
		creds = aws.Credentials{AccessKeyID: "tollgate-local", SecretAccessKey: "tollgate-local"}
	case err != nil:
		return nil, fmt.Errorf("AWS credentials: %w", err)
	}
	endpoint = cmp.Or(emulated, authorizer.DynamoDBEndpoint(cfg.Region))
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: want an http or https URL", endpoint)
	}
	return &keyTable{c: authorizer.NewDynamoDBClient(endpoint, cfg.Region, creds, &http.Client{Timeout: 30 * time.Second}), name: table}, nil
}

// client reads client id's items as a keyring of that client alone
// (empty when the table has none), refusing a client the stack manages.
func (t *keyTable) client(ctx context.Context, id string) ([]authorizer.KeyItem, authorizer.Keyring, error) {
	if id == "" {
		return nil, authorizer.Keyring{}, errors.New("-id is required")
	}
	if err := authorizer.ValidateID(id); err != nil {
		return nil, authorizer.Keyring{}, fmt.Errorf("-id: %w", err) // not quoted: it may be a key pasted there
	}
	items, err := keytable.Client(ctx, t.c, t.name, id)
	if err != nil {
		return nil, authorizer.Keyring{}, err
	}
	for _, it := range items {
		if it.Stack != "" {
			return nil, authorizer.Keyring{}, fmt.Errorf("client %q is stack %s's (tollgate:clients): change it in Pulumi.%s.yaml and pulumi up", id, it.Stack, it.Stack)
		}
	}
	kr, err := keytable.Keyring(items)
	return items, kr, err
}

// edit is the table's edit (main.go's for a file): fn changes the keyring
// of client id alone, and the client's items become the result's, in one
// transaction. A key fn returns is printed once, after the write.
func (t *keyTable) edit(ctx context.Context, id string, stdout io.Writer, fn func(*authorizer.Keyring) (string, error)) error {
	before, kr, err := t.client(ctx, id)
	if err != nil {
		return err
	}
	key, err := fn(&kr)
	if err != nil {
		return err
	}
	var after []authorizer.KeyItem
	if len(kr.Keys) > 0 {
		if after, err = authorizer.KeyItems(kr); err != nil {
			return err
		}
	}
	if err := keytable.Replace(ctx, t.c, t.name, before, after); err != nil {
		return err
	}
	if key != "" {
		fmt.Fprintf(stdout, "%s\n", key)
	}
	return nil
}

// tableCommand runs cmd on the table named by path.
func tableCommand(ctx context.Context, cmd, path string, f commandFlags, stdout io.Writer, now time.Time) error {
	name, _ := tableName(path)
	t, err := openTable(ctx, name, f.endpoint, f.region)
	if err != nil {
		return err
	}
	switch cmd {
	case "new":
		k, err := newEntry(f.id, f.routes, f.expires)
		if err != nil {
			return err
		}
		return t.edit(ctx, k.ID, stdout, func(kr *authorizer.Keyring) (string, error) {
			if len(kr.Keys) > 0 {
				return "", fmt.Errorf("client %q exists: rotate its key instead", k.ID)
			}
			return add(kr, k)
		})
	case "rotate":
		return t.edit(ctx, f.id, stdout, func(kr *authorizer.Keyring) (string, error) {
			if len(kr.Keys) == 0 {
				return "", fmt.Errorf("no client %q in the table", f.id)
			}
			return rotate(kr, f.id, f.grace, now)
		})
	case "remove", "disable", "enable":
		return t.edit(ctx, f.id, stdout, func(kr *authorizer.Keyring) (string, error) {
			if len(kr.Keys) == 0 {
				return "", fmt.Errorf("no client %q in the table", f.id)
			}
			if cmd == "remove" { // a table may hold no client: no last-client rule
				kr.Keys = nil
				return "", nil
			}
			return "", change(kr, cmd, f.id)
		})
	case "list":
		kr, err := t.keyring(ctx)
		if err != nil {
			return err
		}
		printList(stdout, kr, now)
		return nil
	case "import":
		return t.importKeyring(ctx, f.from, stdout)
	case "export":
		return t.export(ctx, f.to, stdout)
	}
	return fmt.Errorf("%s works on a keyring file, not on a table", cmd)
}

// keyring is the whole table as a keyring.
func (t *keyTable) keyring(ctx context.Context) (authorizer.Keyring, error) {
	items, err := keytable.All(ctx, t.c, t.name)
	if err != nil {
		return authorizer.Keyring{}, err
	}
	return keytable.Keyring(items)
}

// importKeyring writes the keyring file from into the table: every
// client's keys, its keys in their grace too, plain keys as digests. A
// client the table already holds with the same keys is left as it is
// (an import can be run again); one it holds with other keys stops the
// import before anything is written.
func (t *keyTable) importKeyring(ctx context.Context, from string, stdout io.Writer) error {
	if from == "" {
		return errors.New("-from FILE is required: the keyring to import")
	}
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	kr, err := authorizer.ParseKeyring(b)
	if err != nil {
		return fmt.Errorf("%s: %w", from, err)
	}
	items, err := authorizer.KeyItems(kr)
	if err != nil {
		return err
	}
	have, err := keytable.All(ctx, t.c, t.name)
	if err != nil {
		return err
	}
	held := map[string][]string{}
	for _, it := range have {
		held[it.ID] = append(held[it.ID], it.SHA256)
	}
	byID := map[string][]authorizer.KeyItem{}
	for _, it := range items {
		byID[it.ID] = append(byID[it.ID], it)
	}
	var put []authorizer.KeyItem
	same := 0
	for _, k := range kr.Keys {
		h, w := held[k.ID], []string(nil)
		for _, it := range byID[k.ID] {
			w = append(w, it.SHA256)
		}
		slices.Sort(h)
		slices.Sort(w)
		switch {
		case len(h) == 0:
		case slices.Equal(h, w):
			same++
			continue
		default:
			return fmt.Errorf("client %q is in the table with other keys: nothing imported (tollkeys remove -id %s %s%s first, to replace it)", k.ID, k.ID, TablePrefix, t.name)
		}
		put = append(put, byID[k.ID]...)
	}
	if err := keytable.Put(ctx, t.c, t.name, put); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s%s: %d clients imported (%d keys), %d already there\n", TablePrefix, t.name, len(kr.Keys)-same, len(put), same)
	return nil
}

// export writes the table's clients, but the stack's own, as a keyring
// file (to), which must not exist: the way from the table back to a
// keyring, checked against the secret's size.
func (t *keyTable) export(ctx context.Context, to string, stdout io.Writer) error {
	if to == "" {
		return errors.New("-to FILE is required: the keyring file to write")
	}
	items, err := keytable.All(ctx, t.c, t.name)
	if err != nil {
		return err
	}
	items = slices.DeleteFunc(items, func(it authorizer.KeyItem) bool { return it.Stack != "" })
	kr, err := keytable.Keyring(items)
	if err != nil {
		return err
	}
	if _, err := os.Stat(to); err == nil {
		return fmt.Errorf("%s exists: export writes a new file", to)
	}
	if len(kr.Keys) == 0 {
		return errors.New("the table holds no client of its own (the stack's come back from its settings): nothing to export")
	}
	if err := edit(to, true, io.Discard, func(out *authorizer.Keyring) (string, error) { *out = kr; return "", nil }); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %d clients from %s%s\n", to, len(kr.Keys), TablePrefix, t.name)
	return nil
}

// printList prints a keyring's clients, one a line, by id: the same for a
// file and a table.
func printList(w io.Writer, kr authorizer.Keyring, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CLIENT\tSTATE\tROUTES\tEXPIRES\tKEYS IN GRACE")
	keys := slices.SortedFunc(slices.Values(kr.Keys), func(a, b authorizer.Key) int { return strings.Compare(a.ID, b.ID) })
	for _, k := range keys {
		state := "enabled"
		switch {
		case k.Disabled:
			state = "disabled"
		case k.Expires != nil && !now.Before(*k.Expires):
			state = "expired"
		}
		routes := "all"
		if len(k.Routes) > 0 {
			routes = strings.Join(k.Routes, ", ")
		}
		expires := "never"
		if k.Expires != nil {
			expires = k.Expires.UTC().Format(time.RFC3339)
		}
		grace := "none"
		var until []string
		for _, p := range k.Previous {
			if now.Before(p.Until) {
				until = append(until, "until "+p.Until.UTC().Format(time.RFC3339))
			}
		}
		if len(until) > 0 {
			grace = strings.Join(until, ", ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.ID, state, routes, expires, grace)
	}
	_ = tw.Flush()
}

package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tollgate/authorizer"
	"tollgate/internal/keytable"
	"tollgate/internal/testkit/motoserver"
)

// tableOnMoto creates a key table on a moto of its own and points
// tollkeys's AWS configuration at it; it returns the table's target and
// a client of it.
func tableOnMoto(t *testing.T) (string, *authorizer.DynamoDBClient) {
	t.Helper()
	moto := motoserver.Start(t)
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB": moto.URL, "AWS_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
	} {
		t.Setenv(k, v)
	}
	c := keytable.Local(moto.URL)
	if err := keytable.Create(context.Background(), c, "keys"); err != nil {
		t.Fatal(err)
	}
	return TablePrefix + "keys", c
}

// decideTable asks an authorizer reading the table alone about key.
func decideTable(t *testing.T, c *authorizer.DynamoDBClient, key string) error {
	t.Helper()
	a, err := authorizer.New(authorizer.Config{KeyTable: &authorizer.KeyTable{Name: "keys", Client: c}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = a.Invoke(context.Background(), []byte(`{"type":"TOKEN","authorizationToken":"Bearer `+key+`","methodArn":"arn:aws:execute-api:us-east-1:123456789012:abc/dev/GET/hello"}`))
	return err
}

// The same commands on a keyring file and on a table: each prints the
// same (a new key once, on stdout, and nothing else), lists the same, and
// leaves keys that the authorizer answers the same from either store.
func TestTableCommandsMatchTheFiles(t *testing.T) {
	table, c := tableOnMoto(t)
	file := filepath.Join(t.TempDir(), "keyring.json")
	keys := map[string]map[string]string{file: {}, table: {}}
	for _, target := range []string{file, table} {
		for _, step := range []struct {
			args   []string
			newKey string // the client whose key the step prints
		}{
			{[]string{"new", "-id", "reports", "-routes", "GET /customers"}, "reports"},
			{[]string{"new", "-id", "mobile"}, "mobile"},
			{[]string{"new", "-id", "gone"}, "gone"},
			{[]string{"rotate", "-id", "mobile", "-grace", "24h"}, "mobile"},
			{[]string{"disable", "-id", "reports"}, ""},
			{[]string{"enable", "-id", "reports"}, ""},
			{[]string{"disable", "-id", "reports"}, ""},
			{[]string{"remove", "-id", "gone"}, ""},
		} {
			old := keys[target][step.newKey]
			code, out, errOut := tollkeys(t, "", append(step.args, target)...)
			if code != 0 || errOut != "" {
				t.Fatalf("%s %v: exit %d, %s", target, step.args, code, errOut)
			}
			if step.newKey == "" {
				if out != "" {
					t.Errorf("%s %v printed %q", target, step.args, out)
				}
				continue
			}
			key := strings.TrimSpace(out)
			if !authorizer.CheckKey(key) || out != key+"\n" {
				t.Fatalf("%s %v printed %q, want a key alone", target, step.args, out)
			}
			keys[target][step.newKey] = key
			if old != "" {
				keys[target]["old "+step.newKey] = old
			}
		}
	}
	_, fileList, _ := tollkeys(t, "", "list", file)
	code, tableList, errOut := tollkeys(t, "", "list", table)
	if code != 0 || tableList != fileList {
		t.Errorf("list: the table's (exit %d, %s)\n%s\nthe file's\n%s", code, errOut, tableList, fileList)
	}
	if !strings.Contains(fileList, "disabled") || !strings.Contains(fileList, "until ") || strings.Contains(fileList, "gone") {
		t.Errorf("list misses a state:\n%s", fileList)
	}
	// The authorizer's answers, key by key, from each store.
	for name, want := range map[string]error{"mobile": nil, "old mobile": nil, "reports": authorizer.ErrUnauthorized, "gone": authorizer.ErrUnauthorized} {
		if err := decide(t, file, keys[file][name]); !errors.Is(err, want) {
			t.Errorf("file, %s: %v, want %v", name, err, want)
		}
		if err := decideTable(t, c, keys[table][name]); !errors.Is(err, want) {
			t.Errorf("table, %s: %v, want %v", name, err, want)
		}
	}
	// A client twice, a client not there: refused, as for a file.
	if code, _, errOut := tollkeys(t, "", "new", "-id", "mobile", table); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("new of an existing client: exit %d, %s", code, errOut)
	}
	if code, _, errOut := tollkeys(t, "", "rotate", "-id", "nobody", table); code != 1 || !strings.Contains(errOut, `no client "nobody"`) {
		t.Errorf("rotate of no client: exit %d, %s", code, errOut)
	}
}

// import writes a keyring into the table (again: nothing changes), and
// export writes the table's own clients back as a keyring file; a client
// the stack manages is left to the stack.
func TestImportExport(t *testing.T) {
	table, c := tableOnMoto(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "keyring.json")
	var keys []string
	for _, id := range []string{"a", "b", "c"} {
		_, out, _ := tollkeys(t, "", "new", "-id", id, file)
		keys = append(keys, strings.TrimSpace(out))
	}
	tollkeys(t, "", "rotate", "-id", "b", "-grace", "1h", file)
	for range 2 {
		if code, out, errOut := tollkeys(t, "", "import", "-from", file, table); code != 0 || !strings.Contains(out, "clients imported") {
			t.Fatalf("import: exit %d, %s %s", code, out, errOut)
		}
	}
	_, out, _ := tollkeys(t, "", "import", "-from", file, table)
	if !strings.Contains(out, "0 clients imported (0 keys), 3 already there") {
		t.Errorf("a second import: %s", out)
	}
	for _, k := range keys {
		if err := decideTable(t, c, k); err != nil {
			t.Errorf("an imported key: %v", err)
		}
	}
	stack := authorizer.KeyItem{SHA256: authorizer.Digest(authorizer.NewKey()), ID: "default", Stack: "dev"}
	if err := keytable.Put(context.Background(), c, "keys", []authorizer.KeyItem{stack}); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := tollkeys(t, "", "rotate", "-id", "default", table); code != 1 || !strings.Contains(errOut, "Pulumi.dev.yaml") {
		t.Errorf("rotating the stack's client: exit %d, %s", code, errOut)
	}
	back := filepath.Join(dir, "back.json")
	if code, _, errOut := tollkeys(t, "", "export", "-to", back, table); code != 0 {
		t.Fatalf("export: %s", errOut)
	}
	_, fileList, _ := tollkeys(t, "", "list", file)
	_, backList, _ := tollkeys(t, "", "list", back)
	if fileList != backList {
		t.Errorf("exported\n%s\nimported\n%s", backList, fileList)
	}
	if code, _, errOut := tollkeys(t, "", "export", "-to", back, table); code != 1 || !strings.Contains(errOut, "exists") {
		t.Errorf("export over a file: exit %d, %s", code, errOut)
	}
	// Another client's keys under an imported id: nothing written.
	other := filepath.Join(dir, "other.json")
	tollkeys(t, "", "new", "-id", "a", other)
	tollkeys(t, "", "new", "-id", "z", other)
	if code, _, errOut := tollkeys(t, "", "import", "-from", other, table); code != 1 || !strings.Contains(errOut, `client "a" is in the table with other keys`) {
		t.Errorf("a conflicting import: exit %d, %s", code, errOut)
	}
	if items, _ := keytable.Client(context.Background(), c, "keys", "z"); len(items) != 0 {
		t.Error("a refused import wrote a client")
	}
}

// On a fresh machine, with no AWS configuration at all, tollkeys still
// reaches an emulator named by -endpoint (the local run's walkthrough,
// docs/running-locally.md), and says what is missing for AWS itself.
func TestTableWithoutAWSConfiguration(t *testing.T) {
	moto := motoserver.Start(t)
	if err := keytable.Create(context.Background(), keytable.Local(moto.URL), "keys"); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(t.TempDir(), "none")
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code, out, errOut := tollkeys(t, "", "new", "-id", "reports", "-endpoint", moto.URL, TablePrefix+"keys")
	if code != 0 || !authorizer.CheckKey(strings.TrimSpace(out)) {
		t.Fatalf("new on an emulator: exit %d, %q, %s", code, out, errOut)
	}
	if code, _, errOut := tollkeys(t, "", "list", TablePrefix+"keys"); code != 1 || !strings.Contains(errOut, "Region") {
		t.Errorf("AWS itself without a Region: exit %d, %s", code, errOut)
	}
}

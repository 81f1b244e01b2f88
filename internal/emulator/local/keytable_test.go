package local

import (
	"bytes"
	"context"
	"regexp"
	"testing"
	"time"

	"tollgate/authorizer"
	"tollgate/internal/keytable"
	"tollgate/internal/testkit/motoserver"
	"tollgate/internal/testkit/waitfor"
)

// The local run with -keystore dynamodb: the same authorizer binary reads
// keys from a key table at a DynamoDB endpoint (moto): the table created
// and given a development key when missing, keys added to it later work
// (a key unknown a moment ago too, once its not-found answer expires),
// a disabled client is refused within the key TTL, route limits hold.
func TestLocalKeyTable(t *testing.T) {
	moto := motoserver.Start(t)
	var out bytes.Buffer
	m := start(t, func(c *Config) {
		c.KeysFile = ""
		c.KeyTable, c.KeyTableEndpoint = "local-keys", moto.URL
		c.AuthorizerEnv = map[string]string{"TOLLGATE_KEY_TTL": "1s", "TOLLGATE_NEGATIVE_TTL": "1s"}
		zero := time.Duration(0)
		c.TTL = &zero
		c.Out = &out
	})
	dev := regexp.MustCompile(`export TOLLGATE_KEY=(\S+)`).FindStringSubmatch(out.String())
	if dev == nil {
		t.Fatalf("no development key printed:\n%s", out.String())
	}
	want(t, send(t, m, "GET", "/hello", "Bearer "+dev[1], ""), 200, "local-dev", "")

	c := keytable.Local(moto.URL)
	want(t, send(t, m, "GET", "/hello", "Bearer "+mobileKey, ""), 401, "UNAUTHORIZED", "Unauthorized")
	items, err := authorizer.KeyItems(authorizer.Keyring{Keys: []authorizer.Key{
		{ID: "mobile-app", SHA256: authorizer.Digest(mobileKey)},
		{ID: "orders-bot", SHA256: authorizer.Digest(ordersKey), Routes: []string{"POST /orders"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if err := keytable.Put(context.Background(), c, "local-keys", items); err != nil {
		t.Fatal(err)
	}
	waitfor.Eventually(t, 30*time.Second, 200*time.Millisecond, status(m, "/hello", "Bearer "+mobileKey, 200))
	want(t, send(t, m, "GET", "/hello", "Bearer "+ordersKey, ""), 403, "ACCESS_DENIED", "User is not authorized to access this resource")

	mobile, err := keytable.Client(context.Background(), c, "local-keys", "mobile-app")
	if err != nil || len(mobile) != 1 {
		t.Fatalf("%v %v", mobile, err)
	}
	disabled := mobile[0]
	disabled.Disabled = true
	if err := keytable.Replace(context.Background(), c, "local-keys", mobile, []authorizer.KeyItem{disabled}); err != nil {
		t.Fatal(err)
	}
	waitfor.Eventually(t, 30*time.Second, 200*time.Millisecond, status(m, "/hello", "Bearer "+mobileKey, 401))
}

// A key table needs its endpoint, and excludes the keyring's options.
func TestLocalKeyTableSettings(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no endpoint":  {KeyTable: "k"},
		"bad endpoint": {KeyTable: "k", KeyTableEndpoint: "localhost:8000"},
		"keys file":    {KeyTable: "k", KeyTableEndpoint: "http://127.0.0.1:1", KeysFile: "keyring.json"},
	} {
		cfg.BinDir, cfg.StateDir = t.TempDir(), t.TempDir()
		if err := fill(&cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

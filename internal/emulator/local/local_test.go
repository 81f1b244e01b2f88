//go:build unix

package local

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"tollgate/api"
	"tollgate/authorizer"
)

// The first run makes a key, shows it once and keeps it private; later
// runs use it without showing it.
func TestDevelopmentKeyring(t *testing.T) {
	state := t.TempDir()
	run := func() string {
		var out strings.Builder
		m, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", BinDir: binDir, StateDir: state, Out: &out, Getenv: func(string) string { return "" }})
		if err != nil {
			t.Fatal(err)
		}
		m.Routes(&out)
		if a := send(t, m, "GET", "/health", "", ""); a.status != 200 {
			t.Fatalf("GET /health = %d", a.status)
		}
		_ = m.Close()
		return out.String()
	}
	first := run()
	key := regexp.MustCompile(`export TOLLGATE_KEY=(` + authorizer.KeyPattern + `)\n`).FindStringSubmatch(first)
	if key == nil {
		t.Fatalf("first run did not show a key:\n%s", first)
	}
	path := filepath.Join(state, "keyring.json")
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("keyring file: %v, mode %v; want 0600", err, info.Mode())
	}
	b, _ := os.ReadFile(path)
	kr, err := authorizer.ParseKeyring(b)
	// The file holds the key's digest only: a reader of it cannot call
	// the API.
	if err != nil || len(kr.Keys) != 1 || kr.Keys[0].Key != "" || kr.Keys[0].SHA256 != authorizer.Digest(key[1]) || kr.Keys[0].ID != "local-dev" ||
		strings.Contains(string(b), key[1]) || !authorizer.CheckKey(key[1]) {
		t.Fatalf("keyring file = %s, %v", b, err)
	}
	second := run()
	if strings.Contains(second, key[1]) {
		t.Fatalf("second run showed the key again:\n%s", second)
	}
	for _, line := range []string{
		`curl -i -H "Authorization: Bearer $TOLLGATE_KEY" http://127.0.0.1:`,
		`curl -i -X POST -H "Authorization: Bearer $TOLLGATE_KEY" -H "Content-Type: application/json" -d '{}' http://127.0.0.1:`,
		`curl -i http://127.0.0.1:`,
	} {
		if !strings.Contains(second, line) {
			t.Errorf("routes do not show %q:\n%s", line, second)
		}
	}
}

func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	_, err = Start(context.Background(), Config{Addr: ln.Addr().String(), BinDir: binDir, StateDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "listen on "+ln.Addr().String()) || !strings.Contains(err.Error(), "-addr") {
		t.Fatalf("Start on a busy port = %v", err)
	}
}

func TestInvalidKeysFile(t *testing.T) {
	keys := filepath.Join(t.TempDir(), "keys.json")
	if err := os.WriteFile(keys, []byte(`{"keys":[{"id":"weak","key":"hunter2"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Start(context.Background(), Config{Addr: "127.0.0.1:0", BinDir: binDir, StateDir: t.TempDir(), KeysFile: keys})
	if err == nil || !strings.Contains(err.Error(), `key "weak"`) || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("Start with a weak key = %v, want an error naming the key by id only", err)
	}
}

// Close (what Ctrl-C runs) leaves no function process behind.
func TestCloseStopsEveryProcess(t *testing.T) {
	m := start(t, nil)
	want(t, send(t, m, "GET", "/hello", "Bearer "+mobileKey, ""), 200, "mobile-app", "")
	var pids []int
	for _, name := range m.FunctionNames() {
		p := m.Pool(name)
		pids = append(pids, p.PIDs()...)
	}
	if len(pids) != 2 {
		t.Fatalf("%d function processes running, want 2", len(pids))
	}
	_ = m.Close()
	for _, pid := range pids {
		if syscall.Kill(pid, 0) == nil {
			t.Errorf("process %d still running after Close", pid)
		}
	}
	if _, err := trySend(m, "GET", "/health", "", ""); err == nil {
		t.Error("the gateway still answers after Close")
	}
}

// With -secrets-endpoint aws, the authorizer gets the user's credentials
// in its environment, as Lambda gives a function its role's; the SDK's
// chain finds them, and finding none stops the start with a clear error.
func TestAWSCredentials(t *testing.T) {
	for k, v := range map[string]string{
		"HOME": t.TempDir(), "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_WEB_IDENTITY_TOKEN_FILE": "",
		"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "AWS_SESSION_TOKEN": "token",
	} {
		t.Setenv(k, v)
	}
	creds, err := awsCredentials(context.Background(), "eu-west-1")
	if err != nil || creds.AccessKeyID != "AKIDEXAMPLE" || creds.SecretAccessKey != "secret" || creds.SessionToken != "token" {
		t.Fatalf("awsCredentials = %+v, %v; want the environment's", creds, err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	if _, err := awsCredentials(context.Background(), "eu-west-1"); err == nil || !strings.Contains(err.Error(), "no AWS credentials") {
		t.Fatalf("awsCredentials with none = %v, want a no-credentials error", err)
	}
}

// The local gateway serves its OpenAPI document: the routes, authorizer
// and gateway responses it is given are read back from the document the
// deploy imports, and they are the Definition's.
func TestServedIsTheDocument(t *testing.T) {
	cors := api.Default()
	if err := cors.AllowOrigin("*"); err != nil {
		t.Fatal(err)
	}
	req := api.Default()
	req.Authorizer.Type, req.Authorizer.ValidationRegex = api.Request, ""
	public := api.Default()
	public.Routes = []api.Route{{Method: "GET", Path: "/health", Function: "handler"}}
	for name, def := range map[string]api.Definition{"default": api.Default(), "cors": cors, "request": req, "public only": public} {
		t.Run(name, func(t *testing.T) {
			served, doc, err := Served(def)
			if err != nil {
				t.Fatal(err)
			}
			want, err := def.Document(api.DocumentOptions{IntegrationURI: api.LocalURI})
			if err != nil || string(doc) != string(want) {
				t.Fatalf("Served's document is not the Definition's (%v)", err)
			}
			if !reflect.DeepEqual(served.SortedRoutes(), def.SortedRoutes()) || !reflect.DeepEqual(served.Responses, def.Responses) ||
				!reflect.DeepEqual(served.Authorizer, def.Authorizer) || !reflect.DeepEqual(served.Functions, def.Functions) ||
				served.Stage != def.Stage || !reflect.DeepEqual(served.AccessLog, def.AccessLog) {
				t.Errorf("served %+v\nwant %+v", served, def)
			}
		})
	}
	bad := api.Default()
	bad.Routes = nil
	if _, _, err := Served(bad); err == nil {
		t.Error("Served an API without routes")
	}
}

// Route throttles are stage settings, not part of the OpenAPI document the
// gateway serves from: Served keeps the definition's.
func TestServedKeepsRouteThrottles(t *testing.T) {
	def := api.Default()
	def.Routes[1].Throttle = &api.Throttle{RateLimit: 3, BurstLimit: 2}
	served, _, err := Served(def)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range served.Routes {
		if r.Throttle != nil {
			n++
			if r.String() != def.Routes[1].String() || *r.Throttle != *def.Routes[1].Throttle {
				t.Errorf("served %s with throttle %+v, want %s with %+v", r, *r.Throttle, def.Routes[1], *def.Routes[1].Throttle)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d served routes have a throttle, want 1", n)
	}
}

// On an HTTP API the local run warns of keys limited to part of an API
// route, which the authorizer refuses on all of it (issue 26, defect 1).
func TestHTTPRouteWarnings(t *testing.T) {
	def := api.Default()
	def.UseHTTP()
	def.Routes = append(def.Routes, api.Route{Method: "GET", Path: "/orders/{id}", Function: "handler", Protected: true})
	kr := authorizer.Keyring{Keys: []authorizer.Key{
		{ID: "all", SHA256: authorizer.Digest("a")},
		{ID: "whole", SHA256: authorizer.Digest("b"), Routes: []string{"GET /orders/{id}", "GET /hello"}},
		{ID: "one-order", SHA256: authorizer.Digest("c"), Routes: []string{"GET /hello", "GET /orders/1"}},
	}}
	got := httpRouteWarnings(def)(kr)
	if len(got) != 1 || !strings.Contains(got[0], `key "one-order": route #2 covers part of an HTTP API route GET /orders/{id}`) {
		t.Errorf("warnings %q, want one naming key one-order's route #2", got)
	}
}

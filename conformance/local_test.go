//go:build unix

package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/handler"
	"tollgate/internal/emulator/local"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/testbin"
	"tollgate/internal/testkit/testkeys"
	"tollgate/plans"
)

var binDir string // the functions, built once by TestMain

func TestMain(m *testing.M) {
	dir, release, err := testbin.Dir("conformance-host")
	if err != nil {
		panic(err)
	}
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		panic(err)
	}
	if _, err := lambdabuild.Build(context.Background(), root, dir, lambdabuild.Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH},
		map[string]string{"authorizer": api.AuthorizerPackage, "handler": "./cmd/handler"}); err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	release()
	os.Exit(code)
}

const corsOrigin = "http://localhost:3000"

// startLocal starts a local gateway set up for every row: a full key, a
// key limited to GET /customers, CORS for corsOrigin, an echoing handler;
// with typ api.HTTP, an HTTP API.
func startLocal(t *testing.T, typ api.APIType) (*local.Main, Target) {
	t.Helper()
	full, scoped := authorizer.NewKey(), authorizer.NewKey()
	keys := filepath.Join(t.TempDir(), "keyring.json")
	doc := testkeys.Keyring(0, testkeys.Key{ID: "conformance-full", Key: full},
		testkeys.Key{ID: "conformance-scoped", Key: scoped, Routes: []string{"GET /customers"}})
	if err := os.WriteFile(keys, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	def := api.Default()
	h := def.Functions["handler"]
	h.Env = map[string]string{handler.EnvEchoEvents: "1"}
	def.Functions["handler"] = h
	// A public route with a throttle of its own (burst 1, 1 request a
	// second), and JWTs from the local issuer: on a REST API through
	// tollgate's authorizer (scope greet: GET /hello), on an HTTP API
	// through API Gateway's JWT authorizer on a route of its own.
	def.Routes = append(def.Routes, api.Route{Method: "GET", Path: "/throttled", Function: "handler",
		Throttle: &api.Throttle{RateLimit: 1, BurstLimit: 1}})
	jwtRoute, scope, jwtSettings := "GET /hello", "greet", `{"scopeRoutes":{"greet":["GET /hello"]}}`
	if typ == api.HTTP {
		jwtRoute, scope, jwtSettings = "GET /reports", "reports:read", ""
		def.Routes = append(def.Routes, api.Route{Method: "GET", Path: "/reports", Function: "handler", JWT: true, Scopes: []string{scope}})
	}
	state := t.TempDir()
	m, err := local.Start(context.Background(), local.Config{
		Addr: "127.0.0.1:0", Definition: &def, CORSOrigin: corsOrigin, APIType: typ, BinDir: binDir, StateDir: state, KeysFile: keys,
		JWT: jwtSettings, JWTLocal: true,
		Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	token, err := local.Mint(state, "conformance", scope, nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return m, Target{URL: m.URL, Key: full, ScopedKey: scoped, ScopedRoute: "GET /customers", OffRoute: "GET /hello", CORSOrigin: corsOrigin, Echo: true, HTTP: typ == api.HTTP,
		JWT: token, JWTRoute: jwtRoute, JWTAuthorizer: typ == api.HTTP, ThrottledRoute: "GET /throttled", ThrottleBurst: 1}
}

// The suite against the local gateway, started here: every row passes.
func TestLocalGateway(t *testing.T) {
	_, target := startLocal(t, "")
	var out bytes.Buffer
	for _, r := range Run(context.Background(), target, &out) {
		t.Run(r.Row.Name, func(t *testing.T) {
			if r.Skipped && r.Row.Needs != "plan" { // TestLocalPlans runs those
				t.Fatal("skipped: the local setup has every part")
			}
			if r.Err != nil {
				t.Errorf("%v (%s)", r.Err, r.Row.Source)
			}
		})
	}
	if t.Failed() {
		t.Logf("suite output:\n%s", out.String())
	}
}

// -target: the command checks a gateway it did not start, over HTTP only,
// as it checks a deployed stage.
func TestTollcheckAgainstAnotherGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the command with go run")
	}
	_, target := startLocal(t, "")
	cmd := exec.Command("go", "run", "./cmd/tollcheck", "-target", target.URL, "-key", target.Key,
		"-scoped-key", target.ScopedKey, "-scoped-route", target.ScopedRoute, "-off-route", target.OffRoute,
		"-cors-origin", target.CORSOrigin, "-echo", "-jwt", target.JWT, "-jwt-route", target.JWTRoute,
		"-throttled-route", target.ThrottledRoute, "-throttle-burst", "1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("tollcheck: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != len(Rows()) {
		t.Fatalf("tollcheck printed %d lines for %d rows:\n%s", len(lines), len(Rows()), out)
	}
	for i, r := range Rows() {
		want := "PASS " + r.Name
		if r.Needs == "plan" {
			want = "SKIP " + r.Name + " (the target has no plan setup)"
		}
		if lines[i] != want {
			t.Errorf("line %d = %q, want %q", i+1, lines[i], want)
		}
	}
	if strings.Contains(string(out), target.Key) || strings.Contains(string(out), target.ScopedKey) || strings.Contains(string(out), target.JWT) {
		t.Error("tollcheck printed a key or the token")
	}
	// Without the keys' setup, the rows that need it are skipped, and say so.
	out, err = exec.Command("go", "run", "./cmd/tollcheck", "-target", target.URL, "-key", target.Key).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "SKIP a route-scoped key on its route: 200 (the target has no scoped setup)") {
		t.Errorf("tollcheck without -scoped-key: %v\n%s", err, out)
	}
}

// The HTTP API rows against the local gateway serving an HTTP API
// (cmd/local -api-type http): every row passes.
func TestLocalHTTPAPI(t *testing.T) {
	_, target := startLocal(t, api.HTTP)
	var out bytes.Buffer
	results := Run(context.Background(), target, &out)
	if len(results) != len(HTTPRows()) {
		t.Fatalf("%d results for %d HTTP rows", len(results), len(HTTPRows()))
	}
	for _, r := range results {
		t.Run(r.Row.Name, func(t *testing.T) {
			if r.Skipped || r.Err != nil {
				t.Errorf("skipped %v, %v (%s)", r.Skipped, r.Err, r.Row.Source)
			}
		})
	}
	if t.Failed() {
		t.Logf("suite output:\n%s", out.String())
	}
}

// The plan rows against the local gateway limiting clients by a stack's
// plans (cmd/local -stack): a key on a small test plan is throttled past
// its burst and refused past its quota, and every other row that runs
// passes with keys on plans.
func TestLocalPlans(t *testing.T) {
	full, limited := authorizer.NewKey(), authorizer.NewKey()
	kr := authorizer.Keyring{Keys: []authorizer.Key{
		{ID: "conformance-full", SHA256: authorizer.Digest(full), UsageKey: "conformance-usage-key-full-000"},
		{ID: "conformance-plan", SHA256: authorizer.Digest(limited), UsageKey: "conformance-usage-key-plan-000", Plan: "test"},
	}}
	doc, err := json.Marshal(kr)
	if err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(t.TempDir(), "keyring.json")
	if err := os.WriteFile(keys, doc, 0o600); err != nil {
		t.Fatal(err)
	}
	stack := &local.Stack{Name: "conformance", Clients: []string{"conformance-full", "conformance-plan"}, Plans: plans.Set{
		Default: "free",
		Plans: map[string]plans.Plan{
			"free": {RateLimit: 1000, BurstLimit: 1000},
			"test": {RateLimit: 20, BurstLimit: 2, Quota: &plans.Quota{Limit: 8, Period: plans.Day}, Clients: []string{"conformance-plan"}},
		},
	}}
	m, err := local.Start(context.Background(), local.Config{
		Addr: "127.0.0.1:0", BinDir: binDir, StateDir: t.TempDir(), KeysFile: keys, Stack: stack,
		Getenv: func(string) string { return "" },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	target := Target{URL: m.URL, Key: full, PlanKey: limited, PlanRoute: "GET /hello", PlanRate: 20, PlanBurst: 2, PlanQuota: 8}
	var out bytes.Buffer
	ran := 0
	for _, r := range Run(context.Background(), target, &out) {
		if r.Row.Needs == "plan" && !r.Skipped {
			ran++
		}
		if r.Err != nil {
			t.Errorf("%s: %v (%s)", r.Row.Name, r.Err, r.Row.Source)
		}
	}
	if ran != 2 {
		t.Errorf("%d plan rows ran, want 2", ran)
	}
	if t.Failed() {
		t.Logf("suite output:\n%s", out.String())
	}
}

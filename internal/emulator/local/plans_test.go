package local

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/plans"
)

func writeStack(t *testing.T, project, stack, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: "+project+"\nruntime: go\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "Pulumi."+stack+".yaml"), []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A stack's clients and plans are read under the project's namespace,
// with Pulumi.yaml's default clients; a setting of the wrong type is
// refused, naming it.
func TestReadStack(t *testing.T) {
	dir := writeStack(t, "myapi", "dev", `config:
  aws:region: eu-west-1
  myapi:plans:
    free: {rateLimit: 5, burstLimit: 10, quota: {limit: 100, period: DAY}}
    partner: {rateLimit: 50, burstLimit: 50, clients: [reports]}
  myapi:defaultPlan: free
  tollgate:clients: [ignored]
`)
	st, err := ReadStack(dir, "dev")
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Clients) != 1 || st.Clients[0] != "default" || st.Plans.Default != "free" || st.Plans.Plans["free"].Quota.Limit != 100 || st.Plans.Of("reports") != "partner" {
		t.Errorf("stack = %+v", st)
	}
	for _, c := range []struct{ name, yaml, want string }{
		{"clients not a list", "config:\n  myapi:clients: web\n", "myapi:clients: not of the declared type"},
		{"a misspelt field", "config:\n  myapi:plans: {free: {rateLimt: 5}}\n", `unknown field "rateLimt"`},
		{"not YAML", "config: [\n", "Pulumi.dev.yaml"},
	} {
		dir := writeStack(t, "myapi", "dev", c.yaml)
		if _, err := ReadStack(dir, "dev"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	if _, err := ReadStack(dir, "nope"); err == nil {
		t.Error("a stack without its file was read")
	}
}

// Bad plans stop the local run before anything is built, started or
// written, with the deploy's message.
func TestBadPlansStopTheRun(t *testing.T) {
	set := func(p map[string]plans.Plan, def string) *Stack {
		return &Stack{Name: "dev", Clients: []string{"default", "reports"}, Plans: plans.Set{Plans: p, Default: def}}
	}
	free := plans.Plan{RateLimit: 5, BurstLimit: 5}
	for _, c := range []struct {
		name string
		edit func(c *Config)
		want string
	}{
		{"unknown default plan", func(c *Config) { c.Stack = set(map[string]plans.Plan{"free": free}, "gold") }, `defaultPlan "gold"`},
		{"a client on two plans", func(c *Config) {
			c.Stack = set(map[string]plans.Plan{"a": {Clients: []string{"reports"}}, "b": {Clients: []string{"reports"}}}, "a")
		}, `client "reports" is on two plans`},
		{"a quota without a period", func(c *Config) { c.Stack = set(map[string]plans.Plan{"free": {Quota: &plans.Quota{Limit: 9}}}, "free") }, "without a period"},
		{"an HTTP API", func(c *Config) { c.Stack, c.APIType = set(map[string]plans.Plan{"free": free}, "free"), api.HTTP }, "HTTP APIs have no usage plans"},
		{"JWTs", func(c *Config) { c.Stack, c.JWTLocal = set(map[string]plans.Plan{"free": free}, "free"), true }, "usage plans (-stack) and JWTs together"},
		{"another secrets endpoint", func(c *Config) {
			c.Stack, c.SecretsEndpoint = set(map[string]plans.Plan{"free": free}, "free"), "http://127.0.0.1:1"
		}, "need the keyring served here"},
		{"a stack without its file", func(c *Config) { c.StackName = "nope" }, "stack nope"},
	} {
		t.Run(c.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "state")
			cfg := Config{Addr: "127.0.0.1:0", BinDir: t.TempDir(), StateDir: state, ModuleDir: t.TempDir(), Getenv: func(string) string { return "" }}
			c.edit(&cfg)
			m, err := Start(context.Background(), cfg)
			if err == nil {
				_ = m.Close()
			}
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Start: %v, want %q", err, c.want)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("the state directory was made before the refusal: %v", err)
			}
		})
	}
}

// The gateway's API keys are the keyring's usage keys, on the plan the
// keyring names, else their client's; a key without one is on none. No
// id reveals a key.
func TestAPIKeysFromTheKeyring(t *testing.T) {
	set := plans.Set{Default: "free", Plans: map[string]plans.Plan{"free": {}, "partner": {Clients: []string{"reports"}}}}
	kr := authorizer.Keyring{Keys: []authorizer.Key{
		{ID: "default", UsageKey: "usage-key-default-0000000"},
		{ID: "reports", UsageKey: "usage-key-reports-0000000"},
		{ID: "moved", UsageKey: "usage-key-moved-000000000", Plan: "partner"},
		{ID: "nokey"},
	}}
	got := apiKeys(set, kr)
	if len(got) != 3 || got["usage-key-default-0000000"].Plan != "free" || got["usage-key-reports-0000000"].Plan != "partner" || got["usage-key-moved-000000000"].Plan != "partner" {
		t.Errorf("api keys = %+v", got)
	}
	for v, k := range got {
		if len(k.ID) != 10 || strings.Contains(v, k.ID) {
			t.Errorf("id %q of a key", k.ID)
		}
	}
	if w := planWarnings(set)(kr); len(w) != 1 || !strings.Contains(w[0], `key "nokey" has no usageKey`) {
		t.Errorf("warnings = %q", w)
	}
}

func TestKeyVariable(t *testing.T) {
	for client, want := range map[string]string{"default": "TOLLGATE_KEY", "trial": "TOLLGATE_KEY_TRIAL", "mobile-app.v2": "TOLLGATE_KEY_MOBILE_APP_V2"} {
		if got := KeyVariable(client); got != want {
			t.Errorf("KeyVariable(%q) = %q, want %q", client, got, want)
		}
	}
}

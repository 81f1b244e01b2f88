package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/diag/colors"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/deploy"
	"tollgate/internal/testkit/pulumimock"
	"tollgate/internal/testkit/testbin"
	"tollgate/plans"
)

// withConfig sets the stack configuration as the Pulumi CLI passes it to
// the program: values by "namespace:key", and the keys that are secret.
func withConfig(cfg map[string]string, secretKeys ...string) pulumi.RunOption {
	return func(info *pulumi.RunInfo) {
		info.Config = cfg
		info.ConfigSecretKeys = secretKeys
	}
}

// runProgram runs the program on stack "dev" with the mocks.
// It returns the resources, the stack's outputs' values, and which
// outputs are secret.
func runProgram(t *testing.T, cfg map[string]string, secretKeys ...string) (*pulumimock.Mocks, map[string]any, map[string]bool, error) {
	t.Helper()
	return runStack(t, "dev", cfg, secretKeys...)
}

// runStack is runProgram on another stack.
func runStack(t *testing.T, stack string, cfg map[string]string, secretKeys ...string) (*pulumimock.Mocks, map[string]any, map[string]bool, error) {
	t.Helper()
	return runMocks(t, &pulumimock.Mocks{}, stack, cfg, secretKeys...)
}

// buildDir is where every program run of the package's tests builds the
// functions: one lasting directory (testbin), so that a run whose
// binaries are up to date reuses them and their zips (deploy's pack)
// instead of linking and compressing them again, most of a run's time.
// buildMu keeps two runs of this process from writing it at once; the
// directory's lock, two processes.
var (
	buildDir = sync.OnceValue(func() string {
		dir, release, err := testbin.Dir("program")
		if err != nil {
			panic(err)
		}
		releaseBuildDir = release
		return dir
	})
	releaseBuildDir = func() {}
	buildMu         sync.Mutex
)

func TestMain(m *testing.M) {
	code := m.Run()
	releaseBuildDir()
	os.Exit(code)
}

// runMocks is runStack with the given mocks (which may hold the stack's
// outputs from an earlier update, Mocks.StackOutputs).
func runMocks(t *testing.T, m *pulumimock.Mocks, stack string, cfg map[string]string, secretKeys ...string) (*pulumimock.Mocks, map[string]any, map[string]bool, error) {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	var mu sync.Mutex
	values := map[string]any{}
	var outputs pulumi.Map
	// Each output's apply may run after RunErr returns (RunErr waits for
	// the resources, not for applies of outputs read here): the values
	// are read once every apply has run.
	var applied sync.WaitGroup
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		outputs, err = program(ctx, filepath.Join(buildDir(), cmp.Or(cfg["tollgate:arch"], "arm64")))
		for k, o := range outputs {
			applied.Add(1)
			pulumi.ToOutput(o).ApplyT(func(v any) any {
				defer applied.Done()
				mu.Lock()
				values[k] = v
				mu.Unlock()
				return v
			})
		}
		return err
	}, pulumi.WithMocks("tollgate", stack, m), withConfig(cfg, secretKeys...))
	if err == nil {
		done := make(chan struct{})
		go func() { applied.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatal("the stack's outputs did not all resolve within 30s")
		}
	}
	mu.Lock()
	values = maps.Clone(values)
	mu.Unlock()
	secret := map[string]bool{}
	for k, o := range outputs {
		secret[k] = pulumi.IsSecret(pulumi.ToOutput(o))
	}
	return m, values, secret, err
}

// project is Pulumi.yaml, loaded and validated as the CLI loads it.
func project(t *testing.T) *workspace.Project {
	t.Helper()
	p, err := workspace.LoadProject("Pulumi.yaml")
	if err != nil {
		t.Fatalf("Pulumi.yaml: %v", err)
	}
	return p
}

// asConfigValue is a project default as the CLI passes it to a program:
// strings as they are, numbers and booleans as text, arrays and objects
// as JSON.
func asConfigValue(t *testing.T, v any) string {
	switch v := v.(type) {
	case string:
		return v
	case bool, int, float64:
		return fmt.Sprint(v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPulumiYAML(t *testing.T) {
	p := project(t)
	if p.Name != "tollgate" || p.Runtime.Name() != "go" || p.Description == nil || *p.Description == "" {
		t.Errorf("Pulumi.yaml: name %q runtime %q, want tollgate, go and a description", p.Name, p.Runtime.Name())
	}
	var keys []string
	for _, s := range settings {
		keys = append(keys, s.key)
	}
	if got := slices.Sorted(maps.Keys(p.Config)); !slices.Equal(got, slices.Sorted(slices.Values(keys))) {
		t.Errorf("Pulumi.yaml declares %q,\nthe program reads %q", got, keys)
	}
	for key, c := range p.Config {
		if c.Type == nil || c.Default == nil || c.Description == "" {
			t.Errorf("%s: declare its type, default and description (a setting without a default is required)", key)
			continue
		}
		if !workspace.ValidateConfigValue(*c.Type, c.Items, c.Default) {
			t.Errorf("%s: default %v is not a %s", key, c.Default, *c.Type)
		}
	}
}

// The program's own defaults are Pulumi.yaml's: a stack that sets nothing
// and one that sets every default explicitly deploy the same thing.
func TestDefaultsMatchPulumiYAML(t *testing.T) {
	cfg := map[string]string{"aws:region": "eu-west-1"}
	for key, c := range project(t).Config {
		cfg["tollgate:"+key] = asConfigValue(t, c.Default)
	}
	withDefaults := loadWith(t, cfg)
	without := loadWith(t, map[string]string{"aws:region": "eu-west-1"})
	if !reflect.DeepEqual(withDefaults, without) {
		t.Errorf("Pulumi.yaml's defaults give\n%+v\nthe program's give\n%+v", withDefaults, without)
	}
	want := api.Default()
	authz := want.Functions["authorizer"]
	authz.Env = map[string]string{"TOLLGATE_LOG_LEVEL": "info"}
	want.Functions["authorizer"] = authz
	if !reflect.DeepEqual(without.Args.Definition, want) {
		t.Errorf("the default stack's API is not api.Default():\n%+v", without.Args.Definition)
	}
}

// Issue 16: a project made from the template (pulumi new renames it) whose
// stack file still holds tollgate:* settings stops with the command that
// renames them, rather than silently deploying without them.
func TestRenamedProjectWithTollgateSettings(t *testing.T) {
	load := func(project string, cfg map[string]string) error {
		return pulumi.RunErr(func(ctx *pulumi.Context) error {
			_, err := loadConfig(ctx)
			return err
		}, pulumi.WithMocks(project, "dev", &pulumimock.Mocks{}), withConfig(cfg))
	}
	err := load("myapi", map[string]string{"tollgate:clients": `["default","reports"]`, "aws:region": "eu-west-1"})
	if err == nil || !errors.Is(err, deploy.ErrConfig) ||
		!strings.Contains(err.Error(), "tollgate:clients, but this project is named myapi") ||
		!strings.Contains(err.Error(), "sed -i.bak 's/^  tollgate:/  myapi:/' Pulumi.dev.yaml") {
		t.Errorf("a renamed project with tollgate:* settings = %v", err)
	}
	if err := load("myapi", map[string]string{"myapi:clients": `["default"]`, "aws:region": "eu-west-1"}); err != nil {
		t.Errorf("a renamed project with its own settings = %v", err)
	}
}

// The template section is what pulumi new reads: it names the project's
// Region prompt with the dev stack's default.
func TestTemplateSection(t *testing.T) {
	p := project(t)
	if p.Template == nil || p.Template.Config["aws:region"].Default != "eu-west-1" || p.Template.Description == "" {
		t.Errorf("Pulumi.yaml's template = %+v", p.Template)
	}
}

// loadWith is loadConfig for cfg; it fails the test on an error.
func loadWith(t *testing.T, cfg map[string]string, secretKeys ...string) stackConfig {
	t.Helper()
	var c stackConfig
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		var err error
		c, err = loadConfig(ctx)
		return err
	}, pulumi.WithMocks("tollgate", "dev", &pulumimock.Mocks{}), withConfig(cfg, secretKeys...))
	if err != nil {
		t.Fatalf("loadConfig(%v): %v", cfg, err)
	}
	return c
}

// devStack is Pulumi.dev.yaml's configuration, validated against
// Pulumi.yaml's types as the CLI validates it, as the CLI passes it.
func devStack(t *testing.T) map[string]string {
	t.Helper()
	p := project(t)
	sink := diag.DefaultSink(io.Discard, io.Discard, diag.FormatOptions{Color: colors.Never})
	stack, err := workspace.LoadProjectStack(sink, p, "Pulumi.dev.yaml")
	if err != nil {
		t.Fatalf("Pulumi.dev.yaml: %v", err)
	}
	cfg := map[string]string{}
	for k, v := range stack.Config {
		s, err := v.Value(config.NopDecrypter)
		if err != nil {
			t.Fatal(err)
		}
		cfg[k.Namespace()+":"+k.Name()] = s
		if k.Namespace() != "tollgate" {
			continue
		}
		decl, ok := p.Config[k.Name()]
		if !ok {
			t.Errorf("Pulumi.dev.yaml sets tollgate:%s, which Pulumi.yaml does not declare", k.Name())
			continue
		}
		var value any = s
		if v.Object() {
			if err := json.Unmarshal([]byte(s), &value); err != nil {
				t.Fatal(err)
			}
		}
		if !workspace.ValidateConfigValue(*decl.Type, decl.Items, value) {
			t.Errorf("Pulumi.dev.yaml: tollgate:%s = %v is not a %s", k.Name(), s, *decl.Type)
		}
	}
	return cfg
}

func TestDevStack(t *testing.T) {
	c := loadWith(t, devStack(t))
	if c.Region != "eu-west-1" || !slices.Equal(c.Args.Clients, []string{"default", "reports"}) ||
		!slices.Equal(c.Args.Routes["reports"], []string{"GET /customers"}) || c.Tags["environment"] != "dev" {
		t.Errorf("dev stack = %+v", c)
	}
}

// docs/deploying.md's configuration table is Pulumi.yaml's, row for row.
func TestConfigTable(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("docs", "deploying.md"))
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `([A-Za-z]+)` \\| ([a-z<>]+) \\| `(.*?)` \\| (.+) \\|$")
	rows := row.FindAllStringSubmatch(string(readme), -1)
	p := project(t)
	var keys []string
	for _, r := range rows {
		key, typ, def, desc := r[1], r[2], r[3], r[4]
		keys = append(keys, key)
		c, ok := p.Config[key]
		if !ok {
			t.Errorf("docs/deploying.md documents %s, which Pulumi.yaml does not declare", key)
			continue
		}
		wantType := *c.Type
		if c.Items != nil {
			wantType += "<" + c.Items.Type + ">"
		}
		wantDefault := asConfigValue(t, c.Default)
		if *c.Type == "string" {
			wantDefault = fmt.Sprintf("%q", c.Default)
		}
		if typ != wantType || def != wantDefault || desc != c.Description {
			t.Errorf("docs/deploying.md row %s = %s | %s | %s\nPulumi.yaml: %s | %s | %s", key, typ, def, desc, wantType, wantDefault, c.Description)
		}
	}
	var want []string
	for _, s := range settings {
		want = append(want, s.key)
	}
	if !slices.Equal(keys, want) {
		t.Errorf("docs/deploying.md's table has %q,\nwant every setting in order: %q", keys, want)
	}
}

// A configuration mistake stops the program with a message naming the
// setting, before any resource (the provider included) is created.
func TestBadConfigCreatesNothing(t *testing.T) {
	cases := []struct {
		name    string
		cfg     map[string]string
		secrets []string
		want    string
	}{
		{"ttl above 3600", map[string]string{"tollgate:authorizerResultTtlInSeconds": "3601"}, nil, "result TTL 1h0m1s"},
		{"negative ttl", map[string]string{"tollgate:authorizerResultTtlInSeconds": "-1"}, nil, "result TTL -1s"},
		{"ttl not a number", map[string]string{"tollgate:authorizerResultTtlInSeconds": "5m"}, nil, "tollgate:authorizerResultTtlInSeconds: \"5m\" is not an integer"},
		{"unknown authorizer type", map[string]string{"tollgate:authorizerType": "JWT"}, nil, `type "JWT": want TOKEN or REQUEST`},
		{"empty clients", map[string]string{"tollgate:clients": "[]"}, nil, "no clients"},
		{"invalid regex", map[string]string{"tollgate:validationRegex": "^Bearer ("}, nil, "validation regex"},
		{"unknown arch", map[string]string{"tollgate:arch": "riscv64"}, nil, `architecture "riscv64": want arm64 or x86_64`},
		{"stage with a space", map[string]string{"tollgate:stage": "my stage"}, nil, `stage "my stage"`},
		{"stage too long", map[string]string{"tollgate:stage": strings.Repeat("s", 129)}, nil, "1 to 128"},
		{"regex with REQUEST", map[string]string{"tollgate:authorizerType": "REQUEST", "tollgate:validationRegex": "^x$"}, nil, "only to TOKEN"},
		{"keys, no longer read", map[string]string{"tollgate:keys": `{"default":"` + strings.Repeat("k", 40) + `"}`}, []string{"tollgate:keys"}, "keyDigests.CLIENT"},
		{"keyLength, no longer read", map[string]string{"tollgate:keyLength": "40"}, nil, "tgk_"},
		{"empty route list", map[string]string{"tollgate:clientRoutes": `{"default":[]}`}, nil, `client "default": empty route list`},
		{"secret setting not JSON", map[string]string{"tollgate:keyDigests": `{"default":"` + strings.Repeat("k", 40)}, []string{"tollgate:keyDigests"}, "(secret) value is not of the declared type"},
		{"digest not hex", map[string]string{"tollgate:keyDigests": `{"default":"` + strings.Repeat("k", 64) + `"}`}, nil, "sha256 is not 64 hex digits"},
		{"rotation of a supplied key", map[string]string{"tollgate:keyDigests": `{"default":"` + authorizer.Digest("x") + `"}`, "tollgate:rotations": `{"default":{"n":1}}`}, nil, "supply the new digest"},
		{"expiry not RFC 3339", map[string]string{"tollgate:clientExpiry": `{"default":"soon"}`}, nil, "tollgate:clientExpiry"},
		{"unknown client disabled", map[string]string{"tollgate:disabledClients": `["web"]`}, nil, `disabling is asked for "web"`},
		{"rotation grace not RFC 3339", map[string]string{"tollgate:rotations": `{"default":{"n":1,"previousUntil":"tomorrow"}}`}, nil, "tollgate:rotations"},
		{"clients not an array", map[string]string{"tollgate:clients": "web"}, nil, "tollgate:clients"},
		{"log level", map[string]string{"tollgate:logLevel": "verbose"}, nil, "tollgate:logLevel"},
		{"usagePlan, no longer read", map[string]string{"tollgate:usagePlan": "true"}, nil, "plans.default.quota.limit"},
		{"usagePlanQuota, no longer read", map[string]string{"tollgate:usagePlanQuota": "100"}, nil, "usage plans are named plans now"},
		{"plans not an object", map[string]string{"tollgate:plans": `["free"]`}, nil, "tollgate:plans: invalid plans: not an object of plans"},
		{"plan with a misspelt field", map[string]string{"tollgate:plans": `{"free":{"rateLimt":5,"clients":["default"]}}`}, nil, `unknown field "rateLimt"`},
		{"unknown default plan", map[string]string{"tollgate:plans": `{"free":{"rateLimit":5,"burstLimit":5}}`, "tollgate:defaultPlan": "gold"}, nil, `defaultPlan "gold": no plan of that name; the plans are [free]`},
		{"client on two plans", map[string]string{"tollgate:plans": `{"free":{"clients":["default"]},"gold":{"clients":["default"]}}`}, nil, `client "default" is on two plans, free and gold`},
		{"quota without a period", map[string]string{"tollgate:plans": `{"free":{"quota":{"limit":100},"clients":["default"]}}`}, nil, "a quota of 100 without a period"},
		{"client on no plan", map[string]string{"tollgate:clients": `["default","web"]`, "tollgate:plans": `{"free":{"clients":["default"]}}`}, nil, `client "web" is on no plan`},
		{"plan route throttle on a public route", map[string]string{"tollgate:plans": `{"free":{"routes":{"GET /health":{"rateLimit":1,"burstLimit":1}}}}`, "tollgate:defaultPlan": "free"}, nil, `route "GET /health" is not guarded`},
		{"cors origin", map[string]string{"tollgate:corsAllowOrigin": "app.example.com"}, nil, "CORS origin"},
		{"aws tag", map[string]string{"tollgate:tags": `{"aws:owner":"me"}`}, nil, "aws:"},
		{"no region", map[string]string{"aws:region": ""}, nil, "pulumi config set aws:region"},
		{"memory", map[string]string{"tollgate:handlerMemory": "64"}, nil, "memory 64 MB"},
		{"timeout", map[string]string{"tollgate:authorizerTimeout": "901"}, nil, "timeout 15m1s"},
		{"unknown API type", map[string]string{"tollgate:apiType": "websocket"}, nil, `tollgate:apiType: "websocket": want rest or http`},
		{"HTTP with a validation regex", map[string]string{"tollgate:apiType": "http", "tollgate:validationRegex": "^x$"}, nil, "tollgate:validationRegex: an HTTP API's authorizer has no validation expression"},
		{"HTTP with plans", map[string]string{"tollgate:apiType": "http", "tollgate:plans": `{"free":{"rateLimit":5,"burstLimit":5}}`, "tollgate:defaultPlan": "free"}, nil, "tollgate:plans: HTTP APIs have no usage plans"},
		{"$default for a REST API", map[string]string{"tollgate:stage": "$default"}, nil, `stage "$default"`},
		{"plans with jwt", map[string]string{"tollgate:plans": `{"free":{"rateLimit":1,"burstLimit":1}}`, "tollgate:defaultPlan": "free", "tollgate:jwt": `{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks","audiences":["a"]}`}, nil, "plans and jwt together"},
		{"jwt with HS256", map[string]string{"tollgate:jwt": `{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks","audiences":["a"],"algorithms":["HS256"]}`}, nil, `tollgate:jwt: JWT: algorithm "HS256"`},
		{"jwt without audiences", map[string]string{"tollgate:jwt": `{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks"}`}, nil, "tollgate:jwt: JWT: at least one audience"},
		{"jwt not an object", map[string]string{"tollgate:jwt": `["https://id.example.com/"]`}, nil, "tollgate:jwt: JWT settings"},
		{"jwt with a regex refusing JWTs", map[string]string{"tollgate:validationRegex": `^Bearer tgk_[0-9A-Za-z]{38}$`,
			"tollgate:jwt": `{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks","audiences":["a"]}`}, nil, "refuses JWTs (three base64url parts)"},
		// Issue 26, defect 6: a name that looks like a key is refused by
		// its position, not quoted (the check below).
		{"a key as a client name", map[string]string{"tollgate:clients": `["mobile","tgk_` + strings.Repeat("k", 38) + `"]`}, nil, "client #2"},
		{"jwt too large for Lambda's environment", map[string]string{"tollgate:jwt": `{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks","audiences":["a"],"scopeRoutes":{` + manyScopes(120) + `}}`}, nil, "Lambda allows 4 KB"},
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := map[string]string{"aws:region": "eu-west-1"}
			maps.Copy(cfg, tc.cfg)
			m, _, _, err := runProgram(t, cfg, tc.secrets...)
			if !errors.Is(err, deploy.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("program = %v\nwant a configuration error containing %q", err, tc.want)
			}
			if n := len(m.Resources); n != 0 {
				t.Errorf("%d resources created before the error, want none", n)
			}
			if err != nil && strings.Contains(err.Error(), strings.Repeat("k", 8)) {
				t.Errorf("the error quotes the value: %v", err)
			}
		})
	}
}

// Supplied keys are digests, and rotations reach the component.
func TestKeyDigestsAndRotations(t *testing.T) {
	d := authorizer.Digest("tgk_supplied")
	c := loadWith(t, map[string]string{
		"aws:region":               "eu-west-1",
		"tollgate:clients":         `["default","reports"]`,
		"tollgate:keyDigests":      `{"reports":"` + d + `"}`,
		"tollgate:rotations":       `{"default":{"n":2,"previousUntil":"2026-12-08T00:00:00Z"}}`,
		"tollgate:clientExpiry":    `{"reports":"2027-06-30T00:00:00Z"}`,
		"tollgate:disabledClients": `["reports"]`,
	})
	if !c.Args.Expiry["reports"].Equal(time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC)) || !slices.Equal(c.Args.Disabled, []string{"reports"}) {
		t.Errorf("expiry %v, disabled %v", c.Args.Expiry, c.Args.Disabled)
	}
	want := deploy.Rotation{N: 2, PreviousUntil: time.Date(2026, 12, 8, 0, 0, 0, 0, time.UTC)}
	if c.Args.KeyDigests["reports"] != d || c.Args.Rotations["default"] != want {
		t.Errorf("keyDigests %v, rotations %v", c.Args.KeyDigests, c.Args.Rotations)
	}
}

// Settings reach the component.
func TestSettingsApply(t *testing.T) {
	c := loadWith(t, map[string]string{
		"aws:region":                             "us-east-2",
		"tollgate:arch":                          "x86_64",
		"tollgate:authorizerType":                "REQUEST",
		"tollgate:identitySources":               `["method.request.header.X-Api-Key"]`,
		"tollgate:authorizerResultTtlInSeconds":  "0",
		"tollgate:authorizerMemory":              "512",
		"tollgate:handlerTimeout":                "30",
		"tollgate:authorizerReservedConcurrency": "10",
		"tollgate:logLevel":                      "debug",
		"tollgate:clients":                       `["default","partner"]`,
		"tollgate:plans":                         `{"free":{"rateLimit":5,"burstLimit":10,"quota":{"limit":1000,"period":"MONTH"}},"partner":{"rateLimit":100,"burstLimit":200,"routes":{"POST /orders":{"rateLimit":1,"burstLimit":2}},"clients":["partner"]}}`,
		"tollgate:defaultPlan":                   "free",
		"tollgate:throttleRateLimit":             "20",
		"tollgate:corsAllowOrigin":               "https://app.example.com",
		"tollgate:accountLogsRole":               "false",
		"tollgate:rotation":                      "3",
	})
	a := c.Args
	def := a.Definition
	if a.Arch != deploy.X86_64 || c.Region != "us-east-2" || def.Authorizer.Type != api.Request || def.Authorizer.ValidationRegex != "" ||
		def.Authorizer.TokenHeader() != "X-Api-Key" || def.Authorizer.ResultTTL != 0 || def.Functions["authorizer"].MemoryMB != 512 ||
		def.Functions["handler"].Timeout.Seconds() != 30 || a.ReservedConcurrency["authorizer"] != 10 ||
		def.Functions["authorizer"].Env["TOLLGATE_LOG_LEVEL"] != "debug" || a.AccountLogsRole || a.Rotation != 3 || a.Throttle.RateLimit != 20 {
		t.Errorf("settings did not apply: %+v", a)
	}
	want := plans.Set{Default: "free", Plans: map[string]plans.Plan{
		"free":    {RateLimit: 5, BurstLimit: 10, Quota: &plans.Quota{Limit: 1000, Period: plans.Month}},
		"partner": {RateLimit: 100, BurstLimit: 200, Routes: map[string]api.Throttle{"POST /orders": {RateLimit: 1, BurstLimit: 2}}, Clients: []string{"partner"}},
	}}
	if !reflect.DeepEqual(a.Plans, want) {
		t.Errorf("plans = %+v, want %+v", a.Plans, want)
	}
	if def.Response(api.AccessDenied).Headers["Access-Control-Allow-Origin"] != "https://app.example.com" {
		t.Error("corsAllowOrigin did not reach the gateway responses")
	}
}

func manyScopes(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"scope-%03d":["GET /orders/%03d/*"]`, i, i)
	}
	return strings.Join(parts, ",")
}

// The jwt setting reaches the authorizer function as authorizer.EnvJWT,
// in the form the authorizer reads, with its defaults filled in; the
// default, {}, sets nothing.
func TestJWTSetting(t *testing.T) {
	c := loadWith(t, map[string]string{"aws:region": "eu-west-1",
		"tollgate:jwt": `{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks","audiences":["orders-api"],"scopeRoutes":{"orders:read":["GET /orders/*"]}}`})
	env := c.Args.Definition.Functions["authorizer"].Env
	got, err := authorizer.ParseJWTConfig([]byte(env[authorizer.EnvJWT]))
	if err != nil || got.Issuer != "https://id.example.com/" || !slices.Equal(got.ScopeRoutes["orders:read"], []string{"GET /orders/*"}) || env[authorizer.EnvLogLevel] != "info" {
		t.Errorf("authorizer env %v: %+v %v", env, got, err)
	}
	c = loadWith(t, map[string]string{"aws:region": "eu-west-1", "tollgate:jwt": "{}"})
	if _, ok := c.Args.Definition.Functions["authorizer"].Env[authorizer.EnvJWT]; ok {
		t.Error("jwt {} set the authorizer's JWT settings")
	}
}

// apiType http makes the Definition an HTTP API (api.Definition.UseHTTP):
// a REQUEST authorizer whatever authorizerType says, no gateway
// responses, the HTTP API access log, and CORS as its own configuration.
func TestAPITypeHTTP(t *testing.T) {
	c := loadWith(t, map[string]string{
		"aws:region": "eu-west-1", "tollgate:apiType": "http", "tollgate:stage": "$default",
		"tollgate:corsAllowOrigin": "https://app.example.com",
	})
	def := c.Args.Definition
	if !def.IsHTTP() || def.Authorizer.Type != api.Request || def.Authorizer.ValidationRegex != "" || len(def.Responses) != 0 ||
		!slices.Equal(def.AccessLog, api.DefaultHTTPAccessLog()) || def.Stage != api.DefaultStage {
		t.Errorf("definition = %+v", def)
	}
	if cors := def.CORS(); cors == nil || !slices.Equal(cors.AllowOrigins, []string{"https://app.example.com"}) {
		t.Errorf("CORS = %+v", cors)
	}
	for _, r := range def.Routes {
		if r.Method == "OPTIONS" {
			t.Errorf("an HTTP API got a preflight route %s", r)
		}
	}
}

// The whole program on the dev stack: the provider carries the default
// tags and manages every AWS resource, and the stack exports its outputs.
func TestProgram(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both functions")
	}
	m, outputs, secret, err := runProgram(t, devStack(t))
	if err != nil {
		t.Fatal(err)
	}
	provider := m.One(t, "pulumi:providers:aws")
	if provider.RPC.GetVersion() == "" {
		t.Error("the provider has no plugin version: the engine could pick another AWS provider than the SDK's")
	}
	tags := provider.Obj("defaultTags")["tags"].(map[string]any)
	wantTags := map[string]any{"tollgate:project": "tollgate", "tollgate:stack": "dev", "environment": "dev"}
	if !reflect.DeepEqual(tags, wantTags) || provider.Str("region") != "eu-west-1" {
		t.Errorf("provider = %v, want region eu-west-1 and default tags %v", provider.Inputs, wantTags)
	}
	ref := ""
	for _, r := range m.Resources {
		if r.Type == "pulumi:providers:aws" {
			continue
		}
		if strings.HasPrefix(r.Type, "aws:") {
			if ref == "" {
				ref = r.RPC.GetProvider()
			}
			if !strings.Contains(r.RPC.GetProvider(), "pulumi:providers:aws::aws::") {
				t.Errorf("%s %s is not managed by the tagged provider (provider %q)", r.Type, r.Name, r.RPC.GetProvider())
			}
		}
	}
	if ref == "" {
		t.Fatal("no AWS resources")
	}
	for _, k := range []string{"url", "routeUrls", "secretArn", "apiKeys", "revokeNow", "curl", "openapi"} {
		if _, ok := outputs[k]; !ok {
			t.Errorf("no %s output", k)
		}
	}
	base := "https://" + pulumimock.APIID + ".execute-api.eu-west-1.amazonaws.com/dev"
	if outputs["url"] != base {
		t.Errorf("url = %v", outputs["url"])
	}
	if r := outputs["routeUrls"].(map[string]string); r["GET /hello"] != base+"/hello" || len(r) != 4 {
		t.Errorf("routeUrls = %v", r)
	}
	if keys := outputs["apiKeys"].(map[string]string); len(keys) != 2 {
		t.Errorf("apiKeys = %d keys, want default and reports", len(keys))
	}
	for k, isSecret := range secret {
		if isSecret != (k == "apiKeys") {
			t.Errorf("output %s secret = %v, want only apiKeys secret", k, isSecret)
		}
	}
	if c, _ := outputs["curl"].(string); !strings.HasPrefix(c, "curl ") || !strings.HasSuffix(c, base+"/hello") {
		t.Errorf("curl = %q", c)
	}
	if acct := m.One(t, "aws:apigateway/account:Account"); acct.Inputs["resetOnDelete"] != false || !acct.RPC.GetRetainOnDelete() {
		t.Error("the program does not set the account's logging role by default, or would reset it on destroy")
	}
	if doc, _ := outputs["openapi"].(string); doc != m.One(t, "aws:apigateway/restApi:RestApi").Str("body") {
		t.Error("the openapi output is not the REST API's body")
	}
}

// The stack's AWS settings reach the provider (pulumi/pulumi-aws#1307: an
// explicit provider reads none of them), as the CLI passes them to the
// default provider: text, objects in JSON, secrets secret; the stack's
// aws:defaultTags keep theirs beside tollgate's.
func TestProviderHonoursStackSettings(t *testing.T) {
	cfg := devStack(t)
	cfg["aws:profile"] = "deployer"
	cfg["aws:assumeRole"] = `{"roleArn":"arn:aws:iam::210987654321:role/deploy","sessionName":"tollgate"}`
	cfg["aws:sharedCredentialsFiles"] = `["/home/me/.aws/credentials"]`
	cfg["aws:allowedAccountIds"] = `["210987654321"]`
	cfg["aws:skipMetadataApiCheck"] = "false"
	cfg["aws:accessKey"] = "AKIAEXAMPLEEXAMPLE00"
	cfg["aws:defaultTags"] = `{"tags":{"team":"payments"}}`
	cfg["aws:region"] = "us-west-2"
	m, _, _, err := runProgram(t, cfg, "aws:accessKey")
	if err != nil {
		t.Fatal(err)
	}
	p := m.One(t, "pulumi:providers:aws")
	for _, k := range []string{"profile", "accessKey"} {
		if p.Str(k) != cfg["aws:"+k] {
			t.Errorf("provider %s = %q, want the stack's %q", k, p.Str(k), cfg["aws:"+k])
		}
	}
	if role := p.Obj("assumeRole"); role["roleArn"] != "arn:aws:iam::210987654321:role/deploy" || role["sessionName"] != "tollgate" {
		t.Errorf("provider assumeRole = %v, want the stack's", role)
	}
	wantTyped := map[string]any{
		"sharedCredentialsFiles": []any{"/home/me/.aws/credentials"},
		"allowedAccountIds":      []any{"210987654321"},
		"skipMetadataApiCheck":   false,
	}
	// The SDK's own defaults stay, as aws.NewProvider sets them.
	wantTyped["skipRegionValidation"] = true
	for k, want := range wantTyped {
		if got := p.Inputs[k]; !reflect.DeepEqual(got, want) {
			t.Errorf("provider %s = %#v, want the stack's %#v, typed as the provider's argument", k, got, want)
		}
	}
	if !p.Secrets["accessKey"] {
		t.Error("aws:accessKey is not secret in the provider's inputs")
	}
	if p.Str("region") != "us-west-2" {
		t.Errorf("region = %q", p.Str("region"))
	}
	tags, _ := p.Obj("defaultTags")["tags"].(map[string]any)
	if tags["team"] != "payments" || tags["tollgate:stack"] != "dev" {
		t.Errorf("defaultTags = %v, want the stack's and tollgate's", p.Inputs["defaultTags"])
	}
	if settings := providerSettings(); settings["assumeRole"] == nil || settings["profile"] == nil || len(settings) < 30 {
		t.Errorf("providerSettings = %v, want every argument of the provider", settings)
	}

	cfg["aws:skipMetadataApiCheck"] = "maybe"
	if m, _, _, err := runProgram(t, cfg); !errors.Is(err, deploy.ErrConfig) || !strings.Contains(err.Error(), "aws:skipMetadataApiCheck") || len(m.Resources) != 0 {
		t.Errorf("a setting of the wrong type: %v, %d resources; want a configuration error naming it, before anything is created", err, len(m.Resources))
	}
}

// maxStackName is the longest stack name the tollgate project deploys
// under: its API's name, "tollgate-<stack>", prefixes each function, and
// the function's autonamed role must fit IAM's 64 characters.
var maxStackName = deploy.MaxFunctionName - len("tollgate-") - len("-authorizer")

// Defect: stack names past about 26 characters failed at preview, when
// the logging role's autoname passed 64. The program runs, through the
// provider-faithful mocks, for the shortest and longest stack names with
// every setting at its edges; one character more is refused before
// anything is created, naming the stack.
func TestStackNamesAndSettingsAtTheirEdges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program nine times")
	}
	low := map[string]string{
		"tollgate:stage": "s", "tollgate:clients": `["c"]`, "tollgate:recoveryWindowInDays": "7",
		"tollgate:authorizerResultTtlInSeconds": "0", "tollgate:authorizerMemory": "128", "tollgate:authorizerTimeout": "1",
		"tollgate:handlerMemory": "128", "tollgate:handlerTimeout": "1", "tollgate:logRetentionDays": "1",
		"tollgate:throttleRateLimit": "1", "tollgate:throttleBurstLimit": "1", "tollgate:accountLogsRole": "false",
	}
	client := strings.Repeat("c", 128)
	high := map[string]string{
		"tollgate:arch": "x86_64", "tollgate:stage": strings.Repeat("s", 128),
		"tollgate:clients":      `["` + client + `","b"]`,
		"tollgate:clientRoutes": `{"b":["GET /hello","ANY /customers","POST /orders"]}`,
		"tollgate:rotation":     "2147483646", "tollgate:recoveryWindowInDays": "30",
		"tollgate:rotations":                    `{"b":{"n":1,"previousUntil":"9999-12-31T23:59:59Z"}}`,
		"tollgate:kmsKeyArn":                    "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
		"tollgate:authorizerType":               "REQUEST",
		"tollgate:identitySources":              `["method.request.header.X-Api-Key","method.request.querystring.tenant","context.httpMethod","stageVariables.v"]`,
		"tollgate:authorizerResultTtlInSeconds": "3600",
		"tollgate:authorizerMemory":             "10240", "tollgate:authorizerTimeout": "900", "tollgate:authorizerReservedConcurrency": "1000",
		"tollgate:handlerMemory": "10240", "tollgate:handlerTimeout": "900", "tollgate:handlerReservedConcurrency": "1000",
		"tollgate:logLevel": "error", "tollgate:logRetentionDays": "3653",
		"tollgate:throttleRateLimit": "10000", "tollgate:throttleBurstLimit": "5000",
		"tollgate:plans": `{"` + strings.Repeat("p", 64) + `":{"rateLimit":10000,"burstLimit":5000,"quota":{"limit":2147483647,"period":"MONTH"},` +
			`"routes":{"POST /orders":{"rateLimit":10000,"burstLimit":5000}},"clients":["b"]},"z":{"rateLimit":1,"burstLimit":1}}`,
		"tollgate:defaultPlan":     "z",
		"tollgate:corsAllowOrigin": "*",
		"tollgate:tags":            `{"` + strings.Repeat("k", 128) + `":"` + strings.Repeat("v", 256) + `"}`,
	}
	for _, stack := range []string{"d", strings.Repeat("s", maxStackName)} {
		for name, settings := range map[string]map[string]string{"defaults": {}, "low": low, "high": high} {
			t.Run(fmt.Sprintf("%d-character stack, %s", len(stack), name), func(t *testing.T) {
				cfg := map[string]string{"aws:region": "eu-west-1"}
				maps.Copy(cfg, settings)
				m, _, _, err := runStack(t, stack, cfg)
				if err != nil {
					t.Fatalf("program: %v", err)
				}
				if len(m.Of("aws:lambda/function:Function")) != 2 {
					t.Errorf("%d functions", len(m.Of("aws:lambda/function:Function")))
				}
			})
		}
	}
	stack := strings.Repeat("s", maxStackName+1)
	m, _, _, err := runStack(t, stack, map[string]string{"aws:region": "eu-west-1"})
	if !errors.Is(err, deploy.ErrConfig) || !strings.Contains(err.Error(), "the stack name "+fmt.Sprintf("%q", stack)) ||
		!strings.Contains(err.Error(), fmt.Sprintf("at most %d characters", maxStackName+len("tollgate-"))) {
		t.Errorf("a %d-character stack name: %v, want a configuration error naming the stack and the limit", len(stack), err)
	}
	if len(m.Resources) != 0 {
		t.Errorf("%d resources created before the error", len(m.Resources))
	}
}

// A compile error stops the program with the compiler's message before
// any resource, the provider included, is created.
func TestFailedBuildCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/go.mod", []byte("module tollgate\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, fn := range []string{"authorizer", "handler"} {
		if err := os.MkdirAll(dir+"/cmd/"+fn, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dir+"/cmd/"+fn+"/main.go", []byte("package main\n\nfunc main() { missing"+fn+"() }\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := devStack(t)
	t.Chdir(dir)
	m, _, _, err := runProgram(t, cfg)
	if err == nil || !strings.Contains(err.Error(), "undefined: missing") {
		t.Fatalf("program = %v, want the compiler's message", err)
	}
	if n := len(m.Resources); n != 0 {
		t.Errorf("%d resources created after a failed build, want none", n)
	}
}

// api.yaml's routes with auth: jwt take the jwt setting's issuer and
// audiences for API Gateway's own JWT authorizer, on an HTTP API; without
// the setting, or on a REST API, nothing is created.
func TestJWTRoutesTakeTheJWTSetting(t *testing.T) {
	file := filepath.Join(t.TempDir(), "api.yaml")
	if err := os.WriteFile(file, []byte("functions:\n  handler:\n    package: ./cmd/handler\nroutes:\n  - route: GET /hello\n    function: handler\n  - route: GET /reports\n    function: handler\n    auth: jwt\n    scopes: [reports:read]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := apiFile
	apiFile = file
	t.Cleanup(func() { apiFile = old })
	jwt := `{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks","audiences":["orders-api"]}`
	c := loadWith(t, map[string]string{"aws:region": "eu-west-1", "tollgate:apiType": "http", "tollgate:jwt": jwt})
	if j := c.Args.Definition.JWT; j == nil || j.Issuer != "https://id.example.com/" || !slices.Equal(j.Audiences, []string{"orders-api"}) {
		t.Errorf("JWT authorizer = %+v", j)
	}
	for _, tc := range []struct {
		cfg  map[string]string
		want string
	}{
		{map[string]string{"aws:region": "eu-west-1", "tollgate:apiType": "http"}, "set its issuer and audiences in tollgate:jwt"},
		{map[string]string{"aws:region": "eu-west-1", "tollgate:jwt": jwt}, "HTTP APIs only"},
	} {
		m, _, _, err := runProgram(t, tc.cfg)
		if !errors.Is(err, deploy.ErrConfig) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want a configuration error with %q", tc.cfg, err, tc.want)
		}
		if n := len(m.Resources); n > 0 {
			t.Errorf("%v: %d resources created", tc.cfg, n)
		}
	}
}

// Issue 26, defect 4: lowering rotations.<client>.n from 1 to 0, or
// deleting the entry, kept the old key and deleted the new one, so the key
// rotated out (maybe because it leaked) worked again. A rotation is one
// way: the update that would undo it is refused before anything changes,
// however the generation is lowered.
func TestUndoingARotationIsRefused(t *testing.T) {
	base := map[string]string{"aws:region": "eu-west-1", "tollgate:clients": `["mobile","reports"]`}
	rotated := maps.Clone(base)
	rotated["tollgate:rotations"] = `{"reports":{"n":1}}`
	_, deployed, _, err := runProgram(t, rotated)
	if err != nil {
		t.Fatal(err)
	}
	for name, undo := range map[string]map[string]string{
		"n lowered":         {"tollgate:rotations": `{"reports":{"n":0}}`},
		"the entry deleted": {},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := maps.Clone(base)
			maps.Copy(cfg, undo)
			m := &pulumimock.Mocks{StackOutputs: map[string]map[string]any{"organization/tollgate/dev": deployed}}
			m, _, _, err := runMocks(t, m, "dev", cfg)
			if !errors.Is(err, deploy.ErrConfig) || !strings.Contains(err.Error(), `client "reports"`) {
				t.Fatalf("undoing the rotation: %v, want a configuration error naming client \"reports\"", err)
			}
			if len(m.Resources) != 0 {
				t.Errorf("%d resources registered before the error", len(m.Resources))
			}
		})
	}
	// Forward again is a new key, and a first deploy reads no history.
	cfg := maps.Clone(base)
	cfg["tollgate:rotations"] = `{"reports":{"n":2}}`
	if _, _, _, err := runMocks(t, &pulumimock.Mocks{StackOutputs: map[string]map[string]any{"organization/tollgate/dev": deployed}}, "dev", cfg); err != nil {
		t.Errorf("rotating forward: %v", err)
	}
}

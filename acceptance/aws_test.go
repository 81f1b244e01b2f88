package acceptance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi"
	tagtypes "github.com/aws/aws-sdk-go-v2/service/resourcegroupstaggingapi/types"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"

	"tollgate/conformance"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/modcopy"
	"tollgate/internal/testkit/waitfor"
)

// EnvAcceptance turns the run on.
const EnvAcceptance = "TOLLGATE_AWS_ACCEPTANCE"

const corsOrigin = "https://conformance.example.com"

// ready skips the test, with one line saying why, unless the run was
// asked for and can happen here.
func ready(t *testing.T) aws.Config {
	t.Helper()
	if os.Getenv(EnvAcceptance) != "1" {
		t.Skipf("%s=1 runs this against your AWS account (docs/deploying.md: Checking a deployed stage)", EnvAcceptance)
	}
	if _, err := exec.LookPath("pulumi"); err != nil {
		t.Skip("no pulumi CLI on the PATH (https://www.pulumi.com/docs/install/)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	region := os.Getenv("AWS_REGION")
	if region == "" {
		region = "eu-west-1"
	}
	cfg, err := awsconfig.LoadDefaultConfig(ctx, awsconfig.WithRegion(region))
	if err == nil {
		_, err = cfg.Credentials.Retrieve(ctx)
	}
	if err != nil {
		t.Skipf("no AWS credentials (aws configure, or AWS_PROFILE): %v", err)
	}
	return cfg
}

func TestAWS(t *testing.T) {
	awsCfg := ready(t)
	ctx := context.Background()
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	work := modcopy.Copy(t, root)
	// The handler echoes events for the suite's event rows.
	apiFile := filepath.Join(work, "api.yaml")
	edit(t, apiFile, "    package: ./cmd/handler\n", "    package: ./cmd/handler\n    env:\n      TOLLGATE_ECHO_EVENTS: \"1\"\n")
	// A route with a throttle of its own, for the throttle row: a
	// stage's method setting on a REST API, a route setting on an HTTP API.
	edit(t, apiFile, "routes:\n", "routes:\n  - route: GET /throttled\n    function: handler\n    public: true\n    throttle: {rateLimit: 1, burstLimit: 1}\n")
	jwt := jwtFromEnv(t)

	suffix := make([]byte, 3)
	_, _ = rand.Read(suffix)
	stackName := "acc" + hex.EncodeToString(suffix)
	backend := t.TempDir()
	env := map[string]string{
		"PULUMI_BACKEND_URL":       "file://" + backend,
		"PULUMI_CONFIG_PASSPHRASE": hex.EncodeToString(suffix) + "-acceptance",
	}
	s, err := auto.UpsertStackLocalSource(ctx, stackName, work, auto.EnvVars(env))
	if err != nil {
		t.Fatal(err)
	}
	config := auto.ConfigMap{
		"aws:region":                {Value: awsCfg.Region},
		"tollgate:clients":          {Value: `["full","scoped"]`},
		"tollgate:clientRoutes":     {Value: `{"scoped":["GET /customers"]}`},
		"tollgate:corsAllowOrigin":  {Value: corsOrigin},
		"tollgate:logRetentionDays": {Value: "1"},
	}
	if jwt.token != "" {
		config["tollgate:jwt"] = auto.ConfigValue{Value: jwt.settings}
	}
	if err := s.SetAllConfig(ctx, config); err != nil {
		t.Fatal(err)
	}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			if _, err := s.Destroy(context.Background(), optdestroy.ProgressStreams(os.Stderr)); err != nil {
				t.Errorf("destroy %s (remove what is left by hand, tagged tollgate:stack=%s): %v", stackName, stackName, err)
			}
		}
		_ = s.Workspace().RemoveStack(context.Background(), stackName)
	})

	// 1. Up, and the suite against the stage.
	res, err := s.Up(ctx, optup.ProgressStreams(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	url, keys := outputs(t, res.Outputs)
	target := conformance.Target{URL: url, Key: keys["full"], ScopedKey: keys["scoped"],
		ScopedRoute: "GET /customers", OffRoute: "GET /hello", CORSOrigin: corsOrigin, Echo: true,
		JWT: jwt.token, JWTRoute: jwt.route, ThrottledRoute: "GET /throttled", ThrottleBurst: 1}
	suite(ctx, t, target)

	// 2. A second up changes nothing.
	unchanged(ctx, t, s)

	// 3. Rotate the full client's key with a grace: both keys work.
	until := time.Now().Add(15 * time.Minute).UTC().Format(time.RFC3339)
	if err := s.SetConfigWithOptions(ctx, "tollgate:rotations", auto.ConfigValue{Value: `{"full":{"n":1,"previousUntil":"` + until + `"}}`}, nil); err != nil {
		t.Fatal(err)
	}
	res, err = s.Up(ctx, optup.ProgressStreams(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	_, rotated := outputs(t, res.Outputs)
	if rotated["full"] == keys["full"] {
		t.Fatal("the rotation gave the same key")
	}
	// The new key works once the authorizers read the keyring again
	// (their key TTL, 5 minutes, plus the result cache's).
	waitfor.Eventually(t, 12*time.Minute, 15*time.Second, status(url+"/hello", rotated["full"], 200))
	if err := status(url+"/hello", keys["full"], 200)(); err != nil {
		t.Errorf("the old key within its grace: %v", err)
	}

	// 4. Remove a route: it is gone.
	edit(t, apiFile, "  - route: POST /orders\n    function: handler\n", "")
	if _, err := s.Up(ctx, optup.ProgressStreams(os.Stderr)); err != nil {
		t.Fatal(err)
	}
	waitfor.Eventually(t, 3*time.Minute, 10*time.Second, func() error {
		return statusOf("POST", url+"/orders", rotated["full"], 403)()
	})

	// 5. Switch to an HTTP API: the permissions, stage and API are
	// replaced in one up, and the HTTP rows pass; with a JWT, on a route
	// guarded by API Gateway's JWT authorizer too.
	if err := s.SetConfigWithOptions(ctx, "tollgate:apiType", auto.ConfigValue{Value: "http"}, nil); err != nil {
		t.Fatal(err)
	}
	if jwt.token != "" {
		edit(t, apiFile, "routes:\n", "routes:\n  - route: GET /reports\n    function: handler\n    auth: jwt\n")
	}
	res, err = s.Up(ctx, optup.ProgressStreams(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	url, keys = outputs(t, res.Outputs)
	httpTarget := conformance.Target{URL: url, Key: keys["full"], ScopedKey: keys["scoped"],
		ScopedRoute: "GET /customers", OffRoute: "GET /hello", CORSOrigin: corsOrigin, Echo: true, HTTP: true,
		ThrottledRoute: "GET /throttled", ThrottleBurst: 1}
	if jwt.token != "" {
		httpTarget.JWT, httpTarget.JWTRoute, httpTarget.JWTAuthorizer = jwt.token, "GET /reports", true
	}
	// The new stage's authorizers read the rotated keyring at init.
	waitfor.Eventually(t, 3*time.Minute, 10*time.Second, status(url+"/hello", keys["full"], 200))
	suite(ctx, t, httpTarget)
	unchanged(ctx, t, s)

	// 6. Destroy: nothing tagged with the stack remains.
	if _, err := s.Destroy(ctx, optdestroy.ProgressStreams(os.Stderr)); err != nil {
		t.Fatal(err)
	}
	destroyed = true
	tags := resourcegroupstaggingapi.NewFromConfig(awsCfg)
	waitfor.Eventually(t, 5*time.Minute, 15*time.Second, func() error {
		out, err := tags.GetResources(ctx, &resourcegroupstaggingapi.GetResourcesInput{
			TagFilters: []tagtypes.TagFilter{{Key: aws.String("tollgate:stack"), Values: []string{stackName}}},
		})
		if err != nil {
			return err
		}
		if n := len(out.ResourceTagMappingList); n > 0 {
			return fmt.Errorf("%d resources tagged tollgate:stack=%s remain, the first %s", n, stackName, aws.ToString(out.ResourceTagMappingList[0].ResourceARN))
		}
		return nil
	})
}

// suite runs the conformance suite against target: every row must pass,
// but the JWT rows without a token (EnvJWT).
func suite(ctx context.Context, t *testing.T, target conformance.Target) {
	t.Helper()
	var out strings.Builder
	for _, r := range conformance.Run(ctx, target, &out) {
		if r.Skipped && r.Row.Needs == "jwt" && target.JWT == "" {
			continue
		}
		if r.Skipped || r.Err != nil {
			t.Errorf("%s: skipped %v, %v (%s)", r.Row.Name, r.Skipped, r.Err, r.Row.Source)
		}
	}
	t.Logf("the suite against %s:\n%s", target.URL, out.String())
}

// unchanged runs up again and wants nothing changed.
func unchanged(ctx context.Context, t *testing.T, s auto.Stack) {
	t.Helper()
	res, err := s.Up(ctx, optup.ProgressStreams(os.Stderr))
	if err != nil {
		t.Fatal(err)
	}
	if changes := res.Summary.ResourceChanges; changes != nil {
		for op, n := range *changes {
			if op != "same" && n > 0 {
				t.Errorf("the second up did %d %s: want nothing changed (%v)", n, op, *changes)
			}
		}
	}
}

// The JWT rows need a token from an issuer the operator runs: EnvJWT is
// the token, EnvJWTSettings the stack's jwt setting (issuer, jwksUrl,
// audiences, scopeRoutes: docs/jwts.md), whose scopes let the token call
// EnvJWTRoute (default GET /hello); on the HTTP API it calls GET /reports,
// an auth: jwt route, as well. Without them the JWT rows are left out.
const (
	EnvJWT         = "TOLLGATE_AWS_JWT"
	EnvJWTSettings = "TOLLGATE_AWS_JWT_SETTINGS"
	EnvJWTRoute    = "TOLLGATE_AWS_JWT_ROUTE"
)

type jwtSetup struct{ token, settings, route string }

func jwtFromEnv(t *testing.T) jwtSetup {
	t.Helper()
	j := jwtSetup{token: os.Getenv(EnvJWT), settings: os.Getenv(EnvJWTSettings), route: os.Getenv(EnvJWTRoute)}
	if j.route == "" {
		j.route = "GET /hello"
	}
	switch {
	case j.token == "" && j.settings == "":
		t.Logf("no %s and %s: the JWT rows are left out", EnvJWT, EnvJWTSettings)
	case j.token == "" || j.settings == "":
		t.Fatalf("%s and %s go together", EnvJWT, EnvJWTSettings)
	}
	return j
}

// outputs are the stack's url and its clients' keys.
func outputs(t *testing.T, o auto.OutputMap) (string, map[string]string) {
	t.Helper()
	url, _ := o["url"].Value.(string)
	keys := map[string]string{}
	b, err := json.Marshal(o["apiKeys"].Value)
	if err == nil {
		err = json.Unmarshal(b, &keys)
	}
	if url == "" || err != nil || keys["full"] == "" || keys["scoped"] == "" {
		t.Fatalf("stack outputs: url %q, apiKeys for %d clients, %v", url, len(keys), err)
	}
	return url, keys
}

func edit(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), old) {
		t.Fatalf("%s no longer holds %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(b), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func status(url, key string, want int) func() error { return statusOf("GET", url, key, want) }

func statusOf(method, url, key string, want int) func() error {
	return func() error {
		req, err := http.NewRequest(method, url, strings.NewReader("{}"))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Content-Type", "application/json")
		resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
		if err != nil {
			return err
		}
		_ = resp.Body.Close()
		if resp.StatusCode != want {
			return fmt.Errorf("%s %s = %d, want %d", method, url, resp.StatusCode, want)
		}
		return nil
	}
}

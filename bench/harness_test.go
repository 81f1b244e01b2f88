package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tollgate/internal/testkit/testbin"
	"tollgate/internal/testkit/testkeys"

	"github.com/aws/aws-lambda-go/lambda"

	"tollgate/authorizer"
	"tollgate/bench/peers"
	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/emulator/localaws"
	"tollgate/internal/emulator/localsm"
	"tollgate/internal/lambdabuild"
)

const (
	// key is the key in the authorizer's event fixtures; unknownKey has its
	// length and is in no keyring.
	key        = "tg_test_mobile_app_key_0123456789abcdefghij"
	unknownKey = "tg_test_nobody_has_this_key_0123456789abcd"
	keyID      = "mobile-app"
)

// sink keeps answers alive so the compiler cannot drop the work.
var sink []byte

// event is one of the authorizer's fixtures (token, request, http-v2),
// compact as API Gateway sends it, with the known key or the unknown one.
func event(tb testing.TB, name string, valid bool) []byte {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("..", "authorizer", "testdata", "events", name+".json"))
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		tb.Fatal(err)
	}
	if !bytes.Contains(buf.Bytes(), []byte(key)) {
		tb.Fatalf("fixture %s does not hold the key", name)
	}
	if !valid {
		return bytes.ReplaceAll(buf.Bytes(), []byte(key), []byte(unknownKey))
	}
	return buf.Bytes()
}

// keyringDoc is a keyring of n keys, the first of them key.
func keyringDoc(n int) []byte {
	return testkeys.Keyring(n, testkeys.Key{ID: keyID, Key: key})
}

// endpoint is a Secrets Manager endpoint on loopback serving one keyring,
// counting the calls it answers.
type endpoint struct {
	url, secretID string
	calls         atomic.Int64
}

// startEndpoint serves a keyring of keys keys. Without keepAlive every
// answer closes its connection, so that each fresh client pays for its
// own, as a cold Lambda does.
func startEndpoint(tb testing.TB, keys int, keepAlive bool) *endpoint {
	tb.Helper()
	return serveKeyring(tb, keyringDoc(keys), keepAlive)
}

// serveKeyring serves the keyring doc, as startEndpoint does.
func serveKeyring(tb testing.TB, doc []byte, keepAlive bool) *endpoint {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "keyring.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		tb.Fatal(err)
	}
	store, err := localsm.Open("tollgate/bench", path, localaws.Region, localaws.AccountID, nil)
	if err != nil {
		tb.Fatal(err)
	}
	e := &endpoint{secretID: store.ARN()}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		store.ServeHTTP(w, r)
	}))
	srv.Config.SetKeepAlivesEnabled(keepAlive)
	srv.Start()
	tb.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

// env is a function's environment for this endpoint: what Lambda sets,
// the endpoint override, and no AWS config files. The key TTL is a day:
// a refresh ahead (from RefreshMargin on) is no per-request cost, and one
// falling inside a warm benchmark would be counted against its requests
// (sm-calls/op); the tests that watch refreshes set their own TTL.
func (e *endpoint) env(tb testing.TB) map[string]string {
	none := filepath.Join(tb.TempDir(), "none")
	return map[string]string{
		authorizer.EnvKeyTTL:             "24h",
		authorizer.EnvSecretID:           e.secretID,
		authorizer.EnvAWSEndpoint:        e.url,
		authorizer.EnvAWSRegion:          localaws.Region,
		authorizer.EnvAWSAccessKeyID:     "AKIDBENCH",
		authorizer.EnvAWSSecretAccessKey: "bench",
		"AWS_CONFIG_FILE":                none,
		"AWS_SHARED_CREDENTIALS_FILE":    none,
		"AWS_EC2_METADATA_DISABLED":      "true",
	}
}

// setenv puts env in this process's environment, where the peers'
// config.LoadDefaultConfig reads it.
func setenv(tb testing.TB, env map[string]string) {
	for k, v := range env {
		tb.Setenv(k, v)
	}
}

// logPipe is where a deployed authorizer's log goes: a pipe, as Lambda's
// standard output is, read by another goroutine (the log collector).
func logPipe(tb testing.TB) io.Writer {
	tb.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, r)
		close(done)
	}()
	tb.Cleanup(func() {
		_ = w.Close()
		<-done
		_ = r.Close()
	})
	return w
}

// newDeployedTollgate is newTollgate as deployed (authorizer.Serve): its
// decision lines are written after each response, off the request path;
// here a goroutine writes them every millisecond
// (authorizer.DeferDecisionLog).
func newDeployedTollgate(tb testing.TB, env map[string]string, log io.Writer) *authorizer.Authorizer {
	tb.Helper()
	return deployed(tb, newTollgate(tb, env, log))
}

// deployed makes a's decision lines written off the request path, as
// newDeployedTollgate's.
func deployed(tb testing.TB, a *authorizer.Authorizer) *authorizer.Authorizer {
	flush := a.DeferDecisionLog()
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				flush()
				return
			case <-t.C:
				flush()
			}
		}
	}()
	tb.Cleanup(func() { close(done); <-stopped })
	return a
}

// newTollgate builds the authorizer as cmd/authorizer does
// (authorizer.NewFromEnv), except that its log goes to log: a logPipe, as
// deployed, or io.Discard, to weigh the log's cost. Each decision line is
// written on the request path, as without work after the response.
func newTollgate(tb testing.TB, env map[string]string, log io.Writer) *authorizer.Authorizer {
	tb.Helper()
	getenv := func(k string) string { return env[k] }
	secretID, cfg, err := authorizer.FromEnv(getenv)
	if err != nil {
		tb.Fatal(err)
	}
	client, err := authorizer.SecretsManagerFromEnv(getenv)
	if err != nil {
		tb.Fatal(err)
	}
	cfg.Source = authorizer.SecretsManager(client, secretID)
	return newLogging(tb, cfg, log)
}

// newLogging is the authorizer of cfg, logging to log as cmd/authorizer
// logs to its standard output.
func newLogging(tb testing.TB, cfg authorizer.Config, log io.Writer) *authorizer.Authorizer {
	tb.Helper()
	cfg.Logger = slog.New(slog.NewJSONHandler(log, nil))
	cfg.DecisionLog = log
	a, err := authorizer.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}

// decision says what an answer decided: "allow", "deny" or what went
// wrong. REST answers allow with the key's principal; HTTP simple answers
// with isAuthorized.
func decision(out []byte, err error) string {
	if err != nil {
		if err.Error() == "Unauthorized" {
			return "deny"
		}
		return "error: " + err.Error()
	}
	var answer struct {
		PrincipalID  string `json:"principalId"`
		IsAuthorized *bool  `json:"isAuthorized"`
	}
	switch {
	case json.Unmarshal(out, &answer) != nil:
	// A JWT's principal is tollgate's jwt: and its subject (a peer's, its
	// subject alone).
	case answer.PrincipalID == keyID, answer.PrincipalID == authorizer.JWTPrincipalPrefix+keyID, answer.IsAuthorized != nil && *answer.IsAuthorized:
		return "allow"
	case answer.IsAuthorized != nil:
		return "deny"
	}
	return "unexpected answer " + string(out)
}

var (
	buildOnce    sync.Once
	buildDir     string
	buildRelease func()
	built        map[string]string
	buildErr     error
)

// TestMain releases the lasting directory the process benchmarks' binaries
// are built into (testbin).
func TestMain(m *testing.M) {
	code := m.Run()
	if buildRelease != nil {
		buildRelease()
	}
	os.Exit(code)
}

// binaries builds Functions for this machine, as lambdabuild builds them
// for Lambda, once per test binary, and adds the Python peer.
func binaries(tb testing.TB) map[string]string {
	tb.Helper()
	buildOnce.Do(func() {
		var root string
		if root, buildErr = lambdabuild.ModuleDir("."); buildErr != nil {
			return
		}
		if buildDir, buildRelease, buildErr = testbin.Dir("bench-host"); buildErr != nil {
			return
		}
		built, buildErr = lambdabuild.Build(context.Background(), root, buildDir,
			lambdabuild.Target{GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}, Functions)
		if buildErr != nil {
			return
		}
		if py, err := pythonBootstrap(root, buildDir); err == nil {
			built["python"] = py
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return built
}

// pythonBootstrap writes a bootstrap that execs the Python peer with the
// interpreter that has boto3, resolved once so that no version manager's
// shim runs at each start.
func pythonBootstrap(root, dir string) (string, error) {
	out, err := exec.Command("python3", "-c", "import boto3, sys; print(sys.executable)").Output()
	if err != nil {
		return "", fmt.Errorf("python3 with boto3: %w", err)
	}
	python := strings.TrimSpace(string(out))
	script := filepath.Join(root, PythonPeer)
	if strings.ContainsRune(python+script, '\'') {
		return "", fmt.Errorf("cannot quote %s or %s", python, script)
	}
	path := filepath.Join(dir, "python", "bootstrap")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", err
	}
	return path, os.WriteFile(path, []byte("#!/bin/sh\nexec '"+python+"' '"+script+"'\n"), 0o755)
}

// binary is impl's bootstrap; a missing Python skips.
func binary(tb testing.TB, impl string) string {
	tb.Helper()
	bin, ok := binaries(tb)[impl]
	if !ok {
		tb.Skipf("%s: no bootstrap (python3 with boto3 is needed for the Python peer)", impl)
	}
	return bin
}

// newPool runs impl's bootstrap behind the Lambda Runtime API, one
// instance at a time; report, if set, receives lambdalocal's reports.
func newPool(tb testing.TB, impl string, env map[string]string, report func(lambdalocal.Report)) *lambdalocal.Pool {
	tb.Helper()
	p, err := lambdalocal.NewPool(lambdalocal.Function{
		Name: impl, Binary: binary(tb, impl), Env: env, MaxInstances: 1,
		Timeout: 30 * time.Second, InitTimeout: 30 * time.Second, Report: report,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = p.Close() })
	return p
}

// subject is one implementation's handler, from event bytes to answer
// bytes.
type subject struct {
	impl string
	h    lambda.Handler
}

// kind is an event type and the implementations that decide it.
type kind struct {
	name, fixture string
	subjects      []subject
}

// deciders serves a keyring of keys keys and returns, for each event type,
// tollgate and the peers loaded from it and ready to decide.
func deciders(tb testing.TB, keys int) (*endpoint, []kind) {
	tb.Helper()
	ctx := context.Background()
	ep := startEndpoint(tb, keys, true)
	env := ep.env(tb)
	setenv(tb, env)
	tg := newDeployedTollgate(tb, env, logPipe(tb))
	if err := tg.Load(ctx); err != nil {
		tb.Fatal(err)
	}
	quiet := newTollgate(tb, env, io.Discard)
	if err := quiet.Load(ctx); err != nil {
		tb.Fatal(err)
	}
	// The same as tg, its lines without their metrics (issue 31).
	envNoMetrics := maps.Clone(env)
	envNoMetrics[authorizer.EnvMetrics] = "off"
	noMetrics := newDeployedTollgate(tb, envNoMetrics, logPipe(tb))
	if err := noMetrics.Load(ctx); err != nil {
		tb.Fatal(err)
	}
	idiomatic, err := peers.NewIdiomatic(ctx, ep.secretID)
	if err != nil {
		tb.Fatal(err)
	}
	seed, err := peers.NewSeed(ctx, ep.secretID)
	if err != nil {
		tb.Fatal(err)
	}
	return ep, []kind{
		{"TOKEN", "token", []subject{{"tollgate", tg}, {"tollgate-nometrics", noMetrics}, {"tollgate-nolog", quiet}, {"idiomatic", lambda.NewHandler(idiomatic.Token)}, {"seed", lambda.NewHandler(seed.Token)}}},
		{"REQUEST", "request", []subject{{"tollgate", tg}, {"tollgate-nometrics", noMetrics}, {"tollgate-nolog", quiet}, {"idiomatic", lambda.NewHandler(idiomatic.Request)}}},
		{"HTTP", "http-v2", []subject{{"tollgate", tg}, {"tollgate-nometrics", noMetrics}, {"tollgate-nolog", quiet}, {"idiomatic", lambda.NewHandler(idiomatic.HTTP)}}},
	}
}

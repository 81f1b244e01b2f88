package authorizer

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tollgate/internal/iam"
	"tollgate/internal/testkit/fakeclock"
	"tollgate/internal/testkit/leakscan"
	"tollgate/internal/testkit/logsink"
)

// Keys of the keyrings in testdata/keyrings.
const (
	mobileKey    = "tg_test_mobile_app_key_0123456789abcdefghij"
	oldMobileKey = "tg_test_mobile_app_OLD_key_0123456789abcdefg"
	ordersKey    = "tg_test_orders_bot_key_0123456789abcdefghij"
	partnerKey   = "tg_test_partner_key_0123456789abcdefghijklmn"
	partnerUsage = "tg-usage-partner-0123456789"
	unknownKey   = "tg_test_nobody_has_this_key_0123456789abcd"

	testARN    = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/hello"
	testPrefix = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/"
)

// assertNoKeysLogged fails when a log line holds any test key (secretKeys
// and extra), or part of one (internal/testkit/leakscan).
func assertNoKeysLogged(t *testing.T, logs string, extra ...string) {
	t.Helper()
	_, leaks, _ := leakscan.New(append(slices.Clone(secretKeys), extra...)...).Scan(strings.NewReader(logs))
	for _, l := range leaks {
		t.Errorf("%v (%q):\n%s", l, l.Run, logs)
	}
}

// secretKeys lists every key value in testdata, for leak scans.
var secretKeys = []string{mobileKey, oldMobileKey, ordersKey, partnerKey, partnerUsage, unknownKey}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// stages is a fake secret: the value of each version stage that exists.
type stages struct {
	mu     sync.Mutex
	values map[string][]byte
	err    error // returned for every stage when set
	calls  int
}

func (s *stages) SecretValue(_ context.Context, stage string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	v, ok := s.values[stage]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrSecretNotFound, stage)
	}
	return v, nil
}

func (s *stages) set(values map[string][]byte, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values, s.err = values, err
}

func (s *stages) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func testStages(t testing.TB) *stages {
	return &stages{values: map[string][]byte{StageCurrent: fixture(t, "keyrings/current.json")}}
}

// logBuffer collects log output safely across goroutines.
type logBuffer struct{ logsink.Buffer }

// lines decodes every JSON log line.
func (l *logBuffer) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split([]byte(l.String()), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// newFakeClock is a settable clock for the key store's TTL and ages.
// It starts a week before the grace of mobile-app's previous key in
// testdata/keyrings/current.json ends.
func newFakeClock() *fakeclock.Clock {
	return fakeclock.New(testNow)
}

var testNow = time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)

// newTestAuthorizer builds an authorizer over src (testStages when nil) whose
// logs go to the returned buffer at level Debug, at the fixed instant
// testNow.
func newTestAuthorizer(t testing.TB, cfg Config, src SecretSource) (*Authorizer, *logBuffer) {
	t.Helper()
	return newTestAuthorizerAt(t, newFakeClock().Now, cfg, src)
}

// newTestAuthorizerAt is newTestAuthorizer on the clock now.
func newTestAuthorizerAt(t testing.TB, now func() time.Time, cfg Config, src SecretSource) (*Authorizer, *logBuffer) {
	t.Helper()
	if src == nil {
		src = testStages(t)
	}
	logs := &logBuffer{}
	cfg.Source = src
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := newAuthorizer(cfg, hooks{now: now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a, logs
}

// waitIdle waits for a background fetch to end.
func waitIdle(t testing.TB, a *Authorizer) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a.store.mu.Lock()
		inflight := a.store.inflight
		a.store.mu.Unlock()
		if inflight == nil {
			return
		}
		select {
		case <-inflight.done:
		case <-time.After(time.Until(deadline)):
			t.Fatal("background fetch did not end")
		}
	}
}

// tokenEvent is a TOKEN event as API Gateway sends it.
func tokenEvent(token, arn string) []byte {
	b, _ := json.Marshal(map[string]string{"type": "TOKEN", "authorizationToken": token, "methodArn": arn})
	return b
}

// edit decodes a fixture, lets fn change it, and encodes it again.
func edit(t testing.TB, data []byte, fn func(ev map[string]any)) []byte {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		t.Fatal(err)
	}
	fn(ev)
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// answer is a REST authorizer answer, decoded.
type answer struct {
	PrincipalID    string `json:"principalId"`
	PolicyDocument struct {
		Version   string
		Statement []struct {
			Action   []string
			Effect   string
			Resource []string
		}
	} `json:"policyDocument"`
	Context            map[string]any `json:"context"`
	UsageIdentifierKey string         `json:"usageIdentifierKey"`
}

func decodeAnswer(t testing.TB, b []byte) answer {
	t.Helper()
	var a answer
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("answer %s: %v", b, err)
	}
	return a
}

// resources returns the resources of the statements with the given effect.
func (a answer) resources(effect string) []string {
	var out []string
	for _, s := range a.PolicyDocument.Statement {
		if s.Effect == effect {
			out = append(out, s.Resource...)
		}
	}
	return out
}

// allows is what API Gateway decides from the answer's policy for arn, by
// IAM's rules: an explicit Deny wins, else an Allow whose resource matches
// (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
// It is how a cached answer is applied to a later request.
func (a answer) allows(arn string) bool {
	for _, r := range a.resources("Deny") {
		if iam.Match(r, arn) {
			return false
		}
	}
	for _, r := range a.resources("Allow") {
		if iam.Match(r, arn) {
			return true
		}
	}
	return false
}

// limitDenies are the Deny resources of every limited key's or token's
// answer in the stage of prefix: the paths refused to them all.
func limitDenies(prefix string) []string {
	var out []string
	for _, d := range pathDenies {
		out = append(out, prefix+d)
	}
	return out
}

package authorizer

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"tollgate/internal/emf"
)

// metricValues are every embedded metric of the log lines in out, by
// series ("Decisions function=f outcome=allow"), summed; a line
// CloudWatch would not extract from fails the test.
func metricValues(t *testing.T, out string) map[string]float64 {
	t.Helper()
	sums := map[string]float64{}
	for _, line := range strings.Split(out, "\n") {
		vs, err := emf.Parse([]byte(line))
		if err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		for _, v := range vs {
			if v.Namespace != MetricNamespace || !slices.ContainsFunc(Metrics, func(m Metric) bool { return m.Name == v.Name && m.Unit == v.Unit }) {
				t.Fatalf("metric %s %s (%s) is not one of Metrics", v.Namespace, v.Name, v.Unit)
			}
			sums[v.Key()] += v.Value
		}
	}
	return sums
}

// Issue 31: every decision line is a Decisions datum by outcome, and a
// refusal's by reason too, an error's never by its text; the first of an
// environment is a cold start; each carries the keys' age; the reads of
// the secret count loads and failures. Both encoders (the decision log's
// and the Logger's) write the same metrics.
func TestDecisionMetrics(t *testing.T) {
	for _, viaLog := range []bool{true, false} {
		out := &syncBuffer{}
		cfg := Config{Function: "tollgate-dev-authorizer", Logger: slog.New(slog.NewJSONHandler(out, nil))}
		if viaLog {
			cfg.DecisionLog = out
		}
		clock := newFakeClock()
		src := testStages(t)
		a, _ := newTestAuthorizerAt(t, clock.Now, cfg, src)
		ctx := context.Background()
		if err := a.Load(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(42 * time.Second)
		for _, token := range []string{"Bearer " + mobileKey, "Bearer " + unknownKey, "Bearer " + unknownKey, "Bearer " + ordersKey} {
			_, _ = a.Invoke(ctx, tokenEvent(token, testARN))
		}
		_, _ = a.Invoke(ctx, []byte(`{"not an event":`)) // an error
		got := metricValues(t, out.String())
		fn := "function=tollgate-dev-authorizer"
		want := map[string]float64{
			"Decisions " + fn + " outcome=allow":            1,
			"Decisions " + fn + " outcome=unauthorized":     2,
			"Decisions " + fn + " reason=unknown key":       2,
			"Decisions " + fn + " outcome=deny":             1,
			"Decisions " + fn + " reason=route not allowed": 1,
			"Decisions " + fn + " outcome=error":            1,
			"ColdStarts " + fn:                              1,
			"KeyringAge " + fn:                              42 * 5,
			"KeyRefreshes " + fn:                            1,
		}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("viaLog %v: %s = %v, want %v (all: %v)", viaLog, k, got[k], v, got)
			}
		}
		for k := range got {
			if strings.HasPrefix(k, "Decisions "+fn+" reason=") && !strings.Contains(k, "unknown key") && !strings.Contains(k, "route not allowed") {
				t.Errorf("viaLog %v: a reason dimension that is no refusal's: %s", viaLog, k)
			}
		}
		if n := len(got); n != len(want) {
			t.Errorf("viaLog %v: %d series, want %d: %v", viaLog, n, len(want), got)
		}
	}
}

// A failed read of the secret is a KeyRefreshFailures datum; an invalid
// keyring a KeyringInvalid one.
func TestRefreshFailureMetrics(t *testing.T) {
	out := &syncBuffer{}
	src := testStages(t)
	src.set(nil, errors.New("throttled"))
	a, _ := newTestAuthorizer(t, Config{Function: "f", Logger: slog.New(slog.NewJSONHandler(out, nil))}, src)
	_ = a.Load(context.Background())
	src2 := &stages{values: map[string][]byte{StageCurrent: []byte(`{"keys":[{"id":"x","key":"tgsecret99"}]}`)}}
	b, _ := newTestAuthorizer(t, Config{Function: "f", Logger: slog.New(slog.NewJSONHandler(out, nil))}, src2)
	_ = b.Load(context.Background())
	got := metricValues(t, out.String())
	if got["KeyRefreshFailures function=f"] != 1 || got["KeyringInvalid function=f"] != 1 {
		t.Errorf("metrics = %v, want one refresh failure and one invalid keyring", got)
	}
	if bytes.Contains([]byte(out.String()), []byte("tgsecret99")) {
		t.Error("a key reached a log line")
	}
}

// With metrics off (TOLLGATE_METRICS=off, as the deploy sets it with
// monitoring off), no line carries a metric, through either encoder, and
// a failed refresh and an invalid keyring carry none either.
func TestNoMetrics(t *testing.T) {
	_, cfg, err := FromEnv(func(k string) string {
		return map[string]string{EnvSecretID: "s", EnvMetrics: "off"}[k]
	})
	if err != nil || !cfg.NoMetrics {
		t.Fatalf("FromEnv: %v, NoMetrics %v", err, cfg.NoMetrics)
	}
	if _, _, err := FromEnv(func(k string) string { return map[string]string{EnvSecretID: "s", EnvMetrics: "maybe"}[k] }); err == nil || !strings.Contains(err.Error(), EnvMetrics) {
		t.Errorf("TOLLGATE_METRICS=maybe: %v", err)
	}
	for _, viaLog := range []bool{true, false} {
		out := &syncBuffer{}
		cfg := Config{Function: "f", NoMetrics: true, Logger: slog.New(slog.NewJSONHandler(out, nil))}
		if viaLog {
			cfg.DecisionLog = out
		}
		src := testStages(t)
		a, _ := newTestAuthorizer(t, cfg, src)
		ctx := context.Background()
		if err := a.Load(ctx); err != nil {
			t.Fatal(err)
		}
		for _, token := range []string{"Bearer " + mobileKey, "Bearer " + unknownKey} {
			_, _ = a.Invoke(ctx, tokenEvent(token, testARN))
		}
		bad := &stages{values: map[string][]byte{StageCurrent: []byte(`{"keys":[{"id":"x","key":"tgsecret99"}]}`)}}
		b, _ := newTestAuthorizer(t, Config{Function: "f", NoMetrics: true, Logger: slog.New(slog.NewJSONHandler(out, nil))}, bad)
		_ = b.Load(ctx)
		got := out.String()
		if strings.Contains(got, "_aws") || strings.Contains(got, `"Decisions"`) || strings.Count(got, `"msg":"decision"`) != 2 {
			t.Errorf("viaLog %v: metrics with NoMetrics:\n%s", viaLog, got)
		}
		if len(metricValues(t, got)) != 0 {
			t.Errorf("viaLog %v: metric values %v", viaLog, metricValues(t, got))
		}
	}
}

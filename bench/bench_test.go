package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"tollgate/api"
	"tollgate/bench/peers"
	"tollgate/handler"
	"tollgate/internal/emulator/gateway"
	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/testkit/testkeys"
	"tollgate/plans"
)

// run benchmarks s on ev, after checking it decides want, and reports the
// Secrets Manager calls each request made.
func run(b *testing.B, s subject, ev []byte, want string, ep *endpoint) {
	b.Run(s.impl, func(b *testing.B) {
		ctx := context.Background()
		if got := decision(s.h.Invoke(ctx, ev)); got != want {
			b.Fatalf("%s decided %s, want %s", s.impl, got, want)
		}
		b.ReportAllocs()
		calls := ep.calls.Load()
		for b.Loop() {
			sink, _ = s.h.Invoke(ctx, ev)
		}
		b.ReportMetric(float64(ep.calls.Load()-calls)/float64(b.N), "sm-calls/op")
	})
}

// BenchmarkWarm is a warm decision in process: TOKEN, REQUEST (about 2 KB)
// and HTTP API 2.0 events, a known and an unknown key, 1 and 100 keys;
// and TOKEN/usage-key, tollgate's answer for a key on a usage plan, which
// names its API key (usageIdentifierKey), as deployed.
func BenchmarkWarm(b *testing.B) {
	b.Run("TOKEN/usage-key/keys=1", func(b *testing.B) {
		ep := serveKeyring(b, testkeys.Keyring(1, testkeys.Key{ID: keyID, Key: key, UsageKey: "tg-bench-usage-key-0123456789"}), true)
		tg := newDeployedTollgate(b, ep.env(b), logPipe(b))
		if err := tg.Load(context.Background()); err != nil {
			b.Fatal(err)
		}
		run(b, subject{"tollgate", tg}, event(b, "token", true), "allow", ep)
	})
	for _, keys := range []int{1, 100} {
		ep, kinds := deciders(b, keys)
		for _, kind := range kinds {
			for _, valid := range []bool{true, false} {
				name, want := "valid", "allow"
				if !valid {
					name, want = "invalid", "deny"
				}
				ev := event(b, kind.fixture, valid)
				b.Run(fmt.Sprintf("%s/%s/keys=%d", kind.name, name, keys), func(b *testing.B) {
					for _, s := range kind.subjects {
						run(b, s, ev, want, ep)
					}
				})
			}
		}
	}
}

// BenchmarkColdInProcess is a fresh authorizer's first decision: its
// configuration, the Secrets Manager fetch on a new connection, and the
// decision.
func BenchmarkColdInProcess(b *testing.B) {
	ep := startEndpoint(b, 1, false)
	env := ep.env(b)
	setenv(b, env)
	ev := event(b, "token", true)
	log := logPipe(b)
	for _, c := range []struct {
		impl  string
		first func(context.Context) ([]byte, error)
	}{
		{"tollgate", func(ctx context.Context) ([]byte, error) {
			a := newTollgate(b, env, log)
			if err := a.Load(ctx); err != nil {
				return nil, err
			}
			return a.Invoke(ctx, ev)
		}},
		{"idiomatic", func(ctx context.Context) ([]byte, error) {
			a, err := peers.NewIdiomatic(ctx, ep.secretID)
			if err != nil {
				return nil, err
			}
			return lambda.NewHandler(a.Token).Invoke(ctx, ev)
		}},
		{"seed", func(ctx context.Context) ([]byte, error) {
			s, err := peers.NewSeed(ctx, ep.secretID)
			if err != nil {
				return nil, err
			}
			return lambda.NewHandler(s.Token).Invoke(ctx, ev)
		}},
	} {
		b.Run("TOKEN/"+c.impl, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			calls := ep.calls.Load()
			for b.Loop() {
				out, err := c.first(ctx)
				if got := decision(out, err); got != "allow" {
					b.Fatalf("%s decided %s, want allow", c.impl, got)
				}
			}
			b.ReportMetric(float64(ep.calls.Load()-calls)/float64(b.N), "sm-calls/op")
		})
	}
}

// BenchmarkWarmProcess is a warm Lambda process answering through the
// Runtime API, and the Secrets Manager calls each request costs.
func BenchmarkWarmProcess(b *testing.B) {
	ep := startEndpoint(b, 1, true)
	ev := event(b, "token", true)
	for _, impl := range []string{"tollgate", "idiomatic", "seed", "python"} {
		b.Run("TOKEN/"+impl, func(b *testing.B) {
			p := newPool(b, impl, ep.env(b), nil)
			ctx := context.Background()
			if got := decision(p.Invoke(ctx, ev)); got != "allow" { // the cold start
				b.Fatalf("%s decided %s, want allow", impl, got)
			}
			calls := ep.calls.Load()
			for b.Loop() {
				sink, _ = p.Invoke(ctx, ev)
			}
			b.ReportMetric(float64(ep.calls.Load()-calls)/float64(b.N), "sm-calls/op")
		})
	}
}

// BenchmarkColdProcess starts the real bootstrap behind the Lambda Runtime
// API for each first invocation: init-ns/op is exec to the first call to
// next, cold-ns/op exec to the first answer, Secrets Manager fetch
// included.
func BenchmarkColdProcess(b *testing.B) {
	ep := startEndpoint(b, 1, true)
	ev := event(b, "token", true)
	for _, impl := range []string{"tollgate", "idiomatic", "seed", "hello", "python"} {
		b.Run("TOKEN/"+impl, func(b *testing.B) {
			env := ep.env(b)
			binary(b, impl) // skip before timing a missing peer
			coldStarts(b, impl, ev, func(report func(lambdalocal.Report)) *lambdalocal.Pool {
				return newPool(b, impl, env, report)
			})
		})
	}
}

// coldStarts answers ev with a new instance (a pool newPool makes, with
// the report hook) at each iteration, and reports the mean time from
// starting the process to its first call for an invocation (init-ns/op)
// and to its first answer (cold-ns/op). hello answers "hello".
func coldStarts(b *testing.B, impl string, ev []byte, newPool func(report func(lambdalocal.Report)) *lambdalocal.Pool) {
	var init, cold time.Duration
	for b.Loop() {
		reports := make(chan lambdalocal.Report, 1)
		p := newPool(func(r lambdalocal.Report) { reports <- r })
		out, err := p.Invoke(context.Background(), ev)
		_ = p.Close()
		if got := decision(out, err); got != "allow" && !(impl == "hello" && string(out) == `"hello"`) {
			b.Fatalf("%s decided %s, want allow", impl, got)
		}
		r := <-reports
		init += r.Init
		cold += r.ColdStart
	}
	b.ReportMetric(float64(init.Nanoseconds())/float64(b.N), "init-ns/op")
	b.ReportMetric(float64(cold.Nanoseconds())/float64(b.N), "cold-ns/op")
}

// BenchmarkGateway is the local gateway's request path in process, from
// request to response, with the authorizer's result cached (TTL 300 s) and
// not cached (TTL 0), for a REST API and for an HTTP API (payload 2.0
// events and simple responses); and for a REST API with usage plans
// (-plans): the key on a plan with a throttle and a quota too large to
// refuse, the authorizer's answer naming its usage key.
func BenchmarkGateway(b *testing.B) {
	ep := startEndpoint(b, 1, true)
	tg := newTollgate(b, ep.env(b), logPipe(b))
	if err := tg.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	const usageKey = "tg-bench-usage-key-0123456789"
	epPlans := serveKeyring(b, testkeys.Keyring(1, testkeys.Key{ID: keyID, Key: key, UsageKey: usageKey}), true)
	tgPlans := newTollgate(b, epPlans.env(b), logPipe(b))
	if err := tgPlans.Load(context.Background()); err != nil {
		b.Fatal(err)
	}
	// Limits past any loop's pace (the gateway takes them as given): every
	// request pays for the bucket and the quota, and none is refused.
	set := plans.Set{Default: "bench", Plans: map[string]plans.Plan{
		"bench": {RateLimit: 1e9, BurstLimit: 1e9, Quota: &plans.Quota{Limit: 1 << 40, Period: plans.Month}}}}
	for _, c := range []struct {
		name  string
		ttl   time.Duration
		typ   api.APIType
		plans bool
	}{{"cached", 300 * time.Second, api.REST, false}, {"uncached", 0, api.REST, false}, {"http-cached", 300 * time.Second, api.HTTP, false}, {"http-uncached", 0, api.HTTP, false},
		{"cached-plans", 300 * time.Second, api.REST, true}, {"uncached-plans", 0, api.REST, true}} {
		b.Run(c.name+"/tollgate", func(b *testing.B) {
			def := api.Default()
			def.Authorizer.ResultTTL = c.ttl
			if c.typ == api.HTTP {
				def.UseHTTP() // as the local run serves it
			}
			cfg := gateway.Config{Definition: def, Functions: map[string]gateway.Invoker{"authorizer": tg, "handler": handler.Handler{}}}
			if c.plans {
				cfg.Plans = set
				cfg.Functions["authorizer"] = tgPlans
			}
			g, err := gateway.New(cfg)
			if err != nil {
				b.Fatal(err)
			}
			if c.plans {
				g.SetAPIKeys(map[string]gateway.APIKey{usageKey: {ID: "benchkey00", Client: keyID, Plan: "bench"}})
			}
			req := httptest.NewRequest(http.MethodGet, "/hello", nil)
			req.Header.Set("Authorization", "Bearer "+key)
			rec := httptest.NewRecorder()
			g.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("GET /hello = %d %s, want 200", rec.Code, rec.Body)
			}
			b.ReportAllocs()
			for b.Loop() {
				rec = httptest.NewRecorder()
				g.ServeHTTP(rec, req)
			}
			if rec.Code != http.StatusOK {
				b.Fatalf("GET /hello = %d %s at the end, want 200", rec.Code, rec.Body)
			}
		})
	}
}

package bench

import (
	"context"
	"testing"

	"github.com/aws/aws-lambda-go/lambda"

	"tollgate/bench/peers"
)

// The peers decide as tollgate does on every event the benchmarks use, so
// that the figures compare implementations, not answers; and only the seed
// pattern calls Secrets Manager per request.
func TestPeersAgree(t *testing.T) {
	ctx := context.Background()
	for _, keys := range []int{1, 100} {
		ep := startEndpoint(t, keys, true)
		env := ep.env(t)
		setenv(t, env)
		tg := newTollgate(t, env)
		if err := tg.Load(ctx); err != nil {
			t.Fatal(err)
		}
		idiomatic, err := peers.NewIdiomatic(ctx, ep.secretID)
		if err != nil {
			t.Fatal(err)
		}
		seed, err := peers.NewSeed(ctx, ep.secretID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			fixture  string
			subjects []subject
		}{
			{"token", []subject{{"tollgate", tg}, {"idiomatic", lambda.NewHandler(idiomatic.Token)}, {"seed", lambda.NewHandler(seed.Token)}}},
			{"request", []subject{{"tollgate", tg}, {"idiomatic", lambda.NewHandler(idiomatic.Request)}}},
			{"http-v2", []subject{{"tollgate", tg}, {"idiomatic", lambda.NewHandler(idiomatic.HTTP)}}},
		} {
			for valid, want := range map[bool]string{true: "allow", false: "deny"} {
				ev := event(t, tt.fixture, valid)
				for _, s := range tt.subjects {
					calls := ep.calls.Load()
					if got := decision(s.h.Invoke(ctx, ev)); got != want {
						t.Errorf("keys=%d %s valid=%v: %s decided %s, want %s", keys, tt.fixture, valid, s.impl, got, want)
					}
					wantCalls := int64(0)
					if s.impl == "seed" {
						wantCalls = 1
					}
					if got := ep.calls.Load() - calls; got != wantCalls {
						t.Errorf("keys=%d %s: %s made %d Secrets Manager calls, want %d", keys, tt.fixture, s.impl, got, wantCalls)
					}
				}
			}
		}
	}
}

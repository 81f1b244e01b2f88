package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/golang-jwt/jwt/v5"

	"tollgate/authorizer"
	"tollgate/bench/peers"
	"tollgate/internal/jwtissuer"
)

const (
	jwtIssuer   = "https://id.example.test/"
	jwtAudience = "orders-api"
)

// jwtBench is an issuer with an RS256 and an ES256 key serving its JWKS on
// loopback, a token from each key (subject keyID, so that decision reads
// it as an Allow), and the authorizer's environment trusting it.
type jwtBench struct {
	url    string
	keys   map[string]jwtissuer.Key
	tokens map[string][]byte // TOKEN events by algorithm
	env    map[string]string
}

func newJWTBench(tb testing.TB, ep *endpoint) *jwtBench {
	tb.Helper()
	rs, err := jwtissuer.NewKey("rs-1", "RS256")
	if err != nil {
		tb.Fatal(err)
	}
	es, err := jwtissuer.NewKey("es-1", "ES256")
	if err != nil {
		tb.Fatal(err)
	}
	iss := jwtissuer.New(jwtIssuer, jwtAudience, rs, es)
	srv := httptest.NewServer(iss)
	tb.Cleanup(srv.Close)
	j := &jwtBench{url: srv.URL + "/jwks.json", keys: map[string]jwtissuer.Key{"RS256": rs, "ES256": es}, tokens: map[string][]byte{}}
	for alg := range j.keys {
		j.tokens[alg] = j.event(tb, alg, 0)
	}
	j.env = maps.Clone(ep.env(tb))
	j.env[authorizer.EnvJWT] = fmt.Sprintf(`{"issuer":%q,"jwksUrl":%q,"audiences":[%q]}`, jwtIssuer, j.url, jwtAudience)
	return j
}

// event is a TOKEN event with a token signed by alg's key; n makes tokens
// distinct.
func (j *jwtBench) event(tb testing.TB, alg string, n int) []byte {
	now := time.Now()
	tok, err := jwtissuer.Sign(j.keys[alg], jwt.MapClaims{"iss": jwtIssuer, "aud": jwtAudience, "sub": keyID,
		"iat": now.Unix(), "exp": now.Add(24 * time.Hour).Unix(), "scope": "orders:read", "n": n})
	if err != nil {
		tb.Fatal(err)
	}
	ev, _ := json.Marshal(map[string]string{"type": "TOKEN", "authorizationToken": "Bearer " + tok,
		"methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/hello"})
	return ev
}

// freshTokens is how many distinct tokens the fresh figures cycle
// through: more than the authorizer remembers, so each is verified.
const freshTokens = 2048

// BenchmarkJWTWarm is a warm JWT decision in process, from event bytes to
// answer bytes: tollgate beside peers.IdiomaticJWT, the same libraries
// used the obvious way, for an RS256 and an ES256 token. "repeated" sends
// the same token each time, as one caller does between its token's
// refreshes (tollgate remembers a verified token); "fresh" cycles through
// freshTokens distinct tokens, each verified.
func BenchmarkJWTWarm(b *testing.B) {
	ep := startEndpoint(b, 1, true)
	j := newJWTBench(b, ep)
	tg := newTollgate(b, j.env, logPipe(b))
	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	if err := tg.Load(ctx); err != nil {
		b.Fatal(err)
	}
	// tollgate-nolog weighs the decision log line (a write to a pipe, as
	// Lambda's standard output is), which the peer does not write.
	quiet := newTollgate(b, j.env, io.Discard)
	if err := quiet.Load(ctx); err != nil {
		b.Fatal(err)
	}
	idiomatic, err := peers.NewIdiomaticJWT(ctx, j.url, jwtIssuer, jwtAudience)
	if err != nil {
		b.Fatal(err)
	}
	subjects := []subject{{"tollgate", tg}, {"tollgate-nolog", quiet}, {"idiomatic", lambda.NewHandler(idiomatic.Token)}}
	for _, alg := range []string{"RS256", "ES256"} {
		b.Run(alg+"/repeated", func(b *testing.B) {
			for _, s := range subjects {
				run(b, s, j.tokens[alg], "allow", ep)
			}
		})
		b.Run(alg+"/fresh", func(b *testing.B) {
			events := make([][]byte, freshTokens)
			for i := range events {
				events[i] = j.event(b, alg, i+1)
			}
			for _, s := range subjects {
				b.Run(s.impl, func(b *testing.B) {
					if got := decision(s.h.Invoke(ctx, events[0])); got != "allow" {
						b.Fatalf("%s decided %s, want allow", s.impl, got)
					}
					b.ReportAllocs()
					i := 1 // events[0] was just verified, and is remembered
					for b.Loop() {
						sink, _ = s.h.Invoke(ctx, events[i%freshTokens])
						i++
					}
				})
			}
		})
	}
}

// BenchmarkJWTColdInProcess is a fresh authorizer's first JWT decision:
// its configuration, the Secrets Manager fetch and the JWKS fetch (both on
// new connections, at once for tollgate), and the decision.
func BenchmarkJWTColdInProcess(b *testing.B) {
	ep := startEndpoint(b, 1, false)
	j := newJWTBench(b, ep)
	setenv(b, j.env)
	ev := j.tokens["ES256"]
	log := logPipe(b)
	for _, c := range []struct {
		impl  string
		first func(context.Context) ([]byte, error)
	}{
		{"tollgate", func(ctx context.Context) ([]byte, error) {
			a := newTollgate(b, j.env, log)
			if err := a.Load(ctx); err != nil {
				return nil, err
			}
			return a.Invoke(ctx, ev)
		}},
		{"idiomatic", func(ctx context.Context) ([]byte, error) {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel() // ends its refresh goroutine
			p, err := peers.NewIdiomaticJWT(ctx, j.url, jwtIssuer, jwtAudience)
			if err != nil {
				return nil, err
			}
			return lambda.NewHandler(p.Token).Invoke(ctx, ev)
		}},
	} {
		b.Run("ES256/"+c.impl, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				out, err := c.first(ctx)
				if got := decision(out, err); got != "allow" {
					b.Fatalf("%s decided %s, want allow", c.impl, got)
				}
			}
		})
	}
}

// The JWT benchmarks' subjects decide as expected: a check that runs with
// the tests, so a broken benchmark is found before a measurement.
func TestJWTBenchSubjects(t *testing.T) {
	ep := startEndpoint(t, 1, true)
	j := newJWTBench(t, ep)
	tg := newTollgate(t, j.env, io.Discard)
	idiomatic, err := peers.NewIdiomaticJWT(t.Context(), j.url, jwtIssuer, jwtAudience)
	if err != nil {
		t.Fatal(err)
	}
	for alg, ev := range j.tokens {
		for name, h := range map[string]lambda.Handler{"tollgate": tg, "idiomatic": lambda.NewHandler(idiomatic.Token)} {
			if got := decision(h.Invoke(t.Context(), ev)); got != "allow" {
				t.Errorf("%s %s: %s", name, alg, got)
			}
		}
	}
}

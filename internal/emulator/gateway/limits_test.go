package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/jwtissuer"
	"tollgate/internal/testkit/fakeclock"
)

// The test issuer of the JWTs the limit tests present: one RSA key for
// every test, generated once, served on loopback.
const (
	limitsIssuer   = "https://issuer.tollgate.test"
	limitsAudience = "tollgate-api"
)

var limitsIssuerKey = sync.OnceValues(func() (jwtissuer.Key, error) { return jwtissuer.NewKey("limits-1", "RS256") })

// limitsEnv is an API with tollgate's authorizer in process, over a given
// keyring and JWT scope routes, answered twice: by a gateway that caches
// the authorizer's answers (its ResultTTL) and by one that does not.
type limitsEnv struct {
	issuer         *jwtissuer.Issuer
	clock          *fakeclock.Clock
	cached, direct *setup
}

func newLimitsEnv(t *testing.T, def api.Definition, keyring string, scopeRoutes map[string][]string) *limitsEnv {
	t.Helper()
	key, err := limitsIssuerKey()
	if err != nil {
		t.Fatal(err)
	}
	e := &limitsEnv{issuer: jwtissuer.New(limitsIssuer, limitsAudience, key), clock: fakeclock.New(time.Date(2026, 11, 21, 6, 29, 15, 0, time.UTC))}
	jwks := httptest.NewServer(e.issuer)
	t.Cleanup(jwks.Close)
	newAuth := func() *realAuthorizer {
		var cfg *authorizer.JWTConfig
		if scopeRoutes != nil {
			cfg = &authorizer.JWTConfig{Issuer: limitsIssuer, JWKSURL: jwks.URL, Audiences: []string{limitsAudience}, ScopeRoutes: scopeRoutes}
		}
		a, err := authorizer.New(authorizer.Config{
			Source: authorizer.SourceFunc(func(context.Context, string) ([]byte, error) { return []byte(keyring), nil }),
			JWT:    cfg,
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		})
		if err != nil {
			t.Fatal(err)
		}
		return &realAuthorizer{a: a}
	}
	build := func(ttl time.Duration) *setup {
		d := def
		d.Authorizer.ResultTTL = ttl
		s := newSetup(t, func(c *Config) {
			c.Definition = d
			c.Functions["authorizer"] = newAuth()
			c.Now = e.clock.Now
		})
		s.clock = e.clock
		return s
	}
	e.cached, e.direct = build(def.Authorizer.ResultTTL), build(0)
	return e
}

// token mints a JWT with scopes, for subject sub.
func (e *limitsEnv) token(t testing.TB, sub, scope string) string {
	t.Helper()
	tok, err := e.issuer.Mint(jwt.MapClaims{"sub": sub, "scope": scope}, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// both sends c to both gateways and returns the two statuses.
func (e *limitsEnv) both(c call) (cached, direct int) {
	return e.cached.do(c).Code, e.direct.do(c).Code
}

// routesDefinition is def's kind of API with these routes, all guarded by
// the authorizer.
func routesDefinition(http bool, ttl time.Duration, routes ...string) api.Definition {
	def := api.Default()
	if http {
		def.UseHTTP()
	}
	def.Routes = nil
	for _, r := range routes {
		var method, path string
		fmt.Sscan(r, &method, &path)
		def.Routes = append(def.Routes, api.Route{Method: method, Path: path, Function: "handler", Protected: true})
	}
	def.Authorizer.ResultTTL = ttl
	return def
}

// Issue 26, defect 1: on an HTTP API, answers are cached by the identity
// sources and $context.routeKey; a key limited to "GET /orders/1" on the
// API route GET /orders/{id}, allowed on /orders/1, got 200 on /orders/2
// from the cached isAuthorized: true; a key limited to
// "GET /files/public/*" on GET /files/{proxy+} then read
// /files/private/payroll.csv. JWT scope routes took the same path. With
// the cache on, every answer must be the one given with it off, and the
// paths off the limits refused.
func TestHTTPAPILimitFinerThanARoute(t *testing.T) {
	def := routesDefinition(true, 5*time.Minute, "GET /orders/{id}", "GET /files/{proxy+}")
	keyring := `{"keys":[{"id":"one-order","key":"` + validKey + `","routes":["GET /orders/1"]},` +
		`{"id":"public-files","key":"` + ordersKey + `","routes":["GET /files/public/*"]}]}`
	e := newLimitsEnv(t, def, keyring, map[string][]string{"orders:one": {"GET /orders/1"}})
	tok := "Bearer " + e.token(t, "alice", "orders:one")
	for _, tt := range []struct {
		auth, path string
		refused    bool // off the caller's limits: never 200
	}{
		{"Bearer " + validKey, "/orders/1", false},
		{"Bearer " + validKey, "/orders/2", true},
		{"Bearer " + ordersKey, "/files/public/a.txt", false},
		{"Bearer " + ordersKey, "/files/private/payroll.csv", true},
		{tok, "/orders/1", false},
		{tok, "/orders/2", true},
	} {
		cached, direct := e.both(call{path: tt.path, auth: tt.auth})
		if cached != direct {
			t.Errorf("GET %s: %d with the result cache, %d without: the cache changed the answer", tt.path, cached, direct)
		}
		if tt.refused && (cached == 200 || direct == 200) {
			t.Errorf("GET %s, off the caller's limit: %d cached, %d not; want refused", tt.path, cached, direct)
		}
	}
}

package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/jwtissuer"
	"tollgate/internal/testkit/fakeclock"
	"tollgate/internal/testkit/property"
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
		method, path, _ := strings.Cut(r, " ")
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

// TestInvariantCacheNeverChangesAnAnswer: for generated APIs (REST with a
// TOKEN or a REQUEST authorizer, or HTTP; routes with parameters, greedy
// paths, ANY, public routes), keyrings (keys on the whole stage or
// limited to routes of every form the grammar allows), JWT scope routes,
// and request sequences (keys, JWTs, unknown and missing credentials,
// parameters filled with values, dot segments and encoded slashes, paths
// no route has, time passing), a gateway that caches the authorizer's
// answers for 5 minutes answers every request exactly as one that does
// not: the same status, and the same body (but its request id). make
// verify runs many more cases (TOLLGATE_PROPERTY_CASES).
func TestInvariantCacheNeverChangesAnAnswer(t *testing.T) {
	property.Run(t, "the cache never changes an answer", 40, func(t *testing.T, rng *rand.Rand, counts *property.Counts) {
		c := genCacheCase(t, rng)
		e := newLimitsEnv(t, c.def, c.keyring, c.scopes)
		var tokens []string
		if c.scopes != nil {
			for _, scope := range []string{"", "s1", "s2", "s1 s2", "other"} {
				tok := "Bearer " + e.token(t, "jwt-user", scope)
				tokens = append(tokens, tok)
				c.limits[tok] = []string{}
				for _, s := range strings.Fields(scope) {
					c.limits[tok] = append(c.limits[tok], c.scopes[s]...)
				}
			}
		}
		var r call
		for i := range 60 {
			// Mostly seconds apart, now and then past the cache's TTL.
			e.clock.Advance(time.Duration(rng.IntN(20)) * time.Second)
			if rng.IntN(15) == 0 {
				e.clock.Advance(5 * time.Minute)
			}
			// Half the time the same caller again, on the same route
			// with other values or another method: what a cached answer
			// is applied to.
			if i == 0 || rng.IntN(2) == 0 {
				r = c.request(rng, tokens, nil)
			} else {
				r = c.request(rng, tokens, &r)
			}
			cached, direct := e.cached.do(r), e.direct.do(r)
			counts.Add("requests", 1)
			if cached.Code == 200 {
				counts.Add("allowed", 1)
			}
			if cached.Code == 403 {
				counts.Add("refused (403)", 1)
			}
			if cached.Code != direct.Code || withoutRequestID(cached.Body.String()) != withoutRequestID(direct.Body.String()) {
				t.Fatalf("%s %s (%.20s…) on %s API %v, keyring %s, scopes %v:\nwith the cache:    %d %s\nwithout the cache: %d %s",
					r.method, r.path, r.auth, c.kind, c.def.Routes, c.keyring, c.scopes, cached.Code, cached.Body, direct.Code, direct.Body)
			}
			if err := c.withinLimit(r, direct.Code); err != nil {
				t.Fatalf("%s %s on %s API %v, keyring %s, scopes %v: %v", r.method, r.path, c.kind, c.def.Routes, c.keyring, c.scopes, err)
			}
		}
		cachedCalls, directCalls := e.cached.g.cfg.Functions["authorizer"].(*realAuthorizer).calls.Load(), e.direct.g.cfg.Functions["authorizer"].(*realAuthorizer).calls.Load()
		counts.Add("answers from the cache", int(directCalls-cachedCalls))
	})
}

var requestIDField = regexp.MustCompile(`"requestId":"[^"]*"`)

func withoutRequestID(body string) string {
	return requestIDField.ReplaceAllString(body, `"requestId":""`)
}

// cacheCase is a generated API, keyring and JWT scopes.
type cacheCase struct {
	kind    string
	def     api.Definition
	keyring string
	keys    []string
	scopes  map[string][]string
	// limits are the route limits of the keys and the tokens, by
	// Authorization header; a credential with none is on the whole stage.
	limits map[string][]string
}

// withinLimit holds a request's answer to the meaning of its caller's
// route limit, by an oracle of its own (limitRegexp): a route is the
// method ARN suffixes its regular expression matches, the path decoded as
// the gateway puts it in the method ARN. On a REST API a limited caller
// is allowed exactly its routes, but a path holding a dot segment or an
// encoded ".", "/", "\\" or "%": refused. On an HTTP API, whose answers
// serve a whole route, a limited caller allowed a route must have every
// path of it tried (but such paths) within its limit.
func (c cacheCase) withinLimit(r call, status int) error {
	routes, limited := c.limits[r.auth]
	decoded := func(path string) string {
		u, err := url.Parse(path)
		if err != nil {
			return "\x00" // no route has it
		}
		return u.Path
	}
	route, _, matched := c.def.Match(r.method, decoded(r.path))
	if !limited || !matched || !route.Protected {
		return nil
	}
	clean := func(path string) bool {
		for _, seg := range strings.Split(path, "/") {
			if seg == "." || seg == ".." {
				return false
			}
		}
		lower := strings.ToLower(path)
		return !strings.Contains(lower, "%2e") && !strings.Contains(lower, "%2f") && !strings.Contains(lower, "%5c") && !strings.Contains(lower, "%25")
	}
	within := func(method, path string) bool {
		for _, lr := range routes {
			if limitRegexp(lr).MatchString(method + path) {
				return true
			}
		}
		return false
	}
	if c.kind != "HTTP" {
		path := decoded(r.path)
		if want := clean(path) && within(r.method, path); (status == 200) != want {
			return fmt.Errorf("limited to %q: status %d, want allowed %v", routes, status, want)
		}
		return nil
	}
	if status != 200 {
		return nil
	}
	rng := rand.New(rand.NewPCG(uint64(len(r.path)), 1))
	for range 20 {
		other := decoded(c.onRoute(rng, call{method: r.method}, route).path)
		if same, _, ok := c.def.Match(r.method, other); !ok || same.String() != route.String() {
			continue // an encoded "/" made it another route's path
		}
		if clean(other) && !within(r.method, other) {
			return fmt.Errorf("limited to %q: allowed on route %s, which serves %s too, outside the limit", routes, route, other)
		}
	}
	return nil
}

// limitRegexps keeps limitRegexp's expressions, by route.
var limitRegexps sync.Map

// limitRegexp is the meaning of a limit's route ("GET /orders/{id}") as a
// regular expression over method ARN suffixes ("GET/orders/42").
func limitRegexp(route string) *regexp.Regexp {
	if re, ok := limitRegexps.Load(route); ok {
		return re.(*regexp.Regexp)
	}
	method, path, _ := strings.Cut(route, " ")
	var re strings.Builder
	re.WriteString("^")
	if method == "ANY" || method == "*" {
		re.WriteString("(DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT)")
	} else {
		re.WriteString(regexp.QuoteMeta(method))
	}
	for i, seg := range strings.Split(path, "/") {
		if i > 0 {
			re.WriteString("/")
		}
		switch {
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "+}"):
			re.WriteString("(?s:.+)")
		case strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}"):
			re.WriteString("[^/]+")
		default:
			for _, ch := range seg {
				switch ch {
				case '*':
					re.WriteString("(?s:.*)")
				case '?':
					re.WriteString("(?s:.)")
				default:
					re.WriteString(regexp.QuoteMeta(string(ch)))
				}
			}
		}
	}
	re.WriteString("$")
	compiled := regexp.MustCompile(re.String())
	limitRegexps.Store(route, compiled)
	return compiled
}

var (
	apiRoutePool = []string{"GET /orders/{id}", "GET /orders/{id}/items", "GET /orders/{id}/items/{n}", "POST /orders", "DELETE /orders/{id}",
		"ANY /files/{proxy+}", "GET /files/public/{name}", "GET /a/{x}/b", "GET /hello", "ANY /things/{id}"}
	keyRoutePool = []string{"GET /orders/{id}", "GET /orders/1", "GET /orders/*", "ANY /orders/{id}", "POST /orders", "GET /orders",
		"GET /files/public/*", "GET /files/{p+}", "GET /files/public/{name}", "GET /orders/{id}/items", "GET /a/?/b", "ANY /hello",
		"GET /hello", "DELETE /things/{id}", "ANY /things/1", "* /files/{p+}"}
	keyPool    = []string{validKey, ordersKey, "tg_test_third_key_0123456789abcdefghijklm", "tg_test_fourth_key_0123456789abcdefghijkl"}
	paramPool  = []string{"1", "2", "42", "x", ".", "..", "%2e%2e", "a%2Fb", "a.b", "%25"}
	greedyPool = []string{"a", "a/b", "public/x", "public/y.txt", "private/payroll.csv", "public/../private/x", "public/..%2Fprivate", "public/./x", "%2e%2e/x"}
)

func genCacheCase(t *testing.T, rng *rand.Rand) cacheCase {
	t.Helper()
	c := cacheCase{kind: []string{"REST TOKEN", "REST REQUEST", "HTTP"}[rng.IntN(3)], limits: map[string][]string{}}
	for {
		var routes []string
		for _, i := range rng.Perm(len(apiRoutePool))[:2+rng.IntN(4)] {
			routes = append(routes, apiRoutePool[i])
		}
		if rng.IntN(2) == 0 { // an ANY route, whose answers are each method's
			routes = append(routes, "ANY /things/{id}")
		}
		c.def = routesDefinition(c.kind == "HTTP", 5*time.Minute, routes...)
		if c.kind == "REST REQUEST" {
			c.def.Authorizer.Type, c.def.Authorizer.ValidationRegex = api.Request, ""
		}
		for i := range c.def.Routes {
			c.def.Routes[i].Protected = rng.IntN(8) > 0
		}
		if c.def.Validate() == nil {
			break
		}
	}
	var keys []string
	for i, key := range keyPool[:2+rng.IntN(len(keyPool)-1)] {
		entry := fmt.Sprintf(`{"id":"client-%d","key":%q}`, i, key)
		for range 5 { // a limit no IAM policy states exactly is refused: try another
			if rng.IntN(4) == 0 {
				break
			}
			var routes []string
			for range 1 + rng.IntN(2) {
				routes = append(routes, c.limitRoute(rng))
			}
			b, _ := json.Marshal(routes)
			limited := fmt.Sprintf(`{"id":"client-%d","key":%q,"routes":%s}`, i, key, b)
			if _, err := authorizer.ParseKeyring([]byte(`{"keys":[` + limited + `]}`)); err == nil {
				entry = limited
				c.limits["Bearer "+key] = routes
				break
			}
		}
		keys = append(keys, entry)
		c.keys = append(c.keys, key)
	}
	c.keyring = `{"keys":[` + strings.Join(keys, ",") + `]}`
	if rng.IntN(2) == 0 {
		for range 5 {
			scopes := map[string][]string{}
			for _, s := range []string{"s1", "s2"} {
				for range 1 + rng.IntN(2) {
					scopes[s] = append(scopes[s], c.limitRoute(rng))
				}
			}
			cfg, _ := json.Marshal(map[string]any{"issuer": limitsIssuer, "jwksUrl": "https://issuer.tollgate.test/jwks", "audiences": []string{limitsAudience}, "scopeRoutes": scopes})
			if _, err := authorizer.ParseJWTConfig(cfg); err == nil {
				c.scopes = scopes
				break
			}
		}
	}
	return c
}

// limitRoute is a route for a key's or a scope's limit: one of the
// pool's, or one of the API's as it is, narrower (a parameter given a
// value, a greedy path given a prefix), wider (a wildcard under its first
// segment) or for every method.
func (c cacheCase) limitRoute(rng *rand.Rand) string {
	if rng.IntN(10) == 0 {
		return keyRoutePool[rng.IntN(len(keyRoutePool))]
	}
	r := c.def.Routes[rng.IntN(len(c.def.Routes))]
	method, segs := r.Method, strings.Split(r.Path, "/")
	if method == "ANY" && rng.IntN(2) == 0 {
		method = "GET" // one method of an ANY route
	}
	switch rng.IntN(9) { // 0 to 3: the route as it is
	case 4, 5:
		for i, seg := range segs {
			if strings.HasPrefix(seg, "{") && !strings.HasSuffix(seg, "+}") {
				segs[i] = "1"
				break
			}
		}
	case 6:
		if last := segs[len(segs)-1]; strings.HasSuffix(last, "+}") {
			segs[len(segs)-1] = "public/*"
		}
	case 7:
		segs = append(segs[:min(2, len(segs))], "*")
	case 8:
		method = "ANY"
	}
	return method + " " + strings.Join(segs, "/")
}

// request is a request to one of the API's routes (or, now and then, to
// a path none has), with a key, a JWT, or a wrong or missing credential;
// with like, by like's caller to like's route.
func (c cacheCase) request(rng *rand.Rand, tokens []string, like *call) call {
	r := call{method: "GET"}
	if like != nil {
		r.auth = like.auth
		// The same route, or (an answer cached by token serves them all)
		// any other.
		if route, _, ok := c.def.Match(like.method, like.path); ok && rng.IntN(2) == 0 {
			return c.onRoute(rng, r, route)
		}
		return c.onRoute(rng, r, c.def.Routes[rng.IntN(len(c.def.Routes))])
	}
	switch n := rng.IntN(20); {
	case n < 12:
		r.auth = "Bearer " + c.keys[rng.IntN(len(c.keys))]
	case n < 17 && len(tokens) > 0:
		r.auth = tokens[rng.IntN(len(tokens))]
	case n < 18:
		r.auth = "Bearer tg_test_nobody_has_this_key_0123456789abcd"
	case n < 19:
		r.auth = "Basic dXNlcjpwYXNz"
	}
	if rng.IntN(10) == 0 {
		r.method, r.path = []string{"GET", "PUT"}[rng.IntN(2)], []string{"/nowhere", "/orders/1/2/3", "/files"}[rng.IntN(3)]
		return r
	}
	return c.onRoute(rng, r, c.def.Routes[rng.IntN(len(c.def.Routes))])
}

// onRoute is r sent to route, its parameters filled in.
func (c cacheCase) onRoute(rng *rand.Rand, r call, route api.Route) call {
	r.method = route.Method
	if r.method == "ANY" || rng.IntN(10) == 0 {
		r.method = []string{"GET", "GET", "POST", "DELETE", "PATCH"}[rng.IntN(5)]
	}
	segs := strings.Split(route.Path, "/")
	for i, s := range segs {
		switch {
		// The values limits name ("1", "public/…") come up most.
		case strings.HasSuffix(s, "+}") && rng.IntN(3) == 0:
			segs[i] = "public/x"
		case strings.HasSuffix(s, "+}"):
			segs[i] = greedyPool[rng.IntN(len(greedyPool))]
		case strings.HasPrefix(s, "{") && rng.IntN(3) == 0:
			segs[i] = "1"
		case strings.HasPrefix(s, "{"):
			segs[i] = paramPool[rng.IntN(len(paramPool))]
		}
	}
	r.path = strings.Join(segs, "/")
	if r.method == "POST" || r.method == "PATCH" {
		r.body = `{}`
	}
	return r
}

package authorizer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"tollgate/internal/jwtissuer"
	"tollgate/internal/testkit/property"
)

// routeCase is a request's method ARN and whether the key may call it.
type routeCase struct {
	arn   string
	allow bool
}

// checkRoutes holds a route-limited key to cases twice: as the authorizer
// decides each request (API Gateway's result cache off), and as API
// Gateway applies the answer it cached for the key's first request, on
// the key's own route, to each later one (cache on).
func checkRoutes(t *testing.T, keyring, key, first string, cases []routeCase) {
	t.Helper()
	a, _ := newTestAuthorizer(t, Config{}, &stages{values: map[string][]byte{StageCurrent: []byte(keyring)}})
	out, err := a.Invoke(context.Background(), tokenEvent("Bearer "+key, first))
	if err != nil {
		t.Fatalf("%s: %v", first, err)
	}
	cached := decodeAnswer(t, out)
	for _, tt := range cases {
		out, err := a.Invoke(context.Background(), tokenEvent("Bearer "+key, tt.arn))
		decided := err == nil && decodeAnswer(t, out).allows(tt.arn)
		if err != nil && !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: %v", tt.arn, err)
		}
		if decided != tt.allow {
			t.Errorf("%s, decided alone: allowed = %v, want %v", tt.arn, decided, tt.allow)
		}
		if got := cached.allows(tt.arn); got != tt.allow {
			t.Errorf("%s, by the answer cached for %s: allowed = %v, want %v", tt.arn, first, got, tt.allow)
		}
	}
}

// Issue 26, defect 3: "GET /orders/{id}" became GET/orders/*, and IAM's
// "*" matches "/" too, so the key reached GET /orders/42/refunds, cache on
// and off. A parameter is one path segment; only a greedy {name+} spans
// segments, as in API Gateway's own routes
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html#api-gateway-proxy-resource).
func TestParameterIsOneSegment(t *testing.T) {
	keyring := `{"keys":[{"id":"orders-bot","key":"` + ordersKey + `","routes":["GET /orders/{id}","GET /files/{path+}"]}]}`
	checkRoutes(t, keyring, ordersKey, testPrefix+"GET/orders/42", []routeCase{
		{testPrefix + "GET/orders/42", true},
		{testPrefix + "GET/orders/7", true},
		{testPrefix + "GET/orders/42/refunds", false},
		{testPrefix + "GET/orders/42/refunds/1", false},
		{testPrefix + "GET/orders/", false},
		{testPrefix + "GET/orders", false},
		{testPrefix + "POST/orders/42", false},
		{testPrefix + "GET/files/a", true},
		{testPrefix + "GET/files/a/b/c", true},
		{testPrefix + "GET/files/", false},
	})
}

// Issue 26, defect 5: a key limited to "GET /files/public/*" reached
// /files/public/../private/x and its encoded spellings. No AWS page says
// that API Gateway resolves dot segments or decodes an encoded "/" before
// it builds the method ARN, and a function that resolves them itself
// serves another path than the one authorized; so a route-limited key is
// refused on a path holding a dot segment or an encoded ".", "/", "\" or
// "%", whichever API Gateway sends, cache on and off.
func TestDotSegmentsOffALimitedKeysRoutes(t *testing.T) {
	keyring := `{"keys":[{"id":"orders-bot","key":"` + ordersKey + `","routes":["GET /files/public/*"]}]}`
	checkRoutes(t, keyring, ordersKey, testPrefix+"GET/files/public/a", []routeCase{
		{testPrefix + "GET/files/public/a.txt", true},
		{testPrefix + "GET/files/public/.well-known", true},
		{testPrefix + "GET/files/public/a/b..c", true},
		{testPrefix + "GET/files/public/../private/x", false},
		{testPrefix + "GET/files/public/..", false},
		{testPrefix + "GET/files/public/./x", false},
		{testPrefix + "GET/files/public/a/.", false},
		{testPrefix + "GET/files/public/..%2Fprivate%2Fx", false},
		{testPrefix + "GET/files/public/%2e%2e/private/x", false},
		{testPrefix + "GET/files/public/%2E%2E%2fprivate", false},
		{testPrefix + "GET/files/public/..%5Cprivate", false},
		{testPrefix + "GET/files/public/%252e%252e/private", false},
	})
}

// On an HTTP API an answer is cached for the API route (and method) and
// applied to all its paths, so a limited key is judged by the route: it
// is allowed only on routes it covers whole (issue 26, defect 1).
func TestHTTPDecidesByAPIRoute(t *testing.T) {
	keyring := `{"keys":[{"id":"orders-bot","key":"` + ordersKey + `","routes":["GET /orders/{id}","GET /invoices/1/items","GET /files/public/*","POST /any"]}]}`
	a, logs := newTestAuthorizer(t, Config{}, &stages{values: map[string][]byte{StageCurrent: []byte(keyring)}})
	for _, tt := range []struct {
		method, path, routeKey string
		allow                  bool
		reason                 string
	}{
		{"GET", "/orders/42", "GET /orders/{id}", true, ""},
		{"GET", "/invoices/1/items", "GET /invoices/{id}/items", false, reasonRoutePartly}, // one invoice's items only
		{"GET", "/invoices/1/items", "GET /invoices/1/items", true, ""},
		{"GET", "/files/public/a", "GET /files/{proxy+}", false, reasonRoutePartly},
		{"GET", "/files/public/a", "GET /files/public/{proxy+}", true, ""},
		{"POST", "/any", "ANY /any", true, ""}, // the method is the cache's too
		{"DELETE", "/any", "ANY /any", false, reasonRouteNotAllowed},
		{"GET", "/orders/42", "$default", false, reasonRoutePartly},
		{"GET", "/hello", "GET /hello", false, reasonRouteNotAllowed},
		{"GET", "/orders/42", "GET orders", false, reasonRouteNotAllowed}, // unreadable: nothing covers it
	} {
		ev := edit(t, fixture(t, "events/http-v2.json"), func(ev map[string]any) {
			ev["headers"].(map[string]any)["authorization"] = "Bearer " + ordersKey
			ev["routeArn"], ev["routeKey"] = testPrefix+tt.method+tt.path, tt.routeKey
		})
		out, err := a.Invoke(context.Background(), ev)
		if err != nil {
			t.Fatalf("%s %s (%s): %v", tt.method, tt.path, tt.routeKey, err)
		}
		if got := strings.HasPrefix(string(out), `{"isAuthorized":true`); got != tt.allow {
			t.Errorf("%s %s on route %q: %s, want authorized %v", tt.method, tt.path, tt.routeKey, out, tt.allow)
		}
		lines := logs.lines(t)
		if last := lines[len(lines)-1]; last["reason"] != tt.reason {
			t.Errorf("%s %s on route %q: logged reason %q, want %q", tt.method, tt.path, tt.routeKey, last["reason"], tt.reason)
		}
	}
	// An HTTP API event always names its route: without it, no decision.
	ev := edit(t, fixture(t, "events/http-v2.json"), func(ev map[string]any) { delete(ev, "routeKey") })
	if _, err := a.Invoke(context.Background(), ev); !errors.Is(err, ErrMalformedEvent) {
		t.Errorf("an HTTP API event without routeKey: %v, want ErrMalformedEvent", err)
	}
}

func TestCheckHTTPRouteLimit(t *testing.T) {
	api := []string{"GET /orders/{id}", "ANY /files/{proxy+}", "GET /hello"}
	for _, tt := range []struct {
		routes []string
		want   string // "" for none
	}{
		{[]string{"GET /orders/{id}"}, ""},
		{[]string{"GET /orders/*"}, ""},
		{[]string{"GET /hello", "ANY /files/{p+}"}, ""},
		{[]string{"GET /elsewhere"}, ""},
		{[]string{"GET /hello", "GET /orders/1"}, "route #2 covers part of an HTTP API route GET /orders/{id}"},
		{[]string{"GET /files/{p+}"}, ""}, // the method is in the cache's key: GET of it whole
		{[]string{"GET /files/{id}"}, "route #1 covers part of an HTTP API route ANY /files/{proxy+}"},
		{[]string{"GET /files/public/*"}, "route #1 covers part of an HTTP API route ANY /files/{proxy+}"},
	} {
		err := CheckHTTPRouteLimit(tt.routes, api)
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("CheckHTTPRouteLimit(%q) = %v, want nil", tt.routes, err)
		case tt.want != "" && (!errors.Is(err, ErrPartialRoute) || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("CheckHTTPRouteLimit(%q) = %v, want an error saying %q", tt.routes, err, tt.want)
		}
	}
}

// A token's routes are its scopes' together, so scopes whose parameter
// denies would take another's routes are refused at configuration, as a
// key's routes are at load.
func TestJWTScopesMergeExactly(t *testing.T) {
	base := `{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks","audiences":["a"],"scopeRoutes":`
	if _, err := ParseJWTConfig([]byte(base + `{"read":["GET /orders/{id}"],"items":["GET /orders/{id}/items"]}}`)); err == nil ||
		!strings.Contains(err.Error(), `scopes "read" and "items"`) && !strings.Contains(err.Error(), `scopes "items" and "read"`) {
		t.Errorf("ParseJWTConfig(scopes in each other's way) = %v, want an error naming both", err)
	}
	if _, err := ParseJWTConfig([]byte(base + `{"read":["GET /orders/{id}"],"write":["POST /orders/{id}/items"]}}`)); err != nil {
		t.Errorf("ParseJWTConfig(scopes apart) = %v", err)
	}
}

// Issue 26, defect 6: a valid tgk_ key was accepted as a keyring id (then
// logged on every decision and sent as principalId), and an id holding a
// key or a digest was quoted in the errors and the KeyringInvalid log
// line. Ids that look like a key or a digest are refused, by position,
// and no error quotes them.
func TestKeyShapedIDsAreRefused(t *testing.T) {
	key := NewKey()
	digest := Digest(key)
	for name, tt := range map[string]struct {
		secret string
		leak   string
	}{
		"a key as the id":             {`{"keys":[{"id":"` + key + `","sha256":"` + Digest(mobileKey) + `"}]}`, key},
		"a key id, sha256 not a hash": {`{"keys":[{"id":"` + key + `","sha256":"mobile-app"}]}`, key},
		"a digest as the id":          {`{"keys":[{"id":"` + digest + `","sha256":"` + Digest(mobileKey) + `"}]}`, digest},
		"an upper-case digest":        {`{"keys":[{"id":"` + strings.ToUpper(digest) + `","sha256":"` + Digest(mobileKey) + `"}]}`, strings.ToUpper(digest)},
		"a mistyped key as the id":    {`{"keys":[{"id":"mobile-app","sha256":"` + Digest(mobileKey) + `"},{"id":"` + key[:len(key)-1] + `x","sha256":"` + Digest(ordersKey) + `"}]}`, key[:len(key)-1]},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseKeyring([]byte(tt.secret))
			if err == nil || !strings.Contains(err.Error(), "key #") {
				t.Fatalf("ParseKeyring = %v, want an error naming the key by position", err)
			}
			if strings.Contains(err.Error(), tt.leak) || strings.Contains(err.Error(), tt.leak[:12]) {
				t.Errorf("the error quotes the refused id: %v", err)
			}
		})
	}
	if err := ValidateID("tgk_partner"); err == nil {
		t.Error(`ValidateID("tgk_partner") = nil: an id with the key prefix would be taken for a key by scanners`)
	}
	for _, ok := range []string{"mobile-app", "partner@example.com", "orders:bot", strings.Repeat("z", 64)} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q) = %v", ok, err)
		}
	}
}

// Issue 26, defect 7: a JWT with sub "mobile-app" got principalId
// "mobile-app", the same as the key client of that name; only
// context.authType told them apart. A JWT's principal is "jwt:" and its
// principal claim, and no key id may start with "jwt:", so a backend
// keying data on the principal cannot confuse the two.
func TestJWTPrincipalsHaveTheirOwnNamespace(t *testing.T) {
	e := newJWTEnv(t, nil)
	tok := e.sign(t, e.rsa, func(c jwt.MapClaims) { c["sub"] = "mobile-app" })
	b, logged, err := e.decide(t, tok, testARN)
	if err != nil {
		t.Fatal(err)
	}
	ans := decodeAnswer(t, b)
	if ans.PrincipalID != "jwt:mobile-app" || ans.Context[ContextPrincipal] != "jwt:mobile-app" || logged["principal"] != "jwt:mobile-app" {
		t.Errorf("a JWT with sub mobile-app: principalId %q, context principal %v, logged %v; want jwt:mobile-app in each",
			ans.PrincipalID, ans.Context[ContextPrincipal], logged["principal"])
	}
	for _, id := range []string{"jwt:alice", "JWT:alice"} {
		if err := ValidateID(id); err == nil {
			t.Errorf("ValidateID(%q) = nil: a key's id would read as a JWT's principal", id)
		}
	}
}

// Issue 26, defect 8: one token with a made-up kid, sent just before the
// issuer rotates, took the once-a-minute refetch slot, and tokens signed
// with the new key got 401 for about 56 s. Whatever others send, a key
// the issuer publishes at P is accepted for every token presented from
// P + 10 s on (docs/jwts.md's bound, DefaultKidRefetchInterval; while the issuer
// answers), and unknown kids make at most one fetch per interval:
// generated schedules of unknown kids (alone and in bursts), one
// publication, and tokens signed with the new key.
func TestInvariantNewIssuerKeyBound(t *testing.T) {
	const bound = 10 * time.Second // docs/jwts.md, "What each caller gets"
	property.Run(t, "new issuer key bound", 20, func(t *testing.T, rng *rand.Rand, counts *property.Counts) {
		e := newJWTEnv(t, nil)
		if _, _, err := e.decide(t, e.sign(t, e.ec, nil), testARN); err != nil {
			t.Fatal(err)
		}
		next, err := jwtissuer.NewKey("ec-next", "ES256")
		if err != nil {
			t.Fatal(err)
		}
		start := e.clock.Now()
		published := start.Add(time.Duration(rng.IntN(120)) * time.Second)
		var rotated bool
		for e.clock.Now().Before(start.Add(4 * time.Minute)) {
			e.clock.Advance(time.Duration(rng.IntN(8000)) * time.Millisecond)
			now := e.clock.Now()
			if !rotated && !now.Before(published) {
				e.issuer.Rotate(next)
				rotated = true
			}
			if rng.IntN(2) == 0 { // a burst of made-up kids
				for range 1 + rng.IntN(20) {
					stranger := jwtissuer.Key{ID: fmt.Sprintf("made-up-%d", rng.Int()), Alg: "ES256", Signer: next.Signer}
					if _, _, err := e.decide(t, e.sign(t, stranger, nil), testARN); !errors.Is(err, ErrUnauthorized) {
						t.Fatalf("a made-up kid: %v", err)
					}
					counts.Add("made-up kids", 1)
				}
			}
			if !rotated || rng.IntN(2) == 0 {
				continue
			}
			_, logged, err := e.decide(t, e.sign(t, next, nil), testARN)
			counts.Add("tokens with the new key", 1)
			if late := now.Sub(published); late >= bound && err != nil {
				t.Fatalf("a token with the key published %s earlier: %v (%v), want it accepted from %s on", late, err, logged["reason"], bound)
			}
		}
		span := e.clock.Now().Sub(start)
		bound := 1 + 1 + int64(span/DefaultKidRefetchInterval) + 1 + int64(span/RefreshMargin(DefaultJWKSTTL))
		if n := e.issuer.Fetches.Load(); n > bound {
			t.Errorf("%d JWKS fetches in %s, want at most %d: one per refetch interval, and the refreshes", n, span, bound)
		}
		counts.Add("fetches", int(e.issuer.Fetches.Load()))
	})
}

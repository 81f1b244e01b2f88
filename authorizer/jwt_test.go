package authorizer

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"tollgate/internal/jwtissuer"
	"tollgate/internal/testkit/fakeclock"
)

const (
	testIssuer   = "https://id.example.test/"
	testAudience = "orders-api"
)

// jwtEnv is an issuer with an RSA and an ECDSA key generated for the test,
// serving its JWKS on 127.0.0.1, and an authorizer that trusts it.
type jwtEnv struct {
	issuer   *jwtissuer.Issuer
	rsa, ec  jwtissuer.Key
	clock    *fakeclock.Clock
	a        *Authorizer
	logs     *logBuffer
	jwksURL  string
	defaults JWTConfig
}

// testIssuerKeys are generated once per test binary: RSA generation is slow.
var testIssuerKeys = sync.OnceValues(func() (jwtissuer.Key, jwtissuer.Key) {
	r, err := jwtissuer.NewKey("rsa-1", "RS256")
	if err != nil {
		panic(err)
	}
	e, err := jwtissuer.NewKey("ec-1", "ES256")
	if err != nil {
		panic(err)
	}
	return r, e
})

func newJWTEnv(t testing.TB, edit func(*JWTConfig)) *jwtEnv {
	t.Helper()
	e := &jwtEnv{clock: newFakeClock()}
	e.rsa, e.ec = testIssuerKeys()
	e.issuer = jwtissuer.New(testIssuer, testAudience, e.rsa, e.ec)
	srv := httptest.NewServer(e.issuer)
	t.Cleanup(srv.Close)
	e.jwksURL = srv.URL + "/.well-known/jwks.json"
	cfg := JWTConfig{Issuer: testIssuer, JWKSURL: e.jwksURL, Audiences: []string{testAudience, "other-api"}}
	if edit != nil {
		edit(&cfg)
	}
	e.defaults = cfg
	e.a, e.logs = newTestAuthorizerAt(t, e.clock.Now, Config{JWT: &cfg}, nil)
	return e
}

// claims are valid claims for the test's issuer at the clock's instant.
func (e *jwtEnv) claims() jwt.MapClaims {
	now := e.clock.Now()
	return jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "sub": "alice",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func (e *jwtEnv) sign(t testing.TB, k jwtissuer.Key, edit func(jwt.MapClaims)) string {
	t.Helper()
	c := e.claims()
	if edit != nil {
		edit(c)
	}
	s, err := jwtissuer.Sign(k, c)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// decide invokes the authorizer with a TOKEN event and returns the answer,
// the logged decision and the error.
func (e *jwtEnv) decide(t testing.TB, token, arn string) ([]byte, map[string]any, error) {
	t.Helper()
	e.logs.Reset()
	b, err := e.a.Invoke(context.Background(), tokenEvent("Bearer "+token, arn))
	var last map[string]any
	for _, l := range e.logs.lines(t) {
		if l["msg"] == "decision" {
			last = l
		}
	}
	return b, last, err
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// TestJWTChecks: every check of JWTConfig refuses with its own reason (a
// 401, error "Unauthorized"), and a token that passes them all is allowed
// on the stage. Tokens are signed with RSA and ECDSA keys generated here.
func TestJWTChecks(t *testing.T) {
	e := newJWTEnv(t, func(c *JWTConfig) { c.RequiredClaims = []string{"tenant"} })
	now := e.clock.Now()
	withTenant := func(c jwt.MapClaims) { c["tenant"] = "acme" }
	and := func(fs ...func(jwt.MapClaims)) func(jwt.MapClaims) {
		return func(c jwt.MapClaims) {
			withTenant(c)
			for _, f := range fs {
				f(c)
			}
		}
	}
	pubDER, _ := x509.MarshalPKIXPublicKey(e.rsa.Signer.Public())
	pubPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})
	hmacWith := func(key []byte) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, e.claimsWith(withTenant))
		tok.Header["kid"] = e.rsa.ID
		s, err := tok.SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	jwks, _ := e.issuer.JWKS()
	valid := e.sign(t, e.rsa, withTenant)
	parts := strings.Split(valid, ".")
	leeway := DefaultJWTLeeway

	tests := []struct {
		name, token, reason string
	}{
		{"RS256 valid", valid, ""},
		{"ES256 valid", e.sign(t, e.ec, withTenant), ""},
		{"aud as a list holding an accepted one", e.sign(t, e.ec, and(func(c jwt.MapClaims) { c["aud"] = []string{"x", "other-api"} })), ""},
		{"expired within the leeway", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["exp"] = now.Add(-leeway + time.Second).Unix() })), ""},
		{"nbf within the leeway", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["nbf"] = now.Add(leeway - time.Second).Unix() })), ""},
		{"no kid: tried on every key", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, e.claimsWith(withTenant))
			s, _ := tok.SignedString(e.ec.Signer)
			return s
		}(), ""},

		{"expired", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["exp"] = now.Add(-leeway - time.Second).Unix() })), reasonJWTExpired},
		{"no exp", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { delete(c, "exp") })), reasonJWTNoExp},
		{"not valid yet", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["nbf"] = now.Add(leeway + time.Second).Unix() })), reasonJWTNotYetValid},
		{"issued in the future", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["iat"] = now.Add(leeway + time.Second).Unix() })), reasonJWTIssuedLater},
		{"wrong issuer", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["iss"] = "https://id.example.test" })), reasonJWTIssuer},
		{"no issuer", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { delete(c, "iss") })), reasonJWTNoIssuer},
		{"wrong audience", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["aud"] = "billing-api" })), reasonJWTAudience},
		{"no audience", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { delete(c, "aud") })), reasonJWTNoAudience},
		{"required claim missing", e.sign(t, e.rsa, nil), reasonJWTRequiredClaim},
		{"required claim null", e.sign(t, e.rsa, func(c jwt.MapClaims) { c["tenant"] = nil }), reasonJWTRequiredClaim},
		{"no principal", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { delete(c, "sub") })), reasonJWTPrincipal},
		{"principal not a string", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["sub"] = 42 })), reasonJWTPrincipal},
		{"principal with a control character", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["sub"] = "alice\nallow" })), reasonJWTPrincipal},
		{"signature of another token", parts[0] + "." + parts[1] + "." + strings.Split(e.sign(t, e.rsa, nil), ".")[2], reasonJWTSignature},
		{"claims changed after signing", parts[0] + "." + b64(`{"iss":"`+testIssuer+`","aud":"orders-api","sub":"root","tenant":"acme","exp":9999999999}`) + "." + parts[2], reasonJWTSignature},
		{"ES256 header on the RSA key's kid", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, e.claimsWith(withTenant))
			tok.Header["kid"] = e.rsa.ID
			s, _ := tok.SignedString(e.ec.Signer)
			return s
		}(), reasonJWTNoKey},
		{"unknown kid", jwtissuer.Must(jwtissuer.Sign(jwtissuer.Key{ID: "nobody", Alg: "RS256", Signer: e.rsa.Signer}, e.claimsWith(withTenant))), reasonJWTUnknownKid},

		// alg none and algorithm confusion: HS256 "signed" with what the
		// verifier holds as public (the JWKS, the key's PEM or DER).
		{"alg none", b64(`{"alg":"none","typ":"JWT"}`) + "." + parts[1] + ".", reasonJWTAlgorithm},
		{"alg none with the valid signature", b64(`{"alg":"none","kid":"rsa-1"}`) + "." + parts[1] + "." + parts[2], reasonJWTAlgorithm},
		{"alg None", b64(`{"alg":"None"}`) + "." + parts[1] + ".", reasonJWTAlgorithm},
		{"HS256 keyed with the public key PEM", hmacWith(pubPEM), reasonJWTAlgorithm},
		{"HS256 keyed with the public key DER", hmacWith(pubDER), reasonJWTAlgorithm},
		{"HS256 keyed with the JWKS", hmacWith(jwks), reasonJWTAlgorithm},
		{"RS384: a real algorithm not allowed", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS384, e.claimsWith(withTenant))
			tok.Header["kid"] = e.rsa.ID
			s, _ := tok.SignedString(e.rsa.Signer)
			return s
		}(), reasonJWTAlgorithm},

		{"malformed header", "eyJub3QganNvbg." + parts[1] + "." + parts[2], reasonJWTMalformed},
		{"malformed claims", parts[0] + "." + b64(`{"sub":`) + "." + parts[2], reasonJWTMalformed},
		{"too long", e.sign(t, e.rsa, and(func(c jwt.MapClaims) { c["pad"] = strings.Repeat("x", DefaultMaxTokenLength) })), reasonJWTTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, logged, err := e.decide(t, tt.token, testARN)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("refused (%v), logged %v", err, logged)
				}
				got := decodeAnswer(t, b)
				if got.PrincipalID != "jwt:alice" || !slices.Equal(got.resources("Allow"), []string{testPrefix + "*/*"}) || got.resources("Deny") != nil {
					t.Errorf("answer %s", b)
				}
				if got.Context[ContextAuthType] != "jwt" || got.Context[ContextPrincipal] != "jwt:alice" {
					t.Errorf("context %v", got.Context)
				}
				return
			}
			if !errors.Is(err, ErrUnauthorized) || b != nil {
				t.Fatalf("answer %s, error %v: want ErrUnauthorized (401)", b, err)
			}
			if logged["outcome"] != outcomeUnauthorized || logged["reason"] != tt.reason {
				t.Errorf("logged %v, want reason %q", logged, tt.reason)
			}
			if strings.Contains(e.logs.String(), tt.token) {
				t.Error("the token reached the log")
			}
		})
	}
}

func (e *jwtEnv) claimsWith(edit func(jwt.MapClaims)) jwt.MapClaims {
	c := e.claims()
	edit(c)
	return c
}

// TestJWTScopes: the routes a token may call are those its scopes grant,
// whichever route it calls first: the Allow is the same for every route,
// so API Gateway's cache (by token) keeps it right; off its routes the
// answer adds an explicit Deny of the request (403).
func TestJWTScopes(t *testing.T) {
	e := newJWTEnv(t, func(c *JWTConfig) {
		c.ScopeRoutes = map[string][]string{
			"orders:read":  {"GET /orders/*"},
			"orders:write": {"POST /orders", "GET /orders/*"},
		}
		c.ContextClaims = []string{"email", "groups", "admin", "level", "address"}
	})
	orders := testPrefix + "GET/orders/42"
	tests := []struct {
		name      string
		scope     any
		arn       string
		wantAllow []string
		wantDeny  bool
	}{
		{"read scope, its route", "orders:read", orders, []string{testPrefix + "GET/orders/*"}, false},
		{"read scope, another route", "orders:read", testARN, []string{testPrefix + "GET/orders/*"}, true},
		{"two scopes, routes merged", "openid orders:write orders:read", testPrefix + "POST/orders", []string{testPrefix + "GET/orders/*", testPrefix + "POST/orders"}, false},
		{"scp array", []any{"orders:read"}, orders, []string{testPrefix + "GET/orders/*"}, false},
		{"no scope granting a route", "openid profile", orders, nil, true},
		{"no scope claim", nil, orders, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := e.sign(t, e.rsa, func(c jwt.MapClaims) {
				if tt.scope != nil {
					c["scope"] = tt.scope
				}
				c["email"], c["groups"], c["admin"], c["level"] = "alice@example.test", []any{"ops", "dev"}, true, 3
				c["address"] = map[string]any{"city": "Lyon"} // not a scalar: left out
			})
			b, logged, err := e.decide(t, tok, tt.arn)
			if err != nil {
				t.Fatal(err)
			}
			got := decodeAnswer(t, b)
			if !slices.Equal(got.resources("Allow"), tt.wantAllow) {
				t.Errorf("Allow %v, want %v", got.resources("Allow"), tt.wantAllow)
			}
			if deny := got.resources("Deny"); !slices.Equal(deny, limitDenies(testPrefix)) {
				t.Errorf("Deny %v, want the limited callers' %v", deny, limitDenies(testPrefix))
			}
			if got.allows(tt.arn) == tt.wantDeny {
				t.Errorf("the answer allows %s: %v, want %v", tt.arn, !tt.wantDeny, tt.wantDeny)
			}
			if tt.wantDeny && (logged["outcome"] != outcomeDeny || logged["reason"] != reasonJWTScopeNotGranted) {
				t.Errorf("logged %v", logged)
			}
			want := map[string]any{ContextAuthType: "jwt", ContextPrincipal: "jwt:alice", "email": "alice@example.test", "groups": "ops dev", "admin": true, "level": float64(3)}
			if !mapsEqual(got.Context, want) {
				t.Errorf("context %v, want %v", got.Context, want)
			}
		})
	}

	// HTTP API payload 2.0: simple responses, with the same context.
	httpEvent := func(tok, routeArn, routeKey string) []byte {
		return edit(t, fixture(t, "events/http-v2.json"), func(ev map[string]any) {
			ev["headers"].(map[string]any)["authorization"] = "Bearer " + tok
			ev["routeArn"], ev["routeKey"] = routeArn, routeKey
		})
	}
	tok := e.sign(t, e.ec, func(c jwt.MapClaims) { c["scope"] = "orders:read" })
	for arn, want := range map[string]bool{orders: true, testARN: false} {
		routeKey := map[string]string{orders: "GET /orders/{id}", testARN: "GET /hello"}[arn]
		b, err := e.a.Invoke(context.Background(), httpEvent(tok, arn, routeKey))
		if err != nil || !strings.HasPrefix(string(b), `{"isAuthorized":`+map[bool]string{true: "true", false: "false"}[want]) || !strings.Contains(string(b), `"authType":"jwt"`) {
			t.Errorf("HTTP API %s: %s, %v", arn, b, err)
		}
	}
}

// TestJWTIssuerKeyRotation: a token signed with a key the JWKS did not
// hold when it was read makes the authorizer read it again, at most once
// per KidRefetchInterval; a key the issuer stops publishing stops working
// at the next read (within the JWKS TTL).
func TestJWTIssuerKeyRotation(t *testing.T) {
	e := newJWTEnv(t, nil)
	if _, _, err := e.decide(t, e.sign(t, e.rsa, nil), testARN); err != nil {
		t.Fatal(err)
	}
	if n := e.issuer.Fetches.Load(); n != 1 {
		t.Fatalf("%d fetches, want 1", n)
	}
	next, err := jwtissuer.NewKey("rsa-2", "RS256")
	if err != nil {
		t.Fatal(err)
	}
	e.issuer.Rotate(next)
	if _, logged, err := e.decide(t, e.sign(t, next, nil), testARN); err != nil {
		t.Fatalf("new key refused: %v %v", err, logged)
	}
	if n := e.issuer.Fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after the new kid, want 2", n)
	}
	// Unknown kids within the interval: no fetch.
	stranger := jwtissuer.Key{ID: "stranger", Alg: "RS256", Signer: next.Signer}
	for range 5 {
		if _, logged, err := e.decide(t, e.sign(t, stranger, nil), testARN); !errors.Is(err, ErrUnauthorized) || logged["reason"] != reasonJWTUnknownKid {
			t.Fatalf("unknown kid: %v %v", err, logged)
		}
	}
	if n := e.issuer.Fetches.Load(); n != 2 {
		t.Fatalf("%d fetches after unknown kids within the interval, want 2", n)
	}
	e.clock.Advance(DefaultKidRefetchInterval)
	if _, _, err := e.decide(t, e.sign(t, stranger, nil), testARN); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("unknown kid after the interval: %v", err)
	}
	if n := e.issuer.Fetches.Load(); n != 3 {
		t.Fatalf("%d fetches after the interval, want 3", n)
	}
	// The old key is dropped: it works until the JWKS is read again.
	e.issuer.Drop(e.rsa.ID)
	old := e.sign(t, e.rsa, nil)
	if _, _, err := e.decide(t, old, testARN); err != nil {
		t.Fatalf("old key before the JWKS TTL: %v", err)
	}
	e.clock.Advance(DefaultJWKSTTL)
	if _, logged, err := e.decide(t, e.sign(t, e.rsa, nil), testARN); !errors.Is(err, ErrUnauthorized) || logged["reason"] != reasonJWTUnknownKid {
		t.Fatalf("dropped key after the JWKS TTL: %v %v", err, logged)
	}
}

// TestJWKSOutages: a JWKS that cannot be read at all is an error (500);
// once read, the last good set serves through an outage up to
// JWKSMaxStale, then every JWT is an error. Keys keep working throughout.
func TestJWKSOutages(t *testing.T) {
	e := newJWTEnv(t, func(c *JWTConfig) { c.JWKSTTL, c.JWKSMaxStale = time.Minute, 10*time.Minute })
	e.issuer.Fail.Store(true)
	tok := e.sign(t, e.ec, nil)
	if _, logged, err := e.decide(t, tok, testARN); !errors.Is(err, ErrNoJWKS) || errors.Is(err, ErrUnauthorized) || logged["outcome"] != outcomeError {
		t.Fatalf("never loaded: %v %v", err, logged)
	}
	if !strings.Contains(e.logs.String(), "JWKS refresh failed") {
		t.Error("the failed fetch was not logged")
	}
	if b, err := e.a.Invoke(context.Background(), tokenEvent("Bearer "+mobileKey, testARN)); err != nil {
		t.Fatalf("a key during the JWKS outage: %s %v", b, err)
	}

	e.issuer.Fail.Store(false)
	e.clock.Advance(maxBackoff) // past the backoff of the failure
	if _, logged, err := e.decide(t, tok, testARN); err != nil {
		t.Fatalf("issuer back: %v %v", err, logged)
	}
	e.issuer.Fail.Store(true)
	for _, step := range []time.Duration{2 * time.Minute, 4 * time.Minute, 3*time.Minute + 59*time.Second} {
		e.clock.Advance(step)
		if _, logged, err := e.decide(t, tok, testARN); err != nil {
			t.Fatalf("within the maximum age: %v %v", err, logged)
		}
		waitJWKSIdle(t, e.a)
	}
	e.clock.Advance(time.Second)
	if _, _, err := e.decide(t, tok, testARN); !errors.Is(err, ErrNoJWKS) {
		t.Fatalf("past the maximum age: %v, want ErrNoJWKS (500)", err)
	}
}

func waitJWKSIdle(t testing.TB, a *Authorizer) {
	t.Helper()
	s := a.jwt.jwks
	s.mu.Lock()
	run := s.inflight
	s.mu.Unlock()
	if run != nil {
		select {
		case <-run.done:
		case <-time.After(10 * time.Second):
			t.Fatal("JWKS fetch did not end")
		}
	}
}

// TestJWTOffKeepsKeysOnly: without Config.JWT a JWT is an unknown key,
// looked up like any other token.
func TestJWTOffKeepsKeysOnly(t *testing.T) {
	e := newJWTEnv(t, nil)
	a, logs := newTestAuthorizer(t, Config{}, nil)
	_, err := a.Invoke(context.Background(), tokenEvent("Bearer "+e.sign(t, e.rsa, nil), testARN))
	if !errors.Is(err, ErrUnauthorized) || !strings.Contains(logs.String(), `"reason":"`+reasonUnknownKey+`"`) {
		t.Fatalf("%v %s", err, logs.String())
	}
}

func TestParseJWTConfig(t *testing.T) {
	good := `{"issuer":"https://id.example.test/","jwksUrl":"https://id.example.test/jwks","audiences":["a"]`
	tests := []struct{ name, json, wantErr string }{
		{"minimal", good + `}`, ""},
		{"everything", good + `,"algorithms":["ES256","EdDSA"],"principalClaim":"client_id","scopeClaim":"scp","scopeRoutes":{"r":["GET /x/*"]},"requiredClaims":["tenant"],"contextClaims":["email"],"leeway":"10s","maxTokenLength":4096,"jwksTtl":"5m","jwksMaxStale":"2h","kidRefetchInterval":"30s"}`, ""},
		{"local issuer over http", `{"issuer":"tollgate-local","jwksUrl":"http://127.0.0.1:9/jwks","audiences":["a"]}`, ""},
		{"none", good + `,"algorithms":["none"]}`, `algorithm "none"`},
		{"HMAC", good + `,"algorithms":["RS256","HS256"]}`, `algorithm "HS256"`},
		{"no issuer", `{"jwksUrl":"https://x/jwks","audiences":["a"]}`, "issuer is required"},
		{"no JWKS URL", `{"issuer":"i","audiences":["a"]}`, "JWKS URL is required"},
		{"http JWKS", `{"issuer":"i","jwksUrl":"http://id.example.test/jwks","audiences":["a"]}`, "want https"},
		{"no audience", `{"issuer":"i","jwksUrl":"https://x/jwks"}`, "audience is required"},
		{"unknown field", good + `,"audience":"a"}`, `unknown field "audience"`},
		{"bad route", good + `,"scopeRoutes":{"r":["GET orders"]}}`, "route #1"},
		{"scope without routes", good + `,"scopeRoutes":{"r":[]}}`, "grants no route"},
		{"leeway too long", good + `,"leeway":"1h"}`, "leeway 1h0m0s"},
		{"bad duration", good + `,"jwksTtl":"soon"}`, `jwksTtl "soon"`},
		{"max stale below TTL", good + `,"jwksTtl":"2h","jwksMaxStale":"1h"}`, "shorter than its TTL"},
		{"context claim shadows", good + `,"contextClaims":["principal"]}`, `context claim "principal"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseJWTConfig([]byte(tt.json))
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				back, err := ParseJWTConfig(jwtissuer.Must(c.MarshalJSON()))
				if err != nil || back.Leeway != c.Leeway || back.JWKSTTL != c.JWKSTTL || !slices.Equal(back.Algorithms, c.Algorithms) {
					t.Errorf("round trip: %+v, %v", back, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

func TestFromEnvJWT(t *testing.T) {
	env := map[string]string{EnvSecretID: "s", EnvJWT: `{"issuer":"i","jwksUrl":"https://x/jwks","audiences":["a"]}`}
	_, cfg, err := FromEnv(func(k string) string { return env[k] })
	if err != nil || cfg.JWT == nil || cfg.JWT.Issuer != "i" || cfg.JWT.Leeway != DefaultJWTLeeway {
		t.Fatalf("%+v %v", cfg.JWT, err)
	}
	env[EnvJWT] = `{"issuer":"i"}`
	if _, _, err := FromEnv(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), EnvJWT) {
		t.Fatalf("bad %s: %v", EnvJWT, err)
	}
}

// TestJWTVerifiedTokens: a token verified once is not verified again while
// it may be reused, and is never reused past what a full verification
// would accept: its exp (with the leeway), or a JWKS that no longer holds
// its key. The memory is bounded.
func TestJWTVerifiedTokens(t *testing.T) {
	e := newJWTEnv(t, nil)
	now := e.clock.Now()
	tok := e.sign(t, e.ec, func(c jwt.MapClaims) { c["exp"] = now.Add(time.Minute).Unix(); c["nbf"] = now.Unix() })
	if _, _, err := e.decide(t, tok, testARN); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(tok))
	if _, ok := e.a.jwt.verified[sum]; !ok {
		t.Fatal("a verified token was not remembered")
	}
	// Remembered: a second decision does not verify. Shown by taking the
	// parser away: a verification would panic.
	parser := e.a.jwt.parser
	e.a.jwt.parser = nil
	if b, _, err := e.decide(t, tok, testPrefix+"POST/orders"); err != nil || decodeAnswer(t, b).PrincipalID != "jwt:alice" {
		t.Fatalf("remembered token: %s %v", b, err)
	}
	e.a.jwt.parser = parser

	// Past exp + leeway it is verified again, and refused.
	e.clock.Advance(time.Minute + DefaultJWTLeeway)
	if _, logged, err := e.decide(t, tok, testARN); !errors.Is(err, ErrUnauthorized) || logged["reason"] != reasonJWTExpired {
		t.Fatalf("remembered token past its exp: %v %v", err, logged)
	}

	// A JWKS read that drops the key ends the token's reuse.
	e.clock.Set(now)
	tok2 := e.sign(t, e.rsa, nil)
	if _, _, err := e.decide(t, tok2, testARN); err != nil {
		t.Fatal(err)
	}
	e.issuer.Drop(e.rsa.ID)
	e.clock.Advance(DefaultJWKSTTL)
	if _, logged, err := e.decide(t, tok2, testARN); !errors.Is(err, ErrUnauthorized) || logged["reason"] != reasonJWTUnknownKid {
		t.Fatalf("remembered token after its key left the JWKS: %v %v", err, logged)
	}

	// Bounded.
	for i := range maxVerified + 10 {
		e.a.jwt.remember(sha256.Sum256([]byte{byte(i), byte(i >> 8)}), nil, jwt.MapClaims{"exp": float64(now.Add(time.Hour).Unix())}, jwtResult{})
	}
	if n := len(e.a.jwt.verified); n > maxVerified {
		t.Errorf("%d tokens remembered, want at most %d", n, maxVerified)
	}
}

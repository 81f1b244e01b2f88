package local

import (
	"strings"
	"testing"
	"time"

	"tollgate/api"
	"tollgate/internal/testkit/logsink"
)

// JWTs from the local issuer, end to end through the local gateway and the
// real authorizer binary: a minted token is allowed beside the keys, its
// scopes limit it to their routes whichever it calls first (the cached
// answer stays right), and a token that fails a check is a 401 (REST) or
// 403 (HTTP API, whose function denials are all 403).
func TestLocalIssuerJWTs(t *testing.T) {
	for _, apiType := range []api.APIType{api.REST, api.HTTP} {
		t.Run(string(apiType), func(t *testing.T) {
			m := start(t, func(c *Config) {
				c.APIType = apiType
				c.JWTLocal = true
				c.JWT = `{"scopeRoutes":{"greet":["GET /hello"],"orders:write":["POST /orders"]},"contextClaims":["tenant"]}`
			})
			state := m.issuerState
			alice, err := Mint(state, "alice", "greet", map[string]any{"tenant": "acme"}, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			denied, refused := 403, 401
			deniedType, refusedType := "ACCESS_DENIED", "UNAUTHORIZED"
			if apiType == api.HTTP {
				refused = 403
			}
			a := send(t, m, "GET", "/hello", "Bearer "+alice, "")
			if a.status != 200 || a.body["principal"] != "jwt:alice" {
				t.Fatalf("GET /hello with alice's JWT: %d %s", a.status, a.raw)
			}
			// Off its scopes, after the answer was cached for /hello.
			if a := send(t, m, "POST", "/orders", "Bearer "+alice, "{}"); a.status != denied {
				t.Fatalf("POST /orders with a greet-only JWT: %d %s (want %d %s)", a.status, a.raw, denied, deniedType)
			}
			writer, _ := Mint(state, "bot", "orders:write", nil, time.Hour)
			if a := send(t, m, "POST", "/orders", "Bearer "+writer, "{}"); a.status != 200 || a.body["principal"] != "jwt:bot" {
				t.Fatalf("POST /orders with orders:write: %d %s", a.status, a.raw)
			}
			// Keys keep working beside JWTs.
			if a := send(t, m, "GET", "/hello", "Bearer "+mobileKey, ""); a.status != 200 {
				t.Fatalf("a key beside JWTs: %d %s", a.status, a.raw)
			}
			expired, _ := Mint(state, "carol", "greet", map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}, time.Hour)
			tampered := alice[:strings.LastIndexByte(alice, '.')] + ".AAAA"
			for name, tok := range map[string]string{"expired": expired, "bad signature": tampered} {
				if a := send(t, m, "GET", "/hello", "Bearer "+tok, ""); a.status != refused {
					t.Errorf("%s JWT: %d %s (want %d %s)", name, a.status, a.raw, refused, refusedType)
				}
			}
		})
	}
}

// A mistake in the JWT settings stops the run at start, naming it.
func TestLocalJWTSettingsChecked(t *testing.T) {
	_, err := Start(t.Context(), Config{Addr: "127.0.0.1:0", BinDir: binDir, StateDir: t.TempDir(), JWTLocal: true,
		JWT: `{"algorithms":["HS256"]}`, Getenv: func(string) string { return "" }})
	if err == nil || !strings.Contains(err.Error(), `algorithm "HS256"`) {
		t.Fatalf("Start: %v", err)
	}
	if _, err := Mint(t.TempDir(), "alice", "", nil, time.Hour); err == nil || !strings.Contains(err.Error(), "-jwt-local") {
		t.Errorf("Mint without an issuer: %v", err)
	}
}

// Routes that take only JWTs, guarded by API Gateway's own JWT authorizer
// on an HTTP API: emulated with the authorizer's JWT code against the
// local issuer, beside tollgate's authorizer on the other routes.
func TestLocalJWTRoutes(t *testing.T) {
	def := api.Default()
	for i, r := range def.Routes {
		if r.String() == "GET /customers" {
			def.Routes[i].Protected, def.Routes[i].JWT, def.Routes[i].Scopes = false, true, []string{"reports:read"}
		}
	}
	m := start(t, func(c *Config) {
		c.Definition = &def
		c.APIType = api.HTTP
		c.JWTLocal = true
	})
	state := m.issuerState
	reader, err := Mint(state, "carol", "reports:read", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := Mint(state, "dave", "orders:write", nil, time.Hour)
	if a := send(t, m, "GET", "/customers", "Bearer "+reader, ""); a.status != 200 || a.body["principal"] != "carol" {
		t.Fatalf("GET /customers with reports:read: %d %s", a.status, a.raw)
	}
	if a := send(t, m, "GET", "/customers", reader, ""); a.status != 200 {
		t.Fatalf("GET /customers with the token alone: %d %s", a.status, a.raw)
	}
	a := send(t, m, "GET", "/customers", "Bearer "+other, "")
	if a.status != 403 || !strings.Contains(a.header.Get("WWW-Authenticate"), `error="insufficient_scope"`) {
		t.Fatalf("GET /customers without its scope: %d %s %v", a.status, a.raw, a.header)
	}
	expired, _ := Mint(state, "carol", "reports:read", map[string]any{"exp": time.Now().Add(-time.Hour).Unix()}, time.Hour)
	a = send(t, m, "GET", "/customers", "Bearer "+expired, "")
	if a.status != 401 || !strings.Contains(a.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("GET /customers with an expired token: %d %s %v", a.status, a.raw, a.header)
	}
	// A key is not a JWT: the JWT route refuses it; the key's routes take it.
	if a := send(t, m, "GET", "/customers", "Bearer "+mobileKey, ""); a.status != 401 {
		t.Fatalf("GET /customers with a key: %d %s", a.status, a.raw)
	}
	if a := send(t, m, "GET", "/hello", "Bearer "+mobileKey, ""); a.status != 200 {
		t.Fatalf("GET /hello with a key: %d %s", a.status, a.raw)
	}
	var routes strings.Builder
	m.Routes(&routes)
	if !strings.Contains(routes.String(), `-H "Authorization: Bearer $TOLLGATE_JWT" `+m.URL+"/customers") {
		t.Errorf("the JWT route's curl line does not send a JWT:\n%s", routes.String())
	}

	// Without JWT settings, or on a REST API, the run does not start.
	for _, c := range []Config{{Definition: &def, APIType: api.HTTP}, {Definition: &def, JWTLocal: true}} {
		if _, err := c.API(); err == nil || !strings.Contains(err.Error(), "auth: jwt") {
			t.Errorf("%+v: %v", c, err)
		}
	}
}

// Issue 27: a token refused from the result cache (a REST API's policy for
// its earlier route does not cover this one) is decided by API Gateway
// without invoking the authorizer, so the authorizer logs nothing of it,
// as on AWS. The access log's line is where it is found: the request id
// the caller saw, the principal and ACCESS_DENIED.
func TestCachedRefusalIsInTheAccessLog(t *testing.T) {
	access := &logsink.Buffer{}
	m := start(t, func(c *Config) {
		c.JWTLocal = true
		c.JWT = `{"scopeRoutes":{"greet":["GET /hello"]}}`
		c.AccessLog = access
	})
	alice, err := Mint(m.issuerState, "alice", "greet", nil, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if a := send(t, m, "GET", "/hello", "Bearer "+alice, ""); a.status != 200 {
		t.Fatalf("GET /hello: %d %s", a.status, a.raw)
	}
	before := invocations(m, "authorizer")
	a := send(t, m, "POST", "/orders", "Bearer "+alice, "{}")
	if a.status != 403 || invocations(m, "authorizer") != before {
		t.Fatalf("POST /orders off the token's scopes: %d %s, authorizer invoked %d times more; want 403 from the cache", a.status, a.raw, invocations(m, "authorizer")-before)
	}
	id := a.header.Get("x-amzn-RequestId")
	for _, line := range strings.Split(access.String(), "\n") {
		if strings.Contains(line, `"requestId":"`+id+`"`) {
			for _, want := range []string{`"principalId":"jwt:alice"`, `"status":"403"`, `"errorType":"ACCESS_DENIED"`, `"resourcePath":"/orders"`} {
				if !strings.Contains(line, want) {
					t.Errorf("the access log line of the cached refusal lacks %s: %s", want, line)
				}
			}
			return
		}
	}
	t.Fatalf("no access log line has the request id %s the caller saw:\n%s", id, access)
}

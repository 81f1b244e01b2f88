package gateway

import (
	"context"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"

	"tollgate/api"
)

// fakeJWT accepts "good-…" tokens with the scopes after the dash, refuses
// "bad" with a reason, and cannot decide "down".
type fakeJWT struct{ tokens []string }

func (f *fakeJWT) VerifyJWT(_ context.Context, token []byte) (map[string]any, []string, string, error) {
	t := string(token)
	f.tokens = append(f.tokens, t)
	switch {
	case t == "down":
		return nil, nil, "", errors.New("no JWKS")
	case strings.HasPrefix(t, "good"):
		scopes := strings.Fields(strings.TrimPrefix(t, "good"))
		return map[string]any{"sub": "alice", "n": 3.0, "admin": true, "groups": []any{"a", "b"}}, scopes, "", nil
	}
	return nil, nil, "jwt expired", nil
}

// jwtSetup is an HTTP API whose GET /customers takes JWTs with scope
// reports:read through API Gateway's JWT authorizer, GET /orders any
// valid JWT, and GET /hello tollgate's authorizer.
func jwtSetup(t *testing.T) (*setup, *fakeJWT, *realAuthorizer) {
	t.Helper()
	v := &fakeJWT{}
	auth := newRealAuthorizer(t, io.Discard)
	s := newSetup(t, func(c *Config) {
		c.Functions["authorizer"] = auth
		c.Definition.UseHTTP()
		c.Definition.JWT = &api.JWTAuthorizer{Issuer: "https://id.example.com/", Audiences: []string{"orders-api"}}
		for i, r := range c.Definition.Routes {
			switch r.String() {
			case "GET /customers":
				c.Definition.Routes[i].Protected, c.Definition.Routes[i].JWT, c.Definition.Routes[i].Scopes = false, true, []string{"reports:read", "reports:admin"}
			case "POST /orders":
				c.Definition.Routes[i].Protected, c.Definition.Routes[i].JWT = false, true
			}
		}
		c.JWT = v
	})
	return s, v, auth
}

// API Gateway's JWT authorizer, emulated
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html).
func TestJWTAuthorizer(t *testing.T) {
	for _, tt := range []struct {
		name, method, path, auth string
		status                   int
		body, challenge          string
		token                    string // what reached the verifier
	}{
		{"no token", "GET", "/customers", "", 401, httpUnauthorized, "", ""},
		{"a refused token", "GET", "/customers", "Bearer bad", 401, httpUnauthorized, `Bearer scope="" error="invalid_token" error_description="jwt expired"`, "bad"},
		{"without Bearer", "GET", "/customers", "good reports:read", 200, `{"ok":true}`, "", "good reports:read"},
		{"one of the route's scopes", "GET", "/customers", "Bearer good openid reports:admin", 200, `{"ok":true}`, "", "good openid reports:admin"},
		{"none of the route's scopes", "GET", "/customers", "Bearer good openid", 403, httpForbidden, `Bearer scope="reports:read reports:admin" error="insufficient_scope" error_description="the token holds none of the route's scopes"`, "good openid"},
		{"a route without scopes", "POST", "/orders", "Bearer good", 200, `{"ok":true}`, "", "good"},
		{"keys cannot decide", "POST", "/orders", "Bearer down", 500, httpInternal, "", "down"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, v, auth := jwtSetup(t)
			rec := s.do(call{method: tt.method, path: tt.path, auth: tt.auth})
			if rec.Code != tt.status || rec.Body.String() != tt.body || rec.Header().Get("WWW-Authenticate") != tt.challenge {
				t.Errorf("= %d %s (www-authenticate %q), want %d %s (%q)", rec.Code, rec.Body, rec.Header().Get("WWW-Authenticate"), tt.status, tt.body, tt.challenge)
			}
			if got := strings.Join(v.tokens, ","); got != tt.token {
				t.Errorf("verifier saw %q, want %q", got, tt.token)
			}
			if auth.calls.Load() != 0 {
				t.Error("tollgate's authorizer was invoked for a JWT route")
			}
			if rec.Code != 200 {
				return
			}
			jwt := s.handler.lastEvent(t)["requestContext"].(map[string]any)["authorizer"].(map[string]any)["jwt"].(map[string]any)
			want := map[string]any{"sub": "alice", "n": "3", "admin": "true", "groups": `["a","b"]`}
			if !reflect.DeepEqual(jwt["claims"], want) {
				t.Errorf("claims %v, want %v", jwt["claims"], want)
			}
		})
	}
	// Tollgate's authorizer still guards its routes.
	s, v, auth := jwtSetup(t)
	if rec := s.do(call{auth: goodToken}); rec.Code != 200 || len(v.tokens) != 0 || auth.calls.Load() != 1 {
		t.Errorf("GET /hello = %d, verifier saw %v, authorizer invoked %d times", rec.Code, v.tokens, auth.calls.Load())
	}
	// A definition with JWT routes needs a verifier.
	cfg := s.g.cfg
	cfg.JWT = nil
	if _, err := New(cfg); err == nil {
		t.Error("New without a JWT verifier succeeded")
	}
}

package authorizer

import (
	"context"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"tollgate/internal/jwtissuer"
)

// GatewayJWT decides as API Gateway's JWT authorizer: RSA only, aud or
// (without aud) client_id, scopes from scope and scp, no principal needed
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html).
func TestGatewayJWT(t *testing.T) {
	rsa, ec := testIssuerKeys()
	iss := jwtissuer.New(testIssuer, testAudience, rsa, ec)
	srv := httptest.NewServer(iss)
	t.Cleanup(srv.Close)
	g, err := NewGatewayJWT(testIssuer, []string{testAudience}, srv.URL+"/jwks", nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	sign := func(k jwtissuer.Key, edit func(jwt.MapClaims)) string {
		c := jwt.MapClaims{"iss": testIssuer, "aud": testAudience, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		edit(c)
		return jwtissuer.Must(jwtissuer.Sign(k, c))
	}
	for _, tt := range []struct {
		name, token, reason string
		scopes              []string
	}{
		{"RS256, no sub", sign(rsa, func(jwt.MapClaims) {}), "", nil},
		{"scopes from scope and scp", sign(rsa, func(c jwt.MapClaims) { c["scope"] = "a b"; c["scp"] = []any{"c"} }), "", []string{"a", "b", "c"}},
		{"client_id without aud", sign(rsa, func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = testAudience }), "", nil},
		{"another client_id", sign(rsa, func(c jwt.MapClaims) { delete(c, "aud"); c["client_id"] = "other" }), reasonJWTAudience, nil},
		{"aud wins over client_id", sign(rsa, func(c jwt.MapClaims) { c["aud"] = "other"; c["client_id"] = testAudience }), reasonJWTAudience, nil},
		{"neither aud nor client_id", sign(rsa, func(c jwt.MapClaims) { delete(c, "aud") }), reasonJWTNoAudience, nil},
		{"ES256: not RSA", sign(ec, func(jwt.MapClaims) {}), reasonJWTAlgorithm, nil},
		{"expired", sign(rsa, func(c jwt.MapClaims) { c["exp"] = now.Add(-time.Hour).Unix() }), reasonJWTExpired, nil},
		{"another issuer", sign(rsa, func(c jwt.MapClaims) { c["iss"] = "https://elsewhere.test/" }), reasonJWTIssuer, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			claims, scopes, reason, err := g.VerifyJWT(context.Background(), []byte(tt.token))
			if err != nil || reason != tt.reason || !slices.Equal(scopes, tt.scopes) {
				t.Fatalf("= %v %v %q %v, want reason %q scopes %v", claims, scopes, reason, err, tt.reason, tt.scopes)
			}
			if reason == "" && claims["iss"] != testIssuer {
				t.Errorf("claims %v", claims)
			}
		})
	}
	iss.Fail.Store(true)
	down, err := NewGatewayJWT(testIssuer, []string{testAudience}, srv.URL+"/jwks", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := down.VerifyJWT(context.Background(), []byte(sign(rsa, func(jwt.MapClaims) {}))); err == nil {
		t.Error("no JWKS: no error")
	}
}

package authorizer_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"tollgate/authorizer"
	"tollgate/internal/jwtissuer"
)

func ExampleParseKeyring() {
	kr, err := authorizer.ParseKeyring([]byte(`{"keys":[
		{"id":"mobile-app","key":"tg_example_mobile_key_0123456789abcdefgh"},
		{"id":"orders-bot","key":"tg_example_orders_key_0123456789abcdefgh","routes":["GET /orders/*"]}
	]}`))
	fmt.Println(len(kr.Keys), kr.Keys[1].Routes, err)

	_, err = authorizer.ParseKeyring([]byte(`{"keys":[{"id":"weak","key":"hunter2"}]}`))
	fmt.Println(err)
	// Output:
	// 2 [GET /orders/*] <nil>
	// malformed keyring: key "weak": shorter than 32 bytes
}

func ExampleAuthorizer_Invoke() {
	keyring := []byte(`{"keys":[{"id":"mobile-app","key":"tg_example_mobile_key_0123456789abcdefgh"}]}`)
	a, err := authorizer.New(authorizer.Config{
		// In Lambda: authorizer.NewFromEnv(os.Getenv), or authorizer.SecretsManager(client, secretARN) with a client from authorizer.SecretsManagerFromEnv.
		Source: authorizer.SourceFunc(func(_ context.Context, stage string) ([]byte, error) {
			if stage != authorizer.StageCurrent {
				return nil, authorizer.ErrSecretNotFound
			}
			return keyring, nil
		}),
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	const arn = "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/hello"

	answer, err := a.Invoke(ctx, []byte(`{"type":"TOKEN","authorizationToken":"Bearer tg_example_mobile_key_0123456789abcdefgh","methodArn":"`+arn+`"}`))
	fmt.Printf("%s %v\n", answer, err)

	_, err = a.Invoke(ctx, []byte(`{"type":"TOKEN","authorizationToken":"Bearer wrong","methodArn":"`+arn+`"}`))
	fmt.Println(err)
	// Output:
	// {"principalId":"mobile-app","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":["execute-api:Invoke"],"Effect":"Allow","Resource":["arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/*/*"]}]},"context":{"keyId":"mobile-app","keyVersion":"current"}} <nil>
	// Unauthorized
}

func ExampleFromEnv() {
	env := map[string]string{
		authorizer.EnvSecretID:    "tollgate/api-keys",
		authorizer.EnvTokenHeader: "x-api-key",
		authorizer.EnvTokenScheme: authorizer.SchemeNone,
		authorizer.EnvKeyTTL:      "1m",
	}
	secretID, cfg, err := authorizer.FromEnv(func(k string) string { return env[k] })
	fmt.Println(secretID, cfg.TokenHeader, cfg.Scheme, cfg.TTL, err)
	// Output:
	// tollgate/api-keys x-api-key none 1m0s <nil>
}

// NewFromEnv is how the Lambda function builds its authorizer. Here the
// Secrets Manager endpoint is a stand-in served on loopback.
func ExampleNewFromEnv() {
	sm := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"Name":"tollgate/keys","VersionId":"v1","SecretString":"{\"keys\":[{\"id\":\"mobile-app\",\"key\":\"tg_example_mobile_key_0123456789abcdefgh\"}]}"}`)
	}))
	defer sm.Close()
	env := map[string]string{
		authorizer.EnvSecretID: "tollgate/keys",
		authorizer.EnvLogLevel: "error",
		// What Lambda sets, and an endpoint override.
		authorizer.EnvAWSRegion:          "eu-west-1",
		authorizer.EnvAWSAccessKeyID:     "ASIAEXAMPLE",
		authorizer.EnvAWSSecretAccessKey: "example",
		authorizer.EnvAWSEndpoint:        sm.URL,
	}
	a, err := authorizer.NewFromEnv(func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Load(context.Background()))
	_, err = a.Invoke(context.Background(), []byte(`{"type":"TOKEN","authorizationToken":"Bearer nope","methodArn":"arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/hello"}`))
	fmt.Println(err)
	// Output:
	// <nil>
	// Unauthorized
}

// A JWT beside the keys: the issuer's JWKS is read from JWKSURL, and a
// token's "scope" claim names the routes it may call.
func ExampleParseJWTConfig() {
	c, err := authorizer.ParseJWTConfig([]byte(`{
		"issuer": "https://id.example.com/",
		"jwksUrl": "https://id.example.com/.well-known/jwks.json",
		"audiences": ["orders-api"],
		"scopeRoutes": {"orders:read": ["GET /orders/*"]},
		"contextClaims": ["email"]
	}`))
	fmt.Println(c.Algorithms, c.PrincipalClaim, c.ScopeClaim, c.Leeway, err)

	_, err = authorizer.ParseJWTConfig([]byte(`{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/jwks",
		"audiences":["orders-api"],"algorithms":["HS256"]}`))
	fmt.Println(err)
	// Output:
	// [RS256 ES256] sub scope 30s <nil>
	// authorizer: JWT: algorithm "HS256": want some of RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA (never none, never HMAC with a public key set)
}

// API Gateway's own JWT authorizer, as the local gateway emulates it for
// routes with auth: jwt: RSA tokens from the issuer, for one of the
// audiences, with the route's scopes read from scope and scp.
func ExampleGatewayJWT_VerifyJWT() {
	key, _ := jwtissuer.NewKey("k1", "RS256")
	issuer := jwtissuer.New("https://id.example.com/", "orders-api", key)
	srv := httptest.NewServer(issuer)
	defer srv.Close()

	g, err := authorizer.NewGatewayJWT("https://id.example.com/", []string{"orders-api"}, srv.URL+"/jwks", nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	token, _ := issuer.Mint(jwt.MapClaims{"sub": "alice", "scope": "reports:read"}, time.Hour, time.Now())
	claims, scopes, reason, err := g.VerifyJWT(context.Background(), []byte(token))
	fmt.Println(claims["sub"], scopes, reason == "", err)

	_, _, reason, _ = g.VerifyJWT(context.Background(), []byte(token[:len(token)-8]))
	fmt.Println(reason)
	// Output:
	// alice [reports:read] true <nil>
	// jwt signature invalid
}

package authorizer

import (
	"context"
	"errors"
	"testing"
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

package gateway

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"tollgate/api"
	"tollgate/internal/testkit/logsink"
)

// Whatever request arrives, the gateway with tollgate's authorizer answers
// with a status API Gateway could give and a JSON body, and the handler
// behind a protected route runs only for a request whose Authorization is
// exactly a stored key in the form the validation regex wants, on a route
// that key may call.
func FuzzGateway(f *testing.F) {
	f.Add("GET", "/hello", "Bearer "+validKey, "")
	f.Add("GET", "/customers", "Bearer "+ordersKey, "")
	f.Add("GET", "/hello", "Bearer "+ordersKey, "")
	f.Add("POST", "/orders", "Bearer "+validKey, `{"item":"tea"}`)
	f.Add("GET", "/health", "", "")
	f.Add("GET", "/hello", "bearer "+validKey, "")
	f.Add("GET", "/hello/../hello", "Bearer "+validKey+", Bearer "+validKey, "")
	f.Add("DELETE", "/hello", "Bearer x", "x")

	var logs logsink.Buffer
	auth := newRealAuthorizer(f, &logs)
	handler := &fn{answer: answers(okResponse)}
	g, err := New(Config{
		Definition: api.Default(),
		Functions:  map[string]Invoker{"authorizer": auth, "handler": handler},
	})
	if err != nil {
		f.Fatal(err)
	}
	statuses := map[int]bool{200: true, 401: true, 403: true, 413: true, 414: true, 500: true, 502: true, 504: true}
	f.Fuzz(func(t *testing.T, method, path, authorization, body string) {
		if !validMethod(method) || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " ?#\x00\r\n") || !validHeaderValue(authorization) {
			return // net/http would not hand such a request to a handler
		}
		if _, err := url.ParseRequestURI(path); err != nil {
			return // net/http answers 400 itself
		}
		req := httptest.NewRequest(method, "http://127.0.0.1:8080"+path, strings.NewReader(body))
		if authorization != "" {
			req.Header.Set("Authorization", authorization)
		}
		before := handler.calls.Load()
		rec := httptest.NewRecorder()
		g.ServeHTTP(rec, req)
		if !statuses[rec.Code] {
			t.Fatalf("%s %s: status %d", method, path, rec.Code)
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("%s %s: body %q is not JSON", method, path, rec.Body)
		}
		if handler.calls.Load() == before {
			return
		}
		route, _, ok := g.def.Match(method, req.URL.Path)
		if !ok {
			t.Fatalf("%s %s: the handler ran for no route", method, path)
		}
		if !route.Protected {
			return
		}
		// The scheme is case-insensitive (RFC 9110 section 11.1), in the
		// validation regex and in the authorizer.
		scheme, token, _ := strings.Cut(authorization, " ")
		if strings.EqualFold(scheme, "Bearer") {
			authorization = "Bearer " + token
		}
		switch authorization {
		case "Bearer " + validKey:
		case "Bearer " + ordersKey:
			if route.String() != "GET /customers" {
				t.Fatalf("the key scoped to GET /customers reached %s", route)
			}
		default:
			t.Fatalf("%s %s with Authorization %q reached the handler", method, path, authorization)
		}
	})
}

func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for i := range len(m) {
		if c := m[i]; c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

func validHeaderValue(v string) bool {
	for i := range len(v) {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return v == strings.TrimSpace(v)
}

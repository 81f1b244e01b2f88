package gateway

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"tollgate/api"
)

// httpSetup is an HTTP API with tollgate's own authorizer, in process.
func httpSetup(t *testing.T, ttl time.Duration) (*setup, *realAuthorizer) {
	t.Helper()
	auth := newRealAuthorizer(t, io.Discard)
	s := newSetup(t, func(c *Config) {
		c.Definition.Type = api.HTTP
		c.Definition.Authorizer.Type = api.Request
		c.Definition.Authorizer.ValidationRegex = ""
		c.Definition.Authorizer.ResultTTL = ttl
		c.Functions["authorizer"] = auth
	})
	return s, auth
}

// An HTTP API with a Lambda authorizer, payload format 2.0 and simple
// responses, as
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html
// describes it (issue 18, point 3).
func TestHTTPAPIOutcomes(t *testing.T) {
	for _, tt := range []struct {
		name    string
		call    call
		status  int
		body    string
		invoked bool
	}{
		{"no route", call{path: "/nope", auth: goodToken}, 404, httpNotFound, false},
		{"no identity source: not invoked", call{}, 401, httpUnauthorized, false},
		{"an unknown key: isAuthorized false", call{auth: "Bearer tg_test_unknown_key_0123456789abcdefghijkl"}, 403, httpForbidden, true},
		{"a valid key", call{auth: goodToken}, 200, `{"ok":true}`, true},
		{"a scoped key off its route", call{auth: "Bearer " + ordersKey}, 403, httpForbidden, true},
		{"a scoped key on its route", call{path: "/customers", auth: "Bearer " + ordersKey}, 200, `{"ok":true}`, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, auth := httpSetup(t, 0)
			rec := s.do(tt.call)
			if rec.Code != tt.status || rec.Body.String() != tt.body {
				t.Errorf("= %d %s, want %d %s", rec.Code, rec.Body, tt.status, tt.body)
			}
			if got := auth.calls.Load() > 0; got != tt.invoked {
				t.Errorf("authorizer invoked = %v, want %v", got, tt.invoked)
			}
			if rec.Header().Get("apigw-requestid") == "" || rec.Header().Get("x-amzn-RequestId") != "" {
				t.Errorf("headers %v: want apigw-requestid, as an HTTP API answers", rec.Header())
			}
		})
	}
}

// The integration's payload 2.0 event, and its answers read as format 2.0.
func TestHTTPAPIIntegration(t *testing.T) {
	s, _ := httpSetup(t, 0)
	rec := s.do(call{path: "/hello?a=1&a=2", auth: goodToken, header: http.Header{"X-Mixed-Case": {"v"}, "Cookie": {"c=1"}}})
	if rec.Code != 200 {
		t.Fatalf("= %d %s", rec.Code, rec.Body)
	}
	ev := s.handler.lastEvent(t)
	headers := ev["headers"].(map[string]any)
	rc := ev["requestContext"].(map[string]any)
	lambda := rc["authorizer"].(map[string]any)["lambda"].(map[string]any)
	if ev["version"] != "2.0" || ev["routeKey"] != "GET /hello" || headers["x-mixed-case"] != "v" || headers["X-Mixed-Case"] != nil ||
		ev["queryStringParameters"].(map[string]any)["a"] != "1,2" || ev["cookies"].([]any)[0] != "c=1" || lambda["keyId"] != "mobile-app" {
		t.Errorf("event = %v", ev)
	}
	for _, tt := range []struct {
		name, answer string
		status       int
		body         string
	}{
		{"a JSON value without statusCode is a 200 body", `{"hello":"world"}`, 200, `{"hello":"world"}`},
		{"an object with statusCode", `{"statusCode":201,"headers":{"X-A":"1"},"cookies":["s=1"],"body":"made"}`, 201, "made"},
		{"not JSON", `oops`, 500, httpInternal},
	} {
		s.handler.set(answers(tt.answer))
		rec := s.do(call{auth: goodToken})
		if rec.Code != tt.status || rec.Body.String() != tt.body {
			t.Errorf("%s: = %d %s, want %d %s", tt.name, rec.Code, rec.Body, tt.status, tt.body)
		}
	}
	s.handler.set(fails("errorString", "boom"))
	if rec := s.do(call{auth: goodToken}); rec.Code != 500 || rec.Body.String() != httpInternal {
		t.Errorf("a function error = %d %s", rec.Code, rec.Body)
	}
}

// Cached simple responses are keyed by the identity sources and the route
// ($context.routeKey), so that a key limited to one route is not let onto
// another by its cached answer (issue 18, point 2).
func TestHTTPAPICachePerRoute(t *testing.T) {
	s, auth := httpSetup(t, 5*time.Minute)
	want := func(path string, status int) {
		t.Helper()
		if rec := s.do(call{path: path, auth: "Bearer " + ordersKey}); rec.Code != status {
			t.Fatalf("GET %s = %d %s, want %d", path, rec.Code, rec.Body, status)
		}
	}
	want("/customers", 200)
	want("/customers", 200)
	if n := auth.calls.Load(); n != 1 {
		t.Errorf("authorizer invoked %d times for one key on one route, want 1 (cached)", n)
	}
	want("/hello", 403) // not the cached Allow of /customers
	if n := auth.calls.Load(); n != 2 {
		t.Errorf("authorizer invoked %d times, want 2: another route is another cache key", n)
	}
	want("/hello", 403)
	if n := auth.calls.Load(); n != 2 {
		t.Errorf("authorizer invoked %d times, want 2: the denial is cached too", n)
	}
}

// An authorizer that fails or answers something other than a simple
// response is a 500.
func TestHTTPAPIAuthorizerErrors(t *testing.T) {
	for name, answer := range map[string]func(context.Context, []byte) ([]byte, error){
		"error":             fails("errorString", "boom"),
		"an IAM policy":     answers(allowStage("p")),
		"isAuthorized text": answers(`{"isAuthorized":"yes"}`),
	} {
		s := newSetup(t, func(c *Config) {
			c.Definition.Type = api.HTTP
			c.Definition.Authorizer.Type = api.Request
			c.Definition.Authorizer.ValidationRegex = ""
		})
		s.auth.set(answer)
		if rec := s.do(call{auth: goodToken}); rec.Code != 500 || rec.Body.String() != httpInternal || strings.Contains(rec.Body.String(), "boom") {
			t.Errorf("%s: = %d %s, want 500 %s", name, rec.Code, rec.Body, httpInternal)
		}
	}
}

package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
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
		c.Definition.UseHTTP()
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

// Cached simple responses are keyed by the identity sources, the route
// ($context.routeKey) and the method ($context.httpMethod), so that a key
// limited to one route is not let onto another by its cached answer
// (issue 18, point 2; issue 26, defect 1).
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
			c.Definition.UseHTTP()
		})
		s.auth.set(answer)
		if rec := s.do(call{auth: goodToken}); rec.Code != 500 || rec.Body.String() != httpInternal || strings.Contains(rec.Body.String(), "boom") {
			t.Errorf("%s: = %d %s, want 500 %s", name, rec.Code, rec.Body, httpInternal)
		}
	}
}

// An HTTP API's access log fills every variable of
// api.HTTPAccessLogVariables
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html):
// the route key names the route, and the authorizer's error is set only
// when the authorizer failed.
func TestHTTPAPIAccessLog(t *testing.T) {
	every := func(c *Config) {
		c.Definition.UseHTTP()
		c.Definition.AccessLog = nil
		for _, v := range api.HTTPAccessLogVariables {
			c.Definition.AccessLog = append(c.Definition.AccessLog, api.AccessLogField{Key: v, Variable: v})
		}
	}
	line := func(s *setup) map[string]string {
		t.Helper()
		var m map[string]string
		if err := json.Unmarshal(bytes.TrimSpace(s.logs.Bytes()), &m); err != nil {
			t.Fatalf("the access log is not one JSON object of strings: %v\n%s", err, s.logs)
		}
		return m
	}
	auth := newRealAuthorizer(t, io.Discard)
	s := newSetup(t, func(c *Config) { every(c); c.Functions["authorizer"] = auth })
	if rec := s.do(call{auth: goodToken}); rec.Code != 200 {
		t.Fatalf("GET /hello = %d %s", rec.Code, rec.Body)
	}
	ok := line(s)
	for _, v := range api.HTTPAccessLogVariables {
		switch v {
		case "$context.authorizer.error", "$context.error.message", "$context.error.responseType",
			"$context.identity.userAgent",     // the test's request has none
			"$context.authorizer.principalId": // a simple response names no principal
			continue
		}
		if ok[v] == "" || ok[v] == "-" {
			t.Errorf("%s = %q on an answered request, want a value", v, ok[v])
		}
	}
	for v, want := range map[string]string{"$context.routeKey": "GET /hello", "$context.authorizer.error": "-", "$context.status": "200"} {
		if ok[v] != want {
			t.Errorf("answered: %s = %q, want %q", v, ok[v], want)
		}
	}

	s = newSetup(t, every)
	s.auth.set(fails("errorString", "boom"))
	s.do(call{path: "/customers", auth: goodToken})
	failed := line(s)
	for v, want := range map[string]string{"$context.routeKey": "GET /customers", "$context.status": "500"} {
		if failed[v] != want {
			t.Errorf("authorizer failed: %s = %q, want %q", v, failed[v], want)
		}
	}
	if failed["$context.authorizer.error"] == "-" || strings.Contains(failed["$context.authorizer.error"], "boom") {
		t.Errorf("authorizer failed: $context.authorizer.error = %q, want API Gateway's message, not the function's", failed["$context.authorizer.error"])
	}
}

// An HTTP API with a CORS configuration answers every preflight itself,
// on any path and before the authorizer, and names the allowed origin on
// the integration's answers in place of the function's own CORS headers
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
func TestHTTPAPICORS(t *testing.T) {
	const origin = "https://app.example.com"
	auth := newRealAuthorizer(t, io.Discard)
	s := newSetup(t, func(c *Config) {
		c.Definition.UseHTTP()
		if err := c.Definition.AllowOrigin(origin); err != nil {
			t.Fatal(err)
		}
		c.Functions["authorizer"] = auth
	})
	s.handler.set(answers(`{"statusCode":200,"headers":{"Access-Control-Allow-Origin":"https://elsewhere.example","access-control-allow-credentials":"true"},"body":"{}"}`))
	preflight := func(from string) *httptest.ResponseRecorder {
		return s.do(call{method: "OPTIONS", path: "/no/such/route", header: http.Header{
			"Origin": {from}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"authorization"},
		}})
	}
	rec := preflight(origin)
	h := rec.Header()
	if rec.Code != 204 || h.Get("Access-Control-Allow-Origin") != origin || h.Get("Access-Control-Allow-Methods") != "GET,POST" ||
		h.Get("Access-Control-Allow-Headers") != "authorization,content-type" || h.Get("Access-Control-Max-Age") != "600" {
		t.Errorf("preflight = %d %v", rec.Code, h)
	}
	if rec := preflight("https://other.example"); rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("preflight from another origin = %d %v, want 204 without CORS headers", rec.Code, rec.Header())
	}
	if n := auth.calls.Load(); n != 0 {
		t.Errorf("preflights invoked the authorizer %d times", n)
	}
	rec = s.do(call{auth: goodToken, header: http.Header{"Origin": {origin}}})
	if rec.Code != 200 || rec.Header().Values("Access-Control-Allow-Origin")[0] != origin || len(rec.Header().Values("Access-Control-Allow-Origin")) != 1 ||
		rec.Header().Get("Access-Control-Allow-Credentials") != "" {
		t.Errorf("GET /hello from the origin = %d %v, want the configured origin only", rec.Code, rec.Header())
	}
	// Without the configuration, the function's headers pass as they are.
	s = newSetup(t, func(c *Config) { c.Definition.UseHTTP(); c.Functions["authorizer"] = auth })
	s.handler.set(answers(`{"statusCode":200,"headers":{"Access-Control-Allow-Origin":"https://elsewhere.example"},"body":"{}"}`))
	if rec := s.do(call{auth: goodToken}); rec.Header().Get("Access-Control-Allow-Origin") != "https://elsewhere.example" {
		t.Errorf("without CORS: %v", rec.Header())
	}
}

// Issue 27: one request has one id everywhere it is shown, so that an
// answer can be found in the log. An HTTP API's is the apigw-requestid
// header, the event's requestContext.requestId, the authorizer's, and the
// access log's $context.requestId and $context.extendedRequestId
// ("Equivalent to $context.requestId",
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
// A REST API has two: $context.requestId is x-amzn-RequestId and the
// event's requestId, $context.extendedRequestId is x-amz-apigw-id and the
// event's extendedRequestId
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-access-logging.html).
func TestOneRequestOneID(t *testing.T) {
	ids := func(c *Config) {
		c.Definition.AccessLog = []api.AccessLogField{{Key: "requestId", Variable: "$context.requestId"}, {Key: "extendedRequestId", Variable: "$context.extendedRequestId"}}
	}
	logged := func(s *setup) map[string]string {
		t.Helper()
		var m map[string]string
		if err := json.Unmarshal(bytes.TrimSpace(s.logs.Bytes()), &m); err != nil {
			t.Fatalf("access log: %v\n%s", err, s.logs)
		}
		return m
	}
	field := func(ev map[string]any, name string) string {
		rc, _ := ev["requestContext"].(map[string]any)
		s, _ := rc[name].(string)
		return s
	}

	auth := &fn{answer: newRealAuthorizer(t, io.Discard).Invoke}
	s := newSetup(t, func(c *Config) { c.Definition.UseHTTP(); ids(c); c.Functions["authorizer"] = auth })
	rec := s.do(call{auth: goodToken})
	if rec.Code != 200 {
		t.Fatalf("HTTP API: GET /hello = %d %s", rec.Code, rec.Body)
	}
	id := rec.Header().Get("apigw-requestid")
	log := logged(s)
	if id == "" || log["requestId"] != id || log["extendedRequestId"] != id || field(s.handler.lastEvent(t), "requestId") != id || field(auth.lastEvent(t), "requestId") != id {
		t.Errorf("HTTP API: apigw-requestid %q, access log %v, the handler's event %q, the authorizer's %q: want one id",
			id, log, field(s.handler.lastEvent(t), "requestId"), field(auth.lastEvent(t), "requestId"))
	}

	s = newSetup(t, ids)
	rec = s.do(call{auth: goodToken})
	if rec.Code != 200 {
		t.Fatalf("REST API: GET /hello = %d %s", rec.Code, rec.Body)
	}
	ev := s.handler.lastEvent(t)
	log = logged(s)
	if id, ext := rec.Header().Get("x-amzn-RequestId"), rec.Header().Get("x-amz-apigw-id"); id == "" || ext == "" || id == ext ||
		log["requestId"] != id || field(ev, "requestId") != id || log["extendedRequestId"] != ext || field(ev, "extendedRequestId") != ext {
		t.Errorf("REST API: x-amzn-RequestId %q, x-amz-apigw-id %q, access log %v, event requestId %q extendedRequestId %q",
			id, ext, log, field(ev, "requestId"), field(ev, "extendedRequestId"))
	}
}

package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"tollgate/api"
)

func wantCalls(t *testing.T, f *fn, want int64) {
	t.Helper()
	if got := f.calls.Load(); got != want {
		t.Fatalf("authorizer invoked %d times, want %d", got, want)
	}
}

func wantStatus(t *testing.T, s *setup, c call, want int) {
	t.Helper()
	if rec := s.do(c); rec.Code != want {
		t.Fatalf("%s %s = %d, want %d: %s", c.method, c.path, rec.Code, want, rec.Body)
	}
}

// API Gateway caches the policy by token for the TTL and evaluates every
// request against its own method ARN:
// https://docs.aws.amazon.com/apigateway/latest/developerguide/configure-api-gateway-lambda-authorization.html
func TestResultCache(t *testing.T) {
	s := newSetup(t, nil) // TTL 300 s
	wantStatus(t, s, call{auth: goodToken}, 200)
	wantStatus(t, s, call{auth: goodToken}, 200)
	wantCalls(t, s.auth, 1)
	// Another route, same token: the cached stage-wide policy allows it.
	wantStatus(t, s, call{method: "POST", path: "/orders", auth: goodToken, body: `{}`}, 200)
	wantCalls(t, s.auth, 1)
	// Another token is another cache entry.
	wantStatus(t, s, call{auth: goodToken + "x"}, 200)
	wantCalls(t, s.auth, 2)
	// The entry lives for the TTL, no longer.
	s.clock.Advance(299 * time.Second)
	wantStatus(t, s, call{auth: goodToken}, 200)
	wantCalls(t, s.auth, 2)
	s.clock.Advance(time.Second)
	wantStatus(t, s, call{auth: goodToken}, 200)
	wantCalls(t, s.auth, 3)
}

func TestResultCacheOff(t *testing.T) {
	s := newSetup(t, func(c *Config) { c.Definition.Authorizer.ResultTTL = 0 })
	for range 3 {
		wantStatus(t, s, call{auth: goodToken}, 200)
	}
	wantCalls(t, s.auth, 3)
}

// Only answers are cached: a refusal or a failure asks again next time.
func TestResultCacheKeepsNoErrors(t *testing.T) {
	s := newSetup(t, nil)
	s.auth.set(fails("errorString", "Unauthorized"))
	wantStatus(t, s, call{auth: goodToken}, 401)
	s.auth.set(fails("errorString", "no keys"))
	wantStatus(t, s, call{auth: goodToken}, 500)
	s.auth.set(answers(allowStage("mobile-app")))
	wantStatus(t, s, call{auth: goodToken}, 200)
	wantCalls(t, s.auth, 3)
}

// The pitfall of
// https://repost.aws/knowledge-center/api-gateway-lambda-authorization-errors:
// a policy that allows only the first request's method ARN is cached and
// then denies the caller's other routes until the TTL ends.
func TestCachedPolicyScopedToOneMethodARN(t *testing.T) {
	s := newSetup(t, nil)
	s.auth.set(func(_ context.Context, event []byte) ([]byte, error) {
		var ev tokenEvent
		if err := json.Unmarshal(event, &ev); err != nil {
			t.Fatal(err)
		}
		return []byte(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"` + ev.MethodARN + `"}]`)), nil
	})
	wantStatus(t, s, call{auth: goodToken}, 200)
	wantStatus(t, s, call{path: "/customers", auth: goodToken}, 403)
	wantCalls(t, s.auth, 1)
	s.clock.Advance(300 * time.Second)
	wantStatus(t, s, call{path: "/customers", auth: goodToken}, 200)
	wantStatus(t, s, call{auth: goodToken}, 403) // now /hello is the one denied

	// tollgate's own answer covers the stage, so the same sequence passes.
	s = newSetup(t, nil)
	wantStatus(t, s, call{auth: goodToken}, 200)
	wantStatus(t, s, call{path: "/customers", auth: goodToken}, 200)
	wantCalls(t, s.auth, 1)
}

func TestRequestAuthorizer(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.Definition.Authorizer.Type = api.Request
		c.Definition.Authorizer.ValidationRegex = ""
		c.Definition.Authorizer.IdentitySources = []string{"method.request.header.Authorization", "method.request.querystring.tenant"}
	})
	// Every identity source must be present.
	wantStatus(t, s, call{auth: goodToken}, 401)
	wantStatus(t, s, call{path: "/hello?tenant=a"}, 401)
	wantCalls(t, s.auth, 0)
	// No validation regex on REQUEST: the authorizer decides.
	wantStatus(t, s, call{path: "/hello?tenant=a", auth: "Basic x"}, 200)
	wantStatus(t, s, call{path: "/hello?tenant=a", auth: goodToken}, 200)
	wantCalls(t, s.auth, 2)
	ev := s.auth.lastEvent(t)
	for k, want := range map[string]any{"type": "REQUEST", "methodArn": stageARN + "/GET/hello", "resource": "/hello", "path": "/hello", "httpMethod": "GET"} {
		if ev[k] != want {
			t.Errorf("event[%s] = %v, want %v", k, ev[k], want)
		}
	}
	if h := ev["headers"].(map[string]any)["Authorization"]; h != goodToken {
		t.Errorf("event headers Authorization = %v", h)
	}
	if q := ev["queryStringParameters"].(map[string]any)["tenant"]; q != "a" {
		t.Errorf("event query tenant = %v", q)
	}
	// The cache key is every identity source: another tenant asks again.
	wantStatus(t, s, call{path: "/hello?tenant=a", auth: goodToken}, 200)
	wantCalls(t, s.auth, 2)
	wantStatus(t, s, call{path: "/hello?tenant=b", auth: goodToken}, 200)
	wantCalls(t, s.auth, 3)
}

func TestTokenEvent(t *testing.T) {
	s := newSetup(t, nil)
	wantStatus(t, s, call{path: "/customers", auth: goodToken}, 200)
	got := s.auth.lastEvent(t)
	want := map[string]any{"type": "TOKEN", "authorizationToken": goodToken, "methodArn": stageARN + "/GET/customers"}
	if g, w := mustJSON(t, got), mustJSON(t, want); g != w {
		t.Errorf("event = %s, want %s", g, w)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestIntegrationEvent(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.Definition.Routes = append(c.Definition.Routes, api.Route{Method: "ANY", Path: "/orders/{id}", Function: "handler", Protected: true})
	})
	s.auth.set(answers(`{"principalId":"orders-bot","policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"keyId":"orders-bot","n":3,"ratio":1.5,"ok":true,"principalId":"spoof"}}`))
	rec := s.do(call{method: "PUT", path: "/orders/42?x=1&x=2&y=3", auth: goodToken, body: "\xff\xfe",
		header: http.Header{"X-Multi": {"a", "b"}, "User-Agent": {"tollgate-test"}}})
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	ev := s.handler.lastEvent(t)
	rc := ev["requestContext"].(map[string]any)
	wantFields := map[string]any{
		"resource": "/orders/{id}", "path": "/orders/42", "httpMethod": "PUT",
		// No binary media types: the bytes reach the function as text
		// (TestBinaryMediaTypes has the rest of the conversion).
		"body": "\ufffd\ufffd", "isBase64Encoded": false,
	}
	for k, want := range wantFields {
		if ev[k] != want {
			t.Errorf("event[%s] = %v, want %v", k, ev[k], want)
		}
	}
	checks := map[string]string{
		"pathParameters":                  `{"id":"42"}`,
		"queryStringParameters":           `{"x":"2","y":"3"}`,
		"multiValueQueryStringParameters": `{"x":["1","2"],"y":["3"]}`,
		"requestContext.authorizer":       `{"integrationLatency":0,"keyId":"orders-bot","n":"3","ok":"true","principalId":"orders-bot","ratio":"1.5"}`,
		"headers.X-Multi":                 `"b"`,
		"multiValueHeaders.X-Multi":       `["a","b"]`,
		"headers.X-Forwarded-Proto":       `"http"`,
		"headers.Authorization":           `"` + goodToken + `"`,
	}
	for path, want := range checks {
		var v any = ev
		for _, k := range strings.Split(path, ".") {
			v = v.(map[string]any)[k]
		}
		if got := mustJSON(t, v); got != want {
			t.Errorf("event %s = %s, want %s", path, got, want)
		}
	}
	for k, want := range map[string]any{
		"requestId": rec.Header().Get("x-amzn-RequestId"), "stage": "dev", "path": "/dev/orders/42",
		"resourcePath": "/orders/{id}", "httpMethod": "PUT", "accountId": "123456789012", "apiId": "tglocal000",
		"protocol": "HTTP/1.1", "requestTime": "21/Nov/2026:06:29:15 +0000", "requestTimeEpoch": float64(1795242555000),
	} {
		if rc[k] != want {
			t.Errorf("requestContext[%s] = %v, want %v", k, rc[k], want)
		}
	}
	if ip := rc["identity"].(map[string]any)["sourceIp"]; ip != "192.0.2.1" {
		t.Errorf("sourceIp = %v", ip)
	}

	// A public route's event has no authorizer.
	wantStatus(t, s, call{path: "/health"}, 200)
	if _, ok := s.handler.lastEvent(t)["requestContext"].(map[string]any)["authorizer"]; ok {
		t.Error("public route's event has requestContext.authorizer")
	}
}

func TestHandlerAnswerIsPassedOn(t *testing.T) {
	s := newSetup(t, func(c *Config) { c.Definition.BinaryMediaTypes = []string{"text/plain"} })
	s.handler.set(answers(`{"statusCode":201,"headers":{"X-One":"1","Content-Type":"text/plain"},"multiValueHeaders":{"Set-Cookie":["a=1","b=2"]},"body":"aGk=","isBase64Encoded":true}`))
	rec := s.do(call{auth: goodToken, header: http.Header{"Accept": {"text/plain"}}})
	if rec.Code != 201 || rec.Body.String() != "hi" || rec.Header().Get("X-One") != "1" ||
		rec.Header().Get("Content-Type") != "text/plain" || len(rec.Header().Values("Set-Cookie")) != 2 {
		t.Fatalf("answer = %d %v %q", rec.Code, rec.Header(), rec.Body)
	}
	// The function cannot replace the gateway's request id.
	s.handler.set(answers(`{"statusCode":200,"headers":{"x-amzn-RequestId":"forged"},"body":""}`))
	if rec := s.do(call{auth: goodToken}); rec.Header().Get("x-amzn-RequestId") == "forged" {
		t.Fatal("the function replaced x-amzn-RequestId")
	}
}

func TestGatewayResponsesFromTheDefinition(t *testing.T) {
	cors := map[string]string{"Access-Control-Allow-Origin": "https://app.example.com"}
	s := newSetup(t, func(c *Config) {
		for _, typ := range []api.ResponseType{api.Unauthorized, api.AccessDenied, api.Default4XX, api.Default5XX} {
			r := c.Definition.Responses[typ]
			r.Headers = cors
			c.Definition.Responses[typ] = r
		}
		c.Definition.Responses[api.AccessDenied] = api.GatewayResponse{StatusCode: 404, Template: `{"error":"not found"}`, Headers: cors}
	})
	for _, tt := range []struct {
		c      call
		status int
	}{
		{call{}, 401},              // UNAUTHORIZED
		{call{path: "/nope"}, 403}, // MISSING_AUTHENTICATION_TOKEN through DEFAULT_4XX
	} {
		rec := s.do(tt.c)
		if rec.Code != tt.status || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
			t.Errorf("%s = %d %v, want %d with the CORS header", tt.c.path, rec.Code, rec.Header(), tt.status)
		}
	}
	s.auth.set(answers(policyAnswer(`[]`)))
	rec := s.do(call{auth: goodToken})
	if rec.Code != 404 || rec.Body.String() != `{"error":"not found"}` || rec.Header().Get("Access-Control-Allow-Origin") == "" {
		t.Errorf("ACCESS_DENIED = %d %s %v", rec.Code, rec.Body, rec.Header())
	}
}

func TestAccessLog(t *testing.T) {
	s := newSetup(t, nil)
	s.do(call{})
	s.do(call{auth: goodToken})
	s.do(call{auth: goodToken})
	s.do(call{path: "/health"})
	lines := strings.Split(strings.TrimSuffix(s.logs.String(), "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("%d access log lines, want 4:\n%s", len(lines), s.logs)
	}
	if strings.Contains(s.logs.String(), "tg_test") {
		t.Fatal("the access log holds a key")
	}
	var keys []string
	for _, f := range api.DefaultAccessLog() {
		keys = append(keys, f.Key)
	}
	want := []map[string]string{
		{"status": "401", "errorType": "UNAUTHORIZED", "errorMessage": "Unauthorized", "principalId": "-", "authorizerStatus": "-", "integrationStatus": "-", "resourcePath": "/hello", "path": "/dev/hello"},
		{"status": "200", "errorType": "-", "principalId": "mobile-app", "authorizerStatus": "200", "integrationStatus": "200", "responseLength": "11"},
		{"status": "200", "principalId": "mobile-app", "authorizerStatus": "-"}, // from the cache
		{"status": "200", "principalId": "-", "authorizerLatency": "-", "resourcePath": "/health"},
	}
	for i, line := range lines {
		var got map[string]string
		if err := json.Unmarshal([]byte(line), &got); err != nil {
			t.Fatalf("line %d is not a JSON object of strings: %v: %s", i, err, line)
		}
		if len(got) != len(keys) || !strings.HasPrefix(line, `{"requestId":`) {
			t.Errorf("line %d has keys %v, want %v in order", i, got, keys)
		}
		for k, v := range want[i] {
			if got[k] != v {
				t.Errorf("line %d: %s = %q, want %q", i, k, got[k], v)
			}
		}
	}
}

func TestNewChecksItsConfig(t *testing.T) {
	d := api.Default()
	d.Stage = "bad stage"
	if _, err := New(Config{Definition: d}); err == nil {
		t.Error("New accepted an invalid definition")
	}
	if _, err := New(Config{Definition: api.Default(), Functions: map[string]Invoker{"handler": &fn{}}}); err == nil || !strings.Contains(err.Error(), `"authorizer"`) {
		t.Errorf("New without the authorizer's invoker = %v", err)
	}
}

// The cache holds at most maxCached entries, so callers who send a new
// token with every request cannot grow the gateway without bound. When it
// is full, expired entries go first, then any others until an eighth of
// it is free: an entry dropped early only costs one more call to the
// authorizer.
func TestResultCacheBounded(t *testing.T) {
	c := newResultCache(time.Minute)
	t0 := time.Date(2026, 11, 21, 6, 29, 15, 0, time.UTC)
	for i := range maxCached {
		c.put(strconv.Itoa(i), policy{}, t0)
	}
	if len(c.entries) != maxCached {
		t.Fatalf("%d entries after %d puts", len(c.entries), maxCached)
	}
	// Full and nothing expired: an eighth of the entries make room.
	c.put("late", policy{}, t0.Add(30*time.Second))
	if len(c.entries) != keepWhenFull+1 {
		t.Errorf("full cache, nothing expired: %d entries, want %d", len(c.entries), keepWhenFull+1)
	}
	if _, ok := c.get("late", t0.Add(30*time.Second)); !ok {
		t.Error("the entry just put is not there")
	}
	// Full again with entries from t0+30s, then t0's expire: only they go.
	for i := 0; len(c.entries) < maxCached; i++ {
		c.put("fresh"+strconv.Itoa(i), policy{}, t0.Add(30*time.Second))
	}
	c.put("later", policy{}, t0.Add(time.Minute))
	if want := maxCached - keepWhenFull + 1; len(c.entries) != want {
		t.Errorf("full cache, t0's entries expired: %d entries, want %d (those from t0+30s, and later)", len(c.entries), want)
	}
	if _, ok := c.get("late", t0.Add(time.Minute)); !ok {
		t.Error("an entry that had not expired went before one that had")
	}
	// Three times the bound in distinct tokens, none expiring.
	for i := range 3 * maxCached {
		c.put("flood"+strconv.Itoa(i), policy{}, t0.Add(time.Minute))
		if len(c.entries) > maxCached {
			t.Fatalf("%d entries after %d distinct tokens", len(c.entries), i+1)
		}
	}
}

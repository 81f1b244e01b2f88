package handler

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

// The key the fixture's caller sent, in its Authorization header and query.
const fixtureKey = "tg_test_mobile_app_key_0123456789abcdefghij"

func fixture(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/events/proxy.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func marshal(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// invoke runs the handler and decodes its proxy answer, checking what every
// answer must be: JSON with the JSON content type, never holding the key.
func invoke(t *testing.T, payload []byte) (status int, body map[string]any) {
	t.Helper()
	out, err := Handler{}.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatalf("Invoke() error = %v, want nil (every outcome is a proxy answer)", err)
	}
	if bytes.Contains(out, []byte(fixtureKey)) || bytes.Contains(out, []byte("Bearer")) {
		t.Fatalf("answer echoes the caller's key: %s", out)
	}
	var resp struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	if err := json.Unmarshal(out, &resp); err != nil {
		t.Fatalf("answer is not a proxy response: %v: %s", err, out)
	}
	if got := resp.Headers["Content-Type"]; got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if err := json.Unmarshal([]byte(resp.Body), &body); err != nil {
		t.Fatalf("body is not a JSON object: %v: %q", err, resp.Body)
	}
	return resp.StatusCode, body
}

func TestInvoke(t *testing.T) {
	str := func(s string) *string { return &s }
	tests := []struct {
		name       string
		edit       func(ev map[string]any)
		raw        string // used instead of the edited fixture when set
		wantStatus int
		want       map[string]any
	}{
		{
			name:       "protected GET names the principal",
			edit:       func(map[string]any) {},
			wantStatus: 200,
			want: map[string]any{
				"message": "Hello, mobile-app", "principal": "mobile-app",
				"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "method": "GET", "path": "/hello",
			},
		},
		{
			name: "public route has no principal",
			edit: func(ev map[string]any) {
				ev["path"], ev["resource"] = "/health", "/health"
				delete(ev["requestContext"].(map[string]any), "authorizer")
			},
			wantStatus: 200,
			want: map[string]any{
				"message": "Hello from tollgate", "principal": nil,
				"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "method": "GET", "path": "/health",
			},
		},
		{
			name: "POST with a JSON object",
			edit: func(ev map[string]any) {
				ev["httpMethod"], ev["path"], ev["body"] = "POST", "/orders", str(` {"item":"tea","qty":2} `)
			},
			wantStatus: 200,
			want: map[string]any{
				"message": "Hello, mobile-app", "principal": "mobile-app",
				"requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef", "method": "POST", "path": "/orders",
			},
		},
		{
			name:       "POST without a body",
			edit:       func(ev map[string]any) { ev["httpMethod"] = "POST" },
			wantStatus: 400,
			want:       map[string]any{"message": "request body must be a JSON object"},
		},
		{
			name:       "POST with a JSON array",
			edit:       func(ev map[string]any) { ev["httpMethod"], ev["body"] = "POST", `[1,2]` },
			wantStatus: 400,
			want:       map[string]any{"message": "request body must be a JSON object"},
		},
		{
			name:       "POST with broken JSON",
			edit:       func(ev map[string]any) { ev["httpMethod"], ev["body"] = "POST", `{"item":` },
			wantStatus: 400,
			want:       map[string]any{"message": "request body must be a JSON object"},
		},
		{
			name: "POST with a binary body",
			edit: func(ev map[string]any) {
				ev["httpMethod"], ev["body"], ev["isBase64Encoded"] = "POST", "e30=", true
			},
			wantStatus: 400,
			want:       map[string]any{"message": "request body must be a JSON object"},
		},
		{
			name:       "no httpMethod",
			edit:       func(ev map[string]any) { delete(ev, "httpMethod") },
			wantStatus: 400,
			want:       map[string]any{"message": "malformed proxy event"},
		},
		{
			name:       "path of the wrong type",
			edit:       func(ev map[string]any) { ev["path"] = 7 },
			wantStatus: 400,
			want:       map[string]any{"message": "malformed proxy event"},
		},
		{name: "not JSON", raw: `GET /hello`, wantStatus: 400, want: map[string]any{"message": "malformed proxy event"}},
		{name: "a TOKEN authorizer event", raw: `{"type":"TOKEN","authorizationToken":"Bearer ` + fixtureKey + `"}`, wantStatus: 400, want: map[string]any{"message": "malformed proxy event"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			payload := []byte(tt.raw)
			if tt.raw == "" {
				ev := fixture(t)
				tt.edit(ev)
				payload = marshal(t, ev)
			}
			status, body := invoke(t, payload)
			if status != tt.wantStatus {
				t.Errorf("statusCode = %d, want %d", status, tt.wantStatus)
			}
			if got, want := marshal(t, body), marshal(t, tt.want); !bytes.Equal(got, want) {
				t.Errorf("body = %s, want %s", got, want)
			}
		})
	}
}

// FuzzInvoke: whatever the event, the answer is a proxy response whose
// JSON body holds only the method, path, request id and principal of the
// event and fixed text, so nothing else a caller sent (headers, query,
// body) can come back.
func FuzzInvoke(f *testing.F) {
	b, err := os.ReadFile("testdata/events/proxy.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte(`{"httpMethod":"POST","path":"/orders","body":"{}","headers":{"X-Api-Key":"secret-secret"}}`))
	f.Add([]byte(`{"httpMethod":"GET","path":"/hello","headers":{"Authorization":"\u0042earer k"}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		out, err := Handler{}.Invoke(context.Background(), payload)
		if err != nil {
			t.Fatalf("Invoke() error = %v, want nil", err)
		}
		var resp events.APIGatewayProxyResponse
		if err := json.Unmarshal(out, &resp); err != nil {
			t.Fatalf("answer is not a proxy response: %s", out)
		}
		dec := json.NewDecoder(strings.NewReader(resp.Body))
		dec.DisallowUnknownFields()
		var got reply
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("body %q: %v", resp.Body, err)
		}
		if resp.StatusCode == 400 {
			if got.Message != ErrMalformedEvent.Error() && got.Message != "request body must be a JSON object" {
				t.Fatalf("400 message = %q", got.Message)
			}
			if got.Principal != nil || got.RequestID != "" || got.Method != "" || got.Path != "" {
				t.Fatalf("400 body names more than its message: %s", resp.Body)
			}
			return
		}
		ev, err := proxyRequest(payload)
		if resp.StatusCode != 200 || err != nil {
			t.Fatalf("statusCode = %d for %q", resp.StatusCode, payload)
		}
		want := reply{Message: "Hello from tollgate", RequestID: ev.RequestContext.RequestID, Method: ev.HTTPMethod, Path: ev.Path}
		if p, _ := ev.RequestContext.Authorizer["principalId"].(string); p != "" {
			want.Principal, want.Message = &p, "Hello, "+p
		}
		if g, w := marshal(t, got), marshal(t, want); !bytes.Equal(g, w) {
			t.Fatalf("body = %s, want %s", g, w)
		}
	})
}

var sink []byte

func BenchmarkInvoke(b *testing.B) {
	payload, err := os.ReadFile("testdata/events/proxy.json")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		sink, err = Handler{}.Invoke(ctx, payload)
		if err != nil {
			b.Fatal(err)
		}
	}
}

// CORS: with AllowOrigin every answer names the origin and a preflight is
// a 204 without a body; without it, OPTIONS is an ordinary request and no
// CORS header is sent.
func TestAllowOrigin(t *testing.T) {
	type proxyAnswer struct {
		StatusCode int               `json:"statusCode"`
		Headers    map[string]string `json:"headers"`
		Body       string            `json:"body"`
	}
	call := func(h Handler, method string) proxyAnswer {
		ev := fixture(t)
		ev["httpMethod"] = method
		out, err := h.Invoke(context.Background(), marshal(t, ev))
		if err != nil {
			t.Fatal(err)
		}
		var a proxyAnswer
		if err := json.Unmarshal(out, &a); err != nil {
			t.Fatal(err)
		}
		return a
	}
	tests := []struct {
		name                 string
		origin, method       string
		wantStatus           int
		wantOrigin, wantVary string
		preflight            bool
	}{
		{"GET from an origin", "https://app.example.com", "GET", 200, "https://app.example.com", "Origin", false},
		{"preflight", "https://app.example.com", "OPTIONS", 204, "https://app.example.com", "Origin", true},
		{"any origin", "*", "GET", 200, "*", "", false},
		{"no CORS", "", "GET", 200, "", "", false},
		{"OPTIONS without CORS", "", "OPTIONS", 200, "", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := call(Handler{AllowOrigin: tc.origin}, tc.method)
			if a.StatusCode != tc.wantStatus || a.Headers["Access-Control-Allow-Origin"] != tc.wantOrigin || a.Headers["Vary"] != tc.wantVary {
				t.Errorf("answer = %d %v, want %d with origin %q vary %q", a.StatusCode, a.Headers, tc.wantStatus, tc.wantOrigin, tc.wantVary)
			}
			_, hasMethods := a.Headers["Access-Control-Allow-Methods"]
			if hasMethods != tc.preflight || (tc.preflight && (a.Body != "" || a.Headers["Access-Control-Allow-Headers"] != "Authorization, Content-Type")) {
				t.Errorf("preflight answer = %+v, want allowed methods and headers only on a preflight, with no body", a)
			}
		})
	}
}

// Echo mode answers with the event, the caller's key masked, only when it
// is on and the request asks; otherwise the header changes nothing.
func TestEcho(t *testing.T) {
	ev := fixture(t)
	ev["headers"].(map[string]any)["x-tollgate-echo"] = "1"
	payload := marshal(t, ev)
	out, err := Handler{EchoEvents: true}.Invoke(context.Background(), payload)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(fixtureKey)) {
		t.Fatalf("the echo holds the caller's key: %s", out)
	}
	var resp events.APIGatewayProxyResponse
	if err := json.Unmarshal(out, &resp); err != nil || resp.StatusCode != 200 {
		t.Fatalf("echo = %s, %v", out, err)
	}
	var echoed Echo
	if err := json.Unmarshal([]byte(resp.Body), &echoed); err != nil || echoed.Path != ev["path"] || echoed.Authorizer["principalId"] != "mobile-app" ||
		!slices.Contains(echoed.HeaderNames, "x-tollgate-echo") || !slices.Contains(echoed.QueryNames, "key") {
		t.Errorf("echoed event = %+v, %v", echoed, err)
	}
	if status, body := invoke(t, payload); status != 200 || body["message"] == nil {
		t.Errorf("with echo off, the header gave %d %v; want the usual answer", status, body)
	}
}

// An HTTP API's payload 2.0 event is answered as a REST one: the method,
// path and request id from its requestContext, the caller from the Lambda
// authorizer's context (issue 18, point 4).
func TestInvokeHTTPAPIEvent(t *testing.T) {
	b, err := os.ReadFile("testdata/events/http-v2.json")
	if err != nil {
		t.Fatal(err)
	}
	status, body := invoke(t, b)
	want := map[string]any{"message": "Hello, mobile-app", "principal": "mobile-app", "requestId": "req-v2", "method": "GET", "path": "/hello"}
	if status != 200 || fmt.Sprint(body) != fmt.Sprint(want) {
		t.Errorf("= %d %v, want 200 %v", status, body, want)
	}
	var ev map[string]any
	if err := json.Unmarshal(b, &ev); err != nil {
		t.Fatal(err)
	}
	// A JWT's answer names its principal in the context (no keyId).
	jwtEv := maps.Clone(ev)
	rc := maps.Clone(ev["requestContext"].(map[string]any))
	rc["authorizer"] = map[string]any{"lambda": map[string]any{"authType": "jwt", "principal": "alice"}}
	jwtEv["requestContext"] = rc
	if status, body := invoke(t, marshal(t, jwtEv)); status != 200 || body["principal"] != "alice" {
		t.Errorf("a JWT's context = %d %v, want principal alice", status, body)
	}
	// Behind API Gateway's JWT authorizer: the token's sub.
	rc["authorizer"] = map[string]any{"jwt": map[string]any{"claims": map[string]any{"sub": "bob", "iss": "x"}, "scopes": []any{"a"}}}
	if status, body := invoke(t, marshal(t, jwtEv)); status != 200 || body["principal"] != "bob" {
		t.Errorf("API Gateway's JWT authorizer's claims = %d %v, want principal bob", status, body)
	}
	ev["requestContext"].(map[string]any)["http"].(map[string]any)["method"] = "POST"
	ev["body"] = "not json"
	if status, body := invoke(t, marshal(t, ev)); status != 400 || body["message"] != "request body must be a JSON object" {
		t.Errorf("POST with a text body = %d %v", status, body)
	}
}

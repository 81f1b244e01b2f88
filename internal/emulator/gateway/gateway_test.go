package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tollgate/api"
	"tollgate/internal/iam"
	"tollgate/internal/testkit/fakeclock"
)

const (
	validKey  = "tg_test_mobile_app_key_0123456789abcdefghij" // keys of newRealAuthorizer's keyring
	ordersKey = "tg_test_orders_bot_key_0123456789abcdefghij" // routes: GET /customers
	goodToken = "Bearer " + validKey
	stageARN  = "arn:aws:execute-api:us-east-1:123456789012:tglocal000/dev"
)

// fn is a fake function: it records events and answers with answer.
type fn struct {
	mu     sync.Mutex
	calls  atomic.Int64
	events [][]byte
	answer func(ctx context.Context, event []byte) ([]byte, error)
}

func (f *fn) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.events = append(f.events, event)
	answer := f.answer
	f.mu.Unlock()
	return answer(ctx, event)
}

func (f *fn) set(answer func(ctx context.Context, event []byte) ([]byte, error)) {
	f.mu.Lock()
	f.answer = answer
	f.mu.Unlock()
}

func (f *fn) lastEvent(t *testing.T) map[string]any {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.events) == 0 {
		t.Fatal("function never invoked")
	}
	var ev map[string]any
	if err := json.Unmarshal(f.events[len(f.events)-1], &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

func answers(s string) func(context.Context, []byte) ([]byte, error) {
	return func(context.Context, []byte) ([]byte, error) { return []byte(s), nil }
}

// fnError is a function's failure as an Invoker reports it (FunctionError).
type fnError struct{ typ, msg string }

func (e *fnError) Error() string        { return e.typ + ": " + e.msg }
func (e *fnError) ErrorMessage() string { return e.msg }

// Error types Lambda reports for a timeout and a crash.
const (
	errorTypeTimeout = "Sandbox.Timedout"
	errorTypeExit    = "Runtime.ExitError"
)

func fails(typ, msg string) func(context.Context, []byte) ([]byte, error) {
	return func(context.Context, []byte) ([]byte, error) {
		return nil, &fnError{typ: typ, msg: msg}
	}
}

// allowStage is tollgate's answer: the whole stage, cache-safe.
func allowStage(principal string) string {
	return `{"principalId":"` + principal + `","policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":["` + stageARN + `/*/*"]}]},"context":{"keyId":"` + principal + `","keyStage":"AWSCURRENT"}}`
}

func policyAnswer(statements string) string {
	return `{"principalId":"p","policyDocument":{"Version":"2012-10-17","Statement":` + statements + `}}`
}

const okResponse = `{"statusCode":200,"headers":{"Content-Type":"application/json"},"body":"{\"ok\":true}"}`

type setup struct {
	g       *Gateway
	auth    *fn
	handler *fn
	clock   *fakeclock.Clock
	logs    *bytes.Buffer
}

func newSetup(t *testing.T, edit func(c *Config)) *setup {
	t.Helper()
	s := &setup{
		auth:    &fn{answer: answers(allowStage("mobile-app"))},
		handler: &fn{answer: answers(okResponse)},
		clock:   fakeclock.New(time.Date(2026, 11, 21, 6, 29, 15, 0, time.UTC)),
		logs:    &bytes.Buffer{},
	}
	cfg := Config{
		Definition: api.Default(),
		Functions:  map[string]Invoker{"authorizer": s.auth, "handler": s.handler},
		AccessLog:  s.logs,
		Now:        s.clock.Now,
	}
	if edit != nil {
		edit(&cfg)
	}
	g, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s.g = g
	return s
}

type call struct {
	method, path, auth, body string
	header                   http.Header
}

func (s *setup) do(c call) *httptest.ResponseRecorder {
	if c.method == "" {
		c.method = "GET"
	}
	if c.path == "" {
		c.path = "/hello"
	}
	req := httptest.NewRequest(c.method, "http://127.0.0.1:8080"+c.path, strings.NewReader(c.body))
	for k, vs := range c.header {
		req.Header[k] = vs
	}
	if c.auth != "" {
		req.Header.Set("Authorization", c.auth)
	}
	rec := httptest.NewRecorder()
	s.g.ServeHTTP(rec, req)
	return rec
}

// gatewayBody is what tollgate's gateway responses say.
func gatewayBody(rec *httptest.ResponseRecorder, message string, t api.ResponseType) string {
	id := rec.Header().Get("x-amzn-RequestId")
	if t == api.AuthorizerFailure || t == api.AuthorizerConfigurationError {
		return `{"message":"Internal server error","type":"` + string(t) + `","requestId":"` + id + `"}`
	}
	return `{"message":"` + message + `","type":"` + string(t) + `","requestId":"` + id + `"}`
}

func TestOutcomes(t *testing.T) {
	tooLong := "/" + strings.Repeat("a", iam.MaxMethodARN)
	deny := `[{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"` + stageARN + `/GET/hello"}]`
	tests := []struct {
		name        string
		call        call
		auth        func(context.Context, []byte) ([]byte, error)
		handler     func(context.Context, []byte) ([]byte, error)
		edit        func(c *Config)
		wantStatus  int
		wantType    api.ResponseType // "" for the handler's answer
		wantMessage string
		wantBody    string // instead of the definition's gateway response
		wantAuth    bool   // authorizer invoked
	}{
		{name: "no header", call: call{}, wantStatus: 401, wantType: api.Unauthorized, wantMessage: "Unauthorized"},
		{name: "empty header", call: call{header: http.Header{"Authorization": {""}}}, wantStatus: 401, wantType: api.Unauthorized, wantMessage: "Unauthorized"},
		{name: "fails the validation regex", call: call{auth: "Basic dXNlcjpwYXNz"}, wantStatus: 401, wantType: api.Unauthorized, wantMessage: "Unauthorized"},
		{name: "two header values", call: call{header: http.Header{"Authorization": {goodToken, goodToken}}}, wantStatus: 401, wantType: api.Unauthorized, wantMessage: "Unauthorized"},
		{name: "authorizer says Unauthorized", call: call{auth: goodToken}, auth: fails("errorString", "Unauthorized"), wantStatus: 401, wantType: api.Unauthorized, wantMessage: "Unauthorized", wantAuth: true},
		{name: "authorizer says unauthorized", call: call{auth: goodToken}, auth: fails("errorString", "unauthorized"), wantStatus: 500, wantType: api.AuthorizerFailure, wantAuth: true},
		{name: "authorizer errors", call: call{auth: goodToken}, auth: fails("errorString", "no keys"), wantStatus: 500, wantType: api.AuthorizerFailure, wantAuth: true},
		{name: "authorizer times out", call: call{auth: goodToken}, auth: fails(errorTypeTimeout, "Task timed out after 5.00 seconds"), wantStatus: 500, wantType: api.AuthorizerFailure, wantAuth: true},
		{name: "authorizer crashes", call: call{auth: goodToken}, auth: fails(errorTypeExit, "exit status 2"), wantStatus: 500, wantType: api.AuthorizerFailure, wantAuth: true},
		{name: "invocation fails", call: call{auth: goodToken}, auth: func(context.Context, []byte) ([]byte, error) { return nil, errors.New("no instance") }, wantStatus: 500, wantType: api.AuthorizerFailure, wantAuth: true},
		{name: "answer is not JSON", call: call{auth: goodToken}, auth: answers(`Allow`), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "no principalId", call: call{auth: goodToken}, auth: answers(`{"policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}}`), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "numeric principalId", call: call{auth: goodToken}, auth: answers(`{"principalId":7,"policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]}}`), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "no policyDocument", call: call{auth: goodToken}, auth: answers(`{"principalId":"p"}`), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "empty Statement", call: call{auth: goodToken}, auth: answers(policyAnswer(`[]`)), wantStatus: 403, wantType: api.AccessDenied, wantMessage: msgNotAllowed, wantAuth: true},
		{name: "object in context", call: call{auth: goodToken}, auth: answers(`{"principalId":"p","policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"k":{"nested":1}}}`), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "array in context", call: call{auth: goodToken}, auth: answers(`{"principalId":"p","policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"k":[1]}}`), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "null in context", call: call{auth: goodToken}, auth: answers(`{"principalId":"p","policyDocument":{"Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"}]},"context":{"k":null}}`), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "Condition", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*","Condition":{}}]`)), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "NotResource", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Allow","NotResource":"x"}]`)), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "lower-case effect", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"allow","Resource":"*"}]`)), wantStatus: 500, wantType: api.AuthorizerConfigurationError, wantAuth: true},
		{name: "explicit deny", call: call{auth: goodToken}, auth: answers(policyAnswer(deny)), wantStatus: 403, wantType: api.AccessDenied, wantMessage: msgExplicitDeny, wantAuth: true},
		{name: "deny beats allow", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"},` + deny[1:])), wantStatus: 403, wantType: api.AccessDenied, wantMessage: msgExplicitDeny, wantAuth: true},
		{name: "deny elsewhere, allow here", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"*"},{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"` + stageARN + `/POST/*"}]`)), wantStatus: 200, wantAuth: true},
		{name: "allow of another route only", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"` + stageARN + `/GET/customers"}]`)), wantStatus: 403, wantType: api.AccessDenied, wantMessage: msgNotAllowed, wantAuth: true},
		{name: "allow of another stage", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"arn:aws:execute-api:us-east-1:123456789012:tglocal000/prod/*/*"}]`)), wantStatus: 403, wantType: api.AccessDenied, wantMessage: msgNotAllowed, wantAuth: true},
		{name: "allow with ?", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"` + stageARN + `/GET/hell?"}]`)), wantStatus: 200, wantAuth: true},
		{name: "resource ARNs are case-sensitive", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":"` + stageARN + `/get/hello"}]`)), wantStatus: 403, wantType: api.AccessDenied, wantMessage: msgNotAllowed, wantAuth: true},
		{name: "actions are not", call: call{auth: goodToken}, auth: answers(policyAnswer(`{"Action":"Execute-API:*","Effect":"Allow","Resource":"*"}`)), wantStatus: 200, wantAuth: true},
		{name: "another action", call: call{auth: goodToken}, auth: answers(policyAnswer(`[{"Action":["s3:GetObject"],"Effect":"Allow","Resource":"*"}]`)), wantStatus: 403, wantType: api.AccessDenied, wantMessage: msgNotAllowed, wantAuth: true},
		{name: "tollgate's answer", call: call{auth: goodToken}, wantStatus: 200, wantAuth: true},
		{name: "unknown route", call: call{path: "/nope", auth: goodToken}, wantStatus: 403, wantType: api.MissingAuthenticationToken, wantMessage: "Missing Authentication Token"},
		{name: "unknown method", call: call{method: "DELETE", auth: goodToken}, wantStatus: 403, wantType: api.MissingAuthenticationToken, wantMessage: "Missing Authentication Token"},
		{name: "public route", call: call{path: "/health"}, wantStatus: 200},
		{name: "method ARN too long", call: call{path: tooLong, auth: goodToken}, edit: func(c *Config) {
			c.Definition.Routes = append(c.Definition.Routes, api.Route{Method: "GET", Path: "/{p+}", Function: "handler", Protected: true})
		}, wantStatus: 414, wantType: api.Default4XX, wantMessage: "Request-URI Too Long"},
		{name: "body too large", call: call{method: "POST", path: "/orders", auth: goodToken, body: strings.Repeat("x", 11)}, edit: func(c *Config) { c.MaxBodyBytes = 10 }, wantStatus: 413, wantType: api.RequestTooLarge, wantMessage: "Request Too Long", wantBody: `{"message":"Request Too Long"}`},
		{name: "handler error", call: call{auth: goodToken}, handler: fails("errorString", "boom"), wantStatus: 502, wantType: api.Default5XX, wantMessage: "Internal server error", wantAuth: true},
		{name: "handler crash", call: call{auth: goodToken}, handler: fails(errorTypeExit, "exit status 2"), wantStatus: 502, wantType: api.Default5XX, wantMessage: "Internal server error", wantAuth: true},
		{name: "handler without statusCode", call: call{auth: goodToken}, handler: answers(`{"body":"hi"}`), wantStatus: 502, wantType: api.Default5XX, wantMessage: "Internal server error", wantAuth: true},
		{name: "handler with an unknown field", call: call{auth: goodToken}, handler: answers(`{"statusCode":200,"body":"hi","status":"ok"}`), wantStatus: 502, wantType: api.Default5XX, wantMessage: "Internal server error", wantAuth: true},
		{name: "handler with an object body", call: call{auth: goodToken}, handler: answers(`{"statusCode":200,"body":{"a":1}}`), wantStatus: 502, wantType: api.Default5XX, wantMessage: "Internal server error", wantAuth: true},
		{name: "handler with bad base64, binary support on", call: call{auth: goodToken, header: http.Header{"Accept": {"image/png"}}}, edit: func(c *Config) { c.Definition.BinaryMediaTypes = []string{"image/png"} },
			handler: answers(`{"statusCode":200,"body":"!!","isBase64Encoded":true}`), wantStatus: 500, wantType: api.APIConfigurationError, wantMessage: "Internal server error", wantAuth: true},
		{name: "handler too slow", call: call{auth: goodToken}, handler: func(ctx context.Context, _ []byte) ([]byte, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}, edit: func(c *Config) { c.IntegrationTimeout = 20 * time.Millisecond }, wantStatus: 504, wantType: api.IntegrationTimeout, wantMessage: "Endpoint request timed out", wantAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, tt.edit)
			if tt.auth != nil {
				s.auth.set(tt.auth)
			}
			if tt.handler != nil {
				s.handler.set(tt.handler)
			}
			rec := s.do(tt.call)
			if rec.Code != tt.wantStatus {
				t.Errorf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if got := s.auth.calls.Load() > 0; got != tt.wantAuth {
				t.Errorf("authorizer invoked = %v, want %v", got, tt.wantAuth)
			}
			if rec.Header().Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId header")
			}
			if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q", ct)
			}
			if tt.wantType == "" {
				if rec.Body.String() != `{"ok":true}` {
					t.Errorf("body = %s, want the handler's", rec.Body)
				}
				return
			}
			want := gatewayBody(rec, tt.wantMessage, tt.wantType)
			if tt.wantBody != "" {
				want = tt.wantBody // API Gateway's own answer
			}
			if rec.Body.String() != want {
				t.Errorf("body = %s\nwant   %s", rec.Body, want)
			}
			_, challenge := rec.Header()["Www-Authenticate"]
			if challenge != (tt.wantType == api.Unauthorized) {
				t.Errorf("WWW-Authenticate present = %v for %s", challenge, tt.wantType)
			}
		})
	}
}

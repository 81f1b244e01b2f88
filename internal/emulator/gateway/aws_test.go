package gateway

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"tollgate/api"
)

// Issue 17, 2.2: every gateway response names its error type in
// x-amzn-ErrorType, as API Gateway's answers do.
func TestErrorTypeHeader(t *testing.T) {
	deny := policyAnswer(`[{"Action":"execute-api:Invoke","Effect":"Deny","Resource":"` + stageARN + `/GET/hello"}]`)
	for _, tt := range []struct {
		name string
		call call
		auth func(context.Context, []byte) ([]byte, error)
		want string
	}{
		{"no route", call{path: "/nope", auth: goodToken}, nil, "MissingAuthenticationTokenException"},
		{"no token", call{}, nil, "UnauthorizedException"},
		{"authorizer says Unauthorized", call{auth: goodToken}, fails("errorString", "Unauthorized"), "UnauthorizedException"},
		{"explicit deny", call{auth: goodToken}, answers(deny), "AccessDeniedException"},
		{"authorizer error", call{auth: goodToken}, fails("errorString", "boom"), "AuthorizerConfigurationException"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, nil)
			if tt.auth != nil {
				s.auth.set(tt.auth)
			}
			rec := s.do(tt.call)
			if got := rec.Header().Get("x-amzn-ErrorType"); got != tt.want {
				t.Errorf("%d x-amzn-ErrorType = %q, want %q", rec.Code, got, tt.want)
			}
		})
	}
	if got := newSetup(t, nil).do(call{auth: goodToken}).Header().Get("x-amzn-ErrorType"); got != "" {
		t.Errorf("a 200 carries x-amzn-ErrorType %q", got)
	}
}

// Issue 17, 2.3: every answer, the integration's and the gateway's own,
// carries x-amz-apigw-id (API Gateway's extended request id) beside
// x-amzn-RequestId.
func TestAPIGatewayIDHeader(t *testing.T) {
	s := newSetup(t, nil)
	for _, c := range []call{{auth: goodToken}, {}, {path: "/nope"}} {
		rec := s.do(c)
		if id := rec.Header().Get("x-amz-apigw-id"); id == "" || id == rec.Header().Get("x-amzn-RequestId") {
			t.Errorf("%s %s = %d: x-amz-apigw-id %q, want one of its own", c.method, c.path, rec.Code, id)
		}
	}
}

// Issue 17, 2.5: a request past the header quota is answered 413 with API
// Gateway's own body; the API's customised DEFAULT_4XX does not apply.
func TestTooLargeIsNotCustomised(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.Definition.Responses[api.Default4XX] = api.GatewayResponse{Template: `{"custom":true}`, Headers: map[string]string{"X-Custom": "yes"}}
	})
	rec := s.do(call{header: http.Header{"X-Big": {strings.Repeat("a", 11<<10)}}})
	if rec.Code != 413 || rec.Body.String() != `{"message":"Request Too Long"}` || rec.Header().Get("X-Custom") != "" {
		t.Errorf("413 = %d %s %v, want API Gateway's own answer", rec.Code, rec.Body, rec.Header())
	}
}

// Issue 17, 2.6: the default validation expression accepts the Bearer
// scheme in any case, as RFC 9110 section 11.1 makes it case-insensitive.
func TestBearerSchemeAnyCase(t *testing.T) {
	for _, scheme := range []string{"Bearer", "bearer", "BEARER", "bEaReR"} {
		s := newSetup(t, nil)
		if rec := s.do(call{auth: scheme + " " + validKey}); rec.Code != 200 || s.auth.calls.Load() != 1 {
			t.Errorf("%s <key> = %d, authorizer invoked %d times; want 200 through the authorizer", scheme, rec.Code, s.auth.calls.Load())
		}
	}
	if rec := newSetup(t, nil).do(call{auth: "Basic " + validKey}); rec.Code != 401 {
		t.Errorf("Basic <key> = %d, want 401 from the validation expression", rec.Code)
	}
}

// Issue 17, 2.1: header names reach the REQUEST authorizer's event and the
// integration's event as the client wrote them, not in Go's canonical
// case, when the gateway serves its own connections (Serve).
func TestHeaderNamesKeepTheirCase(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.Definition.Authorizer.Type = api.Request
		c.Definition.Authorizer.ValidationRegex = ""
		c.Definition.Authorizer.ResultTTL = 0 // the authorizer sees both requests
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.g.Serve(srv, ln) }()
	defer func() { _ = srv.Close() }()

	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(conn)
	for i := range 2 { // two requests on one connection
		req := fmt.Sprintf("GET /hello HTTP/1.1\r\nHost: x\r\nauthorization: %s\r\nx-lower-case: %d\r\nX-MiXeD-Case: m\r\nContent-Length: 2\r\n\r\n{}", goodToken, i)
		if _, err := io.WriteString(conn, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("request %d = %d", i, resp.StatusCode)
		}
		for who, f := range map[string]*fn{"authorizer": s.auth, "handler": s.handler} {
			ev := f.lastEvent(t)
			headers, _ := ev["headers"].(map[string]any)
			multi, _ := ev["multiValueHeaders"].(map[string]any)
			for _, name := range []string{"x-lower-case", "X-MiXeD-Case", "authorization"} {
				if headers[name] == nil || multi[name] == nil {
					b, _ := json.Marshal(headers)
					t.Errorf("request %d: the %s's event has no header %q: %s", i, who, name, b)
				}
			}
			if headers["x-lower-case"] != fmt.Sprint(i) {
				t.Errorf("request %d: the %s's event has x-lower-case %v", i, who, headers["x-lower-case"])
			}
			if headers["X-Lower-Case"] != nil {
				t.Errorf("request %d: the %s's event has the canonical X-Lower-Case too", i, who)
			}
		}
	}
}

// Issue 17, 2.4: API Gateway's payload conversion for a proxy integration
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html):
// without binary media types every body is text, both ways; with them, a
// request whose Content-Type matches one is base64-encoded for the
// function, and a base64-encoded answer is decoded only when the request's
// first Accept value matches one.
func TestBinaryMediaTypes(t *testing.T) {
	binary := "\xff\xfe\x00binary"
	encoded := base64.StdEncoding.EncodeToString([]byte(binary))
	answer := `{"statusCode":200,"headers":{"Content-Type":"application/octet-stream"},"body":"` + encoded + `","isBase64Encoded":true}`
	for _, tt := range []struct {
		name         string
		types        []string
		contentType  string
		accept       string
		wantBase64In bool
		wantOut      string
	}{
		{"none declared", nil, "application/octet-stream", "application/octet-stream", false, encoded},
		{"declared, matching", []string{"application/octet-stream"}, "application/octet-stream", "application/octet-stream", true, binary},
		{"declared, wildcard", []string{"*/*"}, "image/png", "image/png", true, binary},
		{"declared, type wildcard", []string{"image/*"}, "image/png; charset=x", "text/html, image/png", true, encoded},
		{"declared, not matching", []string{"image/png"}, "application/json", "application/json", false, encoded},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, func(c *Config) { c.Definition.BinaryMediaTypes = tt.types })
			s.handler.set(answers(answer))
			rec := s.do(call{method: "POST", path: "/orders", auth: goodToken, body: binary,
				header: http.Header{"Content-Type": {tt.contentType}, "Accept": {tt.accept}}})
			if rec.Code != 200 || rec.Body.String() != tt.wantOut {
				t.Errorf("answer = %d %q, want %q", rec.Code, rec.Body, tt.wantOut)
			}
			ev := s.handler.lastEvent(t)
			if got := ev["isBase64Encoded"] == true; got != tt.wantBase64In {
				t.Errorf("event isBase64Encoded = %v, want %v (body %q)", ev["isBase64Encoded"], tt.wantBase64In, ev["body"])
			}
			if !tt.wantBase64In && !strings.HasSuffix(fmt.Sprint(ev["body"]), "binary") {
				t.Errorf("event body = %q, want the bytes as text", ev["body"])
			}
		})
	}
}

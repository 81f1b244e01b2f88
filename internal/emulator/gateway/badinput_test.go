package gateway

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/testkit/leakscan"
	"tollgate/internal/testkit/logsink"
)

// realAuthorizer runs tollgate's authorizer in process, answering as the
// Lambda runtime would: an error is a function error with its message.
type realAuthorizer struct {
	a     *authorizer.Authorizer
	calls atomic.Int64
}

func newRealAuthorizer(t testing.TB, logs io.Writer) *realAuthorizer {
	t.Helper()
	keyring := `{"keys":[{"id":"mobile-app","key":"` + validKey + `"},{"id":"orders-bot","key":"` + ordersKey + `","routes":["GET /customers"]}]}`
	a, err := authorizer.New(authorizer.Config{
		Source: authorizer.SourceFunc(func(_ context.Context, stage string) ([]byte, error) {
			if stage != authorizer.StageCurrent {
				return nil, authorizer.ErrSecretNotFound
			}
			return []byte(keyring), nil
		}),
		Logger: slog.New(slog.NewJSONHandler(logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	return &realAuthorizer{a: a}
}

func (r *realAuthorizer) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	r.calls.Add(1)
	out, err := r.a.Invoke(ctx, event)
	if err != nil {
		return nil, &fnError{typ: "errorString", msg: err.Error()}
	}
	return out, nil
}

// rawRequest sends request bytes as they are, as a client that does not
// check them would, and reads the answer.
func rawRequest(t *testing.T, addr, request string) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close() }()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	return resp
}

// Bad requests at the front door, through net/http and the gateway with
// tollgate's authorizer: each is refused (401 from the validation regex or
// the authorizer, 400/413/431 before anything runs; 414 is gateway_test's), none reaches the
// handler, and no log holds the key. For a TOKEN authorizer API Gateway
// answers 401 without invoking the authorizer when the token source is
// missing, empty or fails the validation regex
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-use-lambda-authorizer.html).
func TestBadRequests(t *testing.T) {
	long := func(n int) string { return strings.Repeat("A", n) }
	for _, typ := range []api.AuthorizerType{api.Token, api.Request} {
		t.Run(string(typ), func(t *testing.T) {
			var logs logsink.Buffer
			auth := newRealAuthorizer(t, &logs)
			handler := &fn{answer: answers(okResponse)}
			def := api.Default()
			def.Authorizer.Type = typ
			if typ == api.Request {
				def.Authorizer.ValidationRegex = ""
			}
			g, err := New(Config{
				Definition: def,
				Functions:  map[string]Invoker{"authorizer": auth, "handler": handler},
				AccessLog:  &logs,
			})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewUnstartedServer(g)
			srv.Config.MaxHeaderBytes = 64 << 10 // as internal/emulator/local serves it
			srv.Start()
			defer srv.Close()
			addr := srv.Listener.Addr().String()

			get := func(headers ...string) string {
				return "GET /hello HTTP/1.1\r\nHost: x\r\n" + strings.Join(headers, "") + "Connection: close\r\n\r\n"
			}
			// invoked says whether the authorizer runs: with TOKEN, the
			// regex refuses malformed values first; REQUEST has no regex.
			tokenOnly := typ == api.Token
			for _, c := range []struct {
				name    string
				request string
				want    int
				invoked bool
			}{
				{"no Authorization", get(), 401, false},
				{"an empty Authorization", get("Authorization: \r\n"), 401, false},
				{"a 1-byte token", get("Authorization: Bearer x\r\n"), 401, true},
				{"a 1-byte value", get("Authorization: x\r\n"), 401, !tokenOnly},
				{"an 8 KB token", get("Authorization: Bearer " + long(8<<10) + "\r\n"), 401, true},
				{"a token past the 10 KB quota", get("Authorization: Bearer " + long(10<<10) + "\r\n"), 413, false},
				{"a 1 MB token", get("Authorization: Bearer " + long(1<<20) + "\r\n"), 431, false},
				{"a NUL byte", get("Authorization: Bearer " + validKey + "\x00\r\n"), 400, false},
				{"invalid UTF-8", get("Authorization: Bearer " + validKey + "\xff\xfe\r\n"), 401, !tokenOnly},
				{"Bearer with no token", get("Authorization: Bearer\r\n"), 401, !tokenOnly},
				{"Bearer and two spaces", get("Authorization: Bearer  \r\n"), 401, !tokenOnly}, // trailing spaces are trimmed: "Bearer"
				{"Bearer, a tab and the key", get("Authorization: Bearer\t" + validKey + "\r\n"), 401, !tokenOnly},
				{"two Authorization headers", get("Authorization: Bearer "+validKey+"\r\n", "Authorization: Bearer "+validKey+"\r\n"), 401, !tokenOnly},
				{"a valid and an unknown Authorization", get("Authorization: Bearer "+validKey+"\r\n", "Authorization: Bearer tg_unknown\r\n"), 401, !tokenOnly},
				{"a route-scoped key off its route", get("Authorization: Bearer " + ordersKey + "\r\n"), 403, true},
			} {
				calls := auth.calls.Load()
				resp := rawRequest(t, addr, c.request)
				if resp.StatusCode != c.want {
					t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.want)
				}
				if got := auth.calls.Load() != calls; got != c.invoked {
					t.Errorf("%s: authorizer invoked = %v, want %v", c.name, got, c.invoked)
				}
			}
			// The scheme in any case passes the deployed regex too (RFC
			// 9110 section 11.1); two spaces, which RFC 6750 allows, only
			// the authorizer's leniency.
			for _, v := range []string{"bearer " + validKey, "Bearer  " + validKey} {
				want := 401
				if typ == api.Request || strings.HasPrefix(v, "bearer ") {
					want = 200 // the authorizer follows the RFC: see authorizer.TestLenientSchemeForms
				}
				if resp := rawRequest(t, addr, get("Authorization: "+v+"\r\n")); resp.StatusCode != want {
					t.Errorf("%q: %d, want %d", v, resp.StatusCode, want)
				}
			}
			if n := handler.calls.Load(); n != 1+btoi(typ == api.Request) {
				t.Errorf("the handler ran %d times", n)
			}
			if resp := rawRequest(t, addr, get("Authorization: Bearer "+validKey+"\r\n")); resp.StatusCode != 200 {
				t.Errorf("the valid key after all that: %d, want 200", resp.StatusCode)
			}
			_, leaks, _ := leakscan.New(validKey, ordersKey).Scan(strings.NewReader(logs.String()))
			for _, l := range leaks {
				t.Errorf("%v (%q)", l, l.Run)
			}
		})
	}
}

func btoi(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// The quota counts the request line and every header value.
func TestRequestHeaderBytes(t *testing.T) {
	r := httptest.NewRequest("GET", "/hello?a=b", nil)
	r.Header.Add("Authorization", "Bearer x")
	r.Header.Add("Authorization", "Bearer yy")
	want := len("GET /hello?a=b HTTP/1.1") + len("Bearer x") + len("Bearer yy")
	if got := requestHeaderBytes(r); got != want {
		t.Errorf("requestHeaderBytes = %d, want %d", got, want)
	}
}

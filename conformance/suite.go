package conformance

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"tollgate/handler"
)

// Target is a stage to check: its base URL and the keys the rows use.
type Target struct {
	// URL is the stage's base URL, like
	// https://abc123.execute-api.eu-west-1.amazonaws.com/dev or
	// http://127.0.0.1:8080.
	URL string
	// Key is a client's key that may call every route.
	Key string
	// ScopedKey is a client's key limited to ScopedRoute, and
	// ScopedRoute is that route ("GET /customers"). OffRoute is a route
	// the key may not call ("GET /hello").
	ScopedKey, ScopedRoute, OffRoute string
	// CORSOrigin, when set, is the origin the stage allows (its
	// corsAllowOrigin); the CORS rows run only then.
	CORSOrigin string
	// Echo says the stage's handler echoes events (TOLLGATE_ECHO_EVENTS);
	// the integration event rows run only then.
	Echo bool
	// HTTP says the stage is an HTTP API (API Gateway v2): the suite runs
	// HTTPRows instead of Rows.
	HTTP bool
	// JWT, when set, is a JWT from the stage's issuer that may call
	// JWTRoute ("GET /hello"); the JWT rows run only then. JWTAuthorizer
	// says JWTRoute is guarded by API Gateway's own JWT authorizer (an
	// HTTP API's auth: jwt route), not by tollgate's.
	JWT, JWTRoute string
	JWTAuthorizer bool
	// ThrottledRoute, when set, is a route with a throttle of its own
	// ("GET /throttled"), of burst ThrottleBurst, that Key may call; the
	// throttle row runs only then.
	ThrottledRoute string
	ThrottleBurst  int
	// PlanKey, when set, is a key on a small usage plan of the stage, of
	// rate PlanRate, burst PlanBurst and quota PlanQuota, that may call
	// PlanRoute ("GET /hello"); the plan rows run only then, and spend
	// its quota for the period.
	PlanKey, PlanRoute string
	PlanRate           float64
	PlanBurst          int
	PlanQuota          int
	// Client sends the requests; default a client with a 30-second timeout.
	Client *http.Client
}

// Row is one behaviour of API Gateway with a Lambda authorizer, checked
// with HTTP requests.
type Row struct {
	Name   string
	Source string // the AWS page it follows
	// Needs names what the target must have for the row to run ("" for
	// every target): "scoped", "cors", "echo", "jwt", "throttle" or
	// "plan".
	Needs string
	Check func(ctx context.Context, t *Target) error
}

// Result is one row's outcome.
type Result struct {
	Row     Row
	Skipped bool
	Err     error
}

// Run checks every row against t, writing "PASS", "FAIL" or "SKIP" and
// the row's name for each, and returns the results.
func Run(ctx context.Context, t Target, w io.Writer) []Result {
	if t.Client == nil {
		t.Client = &http.Client{Timeout: 30 * time.Second}
	}
	t.URL = strings.TrimSuffix(t.URL, "/")
	var results []Result
	rows := Rows()
	if t.HTTP {
		rows = HTTPRows()
	}
	for _, r := range rows {
		res := Result{Row: r}
		switch {
		case r.Needs == "scoped" && t.ScopedKey == "",
			r.Needs == "cors" && t.CORSOrigin == "",
			r.Needs == "echo" && !t.Echo,
			r.Needs == "jwt" && (t.JWT == "" || t.JWTRoute == ""),
			r.Needs == "throttle" && t.ThrottledRoute == "",
			r.Needs == "plan" && (t.PlanKey == "" || t.PlanRoute == "" || t.PlanQuota < 1):
			res.Skipped = true
			fmt.Fprintf(w, "SKIP %s (the target has no %s setup)\n", r.Name, r.Needs)
		default:
			res.Err = r.Check(ctx, &t)
			if res.Err != nil {
				fmt.Fprintf(w, "FAIL %s: %v\n", r.Name, res.Err)
			} else {
				fmt.Fprintf(w, "PASS %s\n", r.Name)
			}
		}
		results = append(results, res)
	}
	return results
}

// answer is a response, read whole.
type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) String() string {
	return fmt.Sprintf("%d %s", a.status, strings.TrimSpace(string(a.body)))
}

// message is the "message" field of a JSON body, or "".
func (a answer) message() string {
	var m struct {
		Message string `json:"message"`
	}
	_ = json.Unmarshal(a.body, &m)
	return m.Message
}

// request is one request a row sends.
type request struct {
	method, path string
	header       map[string]string
	body         string
}

func (t *Target) send(ctx context.Context, r request) (answer, error) {
	if r.method == "" {
		r.method = "GET"
	}
	req, err := http.NewRequestWithContext(ctx, r.method, t.URL+r.path, strings.NewReader(r.body))
	if err != nil {
		return answer{}, err
	}
	for k, v := range r.header {
		req.Header[k] = []string{v} // as written: the header-case row needs it
	}
	resp, err := t.Client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return answer{}, err
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// call sends r ("GET /customers") with token as a bearer token.
func (t *Target) call(ctx context.Context, r, token string) (answer, error) {
	method, path := route(r)
	return t.send(ctx, request{method: method, path: path, header: bearer(token)})
}

// bearer is an Authorization header with key.
func bearer(key string) map[string]string { return map[string]string{"Authorization": "Bearer " + key} }

// expect checks an answer's status, message and x-amzn-ErrorType
// ("" for any).
func expect(a answer, status int, message, errorType string) error {
	var problems []string
	if a.status != status {
		problems = append(problems, fmt.Sprintf("status %d, want %d", a.status, status))
	}
	if message != "" && a.message() != message {
		problems = append(problems, fmt.Sprintf("message %q, want %q", a.message(), message))
	}
	if errorType != "" && a.header.Get("x-amzn-ErrorType") != errorType {
		problems = append(problems, fmt.Sprintf("x-amzn-ErrorType %q, want %q", a.header.Get("x-amzn-ErrorType"), errorType))
	}
	if len(problems) > 0 {
		return fmt.Errorf("%s (answer: %s)", strings.Join(problems, "; "), a)
	}
	return nil
}

// route splits "GET /customers".
func route(r string) (method, path string) {
	method, path, _ = strings.Cut(r, " ")
	return method, path
}

// echo sends r to an echoing handler and decodes what it received.
func (t *Target) echo(ctx context.Context, r request) (handler.Echo, answer, error) {
	if r.header == nil {
		r.header = map[string]string{}
	}
	r.header[handler.EchoHeader] = "1"
	a, err := t.send(ctx, r)
	if err != nil {
		return handler.Echo{}, a, err
	}
	var e handler.Echo
	if a.status != 200 || json.Unmarshal(a.body, &e) != nil || e.HTTPMethod == "" {
		return e, a, fmt.Errorf("no echo of the event: %s", a)
	}
	return e, a, nil
}

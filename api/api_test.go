package api

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"tollgate/authorizer"
)

func TestDefaultIsValid(t *testing.T) {
	d := Default()
	if err := d.Validate(); err != nil {
		t.Fatalf("Default().Validate() = %v, want nil", err)
	}
	var got []string
	for _, r := range d.Routes {
		got = append(got, r.String()+map[bool]string{true: " protected", false: " public"}[r.Protected])
	}
	want := "GET /hello protected,GET /customers protected,POST /orders protected,GET /health public"
	if strings.Join(got, ",") != want {
		t.Errorf("routes = %s, want %s", strings.Join(got, ","), want)
	}
	if h := d.Authorizer.TokenHeader(); h != "Authorization" {
		t.Errorf("TokenHeader() = %q, want Authorization", h)
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(d *Definition)
		want string // in the error; "" for valid
	}{
		{"default", func(*Definition) {}, ""},
		{"no name", func(d *Definition) { d.Name = " " }, "no name"},
		{"stage with a dot", func(d *Definition) { d.Stage = "v1.0" }, `stage "v1.0"`},
		{"empty stage", func(d *Definition) { d.Stage = "" }, `stage ""`},
		{"long stage", func(d *Definition) { d.Stage = strings.Repeat("s", 129) }, "1 to 128"},
		{"128-byte stage", func(d *Definition) { d.Stage = strings.Repeat("s", 128) }, ""},
		{"no routes", func(d *Definition) { d.Routes = nil }, "no routes"},
		{"unknown method", func(d *Definition) { d.Routes[0].Method = "get" }, `method "get"`},
		{"relative path", func(d *Definition) { d.Routes[0].Path = "hello" }, "does not start with /"},
		{"empty segment", func(d *Definition) { d.Routes[0].Path = "/a//b" }, "empty segment"},
		{"trailing slash", func(d *Definition) { d.Routes[0].Path = "/hello/" }, "empty segment"},
		{"space in path", func(d *Definition) { d.Routes[0].Path = "/he llo" }, `segment "he llo"`},
		{"greedy not last", func(d *Definition) { d.Routes[0].Path = "/{p+}/x" }, "must be the last"},
		{"bad parameter", func(d *Definition) { d.Routes[0].Path = "/{a b}" }, `parameter "{a b}"`},
		{"duplicate route", func(d *Definition) { d.Routes[1] = d.Routes[0] }, "defined twice"},
		{"same shape", func(d *Definition) {
			d.Routes = append(d.Routes, Route{Method: "GET", Path: "/o/{a}", Function: "handler", Protected: true}, Route{Method: "GET", Path: "/o/{b}", Function: "handler", Protected: true})
		}, "defined twice"},
		{"sibling parameters", func(d *Definition) {
			d.Routes = append(d.Routes, Route{Method: "GET", Path: "/o/{a}", Function: "handler", Protected: true}, Route{Method: "POST", Path: "/o/{b}", Function: "handler", Protected: true})
		}, "parameter {b} beside {a}"},
		{"unknown function", func(d *Definition) { d.Routes[0].Function = "nope" }, `no function named "nope"`},
		{"authorizer answers a route", func(d *Definition) { d.Routes[3].Function = "authorizer" }, "authorizer function cannot answer"},
		{"function timeout too long", func(d *Definition) {
			f := d.Functions["handler"]
			f.Timeout = 16 * time.Minute
			d.Functions["handler"] = f
		}, "timeout 16m0s"},
		{"function timeout fraction", func(d *Definition) {
			f := d.Functions["handler"]
			f.Timeout = 1500 * time.Millisecond
			d.Functions["handler"] = f
		}, "whole seconds"},
		{"function memory", func(d *Definition) {
			f := d.Functions["handler"]
			f.MemoryMB = 64
			d.Functions["handler"] = f
		}, "memory 64 MB"},
		{"function package outside the module", func(d *Definition) {
			f := d.Functions["handler"]
			f.Package = "../elsewhere/handler"
			d.Functions["handler"] = f
		}, "want a Go package"},
		{"function package with ..", func(d *Definition) {
			f := d.Functions["handler"]
			f.Package = "./cmd/../../handler"
			d.Functions["handler"] = f
		}, "want a Go package"},
		{"function package with a space", func(d *Definition) {
			f := d.Functions["handler"]
			f.Package = "./cmd/my handler"
			d.Functions["handler"] = f
		}, "want a Go package"},
		{"reserved variable", func(d *Definition) {
			f := d.Functions["handler"]
			f.Env = map[string]string{"AWS_REGION": "x"}
			d.Functions["handler"] = f
		}, `"AWS_REGION"`},
		{"function name", func(d *Definition) { d.Functions["a b"] = d.Functions["handler"] }, `function "a b"`},
		{"unknown authorizer type", func(d *Definition) { d.Authorizer.Type = "JWT" }, `type "JWT"`},
		{"TOKEN with two sources", func(d *Definition) {
			d.Authorizer.IdentitySources = append(d.Authorizer.IdentitySources, "method.request.header.X-Key")
		}, "exactly one header"},
		{"TOKEN from the query string", func(d *Definition) {
			d.Authorizer.IdentitySources = []string{"method.request.querystring.key"}
		}, "exactly one header"},
		{"REQUEST without the header", func(d *Definition) {
			d.Authorizer.Type, d.Authorizer.ValidationRegex = Request, ""
			d.Authorizer.IdentitySources = []string{"method.request.querystring.key"}
		}, "replayed for another caller"},
		{"REQUEST with header and query", func(d *Definition) {
			d.Authorizer.Type, d.Authorizer.ValidationRegex = Request, ""
			d.Authorizer.IdentitySources = []string{"method.request.querystring.tenant", "method.request.header.Authorization"}
		}, ""},
		{"REQUEST with a regex", func(d *Definition) { d.Authorizer.Type = Request }, "only to TOKEN"},
		{"unknown identity source", func(d *Definition) {
			d.Authorizer.IdentitySources = []string{"method.request.path.id"}
		}, "want method.request.header.NAME"},
		{"bad header name", func(d *Definition) {
			d.Authorizer.IdentitySources = []string{"method.request.header.X Key"}
		}, "not a valid name"},
		{"bad regex", func(d *Definition) { d.Authorizer.ValidationRegex = "^Bearer (" }, "validation regex"},
		{"TTL above an hour", func(d *Definition) { d.Authorizer.ResultTTL = 3601 * time.Second }, "result TTL 1h0m1s"},
		{"negative TTL", func(d *Definition) { d.Authorizer.ResultTTL = -time.Second }, "result TTL -1s"},
		{"TTL of an hour", func(d *Definition) { d.Authorizer.ResultTTL = time.Hour }, ""},
		{"TTL 0", func(d *Definition) { d.Authorizer.ResultTTL = 0 }, ""},
		{"no authorizer function", func(d *Definition) { d.Authorizer.Function = "" }, `authorizer: no function named ""`},
		{"public only needs no authorizer", func(d *Definition) {
			d.Routes = d.Routes[3:]
			d.Authorizer = Authorizer{}
		}, ""},
		{"unknown response type", func(d *Definition) { d.Responses["WAF_FILTERED"] = GatewayResponse{} }, `"WAF_FILTERED"`},
		{"401 as a 5xx", func(d *Definition) { d.Responses[Unauthorized] = GatewayResponse{StatusCode: 500} }, "want 400 to 499"},
		{"5xx fallback as 404", func(d *Definition) { d.Responses[Default5XX] = GatewayResponse{StatusCode: 404} }, "want 500 to 599"},
		{"template variable", func(d *Definition) {
			d.Responses[AccessDenied] = GatewayResponse{Template: `{"ip":"$context.identity.sourceIp"}`}
		}, `"$context.identity.sourceIp" is not one of`},
		{"template directive", func(d *Definition) {
			d.Responses[AccessDenied] = GatewayResponse{Template: `#set($x = 1){"m":1}`}
		}, "VTL directive"},
		{"template method call", func(d *Definition) {
			d.Responses[AccessDenied] = GatewayResponse{Template: `{"n":$context.requestId.length()}`}
		}, "is not one of"},
		{"header with newline", func(d *Definition) {
			d.Responses[AccessDenied] = GatewayResponse{Headers: map[string]string{"X-A": "a\r\nSet-Cookie: x"}}
		}, `header "X-A"`},
		{"header with single quote", func(d *Definition) {
			d.Responses[AccessDenied] = GatewayResponse{Headers: map[string]string{"X-A": "it's"}}
		}, "single quote"},
		{"content type header", func(d *Definition) {
			d.Responses[AccessDenied] = GatewayResponse{Headers: map[string]string{"content-type": "text/html"}}
		}, "application/json"},
		{"access log variable", func(d *Definition) {
			d.AccessLog = append(d.AccessLog, AccessLogField{"auth", "$input.params('Authorization')"})
		}, "supported variables"},
		{"access log duplicate key", func(d *Definition) { d.AccessLog = append(d.AccessLog, d.AccessLog[0]) }, `"requestId"`},
		{"no access log", func(d *Definition) { d.AccessLog = nil }, "no fields"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Default()
			tt.edit(&d)
			err := d.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("Validate() = %v, want an ErrInvalid naming %q", err, tt.want)
			}
		})
	}
}

func TestMatch(t *testing.T) {
	d := Default()
	d.Routes = append(d.Routes,
		Route{Method: "GET", Path: "/orders/{id}", Function: "handler", Protected: true},
		Route{Method: "GET", Path: "/orders/latest", Function: "handler", Protected: true},
		Route{Method: "ANY", Path: "/orders/{id}", Function: "handler", Protected: true},
		Route{Method: "GET", Path: "/files/{path+}", Function: "handler", Protected: true},
		Route{Method: "GET", Path: "/files/{path}/meta", Function: "handler", Protected: true},
		Route{Method: "GET", Path: "/", Function: "handler", Protected: false},
	)
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		method, path string
		want         string // route, "" for none
		params       string
	}{
		{"GET", "/hello", "GET /hello", ""},
		{"POST", "/hello", "", ""},
		{"GET", "/Hello", "", ""},
		{"GET", "/hello/", "", ""},
		{"GET", "/hello/x", "", ""},
		{"GET", "/nope", "", ""},
		{"POST", "/orders", "POST /orders", ""},
		{"GET", "/orders", "", ""},
		{"GET", "/orders/latest", "GET /orders/latest", ""},
		{"GET", "/orders/42", "GET /orders/{id}", "id=42"},
		{"DELETE", "/orders/42", "ANY /orders/{id}", "id=42"},
		{"GET", "/orders/42/x", "", ""},
		{"GET", "/files/a", "GET /files/{path+}", "path=a"},
		{"GET", "/files/a/b/c", "GET /files/{path+}", "path=a/b/c"},
		{"GET", "/files/a/meta", "GET /files/{path}/meta", "path=a"},
		{"GET", "/files", "", ""},
		{"GET", "/files/a//b", "", ""},
		{"GET", "/", "GET /", ""},
		{"GET", "", "", ""},
	}
	for _, tt := range tests {
		r, params, ok := d.Match(tt.method, tt.path)
		got := ""
		if ok {
			got = r.String()
		}
		var ps []string
		for _, k := range slices.Sorted(maps.Keys(params)) {
			ps = append(ps, k+"="+params[k])
		}
		if got != tt.want || strings.Join(ps, ",") != tt.params {
			t.Errorf("Match(%s %q) = %q %v, want %q %q", tt.method, tt.path, got, ps, tt.want, tt.params)
		}
	}
}

func TestResponse(t *testing.T) {
	d := Default()
	d.Responses[Default4XX] = GatewayResponse{Template: `{"m":$context.error.messageString}`, Headers: map[string]string{"X-Fallback": "4"}}
	tests := []struct {
		typ        ResponseType
		wantStatus int
		wantTmpl   string
	}{
		{Unauthorized, 401, DefaultResponses()[Unauthorized].Template},
		{AccessDenied, 403, DefaultResponses()[AccessDenied].Template},
		{AuthorizerFailure, 500, DefaultResponses()[AuthorizerFailure].Template},
		{MissingAuthenticationToken, 403, `{"m":$context.error.messageString}`},
		{IntegrationTimeout, 504, DefaultResponses()[Default5XX].Template},
		{Throttled, 429, `{"m":$context.error.messageString}`},
	}
	for _, tt := range tests {
		r := d.Response(tt.typ)
		if r.StatusCode != tt.wantStatus || r.Template != tt.wantTmpl {
			t.Errorf("Response(%s) = %d %s, want %d %s", tt.typ, r.StatusCode, r.Template, tt.wantStatus, tt.wantTmpl)
		}
	}
	if h := d.Response(Throttled).Headers["X-Fallback"]; h != "4" {
		t.Errorf("THROTTLED did not take DEFAULT_4XX's headers: %q", h)
	}
	d.Responses[Default5XX] = GatewayResponse{StatusCode: 503}
	if r := d.Response(IntegrationFailure); r.StatusCode != 503 || r.Template != DefaultTemplate {
		t.Errorf("Response(INTEGRATION_FAILURE) = %d %s, want the fallback's 503 and the default template", r.StatusCode, r.Template)
	}
}

func TestRender(t *testing.T) {
	c := ErrorContext{RequestID: "r-1", ResponseType: AccessDenied, Message: `User is "not" authorized`}
	tests := []struct{ tmpl, want string }{
		{DefaultTemplate, `{"message":"User is \"not\" authorized"}`},
		{`{"m":"$context.error.message"}`, `{"m":"User is "not" authorized"}`},
		{`{"t":"$context.error.responseType","id":"$context.requestId"}`, `{"t":"ACCESS_DENIED","id":"r-1"}`},
		{`{"price":"$5"}`, `{"price":"$5"}`},
		{`no variables`, `no variables`},
	}
	for _, tt := range tests {
		if got := string(Render(tt.tmpl, c)); got != tt.want {
			t.Errorf("Render(%s) = %s, want %s", tt.tmpl, got, tt.want)
		}
	}
}

func TestAccessLogFormat(t *testing.T) {
	got := AccessLogFormat([]AccessLogField{{"requestId", "$context.requestId"}, {"status", "$context.status"}})
	if want := `{"requestId":"$context.requestId","status":"$context.status"}`; got != want {
		t.Errorf("AccessLogFormat() = %s, want %s", got, want)
	}
	for _, f := range DefaultAccessLog() {
		if strings.Contains(strings.ToLower(f.Variable), "header") || strings.Contains(f.Variable, "input") {
			t.Errorf("access log field %s reads request data that may hold a key: %s", f.Key, f.Variable)
		}
	}
}

// FuzzMatch: a match's parameters put back into its route give the path.
func FuzzMatch(f *testing.F) {
	d := Default()
	d.Routes = append(d.Routes, Route{Method: "GET", Path: "/orders/{id}", Function: "handler", Protected: true}, Route{Method: "ANY", Path: "/files/{p+}", Function: "handler", Protected: true})
	for _, s := range []string{"/hello", "/orders/7", "/files/a/b", "/", "//", "/files/"} {
		f.Add("GET", s)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		r, params, ok := d.Match(method, path)
		if !ok {
			return
		}
		if r.Method != method && r.Method != "ANY" {
			t.Fatalf("Match(%s %s) = %s", method, path, r)
		}
		rebuilt := r.Path
		for k, v := range params {
			rebuilt = strings.Replace(rebuilt, "{"+k+"+}", v, 1)
			rebuilt = strings.Replace(rebuilt, "{"+k+"}", v, 1)
		}
		if rebuilt != path {
			t.Fatalf("Match(%s %s) = %s with %v, which rebuilds %s", method, path, r, params, rebuilt)
		}
	})
}

// FuzzTemplate: a template Validate accepts renders with every reference
// replaced.
func FuzzTemplate(f *testing.F) {
	for _, r := range DefaultResponses() {
		f.Add(r.Template)
	}
	f.Add(`{"a":"$context.error.message$context.requestId"}`)
	f.Fuzz(func(t *testing.T, tmpl string) {
		if validateTemplate(tmpl) != nil {
			return
		}
		out := string(Render(tmpl, ErrorContext{RequestID: "R", ResponseType: "T", Message: "M"}))
		if strings.Contains(out, "$context") {
			t.Fatalf("Render(%q) = %q left a reference", tmpl, out)
		}
	})
}

// The token header the authorizer is told to read is the first header
// identity source; which functions answer routes is what gets the CORS
// origin. The callers that wire the functions set both (deploy, local).
func TestTokenHeaderAndRouteFunctions(t *testing.T) {
	d := Default()
	d.Authorizer.Type, d.Authorizer.ValidationRegex = Request, ""
	d.Authorizer.IdentitySources = []string{"method.request.querystring.tenant", "method.request.header.X-Api-Key"}
	if got := d.Authorizer.TokenHeader(); got != "X-Api-Key" {
		t.Errorf("TokenHeader() = %q, want X-Api-Key", got)
	}
	if !d.AnswersRoutes("handler") || d.AnswersRoutes("authorizer") || d.AnswersRoutes("nope") {
		t.Error("AnswersRoutes: want the handler only")
	}
}

func TestAllowOrigin(t *testing.T) {
	d := Default()
	delete(d.Responses, Default5XX)
	if err := d.AllowOrigin("https://app.example.com"); err != nil {
		t.Fatal(err)
	}
	for _, rt := range []ResponseType{Unauthorized, AccessDenied, AuthorizerFailure, AuthorizerConfigurationError, Default4XX, Default5XX, Throttled} {
		r := d.Response(rt)
		if got := r.Headers["Access-Control-Allow-Origin"]; got != "https://app.example.com" {
			t.Errorf("Response(%s) Access-Control-Allow-Origin = %q, want the origin", rt, got)
		}
	}
	if got := d.Response(Unauthorized).Headers["WWW-Authenticate"]; got == "" {
		t.Error("AllowOrigin dropped the 401's WWW-Authenticate header")
	}
	var preflights []string
	for _, r := range d.Routes {
		if r.Method == "OPTIONS" {
			preflights = append(preflights, r.Path)
			if r.Protected || r.Function != "handler" {
				t.Errorf("preflight route %s: protected %v function %q, want public and the path's function", r, r.Protected, r.Function)
			}
		}
	}
	if want := []string{"/hello", "/customers", "/orders", "/health"}; !slices.Equal(preflights, want) {
		t.Errorf("preflight routes on %q, want one per path %q", preflights, want)
	}
	if d.AllowedOrigin != "https://app.example.com" {
		t.Errorf("AllowedOrigin = %q, want the origin", d.AllowedOrigin)
	}
	bad := Default()
	bad.AllowedOrigin = "app.example.com"
	if err := bad.Validate(); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "CORS origin") {
		t.Errorf("Validate with AllowedOrigin %q = %v, want the CORS origin refused", bad.AllowedOrigin, err)
	}
	withAny := Default()
	withAny.Routes = append(withAny.Routes, Route{Method: "ANY", Path: "/files", Function: "handler"}, Route{Method: "OPTIONS", Path: "/hello", Function: "handler"})
	if err := withAny.AllowOrigin("*"); err != nil {
		t.Fatal(err)
	}
	for _, r := range withAny.Routes[len(Default().Routes)+2:] {
		if r.Path == "/files" || r.Path == "/hello" {
			t.Errorf("AllowOrigin added %s beside an ANY or OPTIONS route", r)
		}
	}
	if err := withAny.Validate(); err != nil {
		t.Errorf("Validate after AllowOrigin: %v", err)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Validate after AllowOrigin: %v", err)
	}
	for _, bad := range []string{"", "app.example.com", "https://app.example.com/", "https://a.example.com/x", "ftp://a.example.com", "https://x'y.example.com", "https://user@a.example.com"} {
		d := Default()
		if err := d.AllowOrigin(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("AllowOrigin(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

// A slow Secrets Manager cannot hold a request past what API Gateway waits
// for: the authorizer's fetch (retries included) ends within
// authorizer.DefaultFetchTimeout, inside the function's timeout, inside
// the 10 s an HTTP API waits for a Lambda authorizer
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-quotas.html)
// and the 29 s of a REST API's integration timeout. The cold start's own
// fetch runs in the init phase, which Lambda bounds at 10 s.
func TestAuthorizerTimeoutsNest(t *testing.T) {
	fn := Default().Functions["authorizer"]
	fetch := authorizer.DefaultFetchTimeout
	if attempts := time.Duration(authorizer.MaxAttempts) * authorizer.AttemptTimeout; attempts < fetch {
		t.Errorf("%d attempts of %v cannot fill the fetch timeout %v", authorizer.MaxAttempts, authorizer.AttemptTimeout, fetch)
	}
	if !(fetch < fn.Timeout && fn.Timeout <= 10*time.Second) {
		t.Errorf("fetch timeout %v, function timeout %v: want fetch < function <= 10s", fetch, fn.Timeout)
	}
}

// An HTTP API's authorizer is a REQUEST one without a validation
// expression, and it has none of a REST API's gateway responses, binary
// media types or access log variables; only it may cache by route or
// use the $default stage; an unknown API type is refused.
func TestAPIType(t *testing.T) {
	http := func(edit func(d *Definition)) func(d *Definition) {
		return func(d *Definition) { d.UseHTTP(); edit(d) }
	}
	for _, c := range []struct {
		name string
		edit func(d *Definition)
		want string // "" for valid
	}{
		{"REST default", func(d *Definition) {}, ""},
		{"HTTP by UseHTTP", http(func(d *Definition) {}), ""},
		{"HTTP with TOKEN", http(func(d *Definition) { d.Authorizer.Type = Token }), "REQUEST authorizer"},
		{"HTTP with a validation regex", http(func(d *Definition) { d.Authorizer.ValidationRegex = BearerRegex }), "validation expression"},
		{"HTTP with gateway responses", http(func(d *Definition) { d.Responses = DefaultResponses() }), "no gateway responses"},
		{"HTTP with binary media types", http(func(d *Definition) { d.BinaryMediaTypes = []string{"image/png"} }), "no binary media types"},
		{"HTTP with a REST access log variable", http(func(d *Definition) { d.AccessLog = DefaultAccessLog() }), "an HTTP API's supported variables"},
		{"REST with an HTTP access log variable", func(d *Definition) { d.AccessLog = DefaultHTTPAccessLog() }, "a REST API's supported variables"},
		{"HTTP $default stage", http(func(d *Definition) { d.Stage = DefaultStage }), ""},
		{"REST $default stage", func(d *Definition) { d.Stage = DefaultStage }, "stage"},
		{"WEBSOCKET", func(d *Definition) { d.Type = "WEBSOCKET" }, `API type "WEBSOCKET"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := Default()
			c.edit(&d)
			err := d.Validate()
			if c.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want valid", err)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Validate() = %v, want an ErrInvalid naming %q", err, c.want)
			}
		})
	}
}

// An HTTP API's identity sources are written in its own notation, with
// the route key and the method whenever answers are cached: the cache
// then keeps one answer per route and method, as tollgate's authorizer
// decides them (issue 26, defect 1;
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
// With the cache off, identity sources are only checked to be present.
func TestHTTPIdentitySources(t *testing.T) {
	a := Authorizer{IdentitySources: []string{"method.request.header.Authorization", "method.request.querystring.tenant", "stageVariables.v", "context.identity.sourceIp"}}
	for _, c := range []struct {
		ttl  time.Duration
		want []string
	}{
		{300 * time.Second, []string{"$request.header.Authorization", "$request.querystring.tenant", "$stageVariables.v", "$context.identity.sourceIp", RouteKeySource, MethodSource}},
		{0, []string{"$request.header.Authorization", "$request.querystring.tenant", "$stageVariables.v", "$context.identity.sourceIp"}},
	} {
		a.ResultTTL = c.ttl
		if got := a.HTTPIdentitySources(); !slices.Equal(got, c.want) {
			t.Errorf("TTL %v: %q, want %q", c.ttl, got, c.want)
		}
	}
}

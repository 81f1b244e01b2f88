package api

import (
	"reflect"
	"strings"
	"testing"
)

const jwtFile = `functions:
  handler:
    package: ./cmd/handler
routes:
  - route: GET /hello
    function: handler
  - route: GET /reports
    function: handler
    auth: jwt
    scopes: [reports:read, reports:admin]
  - route: GET /me
    function: handler
    auth: jwt
`

// Routes that only take JWTs use API Gateway's own JWT authorizer: read
// from api.yaml, checked, written to the HTTP API's document and read
// back from it as they were.
func TestJWTRoutes(t *testing.T) {
	def, err := ParseFile([]byte(jwtFile))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Route{
		"GET /hello":   {Method: "GET", Path: "/hello", Function: "handler", Protected: true},
		"GET /reports": {Method: "GET", Path: "/reports", Function: "handler", JWT: true, Scopes: []string{"reports:read", "reports:admin"}},
		"GET /me":      {Method: "GET", Path: "/me", Function: "handler", JWT: true},
	}
	for _, r := range def.Routes {
		if !reflect.DeepEqual(r, want[r.String()]) {
			t.Errorf("%s read as %+v", r, r)
		}
	}
	// As read, a REST API without the authorizer's settings: both are
	// missing.
	if err := def.Validate(); err == nil || !strings.Contains(err.Error(), "HTTP APIs only") {
		t.Errorf("JWT routes on a REST API: %v", err)
	}
	def.UseHTTP()
	if err := def.Validate(); err == nil || !strings.Contains(err.Error(), "issuer and audiences") {
		t.Errorf("JWT routes without the authorizer: %v", err)
	}
	def.JWT = &JWTAuthorizer{Issuer: "https://id.example.com/", Audiences: []string{"orders-api"}}
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	doc, err := def.Document(DocumentOptions{IntegrationURI: LocalURI})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{`"type": "jwt"`, `"issuer": "https://id.example.com/"`, `"identitySource": "$request.header.Authorization"`, `"reports:admin"`} {
		if !strings.Contains(string(doc), s) {
			t.Errorf("the document lacks %s:\n%s", s, doc)
		}
	}
	back, err := ParseDocument(doc, LocalFunction)
	if err != nil {
		t.Fatal(err)
	}
	if !back.IsHTTP() || !reflect.DeepEqual(back.JWT, def.JWT) || !reflect.DeepEqual(back.SortedRoutes(), def.SortedRoutes()) {
		t.Errorf("read back %+v %+v, want %+v %+v", back.JWT, back.SortedRoutes(), def.JWT, def.SortedRoutes())
	}

	for _, c := range []struct{ name, file, want string }{
		{"public and jwt", strings.Replace(jwtFile, "    auth: jwt\n    scopes", "    public: true\n    auth: jwt\n    scopes", 1), "not both"},
		{"scopes without jwt", strings.Replace(jwtFile, "    function: handler\n  - route: GET /reports", "    function: handler\n    scopes: [a]\n  - route: GET /reports", 1), "scopes apply to routes with auth: jwt"},
		{"unknown auth", strings.Replace(jwtFile, "auth: jwt\n    scopes", "auth: cognito\n    scopes", 1), `auth "cognito"`},
		{"scope with a space", strings.Replace(jwtFile, "reports:admin", `"reports admin"`, 1), "scopes hold no spaces"},
	} {
		if _, err := ParseFile([]byte(c.file)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	def.JWT.Audiences = nil
	if err := def.Validate(); err == nil || !strings.Contains(err.Error(), "audience") {
		t.Errorf("no audience: %v", err)
	}
}

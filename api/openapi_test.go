package api

import (
	"encoding/json"
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// localDocument is d's document with local integration URIs.
func localDocument(t *testing.T, d Definition, usagePlan bool) []byte {
	t.Helper()
	doc, err := d.Document(DocumentOptions{IntegrationURI: LocalURI, UsagePlan: usagePlan})
	if err != nil {
		t.Fatalf("Document: %v", err)
	}
	return doc
}

// definitions are the shapes the document must carry: the default API,
// REQUEST authorizers, ANY and greedy routes, path parameters, CORS and
// changed gateway responses.
func definitions(t *testing.T) map[string]Definition {
	t.Helper()
	out := map[string]Definition{"default": Default()}

	req := Default()
	req.Authorizer.Type, req.Authorizer.ValidationRegex, req.Authorizer.ResultTTL = Request, "", 0
	req.Authorizer.IdentitySources = []string{"method.request.header.X-Api-Key", "method.request.querystring.tenant", "context.httpMethod"}
	out["request"] = req

	routes := Default()
	routes.Routes = append(slices.Clone(routes.Routes),
		Route{Method: "ANY", Path: "/files/{path+}", Function: "handler", Protected: true},
		Route{Method: "GET", Path: "/orders/{id}", Function: "handler", Protected: true},
		Route{Method: "DELETE", Path: "/orders/{id}/items/{item}", Function: "handler", Protected: true},
		Route{Method: "ANY", Path: "/", Function: "handler"},
		Route{Method: "HEAD", Path: "/health", Function: "handler"})
	out["routes"] = routes

	cors := Default()
	if err := cors.AllowOrigin("https://app.example.com"); err != nil {
		t.Fatal(err)
	}
	out["cors"] = cors

	resp := Default()
	resp.Responses = maps.Clone(resp.Responses)
	resp.Responses[AccessDenied] = GatewayResponse{StatusCode: 404, Template: `{"message":"Not found"}`, Headers: map[string]string{"X-Reason": "scope"}}
	resp.Responses[Throttled] = GatewayResponse{}
	out["responses"] = resp

	h := Default()
	h.UseHTTP()
	out["http"] = h
	byRoute := routes
	byRoute.UseHTTP()
	byRoute.Authorizer.IdentitySources = []string{"method.request.header.X-Api-Key", "method.request.querystring.tenant"}
	out["http-routes-by-route"] = byRoute
	return out
}

// What the local gateway serves is what the document deploys: the routes,
// the authorizer and the gateway responses read back from the document are
// the Definition's.
func TestDocumentRoundTrip(t *testing.T) {
	for name, d := range definitions(t) {
		t.Run(name, func(t *testing.T) {
			for _, plan := range []bool{false, true} {
				if plan && d.IsHTTP() {
					continue // an HTTP API has no usage plans
				}
				got, err := ParseDocument(localDocument(t, d, plan), LocalFunction)
				if err != nil {
					t.Fatalf("ParseDocument: %v", err)
				}
				want := d.SortedRoutes()
				gotRoutes := got.SortedRoutes()
				if !reflect.DeepEqual(gotRoutes, want) {
					t.Errorf("routes =\n%v\nwant\n%v", gotRoutes, want)
				}
				if !reflect.DeepEqual(got.Authorizer, d.Authorizer) {
					t.Errorf("authorizer = %+v, want %+v", got.Authorizer, d.Authorizer)
				}
				if !reflect.DeepEqual(got.Responses, d.Responses) {
					t.Errorf("responses = %+v, want %+v", got.Responses, d.Responses)
				}
				if got.IsHTTP() != d.IsHTTP() {
					t.Errorf("type = %q, want %q", got.Type, d.Type)
				}
				if got.Name != d.Name {
					t.Errorf("name = %q, want %q", got.Name, d.Name)
				}
			}
		})
	}
}

// The same Definition gives the same bytes (its hash names a
// deployment), and any change to what API Gateway serves gives others.
func TestDocumentIsDeterministic(t *testing.T) {
	base := localDocument(t, Default(), false)
	for range 5 {
		if again := localDocument(t, Default(), false); string(again) != string(base) {
			t.Fatal("two documents of the same Definition differ")
		}
	}
	seen := map[string]string{DocumentHash(base): "the default"}
	for name, d := range definitions(t) {
		if name == "default" {
			continue
		}
		h := DocumentHash(localDocument(t, d, false))
		if other, dup := seen[h]; dup {
			t.Errorf("%s gives the same document as %s", name, other)
		}
		seen[h] = name
	}
	if h := DocumentHash(localDocument(t, Default(), true)); seen[h] != "" {
		t.Error("a usage plan does not change the document")
	}
}

// The document's shape, as API Gateway's import reads it.
func TestDocumentShape(t *testing.T) {
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
		} `json:"components"`
		KeySource string                    `json:"x-amazon-apigateway-api-key-source"`
		Responses map[string]map[string]any `json:"x-amazon-apigateway-gateway-responses"`
	}
	d := definitions(t)["routes"]
	if err := json.Unmarshal(localDocument(t, d, true), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.0.1" || doc.KeySource != "AUTHORIZER" {
		t.Errorf("openapi %q, key source %q", doc.OpenAPI, doc.KeySource)
	}
	get := doc.Paths["/hello"]["get"]
	integration := get["x-amazon-apigateway-integration"].(map[string]any)
	if integration["type"] != "aws_proxy" || integration["httpMethod"] != "POST" || integration["uri"] != LocalURI("handler") {
		t.Errorf("GET /hello integration = %v", integration)
	}
	security, _ := json.Marshal(get["security"])
	if string(security) != `[{"api_key":[],"authorizer":[]}]` {
		t.Errorf("GET /hello security = %s, want the authorizer and an API key", security)
	}
	if _, ok := doc.Paths["/health"]["get"]["security"]; ok {
		t.Error("the public GET /health requires something")
	}
	anyOp := doc.Paths["/files/{path+}"]["x-amazon-apigateway-any-method"]
	params, _ := json.Marshal(anyOp["parameters"])
	if !strings.Contains(string(params), `"name":"path"`) || !strings.Contains(string(params), `"in":"path"`) {
		t.Errorf("ANY /files/{path+} parameters = %s, want the greedy parameter named path", params)
	}
	scheme := doc.Components.SecuritySchemes["authorizer"]
	authz := scheme["x-amazon-apigateway-authorizer"].(map[string]any)
	if scheme["type"] != "apiKey" || scheme["name"] != "Authorization" || scheme["in"] != "header" || scheme["x-amazon-apigateway-authtype"] != "custom" {
		t.Errorf("authorizer scheme = %v", scheme)
	}
	if authz["type"] != "token" || authz["identitySource"] != "method.request.header.Authorization" ||
		authz["authorizerResultTtlInSeconds"] != 300.0 || authz["identityValidationExpression"] != BearerRegex || authz["authorizerUri"] != LocalURI("authorizer") {
		t.Errorf("x-amazon-apigateway-authorizer = %v", authz)
	}
	if k := doc.Components.SecuritySchemes[APIKeySecurityScheme]; k["name"] != "x-api-key" || k["in"] != "header" {
		t.Errorf("api key scheme = %v", k)
	}
	unauth := doc.Responses["UNAUTHORIZED"]
	if _, ok := unauth["statusCode"]; ok {
		t.Errorf("UNAUTHORIZED sets a status: %v", unauth)
	}
	if p := unauth["responseParameters"].(map[string]any); p["gatewayresponse.header.WWW-Authenticate"] != `'Bearer realm="tollgate"'` {
		t.Errorf("UNAUTHORIZED parameters = %v", p)
	}

	if err := json.Unmarshal(localDocument(t, definitions(t)["responses"], false), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Responses["ACCESS_DENIED"]["statusCode"] != "404" {
		t.Errorf("ACCESS_DENIED statusCode = %v, want the string \"404\" (the extension's type)", doc.Responses["ACCESS_DENIED"]["statusCode"])
	}
	if doc.KeySource != "HEADER" {
		t.Errorf("key source without a usage plan = %q, want HEADER", doc.KeySource)
	}

	req := definitions(t)["request"]
	if err := json.Unmarshal(localDocument(t, req, false), &doc); err != nil {
		t.Fatal(err)
	}
	authz = doc.Components.SecuritySchemes["authorizer"]["x-amazon-apigateway-authorizer"].(map[string]any)
	if authz["type"] != "request" || authz["identitySource"] != "method.request.header.X-Api-Key, method.request.querystring.tenant, context.httpMethod" ||
		authz["authorizerResultTtlInSeconds"] != 0.0 || authz["identityValidationExpression"] != nil {
		t.Errorf("REQUEST authorizer = %v", authz)
	}
}

// An HTTP API's document, as its import reads it: Lambda proxy
// integrations of payload format 2.0
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html),
// and a REQUEST authorizer of payload format 2.0 with simple responses and
// identity sources in the HTTP API notation, as the HTTP API example of
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html
// declares it. No REST API extension is left in it.
func TestHTTPDocumentShape(t *testing.T) {
	d := definitions(t)["http-routes-by-route"]
	raw := localDocument(t, d, false)
	var doc struct {
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{extAPIKeySource, extGatewayResponses, extBinaryMediaTypes, extAuthType, "passthroughBehavior"} {
		if strings.Contains(string(raw), ext) {
			t.Errorf("an HTTP API's document holds %s", ext)
		}
	}
	want := map[string]any{
		"type": "aws_proxy", "httpMethod": "POST", "uri": LocalURI("handler"), "payloadFormatVersion": "2.0",
	}
	if got := doc.Paths["/orders/{id}"]["get"][extIntegration]; !reflect.DeepEqual(got, want) {
		t.Errorf("integration = %v, want %v", got, want)
	}
	if got := doc.Paths["/files/{path+}"][extAnyMethod][extIntegration]; !reflect.DeepEqual(got, want) {
		t.Errorf("ANY integration = %v, want %v", got, want)
	}
	scheme := doc.Components.SecuritySchemes["authorizer"]
	wantAuth := map[string]any{
		"type":                           "request",
		"authorizerUri":                  LocalURI("authorizer"),
		"authorizerPayloadFormatVersion": "2.0",
		"enableSimpleResponses":          true,
		"authorizerResultTtlInSeconds":   float64(300),
		// Commas alone: issue 28, defect 6 (TestDocumentWritesWhatAWSShows).
		"identitySource": "$request.header.X-Api-Key,$request.querystring.tenant,$context.routeKey,$context.httpMethod",
	}
	if got := scheme[extAuthorizer]; !reflect.DeepEqual(got, wantAuth) {
		t.Errorf("authorizer = %v\nwant %v", got, wantAuth)
	}
	if scheme["type"] != "apiKey" || scheme["in"] != "header" || scheme["name"] != "X-Api-Key" {
		t.Errorf("security scheme = %v, want an apiKey scheme on the header X-Api-Key", scheme)
	}
	if _, err := d.Document(DocumentOptions{IntegrationURI: LocalURI, UsagePlan: true}); !errors.Is(err, ErrInvalid) {
		t.Errorf("an HTTP API's document with a usage plan = %v, want ErrInvalid", err)
	}
}

func TestDocumentRefusesInvalid(t *testing.T) {
	d := Default()
	d.Routes = nil
	if _, err := d.Document(DocumentOptions{IntegrationURI: LocalURI}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Document of an API without routes = %v, want ErrInvalid", err)
	}
	d = Default()
	if _, err := d.Document(DocumentOptions{}); !errors.Is(err, ErrInvalid) {
		t.Errorf("Document without integration URIs = %v, want ErrInvalid", err)
	}
}

func TestParseDocumentRefuses(t *testing.T) {
	good := string(localDocument(t, Default(), false))
	cases := map[string]string{
		"not JSON":               "{",
		"another integration":    strings.Replace(good, `"aws_proxy"`, `"http_proxy"`, 1),
		"an unknown function":    strings.Replace(good, LocalURI("handler"), "arn:aws:lambda:x", 1),
		"a non-static parameter": strings.Replace(good, `"'Bearer realm=\"tollgate\"'"`, `"method.request.header.x"`, 1),
		"a bad status":           strings.Replace(good, `"UNAUTHORIZED": {`, `"UNAUTHORIZED": {"statusCode": "four",`, 1),
	}
	h := Default()
	h.UseHTTP()
	http := string(localDocument(t, h, false))
	cases["payload format 1.0"] = strings.Replace(http, `"payloadFormatVersion": "2.0"`, `"payloadFormatVersion": "1.0"`, 1)
	cases["an IAM policy authorizer"] = strings.Replace(http, `"enableSimpleResponses": true`, `"enableSimpleResponses": false`, 1)
	cases["a REST identity source in an HTTP API"] = strings.Replace(http, `"$request.header.Authorization,`, `"method.request.header.Authorization,`, 1)
	for name, doc := range cases {
		if doc == good || doc == http {
			t.Fatalf("%s: the case changes nothing", name)
		}
		if _, err := ParseDocument([]byte(doc), LocalFunction); !errors.Is(err, ErrDocument) {
			t.Errorf("%s: ParseDocument = %v, want ErrDocument", name, err)
		}
	}
}

func TestLocalURI(t *testing.T) {
	for _, fn := range []string{"handler", "a", "my-fn_2"} {
		if got, err := LocalFunction(LocalURI(fn)); err != nil || got != fn {
			t.Errorf("LocalFunction(LocalURI(%q)) = %q, %v", fn, got, err)
		}
	}
	for _, uri := range []string{"", LocalURI(""), "arn:aws:lambda:us-east-1:123456789012:function:x", strings.TrimSuffix(LocalURI("x"), "/invocations")} {
		if _, err := LocalFunction(uri); err == nil {
			t.Errorf("LocalFunction(%q) succeeded", uri)
		}
	}
}

// FuzzDocument: any valid Definition built from the fuzzer's routes, REST
// or HTTP, gives a document that validates and reads back to the same
// routes and authorizer.
func FuzzDocument(f *testing.F) {
	f.Add("GET", "/hello", true, "ANY", "/files/{path+}", false, uint16(300))
	f.Add("POST", "/a/{b}/c", false, "DELETE", "/a/{b}", true, uint16(0))
	f.Add("ANY", "/{proxy+}", true, "GET", "/", false, uint16(0x8000+60))
	f.Fuzz(func(t *testing.T, m1, p1 string, prot1 bool, m2, p2 string, prot2 bool, ttl uint16) {
		d := Default()
		d.Routes = []Route{{Method: m1, Path: p1, Function: "handler", Protected: prot1}, {Method: m2, Path: p2, Function: "handler", Protected: prot2}}
		d.Authorizer.ResultTTL = time.Duration(ttl%3601) * time.Second
		if ttl&0x8000 != 0 { // the high bit: an HTTP API
			d.UseHTTP()
		}
		if d.Validate() != nil {
			return
		}
		doc, err := d.Document(DocumentOptions{IntegrationURI: LocalURI})
		if err != nil {
			t.Fatalf("valid definition %v: Document: %v", d.Routes, err)
		}
		got, err := ParseDocument(doc, LocalFunction)
		if err != nil {
			t.Fatalf("ParseDocument: %v", err)
		}
		if !reflect.DeepEqual(got.SortedRoutes(), d.SortedRoutes()) {
			t.Fatalf("read back %v, want %v", got.SortedRoutes(), d.SortedRoutes())
		}
		// Without a protected route the document declares no authorizer.
		if want := d.Authorizer; (prot1 || prot2) && !reflect.DeepEqual(got.Authorizer, want) {
			t.Fatalf("authorizer read back %+v, want %+v", got.Authorizer, want)
		}
		if !prot1 && !prot2 && got.Authorizer.Function != "" {
			t.Fatalf("an API without protected routes declares authorizer %+v", got.Authorizer)
		}
	})
}

// Issue 28, defect 6: each construct is written as AWS's own pages (or an
// export) write it. A greedy {path+} is declared as the parameter path
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html,
// its OpenAPI 3.0 example: "/{proxy+}" with the parameter "proxy"). The
// JWT authorizer's scheme is an oauth2 scheme with no flows, as the JWT
// example of
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html
// writes it. An HTTP API's identity sources are "a comma-separated list"
// (the same page), written with commas alone: no page shows an HTTP API's
// several sources, and a list member never holds a space. A REST API's
// document states its endpoint configuration in a server object, where
// OpenAPI 3.0 puts it
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-endpoint-configuration.html).
func TestDocumentWritesWhatAWSShows(t *testing.T) {
	defs := definitions(t)
	jwt := defs["http"]
	jwt.Routes = append(slices.Clone(jwt.Routes), Route{Method: "GET", Path: "/reports", Function: "handler", JWT: true, Scopes: []string{"reports:read"}})
	jwt.JWT = &JWTAuthorizer{Issuer: "https://id.example.com/", Audiences: []string{"api"}}
	var doc struct {
		Servers    []map[string]any                     `json:"servers"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	if err := json.Unmarshal(localDocument(t, jwt, false), &doc); err != nil {
		t.Fatal(err)
	}
	scheme := doc.Components.SecuritySchemes[JWTScheme]
	if _, flows := scheme["flows"]; flows || scheme["type"] != "oauth2" {
		t.Errorf("the JWT scheme is %v; want AWS's example, oauth2 without flows", scheme)
	}
	if src := doc.Components.SecuritySchemes["authorizer"][extAuthorizer].(map[string]any)["identitySource"]; strings.Contains(src.(string), " ") {
		t.Errorf("the HTTP API's identity sources %q hold spaces", src)
	}

	doc.Servers = nil
	if err := json.Unmarshal(localDocument(t, defs["routes"], false), &doc); err != nil {
		t.Fatal(err)
	}
	params := doc.Paths["/files/{path+}"][extAnyMethod]["parameters"].([]any)
	if p := params[0].(map[string]any); p["name"] != "path" || p["in"] != "path" || p["required"] != true {
		t.Errorf("the greedy parameter is declared %v; want the name path, as AWS's example declares {proxy+}", p)
	}
	if len(doc.Servers) != 1 || doc.Servers[0]["x-amazon-apigateway-endpoint-configuration"] == nil {
		t.Errorf("the REST API's servers %v state no endpoint configuration", doc.Servers)
	}
}

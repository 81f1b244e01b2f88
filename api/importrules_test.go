package api

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// Every document tollgate writes passes API Gateway's import rules, for
// every shape the tests build (Document refuses one that does not).
func TestDocumentsPassImportRules(t *testing.T) {
	for name, d := range definitions(t) {
		for _, plan := range []bool{false, true} {
			if plan && d.IsHTTP() {
				continue
			}
			if broken := CheckImport(localDocument(t, d, plan), d.IsHTTP(), false); len(broken) > 0 {
				t.Errorf("%s (usage plan %v):\n%s", name, plan, strings.Join(broken, "\n"))
			}
		}
	}
}

// Each rule fires on a planted violation of it, and every rule cites an
// AWS page.
func TestImportRulesFire(t *testing.T) {
	defs := definitions(t)
	restDef := defs["routes"]
	restDef.BinaryMediaTypes = []string{"image/png"}
	httpDef := defs["http"]
	httpDef.Routes = append(slices.Clone(httpDef.Routes),
		Route{Method: "GET", Path: "/reports", Function: "handler", JWT: true, Scopes: []string{"reports:read"}},
		Route{Method: "ANY", Path: "/files/{path+}", Function: "handler", Protected: true})
	httpDef.JWT = &JWTAuthorizer{Issuer: "https://id.example.com/", Audiences: []string{"api"}}
	load := func(d Definition, plan bool) map[string]any {
		var m map[string]any
		if err := json.Unmarshal(localDocument(t, d, plan), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	obj := func(m map[string]any, path ...string) map[string]any {
		for _, k := range path {
			m = m[k].(map[string]any)
		}
		return m
	}
	op := func(m map[string]any) map[string]any { return obj(m, "paths", "/hello", "get") }
	integration := func(m map[string]any) map[string]any { return obj(op(m), extIntegration) }
	authorizer := func(m map[string]any) map[string]any { return obj(m, "components", "securitySchemes", "authorizer") }
	cases := []struct {
		rule  string
		http  bool
		plant func(doc map[string]any)
	}{
		{"openapi-3.0", false, func(d map[string]any) { d["openapi"] = "2.0" }},
		{"info-title", true, func(d map[string]any) { obj(d, "info")["title"] = " " }},
		{"lambda-proxy-integration", false, func(d map[string]any) { integration(d)["type"] = "aws" }},
		{"lambda-proxy-integration", false, func(d map[string]any) { integration(d)["httpMethod"] = "GET" }},
		{"lambda-proxy-integration", true, func(d map[string]any) { integration(d)["uri"] = "arn:aws:lambda:us-east-1:123456789012:function:f" }},
		{"http-payload-format", true, func(d map[string]any) { integration(d)["payloadFormatVersion"] = 2.0 }},
		{"http-one-authorizer", true, func(d map[string]any) {
			op(d)["security"] = []any{map[string]any{"authorizer": []any{}}, map[string]any{JWTScheme: []any{}}}
		}},
		{"rest-security-requirement", false, func(d map[string]any) {
			op(d)["security"] = []any{map[string]any{"authorizer": []any{}, "other": []any{}}}
		}},
		{"security-scheme-declared", false, func(d map[string]any) { op(d)["security"] = []any{map[string]any{"nobody": []any{}}} }},
		{"rest-lambda-authorizer", false, func(d map[string]any) { authorizer(d)[extAuthType] = "oauth2" }},
		{"rest-lambda-authorizer", false, func(d map[string]any) {
			obj(authorizer(d), extAuthorizer)["identitySource"] = "method.request.header.Other"
		}},
		{"rest-lambda-authorizer", false, func(d map[string]any) { obj(authorizer(d), extAuthorizer)["authorizerResultTtlInSeconds"] = 3601.0 }},
		{"http-lambda-authorizer", true, func(d map[string]any) {
			obj(authorizer(d), extAuthorizer)["identitySource"] = "$request.header.Authorization, $context.routeKey"
		}},
		{"http-lambda-authorizer", true, func(d map[string]any) { obj(authorizer(d), extAuthorizer)["enableSimpleResponses"] = false }},
		{"http-lambda-authorizer", true, func(d map[string]any) {
			obj(authorizer(d), extAuthorizer)["identitySource"] = "method.request.header.Authorization"
		}},
		{"http-jwt-authorizer", true, func(d map[string]any) { obj(d, "components", "securitySchemes", JWTScheme)["flows"] = map[string]any{} }},
		{"http-jwt-authorizer", true, func(d map[string]any) {
			obj(d, "components", "securitySchemes", JWTScheme, extAuthorizer, "jwtConfiguration")["audience"] = []any{}
		}},
		{"http-jwt-issuer", true, func(d map[string]any) {
			obj(d, "components", "securitySchemes", JWTScheme, extAuthorizer, "jwtConfiguration")["issuer"] = "tollgate-local"
		}},
		{"path-parameters", false, func(d map[string]any) {
			p := obj(d, "paths", "/files/{path+}", extAnyMethod)["parameters"].([]any)[0].(map[string]any)
			p["name"] = "path+"
		}},
		{"path-parameters", false, func(d map[string]any) {
			paths := obj(d, "paths")
			paths["/files/{path+}/more"] = paths["/files/{path+}"]
		}},
		{"rest-schema-keywords", false, func(d map[string]any) {
			p := obj(d, "paths", "/orders/{id}", "get")["parameters"].([]any)[0].(map[string]any)
			obj(p, "schema")["pattern"] = "^[0-9]+$"
		}},
		{"rest-gateway-responses", false, func(d map[string]any) { obj(d, extGatewayResponses)["NOT_A_TYPE"] = map[string]any{} }},
		{"rest-gateway-responses", false, func(d map[string]any) { obj(d, extGatewayResponses, "UNAUTHORIZED")["statusCode"] = 401.0 }},
		{"rest-gateway-responses", false, func(d map[string]any) {
			obj(d, extGatewayResponses, "UNAUTHORIZED")["responseParameters"] = map[string]any{"gatewayresponse.header.X": "unquoted"}
		}},
		{"rest-api-key-source", false, func(d map[string]any) { d[extAPIKeySource] = "QUERY" }},
		{"rest-endpoint-configuration", false, func(d map[string]any) { delete(d, "servers") }},
		{"rest-endpoint-configuration", false, func(d map[string]any) {
			d[extEndpointConfiguration] = map[string]any{"disableExecuteApiEndpoint": false}
		}},
		{"rest-binary-media-types", false, func(d map[string]any) { d[extBinaryMediaTypes] = []any{"png"} }},
		{"http-rest-only-extensions", true, func(d map[string]any) { d[extAPIKeySource] = "HEADER" }},
		{"http-rest-only-extensions", true, func(d map[string]any) { authorizer(d)[extAuthType] = "custom" }},
	}
	covered := map[string]bool{}
	for _, c := range cases {
		d, def := load(restDef, false), restDef
		if c.http {
			d, def = load(httpDef, false), httpDef
		}
		if broken := CheckImport(mustJSON(t, d), def.IsHTTP(), false); len(broken) > 0 {
			t.Fatalf("the base document breaks rules:\n%s", strings.Join(broken, "\n"))
		}
		c.plant(d)
		broken := CheckImport(mustJSON(t, d), def.IsHTTP(), false)
		if !slices.ContainsFunc(broken, func(b string) bool { return strings.HasPrefix(b, c.rule+": ") }) {
			t.Errorf("rule %s did not fire on its planted violation; fired: %v", c.rule, broken)
		}
		covered[c.rule] = true
	}
	for _, r := range ImportRules {
		if !covered[r.ID] {
			t.Errorf("rule %s has no planted violation", r.ID)
		}
		if !strings.HasPrefix(r.Page, "https://docs.aws.amazon.com/") || !r.REST && !r.HTTP {
			t.Errorf("rule %s: page %q, REST %v, HTTP %v", r.ID, r.Page, r.REST, r.HTTP)
		}
	}
	t.Logf("%d import rules, each fired by a planted violation", len(ImportRules))
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The local gateway's own document, whose JWT issuer is the local one, is
// not held to the rule about the issuer AWS fetches keys from; a deployed
// one is.
func TestLocalDocumentKeepsItsIssuer(t *testing.T) {
	d := definitions(t)["http"]
	d.Routes = append(slices.Clone(d.Routes), Route{Method: "GET", Path: "/reports", Function: "handler", JWT: true})
	d.JWT = &JWTAuthorizer{Issuer: "tollgate-local", Audiences: []string{"tollgate-local"}}
	if _, err := d.Document(DocumentOptions{IntegrationURI: LocalURI, Local: true}); err != nil {
		t.Errorf("local document: %v", err)
	}
	_, err := d.Document(DocumentOptions{IntegrationURI: LocalURI})
	if err == nil || !strings.Contains(err.Error(), "http-jwt-issuer") {
		t.Errorf("deployed document with a local issuer: %v, want http-jwt-issuer", err)
	}
}

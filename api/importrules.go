package api

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// API Gateway's import rules: what its OpenAPI importer accepts, refuses,
// or warns about and leaves out (the deploy imports with failOnWarnings,
// so a warning fails it), as AWS documents them. Document checks every
// document it writes against them, beside kin-openapi's own validation,
// so that a document the importer would refuse is refused where it is
// made, by the local run, the tests and `pulumi preview` alike, before
// anything is created. Each rule cites its page; TestImportRulesFire
// plants a violation of each and sees it fire.

// ImportRule is one of API Gateway's import rules.
type ImportRule struct {
	// ID names the rule in errors.
	ID string
	// Page is the AWS page the rule comes from.
	Page string
	// REST and HTTP say which kinds of API it applies to.
	REST, HTTP bool
	// Deployed marks a rule about what AWS does with the deployed API
	// beyond the import (it fetches the JWT issuer's keys), which the
	// local gateway's own documents need not follow: CheckImport with
	// local skips it.
	Deployed bool
	// check returns what in doc breaks the rule.
	check func(doc map[string]any) []string
}

// ImportRules are the rules CheckImport applies.
var ImportRules = []ImportRule{
	{ID: "openapi-3.0", REST: true, HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html (HTTP APIs import OpenAPI 3.0 only; tollgate writes 3.0 for both)",
		check: func(doc map[string]any) []string {
			if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0.") {
				return []string{fmt.Sprintf("openapi is %q, want 3.0.x", v)}
			}
			return nil
		}},
	{ID: "info-title", REST: true, HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html (the example's info: title, description, version; an import names the API from them)",
		check: func(doc map[string]any) []string {
			info, _ := doc["info"].(map[string]any)
			if t, _ := info["title"].(string); strings.TrimSpace(t) == "" {
				return []string{"info.title is empty"}
			}
			return nil
		}},
	{ID: "lambda-proxy-integration", REST: true, HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html (type aws_proxy, httpMethod POST: \"For Lambda integrations, you must use the HTTP method of POST\"); https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-integration.html (uri arn:aws:apigateway:REGION:lambda:path/2015-03-31/functions/FUNCTION_ARN/invocations)",
		check: func(doc map[string]any) []string {
			var out []string
			eachOperation(doc, func(where string, op map[string]any) {
				in, _ := op[extIntegration].(map[string]any)
				if in == nil {
					out = append(out, where+": no "+extIntegration)
					return
				}
				if t, _ := in["type"].(string); !strings.EqualFold(t, "aws_proxy") {
					out = append(out, fmt.Sprintf("%s: integration type %q, want aws_proxy", where, t))
				}
				if m, _ := in["httpMethod"].(string); m != "POST" {
					out = append(out, fmt.Sprintf("%s: integration httpMethod %q, want POST", where, m))
				}
				if u, _ := in["uri"].(string); !lambdaInvokeURI.MatchString(u) {
					out = append(out, fmt.Sprintf("%s: integration uri %q is no Lambda invoke URI", where, u))
				}
			})
			return out
		}},
	{ID: "http-payload-format", HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html (payloadFormatVersion 1.0 or 2.0; tollgate's functions answer 2.0)",
		check: func(doc map[string]any) []string {
			var out []string
			eachOperation(doc, func(where string, op map[string]any) {
				in, _ := op[extIntegration].(map[string]any)
				if v, _ := in["payloadFormatVersion"].(string); v != "2.0" {
					out = append(out, fmt.Sprintf("%s: payloadFormatVersion %v, want \"2.0\"", where, in["payloadFormatVersion"]))
				}
			})
			return out
		}},
	{ID: "http-one-authorizer", HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html (\"Each operation can have only one of IAM authorization, a Lambda authorizer, or a JWT authorizer\": more is an error)",
		check: func(doc map[string]any) []string {
			var out []string
			eachOperation(doc, func(where string, op map[string]any) {
				if sec, ok := op["security"].([]any); ok {
					if len(sec) > 1 {
						out = append(out, fmt.Sprintf("%s: %d security requirements", where, len(sec)))
					} else if len(sec) == 1 {
						if req, _ := sec[0].(map[string]any); len(req) != 1 {
							out = append(out, fmt.Sprintf("%s: a security requirement of %d schemes", where, len(req)))
						}
					}
				}
			})
			return out
		}},
	{ID: "rest-security-requirement", REST: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html (an operation names its authorizer in one requirement); https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-api-key-source.html (with it, the API key scheme)",
		check: func(doc map[string]any) []string {
			var out []string
			eachOperation(doc, func(where string, op map[string]any) {
				sec, ok := op["security"].([]any)
				if !ok {
					return
				}
				if len(sec) != 1 {
					out = append(out, fmt.Sprintf("%s: %d security requirements, want one", where, len(sec)))
					return
				}
				req, _ := sec[0].(map[string]any)
				authorizers := 0
				for name := range req {
					if name != APIKeySecurityScheme {
						authorizers++
					}
				}
				if authorizers != 1 {
					out = append(out, fmt.Sprintf("%s: %d authorizers in its requirement, want one (and the API key scheme, with a usage plan)", where, authorizers))
				}
			})
			return out
		}},
	{ID: "security-scheme-declared", REST: true, HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html (the authorizer is a security scheme in components.securitySchemes that operations name)",
		check: func(doc map[string]any) []string {
			schemes := securitySchemes(doc)
			var out []string
			eachOperation(doc, func(where string, op map[string]any) {
				sec, _ := op["security"].([]any)
				for _, r := range sec {
					req, _ := r.(map[string]any)
					for _, name := range slices.Sorted(maps.Keys(req)) {
						if schemes[name] == nil {
							out = append(out, fmt.Sprintf("%s: security scheme %q is not declared", where, name))
						}
					}
				}
			})
			return out
		}},
	{ID: "rest-lambda-authorizer", REST: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html (REST examples: an apiKey scheme in the header, x-amazon-apigateway-authtype custom, authorizer type token or request; a token authorizer's name is its header; \"Unused\" for several identity sources; sources method.request.header|querystring.NAME, context.NAME, stageVariables.NAME, separated by commas; authorizerResultTtlInSeconds 0 to 3600)",
		check: func(doc map[string]any) []string {
			var out []string
			eachScheme(doc, func(name string, s map[string]any) {
				a, ok := s[extAuthorizer].(map[string]any)
				if !ok {
					return
				}
				bad := func(f string, args ...any) {
					out = append(out, fmt.Sprintf("scheme %s: ", name)+fmt.Sprintf(f, args...))
				}
				if s["type"] != "apiKey" || s["in"] != "header" || s[extAuthType] != "custom" {
					bad("type %v in %v authtype %v, want an apiKey scheme in the header, authtype custom", s["type"], s["in"], s[extAuthType])
				}
				typ, _ := a["type"].(string)
				sources := splitSources(a["identitySource"])
				switch typ {
				case "token":
					if len(sources) != 1 || !strings.EqualFold(sources[0], "method.request.header."+fmt.Sprint(s["name"])) {
						bad("a token authorizer's identity source %v is not its header %v", a["identitySource"], s["name"])
					}
				case "request":
					if len(sources) > 1 && s["name"] != "Unused" {
						bad("several identity sources, and the name %v: want Unused", s["name"])
					}
				default:
					bad("authorizer type %q, want token or request", typ)
				}
				for _, src := range sources {
					if !restIdentitySource.MatchString(src) {
						bad("identity source %q is not method.request.header|querystring.NAME, context.NAME or stageVariables.NAME", src)
					}
				}
				out = append(out, checkAuthorizerCommon(name, a)...)
			})
			return out
		}},
	{ID: "http-lambda-authorizer", HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html (HTTP example: type request, authorizerPayloadFormatVersion \"2.0\", enableSimpleResponses true); https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html#http-api-lambda-authorizer.identity-sources ($request.header.NAME, $request.querystring.NAME, $context.NAME, $stageVariables.NAME)",
		check: func(doc map[string]any) []string {
			var out []string
			eachScheme(doc, func(name string, s map[string]any) {
				a, ok := s[extAuthorizer].(map[string]any)
				if !ok || a["type"] == "jwt" {
					return
				}
				bad := func(f string, args ...any) {
					out = append(out, fmt.Sprintf("scheme %s: ", name)+fmt.Sprintf(f, args...))
				}
				if a["type"] != "request" || a["authorizerPayloadFormatVersion"] != "2.0" || a["enableSimpleResponses"] != true {
					bad("type %v, payload format %v, simple responses %v: want request, \"2.0\", true", a["type"], a["authorizerPayloadFormatVersion"], a["enableSimpleResponses"])
				}
				if s, _ := a["identitySource"].(string); strings.Contains(s, " ") {
					bad("identity sources %q hold spaces", s)
				}
				for _, src := range splitSources(a["identitySource"]) {
					if !httpIdentitySource.MatchString(src) {
						bad("identity source %q is not $request.header|querystring.NAME, $context.NAME or $stageVariables.NAME", src)
					}
				}
				out = append(out, checkAuthorizerCommon(name, a)...)
			})
			return out
		}},
	{ID: "http-jwt-authorizer", HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html (JWT example: an oauth2 scheme, without flows, of type jwt, with jwtConfiguration issuer and audience, identitySource $request.header.NAME)",
		check: func(doc map[string]any) []string {
			var out []string
			eachScheme(doc, func(name string, s map[string]any) {
				a, ok := s[extAuthorizer].(map[string]any)
				if !ok || a["type"] != "jwt" {
					return
				}
				bad := func(f string, args ...any) {
					out = append(out, fmt.Sprintf("scheme %s: ", name)+fmt.Sprintf(f, args...))
				}
				if _, flows := s["flows"]; s["type"] != "oauth2" || flows {
					bad("type %v with flows %v: want oauth2, without flows, as AWS's example", s["type"], s["flows"])
				}
				cfg, _ := a["jwtConfiguration"].(map[string]any)
				issuer, _ := cfg["issuer"].(string)
				audience, _ := cfg["audience"].([]any)
				if issuer == "" || len(audience) == 0 {
					bad("jwtConfiguration %v: want an issuer and at least one audience", cfg)
				}
				if src, _ := a["identitySource"].(string); !jwtIdentitySource.MatchString(src) {
					bad("identity source %q, want one $request.header.NAME", src)
				}
			})
			return out
		}},
	{ID: "http-jwt-issuer", HTTP: true, Deployed: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html (API Gateway checks a token with \"the public key that is fetched from the issuer's jwks_uri\", found by OpenID discovery under the issuer; its example issuer is https://cognito-idp.us-east-2.amazonaws.com/userPoolID)",
		check: func(doc map[string]any) []string {
			var out []string
			eachScheme(doc, func(name string, s map[string]any) {
				a, _ := s[extAuthorizer].(map[string]any)
				if a == nil || a["type"] != "jwt" {
					return
				}
				cfg, _ := a["jwtConfiguration"].(map[string]any)
				if issuer, _ := cfg["issuer"].(string); !strings.HasPrefix(issuer, "https://") {
					out = append(out, fmt.Sprintf("scheme %s: issuer %q is no https URL, where API Gateway could find its keys", name, issuer))
				}
			})
			return out
		}},
	{ID: "path-parameters", REST: true, HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html (a greedy {proxy+} \"must be at the end of the API resource path\" and is declared as the path parameter proxy, required)",
		check: func(doc map[string]any) []string {
			var out []string
			paths, _ := doc["paths"].(map[string]any)
			for _, path := range slices.Sorted(maps.Keys(paths)) {
				var want []string
				segs := strings.Split(strings.TrimPrefix(path, "/"), "/")
				for i, seg := range segs {
					if !strings.HasPrefix(seg, "{") {
						continue
					}
					name := strings.TrimSuffix(strings.Trim(seg, "{}"), "+")
					if strings.HasSuffix(seg, "+}") && i != len(segs)-1 {
						out = append(out, fmt.Sprintf("%s: the greedy parameter {%s+} is not the last segment", path, name))
					}
					want = append(want, name)
				}
				item, _ := paths[path].(map[string]any)
				for _, m := range slices.Sorted(maps.Keys(item)) {
					op, ok := item[m].(map[string]any)
					if !ok || !isOperationKey(m) {
						continue
					}
					var got []string
					params, _ := op["parameters"].([]any)
					for _, p := range params {
						p, _ := p.(map[string]any)
						if p["in"] == "path" {
							if p["required"] != true {
								out = append(out, fmt.Sprintf("%s %s: path parameter %v is not required", m, path, p["name"]))
							}
							got = append(got, fmt.Sprint(p["name"]))
						}
					}
					slices.Sort(got)
					w := slices.Sorted(slices.Values(want))
					if !slices.Equal(got, w) {
						out = append(out, fmt.Sprintf("%s %s: path parameters %v, want %v (a greedy {name+} is declared name)", m, path, got, w))
					}
				}
			}
			return out
		}},
	{ID: "rest-schema-keywords", REST: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-known-issues.html (models: no additionalProperties, allOf, discriminator, example, exclusiveMinimum, oneOf, pattern, readOnly, int32/int64 or decimal formats)",
		check: func(doc map[string]any) []string {
			var out []string
			walkSchemas(doc, "", func(where string, schema map[string]any) {
				for _, k := range []string{"additionalProperties", "allOf", "discriminator", "example", "exclusiveMinimum", "oneOf", "pattern", "readOnly"} {
					if _, ok := schema[k]; ok {
						out = append(out, fmt.Sprintf("%s: schema keyword %s", where, k))
					}
				}
				if f, _ := schema["format"].(string); f == "int32" || f == "int64" || f == "decimal" {
					out = append(out, fmt.Sprintf("%s: schema format %s", where, f))
				}
			})
			return out
		}},
	{ID: "rest-gateway-responses", REST: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html (the types); https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-gateway-responses.gatewayResponse.html (statusCode a string; responseParameters gatewayresponse.header.NAME with a static 'value'; responseTemplates by content type)",
		check: func(doc map[string]any) []string {
			var out []string
			responses, _ := doc[extGatewayResponses].(map[string]any)
			for _, t := range slices.Sorted(maps.Keys(responses)) {
				gr, _ := responses[t].(map[string]any)
				if !slices.Contains(awsResponseTypes, t) {
					out = append(out, fmt.Sprintf("gateway response %s: no such type", t))
				}
				if code, ok := gr["statusCode"]; ok {
					if s, _ := code.(string); !statusDigits.MatchString(s) {
						out = append(out, fmt.Sprintf("gateway response %s: statusCode %v, want a string of three digits", t, code))
					}
				}
				params, _ := gr["responseParameters"].(map[string]any)
				for k, v := range params {
					s, _ := v.(string)
					if !strings.HasPrefix(k, "gatewayresponse.header.") || len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
						out = append(out, fmt.Sprintf("gateway response %s: parameter %s = %v, want gatewayresponse.header.NAME = 'value'", t, k, v))
					}
				}
				templates, _ := gr["responseTemplates"].(map[string]any)
				for ct := range templates {
					if !strings.Contains(ct, "/") {
						out = append(out, fmt.Sprintf("gateway response %s: template for %q, want a content type", t, ct))
					}
				}
			}
			return out
		}},
	{ID: "rest-api-key-source", REST: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-api-key-source.html (HEADER or AUTHORIZER)",
		check: func(doc map[string]any) []string {
			if v, ok := doc[extAPIKeySource]; ok && v != "HEADER" && v != "AUTHORIZER" {
				return []string{fmt.Sprintf("%s %v, want HEADER or AUTHORIZER", extAPIKeySource, v)}
			}
			return nil
		}},
	{ID: "rest-endpoint-configuration", REST: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-endpoint-configuration.html (\"For OpenAPI 3.0, it should be present under the vendor extensions of the Server object\"; disableExecuteApiEndpoint a Boolean)",
		check: func(doc map[string]any) []string {
			var out []string
			if _, top := doc[extEndpointConfiguration]; top {
				out = append(out, extEndpointConfiguration+" at the top level; OpenAPI 3.0 puts it in a server object")
			}
			servers, _ := doc["servers"].([]any)
			found := false
			for _, s := range servers {
				s, _ := s.(map[string]any)
				if c, ok := s[extEndpointConfiguration].(map[string]any); ok {
					found = true
					if _, ok := c["disableExecuteApiEndpoint"].(bool); !ok {
						out = append(out, fmt.Sprintf("server %v: disableExecuteApiEndpoint %v, want a Boolean", s["url"], c["disableExecuteApiEndpoint"]))
					}
				}
			}
			if !found {
				out = append(out, "no server states the endpoint configuration, which an overwrite resets")
			}
			return out
		}},
	{ID: "rest-binary-media-types", REST: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-binary-media-types.html (a list of media types, like image/png)",
		check: func(doc map[string]any) []string {
			raw, ok := doc[extBinaryMediaTypes]
			if !ok {
				return nil
			}
			list, _ := raw.([]any)
			var out []string
			for _, t := range list {
				if s, _ := t.(string); !strings.Contains(s, "/") {
					out = append(out, fmt.Sprintf("binary media type %v, want type/subtype", t))
				}
			}
			if list == nil {
				out = append(out, fmt.Sprintf("%s %v, want a list", extBinaryMediaTypes, raw))
			}
			return out
		}},
	{ID: "http-rest-only-extensions", HTTP: true,
		Page: "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions.html (gateway responses, API key source, binary media types, authtype and request validators are REST APIs' extensions); https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html (what HTTP APIs do not support is left out on import)",
		check: func(doc map[string]any) []string {
			var out []string
			for _, ext := range []string{extGatewayResponses, extAPIKeySource, extBinaryMediaTypes, "x-amazon-apigateway-request-validators"} {
				if _, ok := doc[ext]; ok {
					out = append(out, ext+" is a REST API's")
				}
			}
			eachScheme(doc, func(name string, s map[string]any) {
				if _, ok := s[extAuthType]; ok {
					out = append(out, fmt.Sprintf("scheme %s: %s is a REST API's", name, extAuthType))
				}
			})
			return out
		}},
}

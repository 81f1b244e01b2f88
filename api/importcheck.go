package api

import (
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Applying ImportRules, and what the rules share.

// CheckImport checks an OpenAPI document against ImportRules for a REST or
// an HTTP API, and returns each violation as "rule: what (page)". A local
// document (the local gateway's own, with its own JWT issuer) is not
// held to the rules about what AWS does after the import (Deployed).
func CheckImport(doc []byte, httpAPI, local bool) []string {
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		return []string{"document: " + err.Error()}
	}
	var out []string
	for _, r := range ImportRules {
		if httpAPI && !r.HTTP || !httpAPI && !r.REST || local && r.Deployed {
			continue
		}
		for _, v := range r.check(m) {
			out = append(out, fmt.Sprintf("%s: %s (%s)", r.ID, v, r.Page))
		}
	}
	return out
}

// awsResponseTypes are API Gateway's gateway response types
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
var awsResponseTypes = []string{
	"ACCESS_DENIED", "API_CONFIGURATION_ERROR", "AUTHORIZER_CONFIGURATION_ERROR", "AUTHORIZER_FAILURE",
	"BAD_REQUEST_PARAMETERS", "BAD_REQUEST_BODY", "DEFAULT_4XX", "DEFAULT_5XX", "EXPIRED_TOKEN",
	"INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT", "INVALID_API_KEY", "INVALID_SIGNATURE",
	"MISSING_AUTHENTICATION_TOKEN", "QUOTA_EXCEEDED", "REQUEST_TOO_LARGE", "RESOURCE_NOT_FOUND",
	"THROTTLED", "UNAUTHORIZED", "UNSUPPORTED_MEDIA_TYPE", "WAF_FILTERED",
}

var (
	lambdaInvokeURI    = regexp.MustCompile(`^arn:aws[a-z-]*:apigateway:[a-z0-9-]+:lambda:path/2015-03-31/functions/arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?/invocations$`)
	restIdentitySource = regexp.MustCompile(`^(method\.request\.(header|querystring)\.[^,\s]+|context\.[A-Za-z0-9_.]+|stageVariables\.[A-Za-z0-9_]+)$`)
	httpIdentitySource = regexp.MustCompile(`^(\$request\.(header|querystring)\.[^,\s]+|\$context\.[A-Za-z0-9_.]+|\$stageVariables\.[A-Za-z0-9_]+)$`)
	jwtIdentitySource  = regexp.MustCompile(`^\$request\.header\.[A-Za-z0-9!#$%&'*+.^_|~-]+$`)
	statusDigits       = regexp.MustCompile(`^[1-5][0-9][0-9]$`)
)

// checkAuthorizerCommon checks what both kinds of Lambda authorizer share:
// their URI and result TTL.
func checkAuthorizerCommon(name string, a map[string]any) []string {
	var out []string
	if u, _ := a["authorizerUri"].(string); !lambdaInvokeURI.MatchString(u) {
		out = append(out, fmt.Sprintf("scheme %s: authorizerUri %q is no Lambda invoke URI", name, u))
	}
	if ttl, ok := a["authorizerResultTtlInSeconds"].(float64); !ok || ttl < 0 || ttl > 3600 || ttl != float64(int(ttl)) {
		out = append(out, fmt.Sprintf("scheme %s: authorizerResultTtlInSeconds %v, want a whole number 0 to 3600", name, a["authorizerResultTtlInSeconds"]))
	}
	return out
}

// splitSources are a comma-separated identity source list's members.
func splitSources(v any) []string {
	s, _ := v.(string)
	if s == "" {
		return nil
	}
	var out []string
	for _, p := range strings.Split(s, ",") {
		out = append(out, strings.TrimSpace(p))
	}
	return out
}

// securitySchemes are doc's components.securitySchemes, by name.
func securitySchemes(doc map[string]any) map[string]map[string]any {
	c, _ := doc["components"].(map[string]any)
	raw, _ := c["securitySchemes"].(map[string]any)
	out := map[string]map[string]any{}
	for name, v := range raw {
		if m, ok := v.(map[string]any); ok {
			out[name] = m
		}
	}
	return out
}

// eachScheme calls f with each of doc's security schemes, in name order.
func eachScheme(doc map[string]any, f func(name string, s map[string]any)) {
	schemes := securitySchemes(doc)
	for _, name := range slices.Sorted(maps.Keys(schemes)) {
		f(name, schemes[name])
	}
}

// isOperationKey reports whether a path item's key holds an operation.
func isOperationKey(k string) bool {
	switch k {
	case "get", "put", "post", "delete", "options", "head", "patch", extAnyMethod:
		return true
	}
	return false
}

// eachOperation calls f with every operation of doc, in order, and where
// it is ("GET /orders/{id}").
func eachOperation(doc map[string]any, f func(where string, op map[string]any)) {
	paths, _ := doc["paths"].(map[string]any)
	for _, path := range slices.Sorted(maps.Keys(paths)) {
		item, _ := paths[path].(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(item)) {
			op, ok := item[k].(map[string]any)
			if !ok || !isOperationKey(k) {
				continue
			}
			method := strings.ToUpper(k)
			if k == extAnyMethod {
				method = "ANY"
			}
			f(method+" "+path, op)
		}
	}
}

// walkSchemas calls f with every schema object in v: the values of
// "schema" keys and of components.schemas, and their nested schemas.
func walkSchemas(v any, where string, f func(where string, schema map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		for _, k := range slices.Sorted(maps.Keys(v)) {
			child := v[k]
			if s, ok := child.(map[string]any); ok && (k == "schema" || strings.HasSuffix(where, "/schemas") || k == "items" || strings.HasSuffix(where, "/properties")) {
				f(where+"/"+k, s)
			}
			walkSchemas(child, where+"/"+k, f)
		}
	case []any:
		for i, e := range v {
			walkSchemas(e, fmt.Sprintf("%s/%d", where, i), f)
		}
	}
}

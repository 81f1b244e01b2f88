package api

import (
	"strconv"
	"strings"
)

// AccessLogField is one key of the access log's JSON object and the API
// Gateway $context variable that fills it.
type AccessLogField struct {
	Key      string
	Variable string
}

// AccessLogVariables are the $context variables an access log field may
// name: the ones the local gateway fills as API Gateway does. See
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-mapping-template-reference.html#context-variable-reference.
var AccessLogVariables = []string{
	"$context.requestId",
	"$context.extendedRequestId",
	"$context.requestTime",
	"$context.requestTimeEpoch",
	"$context.identity.sourceIp",
	"$context.identity.userAgent",
	"$context.httpMethod",
	"$context.resourcePath",
	"$context.path",
	"$context.protocol",
	"$context.stage",
	"$context.status",
	"$context.responseLength",
	"$context.responseLatency",
	"$context.integrationLatency",
	"$context.integration.status",
	"$context.authorizer.principalId",
	"$context.identity.apiKeyId",
	"$context.authorizer.status",
	"$context.authorizer.latency",
	"$context.authorizer.integrationLatency",
	"$context.error.message",
	"$context.error.responseType",
}

// HTTPAccessLogVariables are the $context variables an HTTP API's access
// log field may name: the ones of
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
// the local gateway fills. HTTP APIs have no resource path (the route key
// names the route) and report the authorizer's error, not its status.
var HTTPAccessLogVariables = httpAccessLogVariables()

// httpAccessLogVariables are AccessLogVariables without what an HTTP API
// lacks, with its route key and authorizer error.
func httpAccessLogVariables() []string {
	var out []string
	for _, v := range AccessLogVariables {
		switch v {
		case "$context.resourcePath":
			out = append(out, "$context.routeKey")
		case "$context.authorizer.status":
			out = append(out, "$context.authorizer.error")
		case "$context.authorizer.latency", "$context.authorizer.integrationLatency", "$context.identity.apiKeyId":
		default:
			out = append(out, v)
		}
	}
	return out
}

// DefaultHTTPAccessLog is tollgate's access log for an HTTP API: the
// fields of DefaultAccessLog an HTTP API has, the route key for the
// resource path and the authorizer's error for its status and latency.
func DefaultHTTPAccessLog() []AccessLogField {
	var out []AccessLogField
	for _, f := range DefaultAccessLog() {
		switch f.Variable {
		case "$context.resourcePath":
			f = AccessLogField{"routeKey", "$context.routeKey"}
		case "$context.authorizer.status":
			f = AccessLogField{"authorizerError", "$context.authorizer.error"}
		case "$context.authorizer.latency", "$context.identity.apiKeyId":
			continue
		}
		out = append(out, f)
	}
	return out
}

// DefaultAccessLog is tollgate's access log: who called what, what they
// got, and where the time went. It never names a header, so no key is
// logged.
func DefaultAccessLog() []AccessLogField {
	return []AccessLogField{
		{"requestId", "$context.requestId"},
		{"requestTime", "$context.requestTimeEpoch"},
		{"ip", "$context.identity.sourceIp"},
		{"userAgent", "$context.identity.userAgent"},
		{"httpMethod", "$context.httpMethod"},
		{"resourcePath", "$context.resourcePath"},
		{"path", "$context.path"},
		{"protocol", "$context.protocol"},
		{"status", "$context.status"},
		{"responseLength", "$context.responseLength"},
		{"responseLatency", "$context.responseLatency"},
		{"principalId", "$context.authorizer.principalId"},
		{"apiKeyId", "$context.identity.apiKeyId"},
		{"authorizerStatus", "$context.authorizer.status"},
		{"authorizerLatency", "$context.authorizer.latency"},
		{"integrationStatus", "$context.integration.status"},
		{"integrationLatency", "$context.integrationLatency"},
		{"errorType", "$context.error.responseType"},
		{"errorMessage", "$context.error.message"},
	}
}

// AccessLogFormat is the stage's access log format for API Gateway: a JSON
// object with every value a quoted variable, {"requestId":"$context.requestId",…}.
// API Gateway writes "-" for a variable without a value.
func AccessLogFormat(fields []AccessLogField) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(f.Key))
		b.WriteString(`:"`)
		b.WriteString(f.Variable)
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String()
}

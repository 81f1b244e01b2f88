package gateway

import (
	"encoding/json"
	"strconv"
	"time"

	"tollgate/api"
)

// logAccess writes x's access log line: the definition's fields in order,
// every value a string, "-" for a variable without a value, as API Gateway
// writes them.
func (g *Gateway) logAccess(x *exchange) {
	line := make([]byte, 0, 512)
	line = append(line, '{')
	for i, f := range g.def.AccessLog {
		if i > 0 {
			line = append(line, ',')
		}
		line = appendString(line, f.Key)
		line = append(line, ':')
		line = appendString(line, g.accessVariable(x, f.Variable))
	}
	line = append(line, '}', '\n')
	g.logMu.Lock()
	_, _ = g.cfg.AccessLog.Write(line)
	g.logMu.Unlock()
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

func ms(d time.Duration) string { return strconv.FormatInt(d.Milliseconds(), 10) }

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func statusOrDash(n int) string {
	if n == 0 {
		return "-"
	}
	return strconv.Itoa(n)
}

// accessVariable is the value of one of api.AccessLogVariables or
// api.HTTPAccessLogVariables.
func (g *Gateway) accessVariable(x *exchange, v string) string {
	switch v {
	case "$context.requestId":
		return x.id // a REST API's x-amzn-RequestId; an HTTP API's only id
	case "$context.extendedRequestId":
		// A REST API's x-amz-apigw-id
		// (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-access-logging.html);
		// an HTTP API's is its request id (ServeHTTP).
		return x.extendedID
	case "$context.requestTime":
		return x.start.UTC().Format("02/Jan/2006:15:04:05 -0700")
	case "$context.requestTimeEpoch":
		return strconv.FormatInt(x.start.UnixMilli(), 10)
	case "$context.identity.sourceIp":
		return orDash(x.sourceIP)
	case "$context.identity.userAgent":
		return orDash(x.r.UserAgent())
	case "$context.httpMethod":
		return x.r.Method
	case "$context.resourcePath":
		return orDash(x.route.Path)
	case "$context.routeKey":
		if x.route.Method == "" {
			return "-"
		}
		return x.route.String()
	case "$context.path":
		if g.def.Stage == api.DefaultStage { // served at the root
			return x.r.URL.Path
		}
		return "/" + g.def.Stage + x.r.URL.Path
	case "$context.protocol":
		return x.r.Proto
	case "$context.stage":
		return g.def.Stage
	case "$context.status":
		return statusOrDash(x.status)
	case "$context.responseLength":
		return strconv.Itoa(x.responseLength)
	case "$context.responseLatency":
		return ms(g.cfg.Now().Sub(x.start))
	case "$context.integrationLatency":
		if x.intStatus == 0 {
			return "-"
		}
		return ms(x.intLatency)
	case "$context.integration.status":
		return statusOrDash(x.intStatus)
	case "$context.identity.apiKeyId":
		// The id of the usage plan's API key, never its value.
		return orDash(x.apiKeyID)
	case "$context.authorizer.principalId":
		return orDash(x.principalID)
	case "$context.authorizer.status":
		return statusOrDash(x.authStatus)
	case "$context.authorizer.latency":
		if !x.route.Protected {
			return "-"
		}
		return ms(x.authLatency)
	case "$context.authorizer.integrationLatency":
		if !x.authInvoked {
			return "-"
		}
		return ms(x.authIntegration)
	case "$context.authorizer.error":
		if x.errorType != api.AuthorizerFailure && x.errorType != api.AuthorizerConfigurationError {
			return "-"
		}
		return x.errorMessage
	case "$context.error.message":
		return orDash(x.errorMessage)
	case "$context.error.responseType":
		return orDash(string(x.errorType))
	}
	return "-"
}

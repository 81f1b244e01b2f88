package api

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// ResponseType is an API Gateway gateway response type: what went wrong
// when API Gateway, not the integration, answers a request. See
// https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html.
type ResponseType string

// The gateway response types tollgate's API can produce.
const (
	Unauthorized                 ResponseType = "UNAUTHORIZED"
	AccessDenied                 ResponseType = "ACCESS_DENIED"
	AuthorizerFailure            ResponseType = "AUTHORIZER_FAILURE"
	AuthorizerConfigurationError ResponseType = "AUTHORIZER_CONFIGURATION_ERROR"
	MissingAuthenticationToken   ResponseType = "MISSING_AUTHENTICATION_TOKEN"
	IntegrationFailure           ResponseType = "INTEGRATION_FAILURE"
	IntegrationTimeout           ResponseType = "INTEGRATION_TIMEOUT"
	RequestTooLarge              ResponseType = "REQUEST_TOO_LARGE"
	Throttled                    ResponseType = "THROTTLED"
	QuotaExceeded                ResponseType = "QUOTA_EXCEEDED"
	InvalidAPIKey                ResponseType = "INVALID_API_KEY"
	APIConfigurationError        ResponseType = "API_CONFIGURATION_ERROR"
	Default4XX                   ResponseType = "DEFAULT_4XX"
	Default5XX                   ResponseType = "DEFAULT_5XX"
)

// ErrorType is what API Gateway's answers of type t carry in the
// x-amzn-ErrorType header, or "" where this package does not know it.
// AWS does not document the values; these are the ones its answers carry
// for the outcomes tollgate produces, and the conformance suite's
// x-amzn-ErrorType rows check them against a deployed stage.
func (t ResponseType) ErrorType() string {
	switch t {
	case MissingAuthenticationToken:
		return "MissingAuthenticationTokenException"
	case Unauthorized:
		return "UnauthorizedException"
	case AccessDenied:
		return "AccessDeniedException"
	case AuthorizerFailure, AuthorizerConfigurationError:
		return "AuthorizerConfigurationException"
	case Throttled:
		return "TooManyRequestsException"
	case QuotaExceeded:
		return "LimitExceededException"
	case InvalidAPIKey:
		return "ForbiddenException"
	case Default5XX, IntegrationFailure, IntegrationTimeout:
		return "InternalServerErrorException"
	}
	return ""
}

// defaultStatus is the status API Gateway gives each type when neither its
// own gateway response nor its DEFAULT_4XX or DEFAULT_5XX fallback sets
// one. The fallbacks have none: they keep the status of what fell back.
var defaultStatus = map[ResponseType]int{
	Unauthorized:                 401,
	AccessDenied:                 403,
	AuthorizerFailure:            500,
	AuthorizerConfigurationError: 500,
	MissingAuthenticationToken:   403,
	IntegrationFailure:           504,
	IntegrationTimeout:           504,
	RequestTooLarge:              413,
	Throttled:                    429,
	QuotaExceeded:                429,
	InvalidAPIKey:                403,
	APIConfigurationError:        500,
	Default4XX:                   0,
	Default5XX:                   0,
}

// GatewayResponse is the answer API Gateway gives for one response type.
type GatewayResponse struct {
	// StatusCode replaces the type's status; 0 keeps it.
	StatusCode int
	// Headers are added to the answer, with these fixed values.
	Headers map[string]string
	// Template is the application/json body. It may use these variables of
	// API Gateway's mapping templates, which mean the same on AWS and in
	// the local gateway: $context.requestId, $context.error.responseType,
	// $context.error.message (the message as is) and
	// $context.error.messageString (the message as a quoted JSON string).
	// VTL directives are not allowed. Empty means API Gateway's default,
	// DefaultTemplate.
	Template string
}

// DefaultTemplate is API Gateway's body for a gateway response without
// its own template.
const DefaultTemplate = `{"message":$context.error.messageString}`

// DefaultResponses are tollgate's gateway responses: every one JSON,
// naming the response type and the request id, and the 401 carrying the
// RFC 6750 WWW-Authenticate challenge. The authorizer's failures say only
// "Internal server error": what went wrong is in the logs, not in answers.
func DefaultResponses() map[ResponseType]GatewayResponse {
	const described = `{"message":$context.error.messageString,"type":"$context.error.responseType","requestId":"$context.requestId"}`
	const internal = `{"message":"Internal server error","type":"$context.error.responseType","requestId":"$context.requestId"}`
	return map[ResponseType]GatewayResponse{
		Unauthorized:                 {Template: described, Headers: map[string]string{"WWW-Authenticate": `Bearer realm="tollgate"`}},
		AccessDenied:                 {Template: described},
		AuthorizerFailure:            {Template: internal},
		AuthorizerConfigurationError: {Template: internal},
		Default4XX:                   {Template: described},
		Default5XX:                   {Template: described},
	}
}

// Response is the gateway response d gives for t, with its status: t's
// own entry if d has one, otherwise the DEFAULT_4XX or DEFAULT_5XX entry
// (by t's status), otherwise API Gateway's default. This is how API
// Gateway resolves them.
func (d *Definition) Response(t ResponseType) GatewayResponse {
	status := defaultStatus[t]
	r, ok := d.Responses[t]
	if !ok {
		fallback := Default4XX
		if status >= 500 {
			fallback = Default5XX
		}
		r = d.Responses[fallback]
	}
	if r.StatusCode == 0 {
		r.StatusCode = status
	}
	if r.Template == "" {
		r.Template = DefaultTemplate
	}
	return r
}

// ErrorContext is what a gateway response's template can name.
type ErrorContext struct {
	RequestID    string
	ResponseType ResponseType
	Message      string
}

// Render evaluates a template that Validate accepted, as API Gateway
// would.
func Render(template string, c ErrorContext) []byte {
	out := make([]byte, 0, len(template)+len(c.Message)+len(c.RequestID))
	for {
		i := strings.IndexByte(template, '$')
		if i < 0 {
			return append(out, template...)
		}
		out = append(out, template[:i]...)
		template = template[i:]
		name := templateVariable(template)
		switch name {
		case "$context.requestId":
			out = append(out, c.RequestID...)
		case "$context.error.responseType":
			out = append(out, c.ResponseType...)
		case "$context.error.message":
			out = append(out, c.Message...)
		case "$context.error.messageString":
			out = strconv.AppendQuote(out, c.Message)
		default:
			// Validate refuses this; keep it literal, as VTL does with an
			// unknown reference.
			name = "$"
			out = append(out, '$')
		}
		template = template[len(name):]
	}
}

// templateVariables are the references a gateway response may use.
var templateVariables = []string{
	"$context.error.messageString", // before its prefix, $context.error.message
	"$context.error.message",
	"$context.error.responseType",
	"$context.requestId",
}

// templateVariable is the reference at the start of s, or "".
func templateVariable(s string) string {
	for _, v := range templateVariables {
		if strings.HasPrefix(s, v) && !continuesReference(s[len(v):]) {
			return v
		}
	}
	return ""
}

// continuesReference reports whether rest would extend a VTL reference:
// more identifier characters, a property or a method call.
func continuesReference(rest string) bool {
	if rest == "" {
		return false
	}
	c := rest[0]
	return c == '_' || c == '.' || c == '(' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// validateTemplate accepts the subset Render evaluates: JSON text with the
// documented references and no VTL directive.
func validateTemplate(t string) error {
	for i := 0; i < len(t); i++ {
		switch t[i] {
		case '$':
			if templateVariable(t[i:]) == "" {
				end := i + 1
				for end < len(t) && end < i+40 && !strings.ContainsRune(" \",}:", rune(t[end])) {
					end++
				}
				return errorf("template: %q is not one of %s", t[i:end], strings.Join(templateVariables, ", "))
			}
		case '#':
			if i+1 < len(t) {
				c := t[i+1]
				if c == '#' || c == '*' || c == '{' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
					return errorf("template: VTL directive at %q is not supported", t[i:min(len(t), i+12)])
				}
			}
		}
	}
	return nil
}

// AllowOrigin lets browser pages from origin call the API (CORS). origin
// is "*" or a scheme and host, like "https://app.example.com". It
//
//   - adds Access-Control-Allow-Origin: origin to every gateway response,
//     adding DEFAULT_4XX and DEFAULT_5XX with API Gateway's default template
//     if d has none, so the answers API Gateway gives itself (401, 403,
//     429, 5xx…) can be read;
//   - sets d.AllowedOrigin, which the callers that wire the functions
//     pass to every function that answers a route, so tollgate's handler
//     names the origin on its answers;
//   - adds a public OPTIONS route, answered by the path's function, to
//     every path without an OPTIONS or ANY route, for the preflight a
//     browser sends before a request with an Authorization header.
//
// An HTTP API has its own CORS configuration instead (see UseHTTP): API
// Gateway answers the preflights and names the origin on every
// integration's answer, so for an HTTP API AllowOrigin only sets
// d.AllowedOrigin, which the deploy makes the API's CORS configuration
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
func (d *Definition) AllowOrigin(origin string) error {
	if err := validateOrigin(origin); err != nil {
		return err
	}
	if d.IsHTTP() {
		d.AllowedOrigin = origin
		return nil
	}
	preflight := map[string]string{} // path -> function
	var paths []string
	for _, r := range d.Routes {
		if _, seen := preflight[r.Path]; !seen {
			paths = append(paths, r.Path)
			preflight[r.Path] = r.Function
		}
		if r.Method == "OPTIONS" || r.Method == "ANY" {
			preflight[r.Path] = ""
		}
	}
	d.AllowedOrigin = origin
	routes := slices.Clone(d.Routes)
	for _, p := range paths {
		if fn := preflight[p]; fn != "" {
			routes = append(routes, Route{Method: "OPTIONS", Path: p, Function: fn})
		}
	}
	d.Routes = routes
	if d.Responses == nil {
		d.Responses = map[ResponseType]GatewayResponse{}
	}
	for _, t := range []ResponseType{Default4XX, Default5XX} {
		if _, ok := d.Responses[t]; !ok {
			d.Responses[t] = GatewayResponse{}
		}
	}
	for t, r := range d.Responses {
		h := make(map[string]string, len(r.Headers)+1)
		for k, v := range r.Headers {
			h[k] = v
		}
		h["Access-Control-Allow-Origin"] = origin
		r.Headers = h
		d.Responses[t] = r
	}
	return nil
}

// CORS is an HTTP API's CORS configuration
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html):
// API Gateway answers a browser's preflight itself, on every path, before
// routes and authorizers, and names the origin on every answer of an
// integration, in place of any CORS header the integration returns.
type CORS struct {
	AllowOrigins []string
	AllowMethods []string
	AllowHeaders []string
	// MaxAge is how long, in seconds, a browser may cache a preflight's
	// answer.
	MaxAge int
}

// CORSMaxAge is how long browsers may cache a preflight's answer, in
// seconds: the same as tollgate's handler answers REST API preflights with.
const CORSMaxAge = 600

// CORS is the CORS configuration of an HTTP API d with an AllowedOrigin,
// or nil: the origin; the routes' methods (every method with an ANY
// route); the headers the authorizer reads and Content-Type.
func (d *Definition) CORS() *CORS {
	if !d.IsHTTP() || d.AllowedOrigin == "" {
		return nil
	}
	c := &CORS{AllowOrigins: []string{d.AllowedOrigin}, MaxAge: CORSMaxAge}
	for _, r := range d.Routes {
		if r.Method == "ANY" {
			c.AllowMethods = []string{"*"}
			break
		}
		if !slices.Contains(c.AllowMethods, r.Method) {
			c.AllowMethods = append(c.AllowMethods, r.Method)
		}
	}
	slices.Sort(c.AllowMethods)
	for _, s := range d.Authorizer.IdentitySources {
		if src, err := ParseIdentitySource(s); err == nil && src.Location == InHeader {
			c.AllowHeaders = append(c.AllowHeaders, strings.ToLower(src.Name))
		}
	}
	c.AllowHeaders = append(c.AllowHeaders, "content-type")
	slices.Sort(c.AllowHeaders)
	c.AllowHeaders = slices.Compact(c.AllowHeaders)
	return c
}

// validateOrigin accepts "*" or an RFC 6454 serialised origin:
// scheme "://" host [":" port], without a path.
func validateOrigin(origin string) error {
	if origin == "*" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(origin, "'\r\n ") {
		return errorf("CORS origin %q: want * or scheme://host[:port], like https://app.example.com", origin)
	}
	return nil
}

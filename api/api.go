package api

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"tollgate/internal/httptoken"
)

// Definition is a REST API: its routes, the functions behind them, the
// Lambda authorizer guarding the protected ones, the gateway responses and
// the access log. The zero value is not valid; start from Default.
type Definition struct {
	// Name is the REST API's name.
	Name string
	// Stage is the stage the API is deployed to and served on. API Gateway
	// allows letters, digits, '-' and '_', at most 128 characters.
	Stage string
	// Functions are the Lambda functions, by name.
	Functions map[string]Function
	// Routes are the API's methods. Each names one of Functions.
	Routes []Route
	// Authorizer guards every route with Protected set.
	Authorizer Authorizer
	// Responses replace API Gateway's default gateway responses, by type.
	// Types without an entry fall back to DEFAULT_4XX or DEFAULT_5XX, as
	// API Gateway does (see Response).
	Responses map[ResponseType]GatewayResponse
	// AccessLog is the stage's access log format: one JSON object per
	// request, a key per field.
	AccessLog []AccessLogField
	// AllowedOrigin, set by AllowOrigin, is the origin browser pages may
	// call the API from (CORS): "*" or a scheme and host. Whoever wires
	// the functions (the deploy, the local run) gives each function that
	// answers a route the origin, tollgate's handler as handler.Env says.
	AllowedOrigin string
	// BinaryMediaTypes are the media types API Gateway passes as binary
	// ("image/png", "image/*", "*/*"): a request body whose Content-Type
	// matches one reaches a function base64-encoded, and a function's
	// base64-encoded answer is decoded when the request's first Accept
	// value matches one. Without any, every body is text both ways
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/lambda-proxy-binary-media.html).
	BinaryMediaTypes []string
	// JWT is API Gateway's own JWT authorizer, which guards the routes
	// with Route.JWT; nil when no route has it. HTTP APIs only.
	JWT *JWTAuthorizer
	// Type is the kind of API Gateway API: REST (the default, "") or
	// HTTP, an HTTP API (API Gateway v2), whose Lambda authorizer gets
	// payload format 2.0 events and answers with simple responses
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
	Type APIType
}

// JWTAuthorizer is an HTTP API's JWT authorizer
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html):
// API Gateway validates a token against the issuer's keys (found from
// Issuer + "/.well-known/openid-configuration"), its iss, its aud (or,
// without one, its client_id) against Audiences, its exp, nbf and iat,
// and the route's scopes. It reads the Lambda authorizer's token header
// (Authorizer.TokenHeader), where the token may follow "Bearer ".
type JWTAuthorizer struct {
	Issuer    string
	Audiences []string
}

// JWTScheme is the JWT authorizer's security scheme in the OpenAPI
// document.
const JWTScheme = "jwt"

// HasJWTRoutes reports whether a route of d is guarded by the JWT
// authorizer.
func (d *Definition) HasJWTRoutes() bool {
	return slices.ContainsFunc(d.Routes, func(r Route) bool { return r.JWT })
}

// APIType is the kind of API Gateway API.
type APIType string

const (
	// REST is a REST API (API Gateway v1).
	REST APIType = "REST"
	// HTTP is an HTTP API (API Gateway v2).
	HTTP APIType = "HTTP"
)

// IsHTTP reports whether d is an HTTP API.
func (d *Definition) IsHTTP() bool { return d.Type == HTTP }

// DefaultStage is the stage name an HTTP API serves at the root of its
// URL, with no stage in the path
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-stages.html).
const DefaultStage = "$default"

// UseHTTP makes d an HTTP API: its authorizer a REQUEST one (an HTTP API's
// Lambda authorizer is), without validation expression or gateway
// responses, which HTTP APIs do not have, and with tollgate's HTTP API
// access log if d has tollgate's REST one. Call it before AllowOrigin.
func (d *Definition) UseHTTP() {
	d.Type = HTTP
	d.Authorizer.Type, d.Authorizer.ValidationRegex = Request, ""
	d.Responses = nil
	if slices.Equal(d.AccessLog, DefaultAccessLog()) {
		d.AccessLog = DefaultHTTPAccessLog()
	}
}

// Function is a Lambda function built from a Go command and
// run on the provided.al2023 runtime as bootstrap.
type Function struct {
	// Package is the Go package of its main: a path in the module that
	// builds it, like "./cmd/handler", or an import path, like
	// AuthorizerPackage.
	Package string
	// Timeout is the function's timeout: 1 second to 15 minutes, whole
	// seconds.
	Timeout time.Duration
	// MemoryMB is its memory size: 128 to 10240 MB.
	MemoryMB int
	// Env is its environment.
	Env map[string]string
}

// Route is one method of the API: an HTTP method on a resource path.
type Route struct {
	// Method is GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS, or ANY for
	// all of them.
	Method string
	// Path is the resource path: "/" or segments of letters, digits and
	// "-._~:", or path parameters "{name}"; the last segment may be a
	// greedy "{name+}", which matches one or more segments.
	Path string
	// Function is the name of the function in Definition.Functions that
	// answers it, through a Lambda proxy integration.
	Function string
	// Protected routes are guarded by the authorizer; the others are
	// public, unless JWT is set.
	Protected bool
	// JWT routes are guarded by API Gateway's own JWT authorizer
	// (Definition.JWT) instead of tollgate's Lambda authorizer: for routes
	// that take only JWTs, on an HTTP API. They are not Protected.
	JWT bool
	// Scopes, on a JWT route, are the scopes a token must hold at least
	// one of; none means any valid token
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html).
	Scopes []string
	// Throttle, when set, limits this route below the stage's throttle: a
	// method-level throttle of the stage
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
	// Past it, callers get 429 (THROTTLED).
	Throttle *Throttle
}

// Throttle is a token bucket: a steady rate in requests per second and a
// burst, the bucket's size.
type Throttle struct {
	RateLimit  float64
	BurstLimit int
}

// API Gateway's default account-level throttle in a Region, the most a
// stage or method may be given
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
const (
	MaxRateLimit  = 10000
	MaxBurstLimit = 5000
)

// Check refuses a throttle API Gateway would not apply as meant: a rate
// or burst of 0 or less, or past the account's limits. The stage's, a
// usage plan's and its routes' throttles are checked with it.
func (t Throttle) Check() error {
	if t.RateLimit <= 0 || t.BurstLimit <= 0 {
		return fmt.Errorf("throttle %v requests/s, burst %d: want both above 0", t.RateLimit, t.BurstLimit)
	}
	if t.RateLimit > MaxRateLimit || t.BurstLimit > MaxBurstLimit {
		return fmt.Errorf("throttle %v requests/s, burst %d: API Gateway's account limits are %d and %d", t.RateLimit, t.BurstLimit, MaxRateLimit, MaxBurstLimit)
	}
	return nil
}

// String is the route as the authorizer's keyring names routes: "GET /hello".
func (r Route) String() string { return r.Method + " " + r.Path }

// AuthorizerType is the kind of Lambda authorizer.
type AuthorizerType string

const (
	// Token authorizers receive one header's value as authorizationToken.
	Token AuthorizerType = "TOKEN"
	// Request authorizers receive the whole request: headers, query
	// string, stage variables and context.
	Request AuthorizerType = "REQUEST"
)

// Authorizer is the API's Lambda authorizer (API Gateway type CUSTOM).
type Authorizer struct {
	// Function is the name of the function in Definition.Functions.
	Function string
	// Type is Token or Request.
	Type AuthorizerType
	// IdentitySources are where the caller's identity is read, in API
	// Gateway's notation: "method.request.header.NAME",
	// "method.request.querystring.NAME", "stageVariables.NAME" or
	// "context.NAME". A Token authorizer has exactly one, a header. A
	// Request authorizer has at least one header; the first header is the
	// one tollgate's authorizer reads the key from (TokenHeader). A request
	// missing any of them is answered 401 without invoking the authorizer,
	// and together they are the result cache's key.
	IdentitySources []string
	// ValidationRegex, for a Token authorizer, is matched against the
	// token before the authorizer is invoked; a token that does not match
	// is answered 401. Empty means no check. It must mean the same in Go's
	// RE2 and in API Gateway's Java regular expressions: keep to character
	// classes, anchors and repetition.
	ValidationRegex string
	// ResultTTL is how long API Gateway caches the authorizer's answer for
	// the same identity: 0 (no cache) to 1 hour, whole seconds.
	ResultTTL time.Duration
}

// The HTTP API identity sources that make the authorizer's cached answer
// one route's and one method's: the request's route key and method. An
// HTTP API caches the authorizer's simple answer by its identity sources
// alone and applies it to every route
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html:
// "To cache responses per route, add $context.routeKey to your
// authorizer's identity sources"); a context variable of
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
// may be one ("Context variable: $context.variableName").
const (
	RouteKeySource = "$context.routeKey"
	MethodSource   = "$context.httpMethod"
)

// HTTPIdentitySources are a's identity sources in an HTTP API's notation
// ("$request.header.Authorization", "$request.querystring.NAME",
// "$stageVariables.NAME", "$context.NAME"), and, when answers are cached,
// RouteKeySource and MethodSource: tollgate's authorizer decides an HTTP
// API's request by its route and method (a limited key is allowed a route
// only if it covers all of the route's paths), so the cached answer is
// right for every request with the same identity, route and method, and a
// key added later with any limit is safe under it.
func (a Authorizer) HTTPIdentitySources() []string {
	out := make([]string, 0, len(a.IdentitySources)+2)
	for _, s := range a.IdentitySources {
		src, err := ParseIdentitySource(s)
		if err != nil {
			continue // Validate reports it
		}
		out = append(out, src.HTTP())
	}
	if a.ResultTTL > 0 {
		out = append(out, RouteKeySource, MethodSource)
	}
	return out
}

// httpLocations are the HTTP API notation of each IdentityLocation.
var httpLocations = map[IdentityLocation]string{
	InHeader:        "$request.header.",
	InQueryString:   "$request.querystring.",
	InStageVariable: "$stageVariables.",
	InContext:       "$context.",
}

// HTTP is s in an HTTP API's notation: "$request.header.Authorization".
func (s IdentitySource) HTTP() string { return httpLocations[s.Location] + s.Name }

// parseHTTPIdentitySource reads an HTTP API identity source back into
// the REST notation Authorizer.IdentitySources hold.
func parseHTTPIdentitySource(s string) (IdentitySource, error) {
	for _, loc := range []IdentityLocation{InHeader, InQueryString, InStageVariable, InContext} {
		if name, ok := strings.CutPrefix(s, httpLocations[loc]); ok && httptoken.Valid(name) {
			return IdentitySource{Location: loc, Name: name}, nil
		}
	}
	return IdentitySource{}, errorf("identity source %q: want $request.header.NAME, $request.querystring.NAME, $stageVariables.NAME or $context.NAME", s)
}

// TokenHeader is the header tollgate's authorizer reads the key from: the
// first header identity source, or "" if there is none.
func (a Authorizer) TokenHeader() string {
	for _, s := range a.IdentitySources {
		if src, err := ParseIdentitySource(s); err == nil && src.Location == InHeader {
			return src.Name
		}
	}
	return ""
}

// Default is tollgate's API: the protected routes GET /hello, GET
// /customers and POST /orders and the public GET /health, answered by the
// handler function; a TOKEN authorizer on the Authorization header that
// accepts only "Bearer <RFC 6750 token>" and caches answers for 5 minutes;
// JSON gateway responses; and a JSON access log.
func Default() Definition {
	return Definition{
		Name:  "tollgate",
		Stage: "dev",
		Functions: map[string]Function{
			"authorizer": {Package: AuthorizerPackage, Timeout: 5 * time.Second, MemoryMB: 256},
			"handler":    {Package: "./cmd/handler", Timeout: 10 * time.Second, MemoryMB: 128},
		},
		Routes: []Route{
			{Method: "GET", Path: "/hello", Function: "handler", Protected: true},
			{Method: "GET", Path: "/customers", Function: "handler", Protected: true},
			{Method: "POST", Path: "/orders", Function: "handler", Protected: true},
			{Method: "GET", Path: "/health", Function: "handler"},
		},
		Authorizer: Authorizer{
			Function:        "authorizer",
			Type:            Token,
			IdentitySources: []string{"method.request.header.Authorization"},
			ValidationRegex: BearerRegex,
			ResultTTL:       300 * time.Second,
		},
		Responses: DefaultResponses(),
		AccessLog: DefaultAccessLog(),
	}
}

// BearerRegex accepts the Bearer scheme in any case (RFC 9110 section
// 11.1: the scheme is case-insensitive, and so is tollgate's authorizer),
// a space and an RFC 6750 b64token: the tokens tollgate's authorizer can
// accept with its default Bearer scheme. Character classes rather than
// (?i), so that it means the same in RE2 and in API Gateway's Java
// regular expressions.
const BearerRegex = `^[Bb][Ee][Aa][Rr][Ee][Rr] [-0-9A-Za-z._~+/]+=*$`

// IdentityLocation is where an identity source is read from.
type IdentityLocation string

const (
	InHeader        IdentityLocation = "method.request.header."
	InQueryString   IdentityLocation = "method.request.querystring."
	InStageVariable IdentityLocation = "stageVariables."
	InContext       IdentityLocation = "context."
)

// IdentitySource is one parsed entry of Authorizer.IdentitySources.
type IdentitySource struct {
	Location IdentityLocation
	Name     string
}

func (s IdentitySource) String() string { return string(s.Location) + s.Name }

// ParseIdentitySource parses API Gateway's notation, like
// "method.request.header.Authorization".
func ParseIdentitySource(s string) (IdentitySource, error) {
	for _, loc := range []IdentityLocation{InHeader, InQueryString, InStageVariable, InContext} {
		if name, ok := strings.CutPrefix(s, string(loc)); ok {
			if !httptoken.Valid(name) {
				return IdentitySource{}, errorf("identity source %q: %q is not a valid name", s, name)
			}
			return IdentitySource{Location: loc, Name: name}, nil
		}
	}
	return IdentitySource{}, errorf("identity source %q: want method.request.header.NAME, method.request.querystring.NAME, stageVariables.NAME or context.NAME", s)
}

// AnswersRoutes reports whether function fn answers one of d's routes.
func (d *Definition) AnswersRoutes(fn string) bool {
	for _, r := range d.Routes {
		if r.Function == fn {
			return true
		}
	}
	return false
}

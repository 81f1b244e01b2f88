package api

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"

	"tollgate/internal/httptoken"
	"tollgate/internal/iam"
)

// ErrInvalid is wrapped by every error Validate returns.
var ErrInvalid = errors.New("invalid API definition")

func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// MaxResultTTL is the longest authorizer result TTL API Gateway allows.
const MaxResultTTL = time.Hour

// methods are the HTTP methods a route may have: API Gateway's, and ANY.
var methods = append([]string{"ANY"}, iam.Methods()...)

var (
	stageName    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	functionName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
)

// Validate reports the first thing in d that API Gateway or Lambda would
// refuse, or that would make the API unsafe, as an error wrapping
// ErrInvalid. Deploying and serving both start with it.
func (d *Definition) Validate() error {
	if strings.TrimSpace(d.Name) == "" {
		return errorf("the API has no name")
	}
	if !stageName.MatchString(d.Stage) && (d.Stage != DefaultStage || !d.IsHTTP()) {
		return errorf("stage %q: use 1 to 128 letters, digits, '-' or '_' (or, for an HTTP API, %s)", d.Stage, DefaultStage)
	}
	for _, name := range slices.Sorted(maps.Keys(d.Functions)) {
		if err := validateFunction(name, d.Functions[name]); err != nil {
			return err
		}
	}
	switch d.Type {
	case "", REST:
	case HTTP:
		// An HTTP API's Lambda authorizer is a REQUEST one, with no
		// validation expression
		// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
		if d.Authorizer.Type != Request {
			return errorf("an HTTP API's Lambda authorizer is a REQUEST authorizer, not %s", d.Authorizer.Type)
		}
		if d.Authorizer.ValidationRegex != "" {
			return errorf("an HTTP API's authorizer has no validation expression")
		}
		// Nor gateway responses or binary media types: an HTTP API
		// answers its own errors with fixed bodies, and base64-encodes
		// any body that is not text itself
		// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
		if len(d.Responses) > 0 {
			return errorf("an HTTP API has no gateway responses: its own answers are fixed ({\"message\":\"Unauthorized\"}…); remove the responses or deploy a REST API")
		}
		if len(d.BinaryMediaTypes) > 0 {
			return errorf("an HTTP API has no binary media types: it base64-encodes every body that is not text itself; remove binaryMediaTypes or deploy a REST API")
		}
	default:
		return errorf("API type %q: want REST or HTTP", d.Type)
	}
	for _, t := range d.BinaryMediaTypes {
		if !mediaType.MatchString(t) {
			return errorf("binary media type %q: want type/subtype, either of them *, like image/png or image/*", t)
		}
	}
	if len(d.Routes) == 0 {
		return errorf("the API has no routes")
	}
	if d.AllowedOrigin != "" {
		if err := validateOrigin(d.AllowedOrigin); err != nil {
			return err
		}
	}
	protected := false
	seen := map[string]bool{}
	for _, r := range d.Routes {
		if err := d.validateRoute(r); err != nil {
			return err
		}
		key := r.Method + " " + shape(r.Path)
		if seen[key] {
			return errorf("route %s: defined twice", r)
		}
		seen[key] = true
		protected = protected || r.Protected
	}
	if err := siblingParams(d.Routes); err != nil {
		return err
	}
	if err := d.validateJWT(); err != nil {
		return err
	}
	if protected {
		if err := d.validateAuthorizer(); err != nil {
			return err
		}
	}
	for _, t := range slices.Sorted(maps.Keys(d.Responses)) {
		if err := validateResponse(t, d.Responses[t]); err != nil {
			return err
		}
	}
	if len(d.AccessLog) == 0 {
		return errorf("the access log has no fields")
	}
	keys := map[string]bool{}
	for _, f := range d.AccessLog {
		if f.Key == "" || keys[f.Key] {
			return errorf("access log field %q: keys must be unique and not empty", f.Key)
		}
		keys[f.Key] = true
		variables, kind := AccessLogVariables, "a REST API's"
		if d.IsHTTP() {
			variables, kind = HTTPAccessLogVariables, "an HTTP API's"
		}
		if !slices.Contains(variables, f.Variable) {
			return errorf("access log field %q: %q is not one of %s supported variables", f.Key, f.Variable, kind)
		}
	}
	return nil
}

func validateFunction(name string, f Function) error {
	if !functionName.MatchString(name) {
		return errorf("function %q: use 1 to 64 letters, digits, '-' or '_'", name)
	}
	if !validPackage(f.Package) {
		return errorf("function %q: package %q: want a Go package: a path in this module like ./functions/%s, or an import path", name, f.Package, name)
	}
	if f.Timeout < time.Second || f.Timeout > 15*time.Minute || f.Timeout%time.Second != 0 {
		return errorf("function %q: timeout %v: want whole seconds from 1s to 15m", name, f.Timeout)
	}
	if f.MemoryMB < 128 || f.MemoryMB > 10240 {
		return errorf("function %q: memory %d MB: want 128 to 10240", name, f.MemoryMB)
	}
	for k := range f.Env {
		if !isEnvName(k) || strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "LAMBDA_") {
			return errorf("function %q: environment variable %q: not a valid name, or reserved by Lambda", name, k)
		}
	}
	return nil
}

func isEnvName(s string) bool {
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func (d *Definition) validateRoute(r Route) error {
	if t := r.Throttle; t != nil {
		if t.RateLimit <= 0 || t.BurstLimit <= 0 || t.RateLimit > MaxRateLimit || t.BurstLimit > MaxBurstLimit {
			return errorf("route %s: throttle %v requests/s, burst %d: want a rate above 0 and at most %d, and a burst from 1 to %d", r, t.RateLimit, t.BurstLimit, MaxRateLimit, MaxBurstLimit)
		}
		if r.Path == "/" {
			return errorf("route %s: a throttle on the root path is not supported; the stage's throttle covers it", r)
		}
	}
	if !slices.Contains(methods, r.Method) {
		return errorf("route %s: method %q: want one of %s", r, r.Method, strings.Join(methods, ", "))
	}
	if _, err := segments(r.Path); err != nil {
		return errorf("route %s: %v", r, err)
	}
	if _, ok := d.Functions[r.Function]; !ok {
		return errorf("route %s: no function named %q", r, r.Function)
	}
	if r.Function == d.Authorizer.Function {
		return errorf("route %s: the authorizer function cannot answer a route", r)
	}
	return nil
}

// siblingParams refuses two path parameters with different names at the
// same place in the resource tree, which API Gateway refuses too: it could
// not tell which name a segment has.
func siblingParams(routes []Route) error {
	params := map[string]string{} // parent path -> parameter name
	for _, r := range routes {
		segs, _ := segments(r.Path)
		parent := ""
		for _, s := range segs {
			if s.kind != literal {
				if other, ok := params[parent]; ok && other != s.text {
					return errorf("route %s: parameter {%s} beside {%s} under %q", r, s.text, other, parent+"/")
				}
				params[parent] = s.text
			}
			parent += "/" + s.raw
		}
	}
	return nil
}

func (d *Definition) validateAuthorizer() error {
	a := d.Authorizer
	if _, ok := d.Functions[a.Function]; !ok {
		return errorf("authorizer: no function named %q", a.Function)
	}
	headers := 0
	for _, s := range a.IdentitySources {
		src, err := ParseIdentitySource(s)
		if err != nil {
			return err
		}
		if src.Location == InHeader {
			headers++
		}
	}
	switch a.Type {
	case Token:
		if len(a.IdentitySources) != 1 || headers != 1 {
			return errorf("authorizer: a TOKEN authorizer reads exactly one header, method.request.header.NAME; got %q", a.IdentitySources)
		}
	case Request:
		if headers == 0 {
			return errorf("authorizer: a REQUEST authorizer needs the header holding the key among its identity sources, or a cached answer could be replayed for another caller")
		}
		if a.ValidationRegex != "" {
			return errorf("authorizer: API Gateway applies a validation regex only to TOKEN authorizers")
		}
	default:
		return errorf("authorizer: type %q: want TOKEN or REQUEST", a.Type)
	}
	if a.ValidationRegex != "" {
		if _, err := regexp.Compile(a.ValidationRegex); err != nil {
			return errorf("authorizer: validation regex: %v", err)
		}
	}
	if a.ResultTTL < 0 || a.ResultTTL > MaxResultTTL || a.ResultTTL%time.Second != 0 {
		return errorf("authorizer: result TTL %v: want whole seconds from 0 (no cache) to 1h", a.ResultTTL)
	}
	return nil
}

func validateResponse(t ResponseType, r GatewayResponse) error {
	status, known := defaultStatus[t]
	if !known {
		return errorf("gateway response %q: not a type tollgate's API can produce", t)
	}
	if r.StatusCode != 0 {
		lo, hi := 400, 599
		if status >= 500 || t == Default5XX {
			lo = 500
		} else if status > 0 || t == Default4XX {
			hi = 499
		}
		if r.StatusCode < lo || r.StatusCode > hi {
			return errorf("gateway response %s: status %d: want %d to %d", t, r.StatusCode, lo, hi)
		}
	}
	for name, v := range r.Headers {
		// API Gateway sets a gateway response header from a static value
		// in single quotes, 'value', which cannot hold a quote itself.
		if !httptoken.Valid(name) || strings.ContainsAny(v, "\r\n\x00'") {
			return errorf("gateway response %s: header %q: invalid name, or a value with a line break, NUL or single quote", t, name)
		}
		if http.CanonicalHeaderKey(name) == "Content-Type" {
			return errorf("gateway response %s: header %q: gateway responses are application/json", t, name)
		}
	}
	return validateTemplate(r.Template)
}

// validateJWT checks the JWT authorizer and its routes: an HTTP API's only
// (jwtConfiguration is "Supported only for HTTP APIs",
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html),
// with an issuer and at least one audience, each route guarded by one
// authorizer (an operation has one security requirement,
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-open-api.html).
func (d *Definition) validateJWT() error {
	for _, r := range d.Routes {
		switch {
		case !r.JWT && r.Scopes != nil:
			return errorf("route %s: scopes apply to JWT routes only", r)
		case !r.JWT:
		case r.Protected:
			return errorf("route %s: guarded by tollgate's authorizer and the JWT authorizer; a route has one", r)
		case !d.IsHTTP():
			return errorf("route %s: API Gateway's JWT authorizers are for HTTP APIs only; deploy an HTTP API (apiType http) or let tollgate's authorizer take JWTs (the jwt setting)", r)
		case d.JWT == nil:
			return errorf("route %s: a JWT route needs the JWT authorizer's issuer and audiences (the jwt setting)", r)
		}
		for _, s := range r.Scopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n") {
				return errorf("route %s: scope %q: scopes hold no spaces", r, s)
			}
		}
	}
	if j := d.JWT; j != nil {
		if !d.IsHTTP() {
			return errorf("API Gateway's JWT authorizers are for HTTP APIs only")
		}
		if j.Issuer == "" || strings.TrimSpace(j.Issuer) != j.Issuer {
			return errorf("the JWT authorizer has no issuer")
		}
		if len(j.Audiences) == 0 || slices.Contains(j.Audiences, "") {
			return errorf("the JWT authorizer needs at least one audience, none empty")
		}
	}
	return nil
}

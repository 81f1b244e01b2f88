package gateway

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"tollgate/api"
)

// An HTTP API (api.HTTP) is served as API Gateway serves an HTTP API with
// a Lambda REQUEST authorizer of payload format 2.0 and simple responses
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html)
// and Lambda proxy integrations of payload format 2.0
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html):
//
//   - no route: 404 {"message":"Not Found"};
//   - a route's throttle: 429 {"message":"Too Many Requests"};
//   - an identity source missing or empty: 401 {"message":"Unauthorized"},
//     the authorizer not invoked;
//   - the authorizer's simple response, cached by the identity sources'
//     values for the result TTL ($context.routeKey and $context.httpMethod
//     among them whenever answers are cached, so that one route's answer
//     never serves another): isAuthorized false is 403
//     {"message":"Forbidden"}; an error, a timeout or an answer that is
//     not a simple response is 500 {"message":"Internal Server Error"};
//   - a JWT route is guarded by the JWT authorizer instead (authorizeJWT);
//   - the integration gets a payload 2.0 event (lower-case header names,
//     repeated ones joined with ","; cookies apart; the authorizer's
//     context in requestContext.authorizer.lambda), and its answer is
//     read as format 2.0: an object with statusCode, or any other JSON
//     value as a 200 application/json body; an answer that is not JSON,
//     or a function error, is 500 {"message":"Internal Server Error"}.
//
// With a CORS configuration (api.Definition.CORS), a preflight on any path
// is answered 204 before routes and authorizer, and an integration's
// answer names the allowed origin in place of its own CORS headers
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
//
// Answers carry apigw-requestid, as an HTTP API's do.

// The HTTP API's own answers.
const (
	httpNotFound     = `{"message":"Not Found"}`
	httpUnauthorized = `{"message":"Unauthorized"}`
	httpForbidden    = `{"message":"Forbidden"}`
	httpThrottled    = `{"message":"Too Many Requests"}`
	httpInternal     = `{"message":"Internal Server Error"}`
)

// serveHTTPAPI answers one request of an HTTP API.
func (g *Gateway) serveHTTPAPI(x *exchange) {
	if g.cors != nil && x.r.Method == http.MethodOptions && x.r.Header.Get("Origin") != "" && x.r.Header.Get("Access-Control-Request-Method") != "" {
		g.preflight(x)
		return
	}
	route, params, ok := g.def.Match(x.r.Method, x.r.URL.Path)
	if !ok {
		g.httpAnswer(x, http.StatusNotFound, httpNotFound, "")
		return
	}
	x.route, x.params = route, params
	x.methodARN = g.methodARN(x.r.Method, x.r.URL.Path)
	if b := g.throttles[route.String()]; b != nil && !b.take(x.start) {
		g.httpAnswer(x, http.StatusTooManyRequests, httpThrottled, api.Throttled)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(x.w, x.r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		g.httpAnswer(x, http.StatusRequestEntityTooLarge, `{"message":"Request Entity Too Large"}`, api.RequestTooLarge)
		return
	}
	x.body = body
	req := g.v2Request(x)
	var authorizer *events.APIGatewayV2HTTPRequestContextAuthorizerDescription
	switch {
	case route.Protected:
		lambdaContext, ok := g.authorizeHTTP(x, req)
		if !ok {
			return
		}
		authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: lambdaContext}
	case route.JWT:
		jwt, ok := g.authorizeJWT(x)
		if !ok {
			return
		}
		authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{JWT: jwt}
	}
	g.integrateHTTP(x, req, authorizer)
}

// httpAnswer writes one of the HTTP API's own answers.
func (g *Gateway) httpAnswer(x *exchange, status int, body string, t api.ResponseType) {
	x.errorType, x.errorMessage = t, body
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(status)
	_, _ = x.w.Write([]byte(body))
	x.status, x.responseLength = status, len(body)
}

func (g *Gateway) httpIdentityValue(x *exchange, source string) string {
	switch {
	case source == api.RouteKeySource:
		return x.route.String()
	case strings.HasPrefix(source, "$request.header."):
		return strings.Join(x.r.Header.Values(strings.TrimPrefix(source, "$request.header.")), ",")
	case strings.HasPrefix(source, "$request.querystring."):
		return strings.Join(x.r.URL.Query()[strings.TrimPrefix(source, "$request.querystring.")], ",")
	case strings.HasPrefix(source, "$context."):
		return g.contextValue(x, strings.TrimPrefix(source, "$context."))
	}
	return ""
}

// authorizeHTTP runs the authorizer, or takes its cached answer, and
// returns its context when the request may go on.
func (g *Gateway) authorizeHTTP(x *exchange, req v2Request) (map[string]any, bool) {
	began := g.cfg.Now()
	defer func() { x.authLatency = g.cfg.Now().Sub(began) }()
	// The identity sources as the document declares them, with the route
	// key and the method when answers are cached
	// (api.Authorizer.HTTPIdentitySources).
	sources := g.httpSource
	values := make([]string, len(sources))
	for i, s := range sources {
		values[i] = g.httpIdentityValue(x, s)
		if values[i] == "" {
			g.httpAnswer(x, http.StatusUnauthorized, httpUnauthorized, api.Unauthorized)
			return nil, false
		}
	}
	key := strings.Join(values, "\x00")
	p, ok := g.cache.get(key, g.cfg.Now())
	if !ok {
		var failed bool
		p, failed = g.invokeSimple(x, req, values)
		if failed {
			return nil, false
		}
		g.cache.put(key, p, g.cfg.Now())
	}
	if !p.authorized {
		g.httpAnswer(x, http.StatusForbidden, httpForbidden, api.AccessDenied)
		return nil, false
	}
	ctx := map[string]any{}
	for k, v := range p.simpleContext {
		ctx[k] = v
	}
	return ctx, true
}

// invokeSimple invokes the authorizer with a payload 2.0 event and reads
// its simple response. On an error it answers the request itself.
func (g *Gateway) invokeSimple(x *exchange, req v2Request, identity []string) (policy, bool) {
	ev := events.APIGatewayV2CustomAuthorizerV2Request{
		Version: "2.0", Type: "REQUEST", RouteArn: x.methodARN, IdentitySource: identity,
		RouteKey: x.route.String(), RawPath: x.r.URL.Path, RawQueryString: x.r.URL.RawQuery,
		Cookies: req.cookies, Headers: req.headers, QueryStringParameters: req.query,
		RequestContext: req.context, PathParameters: x.params,
	}
	event, err := json.Marshal(ev)
	if err != nil {
		g.httpAnswer(x, http.StatusInternalServerError, httpInternal, api.AuthorizerConfigurationError)
		return policy{}, true
	}
	out, failure := g.callAuthorizer(x, event)
	switch failure {
	case api.Unauthorized:
		g.httpAnswer(x, http.StatusUnauthorized, httpUnauthorized, failure)
		return policy{}, true
	case api.AuthorizerFailure:
		g.httpAnswer(x, http.StatusInternalServerError, httpInternal, failure)
		return policy{}, true
	}
	p, err := parseSimple(out)
	if err != nil {
		x.authStatus = http.StatusInternalServerError
		g.httpAnswer(x, http.StatusInternalServerError, httpInternal, api.AuthorizerConfigurationError)
		return policy{}, true
	}
	x.authStatus = http.StatusOK
	return p, false
}

// parseSimple reads a simple response: an object whose isAuthorized is a
// boolean, with an optional context of values.
func parseSimple(out []byte) (policy, error) {
	var r struct {
		IsAuthorized *bool          `json:"isAuthorized"`
		Context      map[string]any `json:"context"`
	}
	if json.Unmarshal(out, &r) != nil || r.IsAuthorized == nil {
		return policy{}, errMalformedAnswer
	}
	return policy{simple: true, authorized: *r.IsAuthorized, simpleContext: r.Context}, nil
}

// v2Request is what the authorizer's event and the integration's event
// of an HTTP API share, built once per request.
type v2Request struct {
	headers, query map[string]string
	cookies        []string
	context        events.APIGatewayV2HTTPRequestContext
}

func (g *Gateway) v2Request(x *exchange) v2Request {
	return v2Request{headers: lowerHeaders(x.r.Header), query: joinedQuery(x.r), cookies: cookies(x.r), context: g.httpRequestContext(x)}
}

func (g *Gateway) httpRequestContext(x *exchange) events.APIGatewayV2HTTPRequestContext {
	prefix, _, _ := strings.Cut(x.r.Host, ".")
	return events.APIGatewayV2HTTPRequestContext{
		RouteKey: x.route.String(), AccountID: g.cfg.AccountID, Stage: g.def.Stage, RequestID: x.extendedID,
		APIID: g.cfg.APIID, DomainName: x.r.Host, DomainPrefix: prefix,
		Time: x.start.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: x.start.UnixMilli(),
		HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
			Method: x.r.Method, Path: x.r.URL.Path, Protocol: x.r.Proto, SourceIP: x.sourceIP, UserAgent: x.r.UserAgent(),
		},
	}
}

// lowerHeaders are a request's headers as payload 2.0 carries them:
// lower-case names, repeated values joined with ",", cookies apart.
func lowerHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for name, vs := range h {
		if strings.EqualFold(name, "Cookie") {
			continue
		}
		out[strings.ToLower(name)] = strings.Join(vs, ",")
	}
	return out
}

func cookies(r *http.Request) []string {
	var out []string
	for _, c := range r.Cookies() {
		out = append(out, c.Name+"="+c.Value)
	}
	return out
}

func joinedQuery(r *http.Request) map[string]string {
	q := r.URL.Query()
	if len(q) == 0 {
		return nil
	}
	out := map[string]string{}
	for k, vs := range q {
		out[k] = strings.Join(vs, ",")
	}
	return out
}

// integrateHTTP runs the route's function with a payload 2.0 event.
func (g *Gateway) integrateHTTP(x *exchange, req v2Request, authorizer *events.APIGatewayV2HTTPRequestContextAuthorizerDescription) {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: x.route.String(), RawPath: x.r.URL.Path, RawQueryString: x.r.URL.RawQuery,
		Cookies: req.cookies, Headers: req.headers, QueryStringParameters: req.query,
		PathParameters: x.params, RequestContext: req.context,
	}
	ev.RequestContext.Authorizer = authorizer
	// An HTTP API passes text as text and anything else base64-encoded.
	if len(x.body) > 0 {
		if utf8.Valid(x.body) && !g.def.IsBinary(x.r.Header.Get("Content-Type")) {
			ev.Body = string(x.body)
		} else {
			ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(x.body), true
		}
	}
	event, err := json.Marshal(ev)
	if err != nil {
		g.httpAnswer(x, http.StatusInternalServerError, httpInternal, api.Default5XX)
		return
	}
	began := g.cfg.Now()
	ctx, cancel := context.WithTimeout(x.r.Context(), g.cfg.IntegrationTimeout)
	defer cancel()
	out, err := g.cfg.Functions[x.route.Function].Invoke(ctx, event)
	x.intLatency = g.cfg.Now().Sub(began)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && x.r.Context().Err() == nil {
			g.httpAnswer(x, http.StatusServiceUnavailable, `{"message":"Service Unavailable"}`, api.IntegrationTimeout)
			return
		}
		x.intStatus = http.StatusOK
		g.httpAnswer(x, http.StatusInternalServerError, httpInternal, api.Default5XX)
		return
	}
	x.intStatus = http.StatusOK
	status, headers, body, err := parseHTTPResponse(out)
	if err != nil {
		g.httpAnswer(x, http.StatusInternalServerError, httpInternal, api.Default5XX)
		return
	}
	h := x.w.Header()
	for k, vs := range headers {
		if g.cors != nil && strings.HasPrefix(strings.ToLower(k), "access-control-") {
			continue // the API's CORS configuration replaces the function's
		}
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	if origin := g.allowedOrigin(x); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(status)
	_, _ = x.w.Write(body)
	x.status, x.responseLength = status, len(body)
}

// allowedOrigin is the Access-Control-Allow-Origin of an answer to x
// under the API's CORS configuration: "*", or the request's Origin when
// it is the configured one; "" for none.
func (g *Gateway) allowedOrigin(x *exchange) string {
	if g.cors == nil {
		return ""
	}
	origin := x.r.Header.Get("Origin")
	for _, o := range g.cors.AllowOrigins {
		if o == "*" {
			return "*"
		}
		if origin != "" && strings.EqualFold(o, origin) {
			return origin
		}
	}
	return ""
}

// preflight answers a CORS preflight as an HTTP API with a CORS
// configuration does, whatever the path and before any authorizer: 204,
// with the configuration's methods, headers and max age when the origin
// is allowed, and no CORS header otherwise
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-cors.html).
func (g *Gateway) preflight(x *exchange) {
	h := x.w.Header()
	if origin := g.allowedOrigin(x); origin != "" {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", strings.Join(g.cors.AllowMethods, ","))
		h.Set("Access-Control-Allow-Headers", strings.Join(g.cors.AllowHeaders, ","))
		h.Set("Access-Control-Max-Age", strconv.Itoa(g.cors.MaxAge))
	}
	x.w.WriteHeader(http.StatusNoContent)
	x.status = http.StatusNoContent
}

// parseHTTPResponse reads a payload 2.0 answer: an object with a
// statusCode is the response; any other JSON value is a 200 with it as an
// application/json body
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html#http-api-develop-integrations-lambda.response).
func parseHTTPResponse(out []byte) (int, http.Header, []byte, error) {
	if !json.Valid(out) {
		return 0, nil, nil, errMalformedResponse
	}
	var probe map[string]json.RawMessage
	if json.Unmarshal(out, &probe) != nil || probe["statusCode"] == nil {
		h := http.Header{"Content-Type": {"application/json"}}
		return http.StatusOK, h, bytes.TrimSpace(out), nil
	}
	var r events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(out, &r); err != nil || r.StatusCode < 100 || r.StatusCode > 599 {
		return 0, nil, nil, errMalformedResponse
	}
	h := http.Header{}
	names := make([]string, 0, len(r.Headers))
	for k := range r.Headers {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !validHeader(k, r.Headers[k]) {
			return 0, nil, nil, errMalformedResponse
		}
		h.Set(k, r.Headers[k])
	}
	for k, vs := range r.MultiValueHeaders {
		for _, v := range vs {
			if !validHeader(k, v) {
				return 0, nil, nil, errMalformedResponse
			}
			h.Add(k, v)
		}
	}
	for _, c := range r.Cookies {
		if strings.ContainsAny(c, "\r\n") {
			return 0, nil, nil, errMalformedResponse
		}
		h.Add("Set-Cookie", c)
	}
	body := []byte(r.Body)
	if r.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(r.Body)
		if err != nil {
			return 0, nil, nil, fmt.Errorf("%w: body not base64", errMalformedResponse)
		}
		body = b
	}
	return r.StatusCode, h, body, nil
}

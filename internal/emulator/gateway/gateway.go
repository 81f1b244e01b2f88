package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"tollgate/api"
	"tollgate/internal/emulator/localaws"
	"tollgate/internal/iam"
	"tollgate/internal/reqid"
	"tollgate/plans"
)

// Invoker runs a Lambda function: lambdalocal.Pool in the local gateway.
// When the function itself fails, its error is a FunctionError.
type Invoker interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// FunctionError is an Invoker's error for a function that failed: an
// error it reported, or its crash or timeout. ErrorMessage is Lambda's
// errorMessage: an authorizer's "Unauthorized" is API Gateway's 401
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
type FunctionError interface {
	error
	ErrorMessage() string
}

// Config configures a Gateway. Zero values mean the defaults given.
type Config struct {
	// Definition is the API to serve. It must be valid.
	Definition api.Definition
	// Functions run the definition's functions, by name. Every function a
	// route or the authorizer names must be here.
	Functions map[string]Invoker
	// Region, AccountID and APIID make method ARNs; defaults us-east-1,
	// 123456789012 and DefaultAPIID.
	Region, AccountID, APIID string
	// AccessLog receives one JSON line per request; nil discards them.
	AccessLog io.Writer
	// IntegrationTimeout bounds an integration; default 29 seconds, API
	// Gateway's.
	IntegrationTimeout time.Duration
	// MaxBodyBytes bounds a request body; default 10 MB, API Gateway's
	// payload limit. A larger body is REQUEST_TOO_LARGE (413).
	MaxBodyBytes int64
	// Now is the clock, for tests; default time.Now.
	Now func() time.Time
	// JWT checks the tokens of the definition's JWT routes (api.Route.JWT);
	// required when it has any.
	JWT JWTVerifier
	// Plans, when not empty, puts the stage on usage plans: every method
	// the Lambda authorizer guards requires an API key, the key the
	// authorizer returns as usageIdentifierKey, one of those given to
	// SetAPIKeys, and each key is limited by its plan (usage.go). REST
	// APIs only, and checked (plans.Set.Validate) by the caller.
	Plans plans.Set
}

// Gateway serves a REST API. It is safe for concurrent use.
type Gateway struct {
	cfg        Config
	def        *api.Definition
	tokenRegex *regexp.Regexp
	sources    []api.IdentitySource
	httpSource []string  // an HTTP API's identity sources, in its notation
	cors       *api.CORS // an HTTP API's CORS configuration, or nil
	cache      *resultCache
	throttles  map[string]*bucket // by route ("GET /orders/{id}"), for routes with a throttle
	usage      *usage             // the usage plans at work; nil without plans

	logMu sync.Mutex
}

// maxRequestHeaderBytes is API Gateway's quota on the "total combined size
// of request line and header values"
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-execution-service-limits-table.html).
// A larger request is refused with REQUEST_TOO_LARGE (413) before anything
// is invoked; AWS documents the quota but not the status it answers with.
const maxRequestHeaderBytes = 10240

// requestHeaderBytes is the size the quota above counts.
func requestHeaderBytes(r *http.Request) int {
	n := len(r.Method) + 1 + len(r.RequestURI) + 1 + len(r.Proto)
	for _, vs := range r.Header {
		for _, v := range vs {
			n += len(v)
		}
	}
	return n
}

// DefaultAPIID is the REST API id of a gateway given none.
const DefaultAPIID = "tglocal000"

// New checks cfg and returns its Gateway.
func New(cfg Config) (*Gateway, error) {
	if err := cfg.Definition.Validate(); err != nil {
		return nil, err
	}
	def := &cfg.Definition
	needed := map[string]bool{}
	for _, r := range def.Routes {
		needed[r.Function] = true
		if r.Protected {
			needed[def.Authorizer.Function] = true
		}
	}
	for name := range needed {
		if cfg.Functions[name] == nil {
			return nil, fmt.Errorf("gateway: no invoker for function %q", name)
		}
	}
	if def.IsHTTP() && !cfg.Plans.Empty() {
		return nil, errors.New("gateway: HTTP APIs have no usage plans")
	}
	if def.HasJWTRoutes() && cfg.JWT == nil {
		return nil, errors.New("gateway: the definition has JWT routes and no JWT verifier")
	}
	if cfg.Region == "" {
		cfg.Region = localaws.Region
	}
	if cfg.AccountID == "" {
		cfg.AccountID = localaws.AccountID
	}
	if cfg.APIID == "" {
		cfg.APIID = DefaultAPIID
	}
	if cfg.AccessLog == nil {
		cfg.AccessLog = io.Discard
	}
	if cfg.IntegrationTimeout == 0 {
		cfg.IntegrationTimeout = 29 * time.Second
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 10 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	g := &Gateway{cfg: cfg, cache: newResultCache(cfg.Definition.Authorizer.ResultTTL), throttles: map[string]*bucket{}}
	for _, r := range cfg.Definition.Routes {
		if r.Throttle != nil {
			g.throttles[r.String()] = newBucket(*r.Throttle, cfg.Now())
		}
	}
	g.def = &g.cfg.Definition
	if !cfg.Plans.Empty() {
		g.usage = newUsage(cfg.Plans)
	}
	if re := def.Authorizer.ValidationRegex; re != "" && def.Authorizer.Type == api.Token {
		g.tokenRegex = regexp.MustCompile(re) // Validate compiled it
	}
	for _, s := range def.Authorizer.IdentitySources {
		src, _ := api.ParseIdentitySource(s) // Validate parsed it
		g.sources = append(g.sources, src)
	}
	if def.IsHTTP() {
		g.httpSource = def.Authorizer.HTTPIdentitySources()
		g.cors = def.CORS()
	}
	return g, nil
}

// methodARN is the ARN API Gateway gives a request, the one the
// authorizer's policy is evaluated against: the actual method and path,
// not the route's.
// APIID is the REST API id the gateway's method ARNs name.
func (g *Gateway) APIID() string { return g.cfg.APIID }

// FlushAuthorizerCache empties the authorizer result cache, as API
// Gateway's FlushStageAuthorizersCache does
// (https://docs.aws.amazon.com/apigateway/latest/api/API_FlushStageAuthorizersCache.html):
// the next request of every caller is decided by the authorizer again.
func (g *Gateway) FlushAuthorizerCache() { g.cache.flush() }

func (g *Gateway) methodARN(method, path string) string {
	return "arn:aws:execute-api:" + g.cfg.Region + ":" + g.cfg.AccountID + ":" + g.cfg.APIID + "/" + g.def.Stage + "/" + method + path
}

// exchange is one request's state, for its answer and its access log line.
type exchange struct {
	w  http.ResponseWriter
	r  *http.Request
	id string
	// extendedID is x-amz-apigw-id, the requestContext's extendedRequestId.
	extendedID string
	// headerNames are the client's spellings of its headers' names, by
	// canonical name (nil when not served by Serve).
	headerNames map[string]string
	start       time.Time
	route       api.Route
	params      map[string]string
	body        []byte
	methodARN   string
	sourceIP    string
	rest        *restRequest // built once, for the REQUEST authorizer and the integration

	status          int
	responseLength  int
	principalID     string
	apiKeyID        string // the usage plan's API key, by its id
	authContext     map[string]string
	authStatus      int
	authLatency     time.Duration
	authInvoked     bool
	authIntegration time.Duration
	intStatus       int
	intLatency      time.Duration
	errorType       api.ResponseType
	errorMessage    string
}

// ServeHTTP answers one request as API Gateway would.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	x := &exchange{w: w, r: r, id: reqid.New(), extendedID: extendedRequestID(), start: g.cfg.Now()}
	x.sourceIP, _, _ = net.SplitHostPort(r.RemoteAddr)
	x.headerNames = headerNames(r)
	if g.def.IsHTTP() {
		// An HTTP API's request has one id, in its answer's
		// apigw-requestid header, its events' requestContext.requestId
		// and its access log's $context.requestId and
		// $context.extendedRequestId, "equivalent to $context.requestId"
		// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html).
		x.id = x.extendedID
		w.Header().Set("apigw-requestid", x.id)
	} else {
		w.Header().Set("x-amzn-RequestId", x.id)
		w.Header().Set("x-amz-apigw-id", x.extendedID)
	}
	defer g.logAccess(x)

	if requestHeaderBytes(r) > maxRequestHeaderBytes {
		g.tooLarge(x)
		return
	}
	if g.def.IsHTTP() {
		g.serveHTTPAPI(x)
		return
	}
	route, params, ok := g.def.Match(r.Method, r.URL.Path)
	if !ok {
		g.fail(x, api.MissingAuthenticationToken, 0, "Missing Authentication Token")
		return
	}
	x.route, x.params = route, params
	// A route's throttle is checked before its authorizer: the caller's
	// key is not needed to count its requests.
	if b := g.throttles[route.String()]; b != nil && !b.take(x.start) {
		g.fail(x, api.Throttled, 0, "Too Many Requests")
		return
	}
	x.methodARN = g.methodARN(r.Method, r.URL.Path)
	if len(x.methodARN) > iam.MaxMethodARN {
		g.fail(x, api.Default4XX, http.StatusRequestURITooLong, "Request-URI Too Long")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	if err != nil {
		g.tooLarge(x)
		return
	}
	x.body = body
	if route.Protected {
		usageKey, ok := g.authorize(x)
		if !ok || g.usage != nil && !route.JWT && !g.limit(x, usageKey, g.cfg.Now()) {
			return
		}
	}
	g.integrate(x)
}

// tooLarge answers a request past API Gateway's size quotas: 413 with API
// Gateway's own body, which an API cannot customise (its gateway
// responses, DEFAULT_4XX included, do not apply).
func (g *Gateway) tooLarge(x *exchange) {
	const body = `{"message":"Request Too Long"}`
	x.errorType, x.errorMessage = api.RequestTooLarge, "Request Too Long"
	h := x.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	x.w.WriteHeader(http.StatusRequestEntityTooLarge)
	_, _ = io.WriteString(x.w, body)
	x.status, x.responseLength = http.StatusRequestEntityTooLarge, len(body)
}

// extendedRequestID is a new x-amz-apigw-id: API Gateway's extended
// request id, 16 characters of base64 like "ZxY1bH3UIAMEqZw=".
func extendedRequestID() string {
	b := make([]byte, 11)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

// fail answers with the definition's gateway response of type t; status,
// when not 0, replaces the one the definition gives.
func (g *Gateway) fail(x *exchange, t api.ResponseType, status int, message string) {
	resp := g.def.Response(t)
	if status != 0 && (t == api.Default4XX || t == api.Default5XX) && g.def.Responses[t].StatusCode == 0 {
		resp.StatusCode = status
	}
	x.errorType, x.errorMessage = t, message
	body := api.Render(resp.Template, api.ErrorContext{RequestID: x.id, ResponseType: t, Message: message})
	h := x.w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if et := t.ErrorType(); et != "" {
		h.Set("x-amzn-ErrorType", et)
	}
	x.w.WriteHeader(resp.StatusCode)
	_, _ = x.w.Write(body)
	x.status, x.responseLength = resp.StatusCode, len(body)
}

// integrate runs the route's function through a Lambda proxy integration.
func (g *Gateway) integrate(x *exchange) {
	payload, err := proxyEvent(g, x)
	if err != nil {
		g.fail(x, api.Default5XX, http.StatusInternalServerError, "Internal server error")
		return
	}
	ctx, cancel := context.WithTimeout(x.r.Context(), g.cfg.IntegrationTimeout)
	defer cancel()
	began := g.cfg.Now()
	out, err := g.cfg.Functions[x.route.Function].Invoke(ctx, payload)
	x.intLatency = g.cfg.Now().Sub(began)
	switch {
	case errors.Is(err, context.DeadlineExceeded) && x.r.Context().Err() == nil:
		x.intStatus = http.StatusGatewayTimeout
		g.fail(x, api.IntegrationTimeout, 0, "Endpoint request timed out")
		return
	case err != nil:
		// A function error (its error, crash or timeout) or an invocation
		// failure: API Gateway answers a proxy integration's with 502.
		x.intStatus = http.StatusOK
		g.fail(x, api.Default5XX, http.StatusBadGateway, "Internal server error")
		return
	}
	x.intStatus = http.StatusOK
	resp, err := parseProxyResponse(out, g.def.IsBinary(firstAccept(x.r)))
	if errors.Is(err, errBadBase64) {
		g.fail(x, api.APIConfigurationError, 0, "Internal server error")
		return
	}
	if err != nil {
		g.fail(x, api.Default5XX, http.StatusBadGateway, "Internal server error")
		return
	}
	h := x.w.Header()
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("x-amzn-RequestId", x.id)
	h.Set("Content-Length", strconv.Itoa(len(resp.body)))
	x.w.WriteHeader(resp.StatusCode)
	_, _ = x.w.Write(resp.body)
	x.status, x.responseLength = resp.StatusCode, len(resp.body)
}

// bodyField is a request body as a proxy event carries it: base64-encoded
// when its Content-Type is one of the API's binary media types, else text
// (bytes that are not UTF-8 reach the function as JSON encodes them, each
// as U+FFFD).
func (g *Gateway) bodyField(x *exchange) (body *string, isBase64 bool) {
	if len(x.body) == 0 {
		return nil, false
	}
	if g.def.IsBinary(x.r.Header.Get("Content-Type")) {
		s := base64.StdEncoding.EncodeToString(x.body)
		return &s, true
	}
	s := string(x.body)
	return &s, false
}

// firstAccept is the first media type of a request's Accept header: the
// one API Gateway decides a binary answer by.
func firstAccept(r *http.Request) string {
	first, _, _ := strings.Cut(r.Header.Get("Accept"), ",")
	return strings.TrimSpace(first)
}

// headerValue is a header identity source's value: its values joined with
// ", " when the header is sent more than once, which tollgate's authorizer
// refuses as ambiguous.
func headerValue(h http.Header, name string) string {
	return strings.Join(h.Values(name), ", ")
}

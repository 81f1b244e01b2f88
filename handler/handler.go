package handler

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Handler answers REST API proxy events. Its zero value is ready to use. It
// implements the aws-lambda-go lambda.Handler interface without reflection,
// like the authorizer.
type Handler struct {
	// AllowOrigin, when set ("*" or an origin like
	// "https://app.example.com"), is sent as Access-Control-Allow-Origin
	// on every answer, and an OPTIONS request, a CORS preflight, is
	// answered 204 allowing every method and the Authorization and
	// Content-Type headers. cmd/handler reads it from EnvAllowOrigin.
	AllowOrigin string
	// EchoEvents, when set, answers a request that carries the header
	// EchoHeader with what it received (Echo: the event's names and
	// shape, no value that could hold a key), so that the conformance
	// suite can compare what API Gateway and the local gateway pass on. cmd/handler
	// reads it from EnvEchoEvents; it is off unless a deploy or local run
	// sets that variable (api.yaml's env).
	EchoEvents bool
}

// EnvEchoEvents is the environment variable cmd/handler reads
// Handler.EchoEvents from: "1" turns it on.
const EnvEchoEvents = "TOLLGATE_ECHO_EVENTS"

// EchoHeader is the request header that asks an echoing handler for its
// event.
const EchoHeader = "X-Tollgate-Echo"

// EnvAllowOrigin is the environment variable cmd/handler reads
// Handler.AllowOrigin from.
const EnvAllowOrigin = "TOLLGATE_ALLOW_ORIGIN"

// Env is the environment a deploy or a local run gives a function that
// answers routes when the API allows browser pages from allowOrigin (CORS,
// api.Definition.AllowedOrigin): none when it is empty.
func Env(allowOrigin string) map[string]string {
	if allowOrigin == "" {
		return nil
	}
	return map[string]string{EnvAllowOrigin: allowOrigin}
}

// How long a browser may cache a preflight's answer, in seconds.
const preflightMaxAge = "600"

// ErrMalformedEvent is reported in the answer's message when the payload is
// not a REST API proxy event.
var ErrMalformedEvent = errors.New("malformed proxy event")

// reply is the body of a 200 answer.
type reply struct {
	Message   string  `json:"message"`
	Principal *string `json:"principal"`
	RequestID string  `json:"requestId"`
	Method    string  `json:"method"`
	Path      string  `json:"path"`
}

// Invoke answers one proxy event. Every outcome, including a malformed
// event, is a proxy answer with a JSON body (a CORS preflight's 204 has
// none); the error is always nil, so API Gateway never turns a caller's
// mistake into a 502.
func (h Handler) Invoke(_ context.Context, payload []byte) ([]byte, error) {
	ev, err := proxyRequest(payload)
	if err != nil || ev.HTTPMethod == "" || ev.Path == "" {
		return h.answer(http.StatusBadRequest, errorBody(ErrMalformedEvent.Error()))
	}
	if h.EchoEvents && hasHeader(ev, EchoHeader) {
		return h.echo(payload)
	}
	if ev.HTTPMethod == http.MethodOptions && h.AllowOrigin != "" {
		return h.answer(http.StatusNoContent, nil)
	}
	if ev.HTTPMethod == http.MethodPost && !isJSONObject(ev) {
		return h.answer(http.StatusBadRequest, errorBody("request body must be a JSON object"))
	}
	r := reply{
		Message:   "Hello from tollgate",
		RequestID: ev.RequestContext.RequestID,
		Method:    ev.HTTPMethod,
		Path:      ev.Path,
	}
	// API Gateway passes the authorizer's principalId, a string, in the
	// authorizer context; see
	// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html.
	if p, _ := ev.RequestContext.Authorizer["principalId"].(string); p != "" {
		r.Principal = &p
		r.Message = "Hello, " + p
	}
	body, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	return h.answer(http.StatusOK, body)
}

// proxyRequest reads a REST API proxy event (payload format 1.0) or an
// HTTP API one (payload format 2.0, version "2.0"), the latter into the
// fields of the former the handler reads: the method and path from
// requestContext.http, lower-case headers, and the Lambda authorizer's
// context as the authorizer's, its keyId (or, for a JWT, its principal)
// standing for the principalId a simple response does not have; behind
// API Gateway's JWT authorizer, the principal is the token's sub
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html).
// Both answer formats take the answer Handler writes (statusCode,
// headers, body).
func proxyRequest(payload []byte) (events.APIGatewayProxyRequest, error) {
	var probe struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(payload, &probe); err != nil {
		return events.APIGatewayProxyRequest{}, err
	}
	var ev events.APIGatewayProxyRequest
	if probe.Version != "2.0" {
		err := json.Unmarshal(payload, &ev)
		return ev, err
	}
	var v2 events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(payload, &v2); err != nil {
		return ev, err
	}
	ev = events.APIGatewayProxyRequest{
		Resource: v2.RouteKey, Path: v2.RequestContext.HTTP.Path, HTTPMethod: v2.RequestContext.HTTP.Method,
		Headers: v2.Headers, QueryStringParameters: v2.QueryStringParameters, PathParameters: v2.PathParameters,
		StageVariables: v2.StageVariables, Body: v2.Body, IsBase64Encoded: v2.IsBase64Encoded,
	}
	ev.RequestContext.RequestID = v2.RequestContext.RequestID
	ev.RequestContext.Stage = v2.RequestContext.Stage
	if a := v2.RequestContext.Authorizer; a != nil && a.JWT != nil {
		// API Gateway's JWT authorizer: the token's subject.
		ev.RequestContext.Authorizer = map[string]any{"principalId": a.JWT.Claims["sub"]}
	}
	if a := v2.RequestContext.Authorizer; a != nil && a.Lambda != nil {
		ev.RequestContext.Authorizer = map[string]any{}
		for k, v := range a.Lambda {
			ev.RequestContext.Authorizer[k] = v
		}
		if _, ok := a.Lambda["principalId"]; !ok {
			// A key's id, or a JWT's principal (authorizer.ContextPrincipal).
			p, ok := a.Lambda["keyId"]
			if !ok {
				p = a.Lambda["principal"]
			}
			ev.RequestContext.Authorizer["principalId"] = p
		}
	}
	return ev, nil
}

// isJSONObject reports whether the event's body is one JSON object. A
// base64-encoded body is binary, which is not one; no body (null in the
// event) is not one either.
func isJSONObject(ev events.APIGatewayProxyRequest) bool {
	if ev.IsBase64Encoded {
		return false
	}
	b := strings.TrimSpace(ev.Body)
	return strings.HasPrefix(b, "{") && json.Valid([]byte(b))
}

func hasHeader(ev events.APIGatewayProxyRequest, name string) bool {
	for k := range ev.Headers {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

// Echo is what an echoing handler answers: the parts of its event the
// conformance suite compares, and no value that could hold a caller's key.
// Header and query names are given, values only for headers whose name
// starts with "x-echo-" (in any case), which the suite sets itself.
type Echo struct {
	Resource        string            `json:"resource"`
	Path            string            `json:"path"`
	HTTPMethod      string            `json:"httpMethod"`
	HeaderNames     []string          `json:"headerNames"`
	MultiValueNames []string          `json:"multiValueHeaderNames"`
	EchoHeaders     map[string]string `json:"echoHeaders"`
	QueryNames      []string          `json:"queryNames"`
	PathParameters  map[string]string `json:"pathParameters"`
	Body            *string           `json:"body"`
	IsBase64Encoded bool              `json:"isBase64Encoded"`
	Stage           string            `json:"stage"`
	ResourcePath    string            `json:"resourcePath"`
	RequestID       string            `json:"requestId"`
	ExtendedID      string            `json:"extendedRequestId"`
	Authorizer      map[string]any    `json:"authorizer"`
}

// echo answers with the Echo of the event, of either payload format.
func (h Handler) echo(payload []byte) ([]byte, error) {
	ev, err := proxyRequest(payload)
	var raw struct {
		Body *string `json:"body"` // null, or not there, for no body
	}
	if err != nil || json.Unmarshal(payload, &raw) != nil {
		return h.answer(http.StatusBadRequest, errorBody(ErrMalformedEvent.Error()))
	}
	e := Echo{
		Resource: ev.Resource, Path: ev.Path, HTTPMethod: ev.HTTPMethod,
		HeaderNames: slices.Sorted(maps.Keys(ev.Headers)), MultiValueNames: slices.Sorted(maps.Keys(ev.MultiValueHeaders)),
		EchoHeaders: map[string]string{}, QueryNames: slices.Sorted(maps.Keys(ev.QueryStringParameters)),
		PathParameters: ev.PathParameters, Body: raw.Body, IsBase64Encoded: ev.IsBase64Encoded,
		Stage: ev.RequestContext.Stage, ResourcePath: ev.RequestContext.ResourcePath,
		RequestID: ev.RequestContext.RequestID, ExtendedID: ev.RequestContext.ExtendedRequestID,
		Authorizer: ev.RequestContext.Authorizer,
	}
	for k, v := range ev.Headers {
		if len(k) > len("x-echo-") && strings.EqualFold(k[:len("x-echo-")], "x-echo-") {
			e.EchoHeaders[k] = v
		}
	}
	body, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	return h.answer(http.StatusOK, body)
}

func errorBody(message string) []byte {
	b, _ := json.Marshal(struct {
		Message string `json:"message"`
	}{message})
	return b
}

func (h Handler) answer(status int, body []byte) ([]byte, error) {
	headers := map[string]string{
		"Content-Type":  "application/json",
		"Cache-Control": "no-store",
	}
	if h.AllowOrigin != "" {
		headers["Access-Control-Allow-Origin"] = h.AllowOrigin
		if h.AllowOrigin != "*" {
			headers["Vary"] = "Origin"
		}
		if status == http.StatusNoContent {
			delete(headers, "Content-Type")
			headers["Access-Control-Allow-Methods"] = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
			headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
			headers["Access-Control-Max-Age"] = preflightMaxAge
		}
	}
	return json.Marshal(events.APIGatewayProxyResponse{StatusCode: status, Headers: headers, Body: string(body)})
}

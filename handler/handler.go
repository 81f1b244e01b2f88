package handler

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
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
}

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
	var ev events.APIGatewayProxyRequest
	if err := json.Unmarshal(payload, &ev); err != nil || ev.HTTPMethod == "" || ev.Path == "" {
		return h.answer(http.StatusBadRequest, errorBody(ErrMalformedEvent.Error()))
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

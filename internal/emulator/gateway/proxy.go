package gateway

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"tollgate/internal/reqid"
)

// restRequest is the request part shared by a proxy event and a REQUEST
// authorizer event, in aws-lambda-go's type for the proxy event (its body
// is set apart: proxyEvent sends null for no body, as API Gateway does).
// Its requestContext is the full one in both events; see
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format
// and
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-input.html.
type restRequest = events.APIGatewayProxyRequest

// requestContext is an event's requestContext: aws-lambda-go's type, whose
// authorizer field is left out when no authorizer ran (the type alone
// would send null). An outer field wins over an embedded one in
// encoding/json.
type requestContext struct {
	events.APIGatewayProxyRequestContext
	Authorizer map[string]any `json:"authorizer,omitempty"`
}

// restRequest is x's request as events carry it, built the first time it
// is asked for.
func (g *Gateway) restRequest(x *exchange) restRequest {
	if x.rest == nil {
		rest := g.buildRESTRequest(x)
		x.rest = &rest
	}
	return *x.rest
}

func (g *Gateway) buildRESTRequest(x *exchange) restRequest {
	r := x.r
	// The client's spelling of each name it sent; the headers the
	// gateway sets below keep API Gateway's.
	spelled := x.headerNames
	headers := r.Header.Clone()
	headers.Del("Content-Length")
	headers.Set("Host", r.Host)
	headers.Add("X-Forwarded-For", x.sourceIP)
	_, port, _ := strings.Cut(r.Host, ":")
	headers.Set("X-Forwarded-Port", port)
	headers.Set("X-Forwarded-Proto", "http")
	headers.Set("X-Amzn-Trace-Id", reqid.TraceID(x.id, x.start))

	ev := restRequest{
		Resource:       x.route.Path,
		Path:           r.URL.Path,
		HTTPMethod:     r.Method,
		PathParameters: x.params,
		RequestContext: g.requestContext(x),
	}
	for name, vs := range headers {
		if ev.Headers == nil {
			ev.Headers, ev.MultiValueHeaders = map[string]string{}, map[string][]string{}
		}
		if s, ok := spelled[name]; ok {
			name = s
		}
		// A header sent more than once: headers keeps the last value.
		ev.Headers[name] = vs[len(vs)-1]
		ev.MultiValueHeaders[name] = vs
	}
	for name, vs := range r.URL.Query() {
		if ev.QueryStringParameters == nil {
			ev.QueryStringParameters, ev.MultiValueQueryStringParameters = map[string]string{}, map[string][]string{}
		}
		ev.QueryStringParameters[name] = vs[len(vs)-1]
		ev.MultiValueQueryStringParameters[name] = vs
	}
	return ev
}

func (g *Gateway) requestContext(x *exchange) events.APIGatewayProxyRequestContext {
	r := x.r
	h := fnv.New32a()
	h.Write([]byte(x.route.Path))
	prefix, _, _ := strings.Cut(r.Host, ".")
	return events.APIGatewayProxyRequestContext{
		AccountID:         g.cfg.AccountID,
		APIID:             g.cfg.APIID,
		DomainName:        r.Host,
		DomainPrefix:      prefix,
		ExtendedRequestID: x.extendedID,
		HTTPMethod:        r.Method,
		Identity:          events.APIGatewayRequestIdentity{SourceIP: x.sourceIP, UserAgent: r.UserAgent()},
		Path:              "/" + g.def.Stage + r.URL.Path,
		Protocol:          r.Proto,
		RequestID:         x.id,
		RequestTime:       x.start.UTC().Format("02/Jan/2006:15:04:05 -0700"),
		RequestTimeEpoch:  x.start.UnixMilli(),
		ResourceID:        strconv.FormatUint(uint64(h.Sum32()), 36),
		ResourcePath:      x.route.Path,
		Stage:             g.def.Stage,
	}
}

// requestEvent is a REQUEST authorizer's event: aws-lambda-go's type,
// with the full request context API Gateway sends in place of the subset
// that type declares.
func requestEvent(g *Gateway, x *exchange) ([]byte, error) {
	rest := g.restRequest(x)
	return json.Marshal(struct {
		events.APIGatewayCustomAuthorizerRequestTypeRequest
		RequestContext requestContext `json:"requestContext"`
	}{events.APIGatewayCustomAuthorizerRequestTypeRequest{
		Type:                            "REQUEST",
		MethodArn:                       x.methodARN,
		Resource:                        rest.Resource,
		Path:                            rest.Path,
		HTTPMethod:                      rest.HTTPMethod,
		Headers:                         rest.Headers,
		MultiValueHeaders:               rest.MultiValueHeaders,
		QueryStringParameters:           rest.QueryStringParameters,
		MultiValueQueryStringParameters: rest.MultiValueQueryStringParameters,
		PathParameters:                  rest.PathParameters,
		StageVariables:                  rest.StageVariables,
	}, requestContext{APIGatewayProxyRequestContext: rest.RequestContext}})
}

// proxyEvent is a Lambda proxy integration's event, payload format 1.0.
func proxyEvent(g *Gateway, x *exchange) ([]byte, error) {
	ev := g.restRequest(x)
	rc := requestContext{APIGatewayProxyRequestContext: ev.RequestContext}
	if x.route.Protected {
		auth := map[string]any{"principalId": x.principalID, "integrationLatency": x.authIntegration.Milliseconds()}
		for k, v := range x.authContext {
			if k != "principalId" {
				auth[k] = v
			}
		}
		rc.Authorizer = auth
	}
	// The outer body and isBase64Encoded win over the type's: API Gateway
	// sends null for no body and isBase64Encoded always.
	body, isBase64 := g.bodyField(x)
	return json.Marshal(struct {
		events.APIGatewayProxyRequest
		RequestContext  requestContext `json:"requestContext"`
		Body            *string        `json:"body"`
		IsBase64Encoded bool           `json:"isBase64Encoded"`
	}{ev, rc, body, isBase64})
}

// proxyResponse is a Lambda proxy integration's answer and its body as
// bytes, decoded when it came base64-encoded.
type proxyResponse struct {
	events.APIGatewayProxyResponse
	body []byte
}

var errMalformedResponse = errors.New("malformed Lambda proxy response")

// errBadBase64 is a base64-encoded answer that does not decode, when the
// API's binary support decodes it: API_CONFIGURATION_ERROR ("when base64
// decoding fails on binary data when binary support is enacted",
// https://docs.aws.amazon.com/apigateway/latest/developerguide/supported-gateway-response-types.html).
var errBadBase64 = errors.New("base64 decoding failed on binary data")

// parseProxyResponse reads a proxy integration's answer. Like API
// Gateway, it refuses anything but an object of the documented fields
// with a status code, which API Gateway reports as "Malformed Lambda proxy
// response"; see
// https://repost.aws/knowledge-center/malformed-502-api-gateway.
//
// A base64-encoded answer (isBase64Encoded) is decoded when decode is set
// (the request accepts one of the API's binary media types) and otherwise
// passed on as the text it is.
func parseProxyResponse(out []byte, decode bool) (proxyResponse, error) {
	var resp proxyResponse
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp.APIGatewayProxyResponse); err != nil || dec.More() {
		return resp, errMalformedResponse
	}
	if resp.StatusCode < 100 || resp.StatusCode > 599 {
		return resp, errMalformedResponse
	}
	for k, v := range resp.Headers {
		if !validHeader(k, v) {
			return resp, errMalformedResponse
		}
	}
	for k, vs := range resp.MultiValueHeaders {
		for _, v := range vs {
			if !validHeader(k, v) {
				return resp, errMalformedResponse
			}
		}
	}
	resp.body = []byte(resp.Body)
	if resp.IsBase64Encoded && decode {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return resp, errBadBase64
		}
		resp.body = b
	}
	return resp, nil
}

func validHeader(name, value string) bool {
	if name == "" || strings.ContainsAny(value, "\r\n\x00") {
		return false
	}
	return http.CanonicalHeaderKey(name) != "" && !strings.ContainsAny(name, " \t\r\n:")
}

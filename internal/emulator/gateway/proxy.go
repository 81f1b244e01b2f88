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

	"tollgate/internal/reqid"
)

// requestContext is a REST API event's requestContext; see
// https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-lambda-proxy-integrations.html#api-gateway-simple-proxy-for-lambda-input-format.
type requestContext struct {
	AccountID         string             `json:"accountId"`
	APIID             string             `json:"apiId"`
	Authorizer        map[string]any     `json:"authorizer,omitempty"`
	DomainName        string             `json:"domainName"`
	DomainPrefix      string             `json:"domainPrefix"`
	ExtendedRequestID string             `json:"extendedRequestId"`
	HTTPMethod        string             `json:"httpMethod"`
	Identity          map[string]*string `json:"identity"`
	Path              string             `json:"path"`
	Protocol          string             `json:"protocol"`
	RequestID         string             `json:"requestId"`
	RequestTime       string             `json:"requestTime"`
	RequestTimeEpoch  int64              `json:"requestTimeEpoch"`
	ResourceID        string             `json:"resourceId"`
	ResourcePath      string             `json:"resourcePath"`
	Stage             string             `json:"stage"`
}

// restRequest is the request part shared by a proxy event and a REQUEST
// authorizer event.
type restRequest struct {
	Resource                        string              `json:"resource"`
	Path                            string              `json:"path"`
	HTTPMethod                      string              `json:"httpMethod"`
	Headers                         map[string]string   `json:"headers"`
	MultiValueHeaders               map[string][]string `json:"multiValueHeaders"`
	QueryStringParameters           map[string]string   `json:"queryStringParameters"`
	MultiValueQueryStringParameters map[string][]string `json:"multiValueQueryStringParameters"`
	PathParameters                  map[string]string   `json:"pathParameters"`
	StageVariables                  map[string]string   `json:"stageVariables"`
	RequestContext                  requestContext      `json:"requestContext"`
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

func (g *Gateway) requestContext(x *exchange) requestContext {
	r := x.r
	ua := r.UserAgent()
	ip := x.sourceIP
	h := fnv.New32a()
	h.Write([]byte(x.route.Path))
	prefix, _, _ := strings.Cut(r.Host, ".")
	return requestContext{
		AccountID:         g.cfg.AccountID,
		APIID:             g.cfg.APIID,
		DomainName:        r.Host,
		DomainPrefix:      prefix,
		ExtendedRequestID: x.id,
		HTTPMethod:        r.Method,
		Identity:          map[string]*string{"sourceIp": &ip, "userAgent": &ua},
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

// requestEvent is a REQUEST authorizer's event.
func requestEvent(g *Gateway, x *exchange) ([]byte, error) {
	return json.Marshal(struct {
		Type      string `json:"type"`
		MethodARN string `json:"methodArn"`
		restRequest
	}{"REQUEST", x.methodARN, g.restRequest(x)})
}

// proxyEvent is a Lambda proxy integration's event, payload format 1.0.
func proxyEvent(g *Gateway, x *exchange) ([]byte, error) {
	ev := g.restRequest(x)
	if x.route.Protected {
		auth := map[string]any{"principalId": x.principalID, "integrationLatency": x.authIntegration.Milliseconds()}
		for k, v := range x.authContext {
			if k != "principalId" {
				auth[k] = v
			}
		}
		ev.RequestContext.Authorizer = auth
	}
	body, isBase64 := bodyField(x.body)
	return json.Marshal(struct {
		restRequest
		Body            *string `json:"body"`
		IsBase64Encoded bool    `json:"isBase64Encoded"`
	}{ev, body, isBase64})
}

// proxyResponse is a Lambda proxy integration's answer.
type proxyResponse struct {
	StatusCode        int                 `json:"statusCode"`
	Headers           map[string]string   `json:"headers"`
	MultiValueHeaders map[string][]string `json:"multiValueHeaders"`
	Body              string              `json:"body"`
	IsBase64Encoded   bool                `json:"isBase64Encoded"`
	body              []byte
}

var errMalformedResponse = errors.New("malformed Lambda proxy response")

// parseProxyResponse reads a proxy integration's answer. Like API
// Gateway, it refuses anything but an object of the documented fields
// with a status code, which API Gateway reports as "Malformed Lambda proxy
// response"; see
// https://repost.aws/knowledge-center/malformed-502-api-gateway.
func parseProxyResponse(out []byte) (proxyResponse, error) {
	var resp proxyResponse
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil || dec.More() {
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
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return resp, errMalformedResponse
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

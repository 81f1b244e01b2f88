package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// Reading a document back, as API Gateway reads it: ParseDocument.

// ErrDocument is wrapped by every error ParseDocument returns.
var ErrDocument = errors.New("API Gateway OpenAPI document")

func docErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrDocument, fmt.Sprintf(format, args...))
}

// ParseDocument reads what API Gateway reads from a document Document
// wrote: the routes (and whether each is protected), the authorizer and
// the gateway responses, into a Definition holding only those. function
// names the function an integration URI calls. The local gateway serves
// what it returns, so what runs locally is what the document deploys.
func ParseDocument(doc []byte, function func(uri string) (string, error)) (Definition, error) {
	t, err := openapi3.NewLoader().LoadFromData(doc)
	if err != nil {
		return Definition{}, docErr("%v", err)
	}
	var d Definition
	if t.Info != nil {
		d.Name = t.Info.Title
	}
	var scheme string
	if t.Components != nil {
		for name, ref := range t.Components.SecuritySchemes {
			if ref.Value != nil && isJWTAuthorizer(ref.Value) {
				if name != JWTScheme {
					return Definition{}, docErr("JWT authorizer %q: tollgate names it %q", name, JWTScheme)
				}
				if d.JWT, err = parseJWTAuthorizer(ref.Value); err != nil {
					return Definition{}, err
				}
				continue
			}
			if ref.Value == nil || ref.Value.Extensions[extAuthType] != "custom" && !isHTTPAuthorizer(ref.Value) {
				continue
			}
			if scheme != "" {
				return Definition{}, docErr("more than one custom authorizer (%s, %s)", scheme, name)
			}
			scheme = name
			if d.Authorizer, err = parseAuthorizer(ref.Value, function); err != nil {
				return Definition{}, err
			}
		}
	}
	if isHTTPDocument(t) || d.JWT != nil {
		d.Type = HTTP
	}
	for _, path := range slices.Sorted(maps.Keys(t.Paths.Map())) {
		item := t.Paths.Value(path)
		ops := item.Operations()
		op, err := anyMethod(item)
		if err != nil {
			return Definition{}, docErr("%s %s: %v", extAnyMethod, path, err)
		}
		if op != nil {
			ops["ANY"] = op
		}
		for _, method := range slices.Sorted(maps.Keys(ops)) {
			r, err := parseRoute(method, path, ops[method], scheme, function)
			if err != nil {
				return Definition{}, err
			}
			d.Routes = append(d.Routes, r)
		}
	}
	if raw, ok := t.Extensions[extGatewayResponses]; ok {
		if d.Responses, err = parseResponses(raw); err != nil {
			return Definition{}, err
		}
	}
	if raw, ok := t.Extensions[extBinaryMediaTypes]; ok {
		list, _ := raw.([]any)
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				return Definition{}, docErr("%s: want a list of media types", extBinaryMediaTypes)
			}
			d.BinaryMediaTypes = append(d.BinaryMediaTypes, s)
		}
		if list == nil {
			return Definition{}, docErr("%s: want a list of media types", extBinaryMediaTypes)
		}
	}
	return d, nil
}

func parseRoute(method, path string, op *openapi3.Operation, scheme string, function func(string) (string, error)) (Route, error) {
	r := Route{Method: strings.ToUpper(method), Path: path}
	var integration struct {
		Type          string `json:"type"`
		HTTPMethod    string `json:"httpMethod"`
		URI           string `json:"uri"`
		PayloadFormat string `json:"payloadFormatVersion"`
	}
	if err := remarshal(op.Extensions[extIntegration], &integration); err != nil || integration.Type != "aws_proxy" || integration.HTTPMethod != "POST" {
		return r, docErr("%s: want an aws_proxy integration called with POST", r)
	}
	if integration.PayloadFormat != "" && integration.PayloadFormat != "2.0" {
		return r, docErr("%s: payload format %q: tollgate's functions answer format 2.0", r, integration.PayloadFormat)
	}
	fn, err := function(integration.URI)
	if err != nil {
		return r, docErr("%s: %v", r, err)
	}
	r.Function = fn
	if op.Security != nil {
		for _, req := range *op.Security {
			if _, ok := req[scheme]; ok && scheme != "" {
				r.Protected = true
			}
			if scopes, ok := req[JWTScheme]; ok {
				r.JWT = true
				if len(scopes) > 0 {
					r.Scopes = slices.Clone(scopes)
				}
			}
		}
	}
	return r, nil
}

// isJWTAuthorizer reports whether s is an HTTP API's JWT authorizer.
func isJWTAuthorizer(s *openapi3.SecurityScheme) bool {
	m, ok := s.Extensions[extAuthorizer].(map[string]any)
	return ok && m["type"] == "jwt"
}

func parseJWTAuthorizer(s *openapi3.SecurityScheme) (*JWTAuthorizer, error) {
	var raw struct {
		Config struct {
			Issuer   string   `json:"issuer"`
			Audience []string `json:"audience"`
		} `json:"jwtConfiguration"`
	}
	if err := remarshal(s.Extensions[extAuthorizer], &raw); err != nil {
		return nil, docErr("JWT authorizer: %v", err)
	}
	return &JWTAuthorizer{Issuer: raw.Config.Issuer, Audiences: raw.Config.Audience}, nil
}

func parseAuthorizer(s *openapi3.SecurityScheme, function func(string) (string, error)) (Authorizer, error) {
	var raw struct {
		Type           string `json:"type"`
		URI            string `json:"authorizerUri"`
		TTL            *int   `json:"authorizerResultTtlInSeconds"`
		IdentitySource string `json:"identitySource"`
		Validation     string `json:"identityValidationExpression"`
		PayloadFormat  string `json:"authorizerPayloadFormatVersion"`
		Simple         bool   `json:"enableSimpleResponses"`
	}
	if err := remarshal(s.Extensions[extAuthorizer], &raw); err != nil {
		return Authorizer{}, docErr("authorizer: %v", err)
	}
	if raw.PayloadFormat != "" && (raw.PayloadFormat != "2.0" || !raw.Simple) {
		return Authorizer{}, docErr("authorizer: an HTTP API's tollgate authorizer answers payload format 2.0 with simple responses")
	}
	a := Authorizer{Type: AuthorizerType(strings.ToUpper(raw.Type)), ValidationRegex: raw.Validation}
	fn, err := function(raw.URI)
	if err != nil {
		return Authorizer{}, docErr("authorizer: %v", err)
	}
	a.Function = fn
	if raw.TTL == nil {
		// API Gateway's default
		// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-swagger-extensions-authorizer.html).
		a.ResultTTL = 300 * time.Second
	} else {
		a.ResultTTL = time.Duration(*raw.TTL) * time.Second
	}
	for _, src := range strings.Split(raw.IdentitySource, ",") {
		src = strings.TrimSpace(src)
		switch {
		case src == "":
		case raw.PayloadFormat == "":
			a.IdentitySources = append(a.IdentitySources, src)
		case src == RouteKeySource || src == MethodSource:
			// HTTPIdentitySources adds them whenever answers are cached.
		default:
			is, err := parseHTTPIdentitySource(src)
			if err != nil {
				return Authorizer{}, docErr("authorizer: %v", err)
			}
			a.IdentitySources = append(a.IdentitySources, is.String())
		}
	}
	if len(a.IdentitySources) == 0 && a.Type == Token {
		// A TOKEN authorizer without identitySource reads the header its
		// scheme names.
		a.IdentitySources = []string{string(InHeader) + s.Name}
	}
	return a, nil
}

// isHTTPAuthorizer reports whether s is an HTTP API's Lambda authorizer:
// one with a payload format version, which only HTTP APIs have.
func isHTTPAuthorizer(s *openapi3.SecurityScheme) bool {
	m, ok := s.Extensions[extAuthorizer].(map[string]any)
	_, has := m["authorizerPayloadFormatVersion"]
	return ok && has
}

// isHTTPDocument reports whether t declares an HTTP API: an integration
// or an authorizer with a payload format version, which only HTTP APIs
// have.
func isHTTPDocument(t *openapi3.T) bool {
	if t.Components != nil {
		for _, ref := range t.Components.SecuritySchemes {
			if ref.Value != nil && isHTTPAuthorizer(ref.Value) {
				return true
			}
		}
	}
	for _, item := range t.Paths.Map() {
		ops := item.Operations()
		if op, _ := anyMethod(item); op != nil {
			ops["ANY"] = op
		}
		for _, op := range ops {
			if m, ok := op.Extensions[extIntegration].(map[string]any); ok && m["payloadFormatVersion"] != nil {
				return true
			}
		}
	}
	return false
}

func parseResponses(raw any) (map[ResponseType]GatewayResponse, error) {
	var in map[string]struct {
		StatusCode         string            `json:"statusCode"`
		ResponseParameters map[string]string `json:"responseParameters"`
		ResponseTemplates  map[string]string `json:"responseTemplates"`
	}
	if err := remarshal(raw, &in); err != nil {
		return nil, docErr("%s: %v", extGatewayResponses, err)
	}
	out := map[ResponseType]GatewayResponse{}
	for t, r := range in {
		var gr GatewayResponse
		if r.StatusCode != "" {
			n, err := strconv.Atoi(r.StatusCode)
			if err != nil {
				return nil, docErr("gateway response %s: status %q", t, r.StatusCode)
			}
			gr.StatusCode = n
		}
		for k, v := range r.ResponseParameters {
			name, ok := strings.CutPrefix(k, "gatewayresponse.header.")
			if !ok || len(v) < 2 || v[0] != '\'' || v[len(v)-1] != '\'' {
				return nil, docErr("gateway response %s: parameter %s: want gatewayresponse.header.NAME = 'static value'", t, k)
			}
			if gr.Headers == nil {
				gr.Headers = map[string]string{}
			}
			gr.Headers[name] = v[1 : len(v)-1]
		}
		gr.Template = r.ResponseTemplates["application/json"]
		out[ResponseType(t)] = gr
	}
	return out, nil
}

// remarshal decodes v, a value decoded from JSON, into dst.
func remarshal(v, dst any) error {
	if v == nil {
		return errors.New("missing")
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

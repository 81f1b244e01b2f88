package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"tollgate/api"
)

// JWTVerifier checks a token as an HTTP API's JWT authorizer does: the
// local run's is authorizer.GatewayJWT, the code tollgate's own authorizer
// verifies JWTs with. It returns the token's claims and scopes, or why
// the token is refused, or an error when it cannot decide (no JWKS).
type JWTVerifier interface {
	VerifyJWT(ctx context.Context, token []byte) (claims map[string]any, scopes []string, reason string, err error)
}

// authorizeJWT guards a JWT route as API Gateway's JWT authorizer does
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html):
//
//   - the token is the identity source's value, alone or after "Bearer ";
//     none is 401 {"message":"Unauthorized"};
//   - a token that fails a check is 401 {"message":"Unauthorized"} with
//     www-authenticate: Bearer scope="" error="invalid_token"
//     error_description="…"
//     (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html);
//   - a valid token holding none of the route's scopes is 403
//     {"message":"Forbidden"} with error="insufficient_scope", as RFC 6750
//     section 3.1 has it;
//   - a token that cannot be checked (the issuer's keys unavailable) is
//     500 {"message":"Internal Server Error"};
//   - otherwise the integration gets the claims and scopes in
//     requestContext.authorizer.jwt. No answer is cached: each request's
//     token is checked.
func (g *Gateway) authorizeJWT(x *exchange) (*events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription, bool) {
	began := g.cfg.Now()
	defer func() { x.authLatency = g.cfg.Now().Sub(began) }()
	value := strings.Join(x.r.Header.Values(g.def.Authorizer.TokenHeader()), ",")
	if value == "" {
		g.httpAnswer(x, http.StatusUnauthorized, httpUnauthorized, api.Unauthorized)
		return nil, false
	}
	token, _ := strings.CutPrefix(value, "Bearer ")
	claims, scopes, reason, err := g.cfg.JWT.VerifyJWT(x.r.Context(), []byte(token))
	switch {
	case err != nil:
		x.authStatus = http.StatusInternalServerError
		g.httpAnswer(x, http.StatusInternalServerError, httpInternal, api.AuthorizerConfigurationError)
		return nil, false
	case reason != "":
		x.authStatus = http.StatusUnauthorized
		x.w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer scope="" error="invalid_token" error_description=%q`, reason))
		g.httpAnswer(x, http.StatusUnauthorized, httpUnauthorized, api.Unauthorized)
		return nil, false
	}
	if want := x.route.Scopes; len(want) > 0 && !slices.ContainsFunc(scopes, func(s string) bool { return slices.Contains(want, s) }) {
		x.authStatus = http.StatusForbidden
		x.w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer scope=%q error="insufficient_scope" error_description="the token holds none of the route's scopes"`, strings.Join(want, " ")))
		g.httpAnswer(x, http.StatusForbidden, httpForbidden, api.AccessDenied)
		return nil, false
	}
	x.authStatus = http.StatusOK
	return &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: stringClaims(claims), Scopes: scopes}, true
}

// stringClaims is the claims as the payload 2.0 event carries them,
// strings by name: strings as they are, numbers and booleans in their
// JSON form, and (tollgate's choice; AWS does not document it) arrays and
// objects as their JSON text.
func stringClaims(claims map[string]any) map[string]string {
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		switch v := v.(type) {
		case string:
			out[k] = v
		case float64:
			out[k] = strconv.FormatFloat(v, 'f', -1, 64)
		case bool:
			out[k] = strconv.FormatBool(v)
		default:
			b, _ := json.Marshal(v)
			out[k] = string(b)
		}
	}
	return out
}

package authorizer

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// GatewayJWT checks tokens as API Gateway's own JWT authorizer for HTTP
// APIs does
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html),
// with the code the Lambda authorizer verifies JWTs with: the token's
// RSA signature (RS256, RS384 or RS512: "only RSA-based algorithms are
// supported") by the key its kid names, iss equal to the issuer, aud (or,
// without an aud, client_id) one of the audiences
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-troubleshooting-jwt.html),
// exp required and past, nbf and iat not in the future (with
// DefaultJWTLeeway, which AWS does not state). The local gateway uses it
// for routes with api.Route.JWT.
type GatewayJWT struct{ v *jwtVerifier }

// gatewayJWTAlgorithms are the algorithms API Gateway's JWT authorizer
// takes: RSA-based ones.
var gatewayJWTAlgorithms = []string{"RS256", "RS384", "RS512"}

// NewGatewayJWT returns a GatewayJWT for the authorizer's issuer and
// audiences, reading the issuer's keys from jwksURL (where API Gateway
// finds them from the issuer's OpenID configuration). Its JWKS is held as
// the Lambda authorizer holds it (JWTConfig's defaults); log receives its
// fetches (nil discards them).
func NewGatewayJWT(issuer string, audiences []string, jwksURL string, log *slog.Logger) (*GatewayJWT, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := JWTConfig{Issuer: issuer, JWKSURL: jwksURL, Audiences: audiences, Algorithms: gatewayJWTAlgorithms}
	v, err := newJWTVerifier(cfg, DefaultFetchTimeout, time.Now, log) // checks cfg, fills its defaults
	if err != nil {
		return nil, err
	}
	// The audience is checked by VerifyJWT (aud, or client_id without
	// one), not by the parser, which knows aud only.
	v.parser = jwt.NewParser(parserOptions(v.cfg, time.Now)...)
	return &GatewayJWT{v: v}, nil
}

// VerifyJWT checks token: its claims and scopes (from "scope", a
// space-separated string, and "scp", a string or an array), or the reason
// it is refused, or an error when it cannot be decided (no usable JWKS).
func (g *GatewayJWT) VerifyJWT(ctx context.Context, token []byte) (claims map[string]any, scopes []string, reason string, err error) {
	now := time.Now()
	if len(token) > g.v.cfg.MaxTokenLength {
		return nil, nil, reasonJWTTooLong, nil
	}
	set, err := g.v.jwks.get(ctx, now)
	if err != nil {
		return nil, nil, "", err
	}
	c, _, reason := g.v.parse(ctx, token, now, set)
	if reason != "" {
		return nil, nil, reason, nil
	}
	aud, err := c.GetAudience()
	switch {
	case err != nil:
		return nil, nil, reasonJWTAudience, nil
	case len(aud) > 0:
		if !slices.ContainsFunc(aud, func(a string) bool { return slices.Contains(g.v.cfg.Audiences, a) }) {
			return nil, nil, reasonJWTAudience, nil
		}
	default:
		id, _ := c["client_id"].(string)
		if id == "" {
			return nil, nil, reasonJWTNoAudience, nil
		}
		if !slices.Contains(g.v.cfg.Audiences, id) {
			return nil, nil, reasonJWTAudience, nil
		}
	}
	scopes = append(scopesOf(c["scope"]), scopesOf(c["scp"])...)
	return c, scopes, "", nil
}

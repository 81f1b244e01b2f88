package peers

import (
	"context"
	"strings"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
)

// IdiomaticJWT is the JWT authorizer most users would write from the
// libraries' READMEs: keyfunc.NewDefaultCtx over the issuer's JWKS URL (it
// fetches the set and starts a goroutine that refreshes it every hour),
// jwt.Parse with the issuer, audience, exp and algorithm options, and an
// Allow on the whole stage with the subject as principal. It takes the
// typed TOKEN event through lambda.NewHandler's reflection, as Idiomatic
// does.
type IdiomaticJWT struct {
	kf     keyfunc.Keyfunc
	parser *jwt.Parser
}

// NewIdiomaticJWT reads the JWKS at jwksURL; ctx ends its refresh
// goroutine.
func NewIdiomaticJWT(ctx context.Context, jwksURL, issuer, audience string) (*IdiomaticJWT, error) {
	kf, err := keyfunc.NewDefaultCtx(ctx, []string{jwksURL})
	if err != nil {
		return nil, err
	}
	return &IdiomaticJWT{kf: kf, parser: jwt.NewParser(jwt.WithIssuer(issuer), jwt.WithAudience(audience),
		jwt.WithExpirationRequired(), jwt.WithValidMethods([]string{"RS256", "ES256"}))}, nil
}

// Token decides a TOKEN event.
func (p *IdiomaticJWT) Token(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	tok, err := p.parser.Parse(strings.TrimPrefix(ev.AuthorizationToken, "Bearer "), p.kf.KeyfuncCtx(ctx))
	if err != nil || !tok.Valid {
		return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
	}
	sub, err := tok.Claims.GetSubject()
	if err != nil || sub == "" {
		return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
	}
	parts := strings.SplitN(ev.MethodArn, "/", 3)
	return events.APIGatewayCustomAuthorizerResponse{
		PrincipalID: sub,
		PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
			Version: "2012-10-17",
			Statement: []events.IAMPolicyStatement{{
				Action: []string{"execute-api:Invoke"}, Effect: "Allow",
				Resource: []string{parts[0] + "/" + parts[1] + "/*/*"},
			}},
		},
		Context: map[string]any{"sub": sub},
	}, nil
}

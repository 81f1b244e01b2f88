package peers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// errUnauthorized is the message API Gateway turns into a 401.
var errUnauthorized = errors.New("Unauthorized")

// keyring is tollgate's keyring document.
type keyring struct {
	Keys []struct {
		ID  string `json:"id"`
		Key string `json:"key"`
	} `json:"keys"`
}

// source reads the keyring with the SDK, configured the usual way.
type source struct {
	client   *secretsmanager.Client
	secretID string
}

func newSource(ctx context.Context, secretID string) (*source, error) {
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, err
	}
	return &source{client: secretsmanager.NewFromConfig(cfg), secretID: secretID}, nil
}

func (s *source) keyring(ctx context.Context) (keyring, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(s.secretID)})
	if err != nil {
		return keyring{}, err
	}
	var kr keyring
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &kr); err != nil {
		return keyring{}, fmt.Errorf("keyring: %w", err)
	}
	return kr, nil
}

// decide finds the key with ==, and allows the whole stage.
func (kr keyring) decide(header, methodARN string) (events.APIGatewayCustomAuthorizerResponse, error) {
	token := strings.TrimPrefix(header, "Bearer ")
	for _, k := range kr.Keys {
		if k.Key == token {
			parts := strings.SplitN(methodARN, "/", 3)
			return events.APIGatewayCustomAuthorizerResponse{
				PrincipalID: k.ID,
				PolicyDocument: events.APIGatewayCustomAuthorizerPolicy{
					Version: "2012-10-17",
					Statement: []events.IAMPolicyStatement{{
						Action: []string{"execute-api:Invoke"}, Effect: "Allow",
						Resource: []string{parts[0] + "/" + parts[1] + "/*/*"},
					}},
				},
				Context: map[string]any{"keyId": k.ID},
			}, nil
		}
	}
	return events.APIGatewayCustomAuthorizerResponse{}, errUnauthorized
}

// Idiomatic fetches the keyring once, at init.
type Idiomatic struct{ keys keyring }

// NewIdiomatic loads the AWS configuration and the keyring.
func NewIdiomatic(ctx context.Context, secretID string) (*Idiomatic, error) {
	src, err := newSource(ctx, secretID)
	if err != nil {
		return nil, err
	}
	kr, err := src.keyring(ctx)
	if err != nil {
		return nil, err
	}
	return &Idiomatic{keys: kr}, nil
}

// Token decides a REST TOKEN event.
func (a *Idiomatic) Token(_ context.Context, ev events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	return a.keys.decide(ev.AuthorizationToken, ev.MethodArn)
}

// Request decides a REST REQUEST event, unmarshalled whole.
func (a *Idiomatic) Request(_ context.Context, ev events.APIGatewayCustomAuthorizerRequestTypeRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	return a.keys.decide(ev.Headers["Authorization"], ev.MethodArn)
}

// HTTP decides an HTTP API payload 2.0 event with a simple response.
func (a *Idiomatic) HTTP(_ context.Context, ev events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	resp, err := a.keys.decide(ev.Headers["authorization"], ev.RouteArn)
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: err == nil, Context: resp.Context}, nil
}

// Seed fetches the keyring on every invocation.
type Seed struct{ src *source }

// NewSeed loads the AWS configuration.
func NewSeed(ctx context.Context, secretID string) (*Seed, error) {
	src, err := newSource(ctx, secretID)
	if err != nil {
		return nil, err
	}
	return &Seed{src: src}, nil
}

// Token fetches the keyring, then decides a REST TOKEN event.
func (s *Seed) Token(ctx context.Context, ev events.APIGatewayCustomAuthorizerRequest) (events.APIGatewayCustomAuthorizerResponse, error) {
	kr, err := s.src.keyring(ctx)
	if err != nil {
		return events.APIGatewayCustomAuthorizerResponse{}, err
	}
	return kr.decide(ev.AuthorizationToken, ev.MethodArn)
}

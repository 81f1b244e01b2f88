package authorizer

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// Secret version stages, as Secrets Manager labels them. The authorizer
// reads StageCurrent only; StagePrevious is the label Secrets Manager moves
// to the version a new value replaces (localsm emulates it).
const (
	StageCurrent  = "AWSCURRENT"
	StagePrevious = "AWSPREVIOUS"
)

// ErrSecretNotFound is returned (wrapped) by a SecretSource when the secret,
// or the asked-for stage of it, does not exist or is scheduled for deletion.
// It revokes every key at once.
var ErrSecretNotFound = errors.New("secret not found")

// SecretSource reads one version stage of the keyring secret (a Secrets
// Manager label such as AWSCURRENT, not an API Gateway stage).
type SecretSource interface {
	SecretValue(ctx context.Context, versionStage string) ([]byte, error)
}

// SourceFunc adapts a function to a SecretSource.
type SourceFunc func(ctx context.Context, versionStage string) ([]byte, error)

// SecretValue calls f.
func (f SourceFunc) SecretValue(ctx context.Context, versionStage string) ([]byte, error) {
	return f(ctx, versionStage)
}

// GetSecretValueAPI is the one Secrets Manager call the authorizer makes;
// *secretsmanager.Client implements it.
type GetSecretValueAPI interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// SecretsManager returns a SecretSource that reads secretID (a name or ARN)
// with GetSecretValue, passing the VersionStage explicitly. Point the client
// at an emulator with the SDK's standard AWS_ENDPOINT_URL_SECRETS_MANAGER
// variable.
func SecretsManager(client GetSecretValueAPI, secretID string) SecretSource {
	return &secretsManagerSource{client: client, id: secretID}
}

type secretsManagerSource struct {
	client GetSecretValueAPI
	id     string
}

func (s *secretsManagerSource) SecretValue(ctx context.Context, versionStage string) ([]byte, error) {
	out, err := s.client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{
		SecretId:     aws.String(s.id),
		VersionStage: aws.String(versionStage),
	})
	if err != nil {
		// ResourceNotFoundException: no such secret or no version with this
		// stage. InvalidRequestException: the secret is scheduled for
		// deletion (the only state in which GetSecretValue answers it).
		// https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html
		var nf *types.ResourceNotFoundException
		var inv *types.InvalidRequestException
		if errors.As(err, &nf) || errors.As(err, &inv) {
			return nil, fmt.Errorf("%w: %s: %w", ErrSecretNotFound, versionStage, err)
		}
		return nil, fmt.Errorf("get secret value %s: %w", versionStage, err)
	}
	switch {
	case out.SecretString != nil:
		return []byte(*out.SecretString), nil
	case out.SecretBinary != nil:
		return out.SecretBinary, nil
	}
	return nil, fmt.Errorf("get secret value %s: the version holds no value", versionStage)
}

package authorizer

import (
	"context"
	"errors"
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

// SecretsManager returns a SecretSource that reads secretID (a name or ARN)
// with client's GetSecretValue, passing the VersionStage explicitly. Point
// the client at an emulator with the SDK's standard
// AWS_ENDPOINT_URL_SECRETS_MANAGER variable (SecretsManagerFromEnv). To
// read through the AWS SDK's client instead, wrap its GetSecretValue in a
// SourceFunc.
func SecretsManager(client *SecretsManagerClient, secretID string) SecretSource {
	return smSource{client: client, id: secretID}
}

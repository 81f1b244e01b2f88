package local

import (
	"context"
	"errors"
	"fmt"
	"time"

	"tollgate/authorizer"
)

// secretCheckTimeout bounds the start-up read of a secret on another
// endpoint: the authorizer's own attempts, with their retries, fit in it.
const secretCheckTimeout = 15 * time.Second

// checkSecret reads the secret once, as the authorizer will, from another
// endpoint (AWS, or a URL such as moto), so that a wrong secret id, an
// unreachable endpoint or an invalid keyring stops the start with a
// message instead of answering the first request 500. Errors name the
// secret and the endpoint, never a value.
func checkSecret(ctx context.Context, cfg Config, env map[string]string) error {
	getenv := func(k string) string {
		if k == authorizer.EnvAWSRegion {
			return cfg.Region
		}
		return env[k]
	}
	client, err := authorizer.SecretsManagerFromEnv(getenv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, secretCheckTimeout)
	defer cancel()
	where := cfg.SecretsEndpoint
	if where == awsEndpoint {
		where = "AWS Secrets Manager in " + cfg.Region
	}
	b, err := authorizer.SecretsManager(client, cfg.SecretID).SecretValue(ctx, authorizer.StageCurrent)
	switch {
	case errors.Is(err, authorizer.ErrSecretNotFound):
		return fmt.Errorf("secret %q: not found at %s (check -secret-id, and -region for AWS): %w", cfg.SecretID, where, err)
	case err != nil:
		return fmt.Errorf("secret %q: cannot read it from %s (check -secrets-endpoint and credentials): %w", cfg.SecretID, where, err)
	}
	if _, err := authorizer.ParseKeyring(b); err != nil {
		return fmt.Errorf("secret %q at %s: %w", cfg.SecretID, where, err)
	}
	return nil
}

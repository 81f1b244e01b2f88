package local

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/keytable"
)

// keyTable sets the authorizer up to read keys from cfg.KeyTable, as a
// stack with keyStore: dynamodb does: TOLLGATE_KEY_TABLE, no secret, the
// endpoint in AWS_ENDPOINT_URL_DYNAMODB. It creates the table if the
// endpoint has none, and gives an empty table one development key,
// printed once; a table on AWS (the deploy's) it only reads.
func (m *Main) keyTable(ctx context.Context, cfg Config, def api.Definition) (map[string]string, error) {
	env := authorizer.Env("", def.Authorizer.TokenHeader())
	env[authorizer.EnvSecretID] = ""
	env[authorizer.EnvKeyTable] = cfg.KeyTable
	endpoint := cfg.KeyTableEndpoint
	var creds aws.Credentials
	if endpoint == awsEndpoint {
		var err error
		if creds, err = awsCredentials(ctx, cfg.Region); err != nil {
			return nil, err
		}
		endpoint = authorizer.DynamoDBEndpoint(cfg.Region)
		env[authorizer.EnvAWSAccessKeyID], env[authorizer.EnvAWSSecretAccessKey], env[authorizer.EnvAWSSessionToken] = creds.AccessKeyID, creds.SecretAccessKey, creds.SessionToken
	} else {
		passCredentials(cfg, env)
		env[authorizer.EnvAWSEndpointDynamoDB] = endpoint
		creds = aws.Credentials{AccessKeyID: env[authorizer.EnvAWSAccessKeyID], SecretAccessKey: env[authorizer.EnvAWSSecretAccessKey], SessionToken: env[authorizer.EnvAWSSessionToken]}
	}
	if env[authorizer.EnvAWSSessionToken] == "" {
		delete(env, authorizer.EnvAWSSessionToken)
	}
	if cfg.KeyTTL > 0 {
		env[authorizer.EnvKeyTTL] = cfg.KeyTTL.String()
	}
	for k, v := range cfg.AuthorizerEnv {
		env[k] = v
	}
	if _, set := cfg.AuthorizerEnv[authorizer.EnvTokenHeader]; !set {
		delete(env, authorizer.EnvTokenHeader)
	}

	c := authorizer.NewDynamoDBClient(endpoint, cfg.Region, creds, &http.Client{Timeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := c.Call(ctx, "DescribeTable", map[string]string{"TableName": cfg.KeyTable}, nil)
	switch {
	case authorizer.IsCode(err, "ResourceNotFoundException") && cfg.KeyTableEndpoint != awsEndpoint:
		if err := keytable.Create(ctx, c, cfg.KeyTable); err != nil {
			return nil, fmt.Errorf("key table %q at %s: creating it: %w", cfg.KeyTable, endpoint, err)
		}
		fmt.Fprintf(cfg.Out, "Created the key table %q at %s.\n", cfg.KeyTable, endpoint)
	case err != nil:
		return nil, fmt.Errorf("key table %q: cannot read it at %s (check -dynamodb-endpoint, -region and credentials): %w", cfg.KeyTable, endpoint, err)
	}
	var page struct{ Count int }
	if err := c.Call(ctx, "Scan", map[string]any{"TableName": cfg.KeyTable, "Limit": 1, "Select": "COUNT"}, &page); err != nil {
		return nil, fmt.Errorf("key table %q: %w", cfg.KeyTable, err)
	}
	manage := fmt.Sprintf("go run ./cmd/tollkeys new -id NAME -endpoint %s %s%s", cfg.KeyTableEndpoint, "dynamodb:", cfg.KeyTable)
	if cfg.KeyTableEndpoint == awsEndpoint {
		manage = fmt.Sprintf("go run ./cmd/tollkeys new -id NAME -region %s dynamodb:%s", cfg.Region, cfg.KeyTable)
	}
	if page.Count > 0 || cfg.KeyTableEndpoint == awsEndpoint { // a real table is never written to
		m.keyHint = fmt.Sprintf("Protected routes take a key of the table %q; give a client one with\n\n    %s\n\nand set it:\n\n    export TOLLGATE_KEY=<its key>\n", cfg.KeyTable, manage)
		return env, nil
	}
	key := authorizer.NewKey()
	items, err := authorizer.KeyItems(authorizer.Keyring{Keys: []authorizer.Key{{ID: "local-dev", SHA256: authorizer.Digest(key)}}})
	if err != nil {
		return nil, err
	}
	if err := keytable.Put(ctx, c, cfg.KeyTable, items); err != nil {
		return nil, fmt.Errorf("key table %q: %w", cfg.KeyTable, err)
	}
	fmt.Fprintf(cfg.Out, "Gave the empty key table %q a development key (client local-dev). It is shown only now:\n\n    export TOLLGATE_KEY=%s\n\nMore clients: %s\n\n", cfg.KeyTable, key, manage)
	return env, nil
}

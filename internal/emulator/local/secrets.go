package local

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"
	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/emulator/localaws"
	"tollgate/internal/emulator/localsm"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// secrets sets up where the authorizer reads its keys and returns the
// variables that tell it (authorizer.Env, but for the token header, which
// is the definition's: Main.functionEnv) and the AWS credentials it reads
// them with: only from its environment, as on Lambda
// (authorizer.SecretsManagerFromEnv).
func (m *Main) secrets(ctx context.Context, cfg Config, def api.Definition) (map[string]string, error) {
	if cfg.KeyTable != "" {
		return m.keyTable(ctx, cfg, def)
	}
	env := authorizer.Env(cfg.SecretID, def.Authorizer.TokenHeader())
	if cfg.SecretsEndpoint != "" {
		m.keyHint = fmt.Sprintf("Protected routes take a key of the secret %q; set one first:\n\n    export TOLLGATE_KEY=<a key of that keyring>\n", cfg.SecretID)
	}
	switch cfg.SecretsEndpoint {
	case awsEndpoint:
		// Lambda hands a function its role's credentials in the
		// environment; here they are the user's, found by the SDK's chain.
		creds, err := awsCredentials(ctx, cfg.Region)
		if err != nil {
			return nil, err
		}
		env[authorizer.EnvAWSAccessKeyID], env[authorizer.EnvAWSSecretAccessKey] = creds.AccessKeyID, creds.SecretAccessKey
		if creds.SessionToken != "" {
			env[authorizer.EnvAWSSessionToken] = creds.SessionToken
		}
		if creds.CanExpire {
			fmt.Fprintf(cfg.Out, "The AWS credentials given to the authorizer expire at %s; restart then.\n", creds.Expires.Local().Format(time.DateTime))
		}
	case "":
		keys := cfg.KeysFile
		if keys == "" {
			var err error
			if cfg.Stack != nil {
				keys, err = stackKeyring(cfg)
			} else {
				keys, err = devKeyring(cfg)
			}
			if err != nil {
				return nil, err
			}
		}
		store, err := localsm.Open(cfg.SecretID, keys, cfg.Region, localaws.AccountID,
			slog.New(slog.NewTextHandler(cfg.FunctionLogs, nil)))
		if err != nil {
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		// A new access key for each run, given only to the authorizer:
		// another local process cannot read the keyring.
		id, secret := localaws.NewCredentials()
		store.AccessKeyID = id
		m.Store = store
		m.serve(ln, store)
		go store.Watch(m.bg, keyringWatch)
		if cfg.KeysFile != "" {
			m.keyHint = fmt.Sprintf("Protected routes take a key of %s; set one first:\n\n    export TOLLGATE_KEY=<a key of %s>\n", cfg.KeysFile, filepath.Base(cfg.KeysFile))
		}
		env[authorizer.EnvAWSEndpoint] = "http://" + ln.Addr().String()
		env[authorizer.EnvAWSAccessKeyID], env[authorizer.EnvAWSSecretAccessKey] = id, secret
	default:
		env[authorizer.EnvAWSEndpoint] = cfg.SecretsEndpoint
		passCredentials(cfg, env)
	}
	if cfg.KeyTTL > 0 {
		env[authorizer.EnvKeyTTL] = cfg.KeyTTL.String()
	}
	for k, v := range cfg.AuthorizerEnv {
		env[k] = v
	}
	if cfg.SecretsEndpoint != "" {
		if err := checkSecret(ctx, cfg, env); err != nil {
			return nil, err
		}
	}
	if _, set := cfg.AuthorizerEnv[authorizer.EnvTokenHeader]; !set {
		delete(env, authorizer.EnvTokenHeader)
	}
	return env, nil
}

// passCredentials gives the authorizer the AWS_* credentials of the
// environment, else stand-ins an emulator accepts.
func passCredentials(cfg Config, env map[string]string) {
	env[authorizer.EnvAWSAccessKeyID], env[authorizer.EnvAWSSecretAccessKey] = "tollgate-local", "tollgate-local"
	if id, secret := cfg.Getenv(authorizer.EnvAWSAccessKeyID), cfg.Getenv(authorizer.EnvAWSSecretAccessKey); id != "" && secret != "" {
		env[authorizer.EnvAWSAccessKeyID], env[authorizer.EnvAWSSecretAccessKey] = id, secret
		if tok := cfg.Getenv(authorizer.EnvAWSSessionToken); tok != "" {
			env[authorizer.EnvAWSSessionToken] = tok
		}
	}
}

// httpRouteWarnings names the keys of a keyring that an HTTP API refuses
// on a route they were meant to reach: its answers are cached by route and
// method, so a key limited to part of an API route is refused on all of it
// (authorizer.CheckHTTPRouteLimit).
func httpRouteWarnings(def api.Definition) func(authorizer.Keyring) []string {
	var routes []string
	for _, r := range def.SortedRoutes() {
		if r.Protected {
			routes = append(routes, r.String())
		}
	}
	return func(kr authorizer.Keyring) []string {
		var out []string
		for _, k := range kr.Keys {
			if k.Routes == nil {
				continue
			}
			if err := authorizer.CheckHTTPRouteLimit(k.Routes, routes); err != nil {
				out = append(out, fmt.Sprintf("key %q: %v", k.ID, err))
			}
		}
		return out
	}
}

// devKeyring returns StateDir/keyring.json, generating it with one new key
// the first time and printing that key, once.
func devKeyring(cfg Config) (string, error) {
	path := filepath.Join(cfg.StateDir, "keyring.json")
	if _, err := os.Stat(path); err == nil {
		fmt.Fprintf(cfg.Out, "Keys: %s (it holds digests; the key was shown once, when it was made: delete the file for a new one)\n", path)
		return path, nil
	}
	if err := privateDir(cfg.StateDir); err != nil {
		return "", err
	}
	key, doc, err := NewKeyring("local-dev")
	if err != nil {
		return "", err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	if _, err := f.Write(doc); err != nil {
		_ = f.Close()
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	fmt.Fprintf(cfg.Out, "Generated a development key in %s. It is shown only now:\n\n    export TOLLGATE_KEY=%s\n\n", path, key)
	return path, nil
}

// NewKeyring makes a keyring document holding the digest of one new
// tollgate key (authorizer.NewKey) with the given id, and returns the key:
// the only time it is seen.
func NewKeyring(id string) (key string, doc []byte, err error) {
	key = authorizer.NewKey()
	doc, err = json.MarshalIndent(authorizer.Keyring{Keys: []authorizer.Key{{ID: id, SHA256: authorizer.Digest(key)}}}, "", "  ")
	if err != nil {
		return "", nil, err
	}
	if _, err := authorizer.ParseKeyring(doc); err != nil {
		return "", nil, err
	}
	return key, append(doc, '\n'), nil
}

// awsCredentials finds the user's AWS credentials as the AWS CLI does:
// environment, shared config and credentials files, SSO.
func awsCredentials(ctx context.Context, region string) (aws.Credentials, error) {
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(region))
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("secrets endpoint %q: AWS configuration: %w", awsEndpoint, err)
	}
	creds, err := awsCfg.Credentials.Retrieve(ctx)
	if err != nil {
		return aws.Credentials{}, fmt.Errorf("secrets endpoint %q: no AWS credentials (aws configure, or AWS_PROFILE): %w", awsEndpoint, err)
	}
	return creds, nil
}

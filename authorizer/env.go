package authorizer

import (
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"
)

// The environment variables FromEnv reads, and so the configuration of the
// cmd/authorizer Lambda function. The deploy program and the local gateway
// set them by these names.
const (
	EnvSecretID    = "TOLLGATE_SECRET_ID"    // secret name or ARN; required
	EnvTokenHeader = "TOLLGATE_TOKEN_HEADER" // Config.TokenHeader
	EnvTokenScheme = "TOLLGATE_TOKEN_SCHEME" // Config.Scheme ("none" for a raw value)
	// envSecretStages is no longer read: keys come from AWSCURRENT only,
	// and a rotation's grace is in the keyring. Set, it is an error, so
	// that a function configured for the old model does not start.
	envSecretStages = "TOLLGATE_SECRET_STAGES"
	EnvKeyTTL       = "TOLLGATE_KEY_TTL"       // Config.TTL, a Go duration
	EnvKeyMaxStale  = "TOLLGATE_KEY_MAX_STALE" // Config.MaxStale, a Go duration
	EnvFetchTimeout = "TOLLGATE_FETCH_TIMEOUT" // Config.FetchTimeout, a Go duration
	EnvLogLevel     = "TOLLGATE_LOG_LEVEL"     // debug, info, warn or error
	EnvMetrics      = "TOLLGATE_METRICS"       // on (the default) or off: Config.NoMetrics
	EnvKeyTable     = "TOLLGATE_KEY_TABLE"     // a DynamoDB table of keys: Config.KeyTable
	EnvNegativeTTL  = "TOLLGATE_NEGATIVE_TTL"  // KeyTable.NegativeTTL, a Go duration
)

// Env is the environment a deploy or a local run gives the authorizer
// function, beside the function's own variables: where its keys are (a
// secret name or ARN) and which header holds the key. It is the one place
// a caller learns these names.
func Env(secretID, tokenHeader string) map[string]string {
	return map[string]string{EnvSecretID: secretID, EnvTokenHeader: tokenHeader}
}

// FromEnv reads the settings above with getenv (os.Getenv in a Lambda
// function) and returns the secret id and a Config with every field but
// Source set. Its Logger writes JSON to standard output at the configured
// level. Unset variables mean the defaults; a set but invalid one is an
// error that names it.
func FromEnv(getenv func(string) string) (secretID string, cfg Config, err error) {
	secretID = strings.TrimSpace(getenv(EnvSecretID))
	if table := strings.TrimSpace(getenv(EnvKeyTable)); table != "" {
		// Its Client is NewFromEnv's to make.
		cfg.KeyTable = &KeyTable{Name: table}
	}
	if secretID == "" && cfg.KeyTable == nil {
		return "", Config{}, fmt.Errorf("authorizer: %s (or %s) is required", EnvSecretID, EnvKeyTable)
	}
	cfg.TokenHeader = strings.TrimSpace(getenv(EnvTokenHeader))
	cfg.Scheme = strings.TrimSpace(getenv(EnvTokenScheme))
	if getenv(envSecretStages) != "" {
		return "", Config{}, fmt.Errorf("authorizer: %s is no longer read: keys come from the AWSCURRENT version only, and a rotated key's grace is its \"previous\" entry in the keyring; unset it", envSecretStages)
	}
	var negativeTTL time.Duration
	for _, d := range []struct {
		name string
		dst  *time.Duration
	}{
		{EnvKeyTTL, &cfg.TTL},
		{EnvKeyMaxStale, &cfg.MaxStale},
		{EnvFetchTimeout, &cfg.FetchTimeout},
		{EnvNegativeTTL, &negativeTTL},
	} {
		v := strings.TrimSpace(getenv(d.name))
		if v == "" {
			continue
		}
		if *d.dst, err = time.ParseDuration(v); err != nil || *d.dst <= 0 {
			return "", Config{}, fmt.Errorf("authorizer: %s=%q: want a positive duration such as 5m", d.name, v)
		}
	}
	if negativeTTL > 0 {
		if cfg.KeyTable == nil {
			return "", Config{}, fmt.Errorf("authorizer: %s is a key table's setting: set %s too, or unset it", EnvNegativeTTL, EnvKeyTable)
		}
		cfg.KeyTable.NegativeTTL = negativeTTL
	}
	switch v := strings.TrimSpace(getenv(EnvMetrics)); v {
	case "", "on":
	case "off":
		cfg.NoMetrics = true
	default:
		return "", Config{}, fmt.Errorf("authorizer: %s=%q: want on or off", EnvMetrics, v)
	}
	level := slog.LevelInfo
	if v := strings.TrimSpace(getenv(EnvLogLevel)); v != "" {
		if err := level.UnmarshalText([]byte(v)); err != nil {
			return "", Config{}, fmt.Errorf("authorizer: %s=%q: want debug, info, warn or error", EnvLogLevel, v)
		}
	}
	if v := strings.TrimSpace(getenv(EnvJWT)); v != "" {
		if cfg.JWT, err = ParseJWTConfig([]byte(v)); err != nil {
			return "", Config{}, fmt.Errorf("%w (in %s)", err, EnvJWT)
		}
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{Level: level}))
	cfg.DecisionLog = os.Stdout
	return secretID, cfg, nil
}

// Command local is the local run itself: cmd/local, a launcher that
// compiles in seconds, builds it into the module's .tollgate/bin and
// becomes it (internal/launch). Its documentation is cmd/local's.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"tollgate/api"
	"tollgate/internal/emulator/local"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tollgate local:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "mint" {
		return mint(args[1:], stdout, stderr)
	}
	cfg, openapi, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil // -h: the usage is printed; asking for help is not a failure
	}
	if err != nil {
		return err
	}
	if openapi {
		def, err := cfg.API()
		if err != nil {
			return err
		}
		_, doc, err := local.Served(def)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", doc)
		return err
	}
	cfg.Out = stdout
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// Under `go run`, a SIGTERM (what process managers send) ends the go
	// command but not this program, which would keep the port and its
	// functions: stop when the go command is gone.
	ctx = stopWithGoRun(ctx, stdout)
	m, err := local.Start(ctx, cfg)
	if err != nil {
		return err
	}
	m.Routes(stdout)
	<-ctx.Done()
	fmt.Fprintln(stdout, "\nStopping…")
	return m.Close()
}

func parseFlags(args []string, stderr io.Writer) (cfg local.Config, openapi bool, err error) {
	fs := flag.NewFlagSet("local", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "listen address")
	fs.StringVar(&cfg.APIFile, "api", "", "the API file to serve (default api.yaml at the module's root)")
	fs.StringVar(&cfg.StateDir, "state", "", "where the built functions and the generated keyring are kept (default .tollgate at the module's root)")
	fs.DurationVar(&cfg.KeyTTL, "key-ttl", 0, "how long the authorizer keeps keys before reading them again, like 5s (default 5m)")
	fs.StringVar(&cfg.KeysFile, "keys", "", "keyring JSON file to serve (default .tollgate/keyring.json, generated)")
	fs.StringVar(&cfg.SecretsEndpoint, "secrets-endpoint", "", `Secrets Manager endpoint URL instead of the local one; "aws" for AWS`)
	fs.StringVar(&cfg.SecretID, "secret-id", local.DefaultSecretID, "secret name or ARN")
	fs.StringVar(&cfg.Region, "region", "", "AWS region (default $AWS_REGION or us-east-1)")
	ttl := fs.String("ttl", "", "authorizer result cache TTL, 0 for none (default 5m)")
	typ := fs.String("authorizer-type", "", "TOKEN or REQUEST (default TOKEN)")
	apiType := fs.String("api-type", "", "rest or http: an HTTP API, with its authorizer's payload 2.0 and simple responses (default rest)")
	cors := fs.String("cors-origin", "", `origin whose pages may call the API, or "*" (CORS; as the corsAllowOrigin setting)`)
	quiet := fs.Bool("quiet", false, "no access log or function output")
	fs.BoolVar(&cfg.Watch, "watch", false, "serve every saved edit: a function rebuilt when its source changes, the API file read again when it changes")
	fs.BoolVar(&openapi, "openapi", false, "print the API's OpenAPI document and exit")
	jwtSettings := fs.String("jwt", "", `JWT settings accepted beside keys, a JSON object or a file holding one, like {"issuer":…,"jwksUrl":…,"audiences":[…]}`)
	fs.StringVar(&cfg.StackName, "stack", "", "limit clients by this Pulumi stack's plans (Pulumi.STACK.yaml: clients, plans, defaultPlan), with a generated key for each of its clients")
	fs.BoolVar(&cfg.JWTLocal, "jwt-local", false, "serve a local JWT issuer (mint tokens with: go run ./cmd/local mint -sub NAME) and accept its tokens")
	keyStore := fs.String("keystore", "secret", `where the authorizer reads keys: secret (the keyring file, served as a secret) or dynamodb (a key table, at -dynamodb-endpoint)`)
	fs.StringVar(&cfg.KeyTableEndpoint, "dynamodb-endpoint", "", `with -keystore dynamodb: a DynamoDB-compatible endpoint URL (moto_server, DynamoDB Local), or "aws" for AWS`)
	keyTable := fs.String("key-table", "tollgate-local-keys", "with -keystore dynamodb: the key table's name (a stack's is its keyTable output)")
	if err := fs.Parse(args); err != nil {
		return cfg, false, err
	}
	switch *keyStore {
	case "secret":
		if cfg.KeyTableEndpoint != "" {
			return cfg, false, errors.New("-dynamodb-endpoint: give -keystore dynamodb too")
		}
	case "dynamodb":
		cfg.KeyTable = *keyTable
	default:
		return cfg, false, fmt.Errorf("-keystore %q: want secret or dynamodb", *keyStore)
	}
	if fs.NArg() > 0 {
		return cfg, false, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *ttl != "" {
		d, err := time.ParseDuration(*ttl)
		if err != nil {
			return cfg, false, fmt.Errorf("-ttl %q: %w", *ttl, err)
		}
		cfg.TTL = &d
	}
	switch t := api.AuthorizerType(strings.ToUpper(*typ)); t {
	case "", api.Token, api.Request:
		cfg.AuthorizerType = t
	default:
		return cfg, false, fmt.Errorf("-authorizer-type %q: want TOKEN or REQUEST", *typ)
	}
	switch t := api.APIType(strings.ToUpper(*apiType)); t {
	case "", api.REST, api.HTTP:
		cfg.APIType = t
	default:
		return cfg, false, fmt.Errorf("-api-type %q: want rest or http", *apiType)
	}
	if cfg.APIType == api.HTTP && cfg.AuthorizerType == api.Token {
		return cfg, false, errors.New("-authorizer-type TOKEN: an HTTP API's Lambda authorizer is a REQUEST one")
	}
	if *cors != "" {
		def := api.Default()
		if err := def.AllowOrigin(*cors); err != nil {
			return cfg, false, fmt.Errorf("-cors-origin: %w", err)
		}
		cfg.CORSOrigin = *cors
	}
	if v := strings.TrimSpace(*jwtSettings); v != "" {
		if !strings.HasPrefix(v, "{") {
			b, err := os.ReadFile(v)
			if err != nil {
				return cfg, false, fmt.Errorf("-jwt: %w", err)
			}
			v = string(b)
		}
		cfg.JWT = v
	}
	if cfg.KeyTTL < 0 {
		return cfg, false, fmt.Errorf("-key-ttl %v: want a positive duration", cfg.KeyTTL)
	}
	if !*quiet {
		cfg.AccessLog, cfg.FunctionLogs = stderr, stderr
	}
	return cfg, openapi, nil
}

// mint prints a token signed by the local issuer (see local.Mint).
func mint(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("local mint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	state := fs.String("state", "", "the local run's state directory (default .tollgate at the module's root)")
	sub := fs.String("sub", "", "the token's subject, its principal (required)")
	scope := fs.String("scope", "", `the token's scopes, space-separated, like "orders:read orders:write"`)
	ttl := fs.Duration("ttl", time.Hour, "how long the token is valid")
	extra := map[string]any{}
	fs.Func("claim", "an extra claim, name=value (a string; repeat the flag for more)", func(v string) error {
		name, value, ok := strings.Cut(v, "=")
		if !ok || name == "" {
			return errors.New("want name=value")
		}
		extra[name] = value
		return nil
	})
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("mint: unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	if *ttl <= 0 {
		return fmt.Errorf("mint: -ttl %v: want a positive duration", *ttl)
	}
	dir := *state
	if dir == "" {
		cfg := local.Config{}
		d, err := cfg.DefaultStateDir()
		if err != nil {
			return err
		}
		dir = d
	}
	tok, err := local.Mint(dir, *sub, *scope, extra, *ttl)
	if err != nil {
		return fmt.Errorf("mint: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}

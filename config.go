package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/deploy"
	"tollgate/plans"
)

// apiFile is the API the program deploys, api.yaml in the project's
// directory (where Pulumi runs the program); without one, api.Default().
var apiFile = api.FileName

// stackConfig is everything the program reads from the stack's
// configuration.
type stackConfig struct {
	Args deploy.Args
	// Name names the API and prefixes every resource: the project's name,
	// '-', the stack's.
	Name   string
	Region string
	Tags   map[string]string
	// provider are the AWS provider's arguments (providerArgs).
	provider *aws.ProviderArgs

	validationRegex string
	corsAllowOrigin string
	apiType         string
	jwt             string // the jwt setting's JSON, "" for none
}

// setting is one key of the tollgate config namespace, declared with its
// type, default and description in Pulumi.yaml (a test holds the two
// equal) and documented in docs/deploying.md's table.
type setting struct {
	key string
	// set applies the key's value, as Pulumi passes it: a string, arrays
	// and objects in JSON.
	set func(c *stackConfig, v string) error
}

// settings are every tollgate:* key, in Pulumi.yaml's order, which is the
// order they are applied in.
var settings = []setting{
	{"arch", func(c *stackConfig, v string) error { c.Args.Arch = deploy.Arch(v); return nil }},
	{"stage", func(c *stackConfig, v string) error { c.Args.Definition.Stage = v; return nil }},
	{"apiType", func(c *stackConfig, v string) error {
		if v != "rest" && v != "http" {
			return fmt.Errorf("%q: want rest or http", v)
		}
		c.apiType = v
		return nil
	}},
	{"clients", func(c *stackConfig, v string) error { return decodeJSON(v, &c.Args.Clients) }},
	{"keyDigests", func(c *stackConfig, v string) error { return decodeJSON(v, &c.Args.KeyDigests) }},
	{"clientRoutes", func(c *stackConfig, v string) error { return decodeJSON(v, &c.Args.Routes) }},
	{"clientExpiry", func(c *stackConfig, v string) error { return decodeJSON(v, &c.Args.Expiry) }},
	{"disabledClients", func(c *stackConfig, v string) error {
		err := decodeJSON(v, &c.Args.Disabled)
		if len(c.Args.Disabled) == 0 {
			c.Args.Disabled = nil // the declared default, [], is none
		}
		return err
	}},
	{"rotation", func(c *stackConfig, v string) error { return integer(v, &c.Args.Rotation) }},
	{"rotations", func(c *stackConfig, v string) error { return decodeJSON(v, &c.Args.Rotations) }},
	{"recoveryWindowInDays", func(c *stackConfig, v string) error { return integer(v, &c.Args.RecoveryWindowInDays) }},
	{"kmsKeyArn", func(c *stackConfig, v string) error { c.Args.KMSKeyARN = v; return nil }},
	{"keyStore", func(c *stackConfig, v string) error {
		c.Args.KeyStore = deploy.KeyStore(strings.TrimSpace(v))
		return nil
	}},
	{"keyTableDeletionProtection", func(c *stackConfig, v string) error {
		on, err := boolean(v)
		c.Args.KeyTableUnprotected = !on
		return err
	}},
	{"authorizerType", func(c *stackConfig, v string) error {
		c.Args.Definition.Authorizer.Type = api.AuthorizerType(v)
		return nil
	}},
	{"identitySources", func(c *stackConfig, v string) error {
		return decodeJSON(v, &c.Args.Definition.Authorizer.IdentitySources)
	}},
	{"validationRegex", func(c *stackConfig, v string) error { c.validationRegex = v; return nil }},
	{"authorizerResultTtlInSeconds", func(c *stackConfig, v string) error {
		return seconds(v, &c.Args.Definition.Authorizer.ResultTTL)
	}},
	{"authorizerMemory", func(c *stackConfig, v string) error { return memory(c, "authorizer", v) }},
	{"authorizerTimeout", func(c *stackConfig, v string) error { return timeout(c, "authorizer", v) }},
	{"authorizerReservedConcurrency", func(c *stackConfig, v string) error { return concurrency(c, "authorizer", v) }},
	{"handlerMemory", func(c *stackConfig, v string) error { return memory(c, "handler", v) }},
	{"handlerTimeout", func(c *stackConfig, v string) error { return timeout(c, "handler", v) }},
	{"handlerReservedConcurrency", func(c *stackConfig, v string) error { return concurrency(c, "handler", v) }},
	{"logLevel", func(c *stackConfig, v string) error {
		switch v {
		case "debug", "info", "warn", "error":
		default:
			return fmt.Errorf("%q: want debug, info, warn or error", v)
		}
		c.setLogLevel(v)
		return nil
	}},
	{"logRetentionDays", func(c *stackConfig, v string) error { return integer(v, &c.Args.LogRetentionDays) }},
	{"throttleRateLimit", func(c *stackConfig, v string) error { return number(v, &c.Args.Throttle.RateLimit) }},
	{"throttleBurstLimit", func(c *stackConfig, v string) error { return integer(v, &c.Args.Throttle.BurstLimit) }},
	{"plans", func(c *stackConfig, v string) (err error) {
		c.Args.Plans.Plans, err = plans.ParsePlans(v)
		return err
	}},
	{"defaultPlan", func(c *stackConfig, v string) error { c.Args.Plans.Default = strings.TrimSpace(v); return nil }},
	{"corsAllowOrigin", func(c *stackConfig, v string) error { c.corsAllowOrigin = v; return nil }},
	{"jwt", func(c *stackConfig, v string) error {
		if t := strings.TrimSpace(v); t != "{}" && t != "" {
			c.jwt = t
		}
		return nil
	}},
	{"accountLogsRole", func(c *stackConfig, v string) (err error) { c.Args.AccountLogsRole, err = boolean(v); return err }},
	{"monitoring", func(c *stackConfig, v string) error {
		on, err := boolean(v)
		c.Args.Monitoring.Off = !on
		return err
	}},
	{"alarmEmail", func(c *stackConfig, v string) error { c.Args.Monitoring.AlarmEmail = strings.TrimSpace(v); return nil }},
	{"alarmTopicArn", func(c *stackConfig, v string) error {
		c.Args.Monitoring.AlarmTopicARN = strings.TrimSpace(v)
		return nil
	}},
	{"tags", func(c *stackConfig, v string) error { return decodeJSON(v, &c.Tags) }},
}

// removedSettings are settings of earlier versions, refused (never
// quoted) with what to do instead, so that nothing is deployed without
// them silently.
var removedSettings = []struct{ key, instead string }{
	{"keys", "the keyring holds only digests now. For each client, set the digest of its key and remove the keys: " +
		"pulumi config set --path 'keyDigests.CLIENT' \"$(pulumi config get --path 'keys.CLIENT' | tr -d '\\n' | sha256sum | cut -d' ' -f1)\"; then pulumi config rm keys"},
	{"keyLength", "generated keys are tollgate keys (tgk_, 42 characters); remove it: pulumi config rm keyLength"},
	{"usagePlan", usagePlanMoved},
	{"usagePlanQuota", usagePlanMoved},
	{"usagePlanQuotaPeriod", usagePlanMoved},
	{"usagePlanRateLimit", usagePlanMoved},
	{"usagePlanBurstLimit", usagePlanMoved},
}

// usagePlanMoved is what replaces the one usage plan of earlier versions:
// a plan named default, which keeps that plan (deploy.Args.Plans).
const usagePlanMoved = "usage plans are named plans now (docs/limits.md); declare the one you had as the plan default, with your numbers, and remove the usagePlan* settings: " +
	"pulumi config set --path 'plans.default.quota.limit' 1000; pulumi config set --path 'plans.default.quota.period' DAY; " +
	"pulumi config set --path 'plans.default.rateLimit' 5; pulumi config set --path 'plans.default.burstLimit' 10; pulumi config set defaultPlan default; " +
	"then pulumi config rm for each usagePlan* setting"

// defaultConfig is the configuration of a stack that sets nothing: the
// same values as the defaults Pulumi.yaml declares.
func defaultConfig() stackConfig {
	c := stackConfig{
		Args: deploy.Args{
			Definition:       api.Default(),
			Arch:             deploy.DefaultArch,
			Clients:          []string{"default"},
			LogRetentionDays: deploy.DefaultLogRetentionDays,
			KeyStore:         deploy.SecretStore,
			Throttle:         deploy.Throttle{RateLimit: deploy.DefaultRateLimit, BurstLimit: deploy.DefaultBurstLimit},
			AccountLogsRole:  true,
		},
		apiType: "rest",
	}
	c.setLogLevel("info")
	return c
}

// setLogLevel sets the authorizer's log level.
func (c *stackConfig) setLogLevel(level string) {
	f := c.Args.Definition.Functions["authorizer"]
	f.Env = map[string]string{authorizer.EnvLogLevel: level}
	c.Args.Definition.Functions["authorizer"] = f
}

// loadConfig reads the stack's configuration: every tollgate:* setting,
// aws:region (or AWS_REGION), and checks it all, so that a mistake stops
// the program before anything is created.
func loadConfig(ctx *pulumi.Context) (stackConfig, error) {
	c := defaultConfig()
	ns := ctx.Project() + ":"
	if _, err := os.Stat(apiFile); err == nil {
		def, err := api.LoadFile(apiFile)
		if err != nil {
			return c, fmt.Errorf("%w: %w", deploy.ErrConfig, err)
		}
		c.Args.Definition = def
		c.setLogLevel("info") // the default, on the file's authorizer
	}
	for _, s := range settings {
		v, ok := ctx.GetConfig(ns + s.key)
		if !ok {
			continue
		}
		if err := s.set(&c, v); err != nil {
			if ctx.IsConfigSecret(ns + s.key) {
				// The value is decrypted here: no part of it, not even
				// a character a JSON error quotes, may reach the error.
				return c, fmt.Errorf("%w: %s%s: the (secret) value is not of the declared type", deploy.ErrConfig, ns, s.key)
			}
			return c, fmt.Errorf("%w: %s%s: %v", deploy.ErrConfig, ns, s.key, err)
		}
	}
	// A project started from tollgate's template (pulumi new) has its own
	// name, so its settings are <name>:*; the dev stack's file it was
	// given still says tollgate:*, which would be silently ignored.
	if p := ctx.Project(); p != "tollgate" {
		for _, s := range settings {
			if _, ok := ctx.GetConfig("tollgate:" + s.key); ok {
				return c, fmt.Errorf("%w: the stack sets tollgate:%s, but this project is named %s, so its settings are %s:*; "+
					"rename them in Pulumi.%s.yaml: sed -i.bak 's/^  tollgate:/  %s:/' Pulumi.%s.yaml",
					deploy.ErrConfig, s.key, p, p, ctx.Stack(), p, ctx.Stack())
			}
		}
	}
	for _, gone := range removedSettings {
		if _, ok := ctx.GetConfig(ns + gone.key); ok {
			return c, fmt.Errorf("%w: %s%s is no longer read: %s", deploy.ErrConfig, ns, gone.key, gone.instead)
		}
	}

	a := &c.Args.Definition.Authorizer
	switch {
	case c.validationRegex != "":
		a.ValidationRegex = c.validationRegex
	case a.Type == api.Token:
		a.ValidationRegex = api.BearerRegex
	default:
		a.ValidationRegex = ""
	}
	if c.apiType == "http" {
		// What an HTTP API does not have is refused, never dropped
		// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html).
		// Its authorizer is always a REQUEST one, so authorizerType
		// applies to REST APIs only.
		switch {
		case c.validationRegex != "":
			return c, fmt.Errorf("%w: %svalidationRegex: an HTTP API's authorizer has no validation expression; remove it (pulumi config rm validationRegex) or use apiType rest", deploy.ErrConfig, ns)
		case !c.Args.Plans.Empty():
			return c, fmt.Errorf("%w: %splans: HTTP APIs have no usage plans or API Gateway API keys (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-vs-rest.html); remove the plans (pulumi config rm plans) or use apiType rest", deploy.ErrConfig, ns)
		}
		c.Args.Definition.UseHTTP()
	}
	if c.jwt != "" {
		if err := c.setJWT(); err != nil {
			return c, fmt.Errorf("%w: %sjwt: %w", deploy.ErrConfig, ns, err)
		}
	}
	if c.Args.Definition.HasJWTRoutes() && c.jwt == "" {
		return c, fmt.Errorf("%w: %s has routes with auth: jwt, guarded by API Gateway's JWT authorizer: set its issuer and audiences in %sjwt (docs/jwts.md)", deploy.ErrConfig, apiFile, ns)
	}
	if c.corsAllowOrigin != "" {
		if err := c.Args.Definition.AllowOrigin(c.corsAllowOrigin); err != nil {
			return c, fmt.Errorf("%w: %scorsAllowOrigin: %w", deploy.ErrConfig, ns, err)
		}
	}

	c.Region, _ = ctx.GetConfig("aws:region")
	if c.Region == "" {
		c.Region = cmp.Or(os.Getenv("AWS_REGION"), os.Getenv("AWS_DEFAULT_REGION"))
	}
	if !region.MatchString(c.Region) {
		return c, fmt.Errorf("%w: aws:region %q: set the Region to deploy to, like: pulumi config set aws:region eu-west-1", deploy.ErrConfig, c.Region)
	}
	tags := map[string]string{"tollgate:project": ctx.Project(), "tollgate:stack": ctx.Stack()}
	for k, v := range c.Tags {
		if strings.HasPrefix(strings.ToLower(k), "aws:") || k == "" || len(k) > 128 || len(v) > 256 {
			return c, fmt.Errorf("%w: %stags: tag %q: keys are 1 to 128 characters and cannot start with aws:, values at most 256", deploy.ErrConfig, ns, k)
		}
		tags[k] = v
	}
	c.Tags = tags
	var err error
	if c.provider, err = providerArgs(ctx, c); err != nil {
		return c, err
	}
	c.Name = ctx.Project() + "-" + ctx.Stack()
	if err := deploy.CheckName(c.Name, &c.Args.Definition); err != nil {
		return c, fmt.Errorf("%w (the project name %q, '-', and the stack name %q)", err, ctx.Project(), ctx.Stack())
	}
	return c, c.Args.Validate()
}

var region = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)

// maxJWTEnv bounds the jwt setting in the authorizer's environment: Lambda
// allows 4 KB of environment variables in all
// (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html),
// and the secret's ARN, the token header and the log level need the rest.
const maxJWTEnv = 3072

// setJWT checks the jwt setting with the authorizer's own parser and
// hands it to the authorizer function (authorizer.EnvJWT). The JWKS is
// read over HTTPS from the function, which needs no IAM permission for it:
// the role stays as it is.
func (c *stackConfig) setJWT() error {
	cfg, err := authorizer.ParseJWTConfig([]byte(c.jwt))
	if err != nil {
		return errors.New(strings.TrimPrefix(err.Error(), "authorizer: "))
	}
	a := c.Args.Definition.Authorizer
	// A validation regex that would stop JWTs is refused by the deploy's
	// own check of it (deploy.Args.Validate), with the token scheme.
	env, err := json.Marshal(cfg)
	if err != nil {
		return err
	}
	if len(env) > maxJWTEnv {
		return fmt.Errorf("%d bytes once written for the authorizer, above the %d its environment leaves room for (Lambda allows 4 KB of variables); shorten scopeRoutes", len(env), maxJWTEnv)
	}
	f := c.Args.Definition.Functions[a.Function]
	f.Env = maps.Clone(f.Env)
	if f.Env == nil {
		f.Env = map[string]string{}
	}
	f.Env[authorizer.EnvJWT] = string(env)
	c.Args.Definition.Functions[a.Function] = f
	if c.Args.Definition.HasJWTRoutes() {
		// API Gateway's own JWT authorizer, for api.yaml's routes with
		// auth: jwt, trusts the same issuer and audiences (it finds the
		// keys from the issuer's OpenID configuration).
		c.Args.Definition.JWT = &api.JWTAuthorizer{Issuer: cfg.Issuer, Audiences: cfg.Audiences}
	}
	return nil
}

// decodeJSON decodes an array or object setting; an empty object is the
// same as none. The error does not quote the value.
func decodeJSON(v string, dst any) error {
	if err := json.Unmarshal([]byte(v), dst); err != nil {
		return fmt.Errorf("not of the declared type (%v)", err)
	}
	if rv := reflect.ValueOf(dst).Elem(); rv.Kind() == reflect.Map && rv.Len() == 0 {
		rv.SetZero()
	}
	return nil
}

func integer(v string, dst *int) error {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("%q is not an integer", v)
	}
	*dst = n
	return nil
}

func number(v string, dst *float64) error {
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", v)
	}
	*dst = f
	return nil
}

func boolean(v string) (bool, error) {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return false, fmt.Errorf("%q is not true or false", v)
	}
	return b, nil
}

func seconds(v string, dst *time.Duration) error {
	var n int
	if err := integer(v, &n); err != nil {
		return err
	}
	*dst = time.Duration(n) * time.Second
	return nil
}

// function applies edit to the Definition's function fn.
// function edits the function fn of the definition. A setting of a
// function that api.yaml does not declare (handlerMemory without a
// function named handler) has nothing to apply to.
func (c *stackConfig) function(fn string, edit func(f *api.Function) error) error {
	f, ok := c.Args.Definition.Functions[fn]
	if !ok {
		return nil
	}
	if err := edit(&f); err != nil {
		return err
	}
	c.Args.Definition.Functions[fn] = f
	return nil
}

func memory(c *stackConfig, fn, v string) error {
	return c.function(fn, func(f *api.Function) error { return integer(v, &f.MemoryMB) })
}

func timeout(c *stackConfig, fn, v string) error {
	return c.function(fn, func(f *api.Function) error { return seconds(v, &f.Timeout) })
}

func concurrency(c *stackConfig, fn, v string) error {
	var n int
	if err := integer(v, &n); err != nil {
		return err
	}
	if n == 0 { // unreserved, the default
		return nil
	}
	if c.Args.ReservedConcurrency == nil {
		c.Args.ReservedConcurrency = map[string]int{}
	}
	c.Args.ReservedConcurrency[fn] = n
	return nil
}

package authorizer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"tollgate/authorizer"
	"tollgate/internal/testkit/motoserver"
)

const envKey = "tg_test_aws_env_key_0123456789abcdefghijk"

// secretEndpoint answers every Secrets Manager call with a keyring holding
// envKey, and records the last request.
type secretEndpoint struct {
	*httptest.Server
	calls atomic.Int32
	last  atomic.Pointer[http.Request]
}

func newSecretEndpoint(t *testing.T) *secretEndpoint {
	e := &secretEndpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.calls.Add(1)
		e.last.Store(r)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ARN": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-abcdef", "Name": "s", "VersionId": "v1",
			"SecretString": `{"keys":[{"id":"env","key":"` + envKey + `"}]}`, "VersionStages": []string{"AWSCURRENT"},
		})
	}))
	t.Cleanup(e.Close)
	return e
}

func getenv(env map[string]string) func(string) string {
	return func(k string) string { return env[k] }
}

// lambdaEnv is what Lambda sets, plus the authorizer's one required setting.
func lambdaEnv() map[string]string {
	return map[string]string{
		authorizer.EnvSecretID:           "s",
		authorizer.EnvLogLevel:           "error",
		authorizer.EnvAWSRegion:          "eu-west-1",
		authorizer.EnvAWSAccessKeyID:     "ASIAEXAMPLE",
		authorizer.EnvAWSSecretAccessKey: "secret",
		authorizer.EnvAWSSessionToken:    "session-token",
	}
}

// The SDKs' endpoint variables, in their documented order: the service's
// own, then the global one, and neither when told to ignore them
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html).
func TestSecretsManagerFromEnvEndpoint(t *testing.T) {
	service, global := newSecretEndpoint(t), newSecretEndpoint(t)
	for _, tt := range []struct {
		name string
		env  map[string]string
		want *secretEndpoint
	}{
		{"service", map[string]string{authorizer.EnvAWSEndpoint: service.URL}, service},
		{"global", map[string]string{authorizer.EnvAWSEndpointAll: global.URL}, global},
		{"service over global", map[string]string{authorizer.EnvAWSEndpoint: service.URL, authorizer.EnvAWSEndpointAll: global.URL}, service},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := lambdaEnv()
			for k, v := range tt.env {
				env[k] = v
			}
			before := tt.want.calls.Load()
			a, err := authorizer.NewFromEnv(getenv(env))
			if err != nil {
				t.Fatal(err)
			}
			if err := a.Load(context.Background()); err != nil {
				t.Fatalf("Load: %v", err)
			}
			if got := tt.want.calls.Load() - before; got < 1 {
				t.Fatalf("the expected endpoint got %d calls", got)
			}
			r := tt.want.last.Load()
			// The request is signed with Lambda's credentials for Lambda's
			// Region, and carries the session token.
			if auth := r.Header.Get("Authorization"); !strings.Contains(auth, "Credential=ASIAEXAMPLE/") || !strings.Contains(auth, "/eu-west-1/secretsmanager/aws4_request") {
				t.Errorf("Authorization = %q, want ASIAEXAMPLE's signature for eu-west-1", auth)
			}
			if tok := r.Header.Get("X-Amz-Security-Token"); tok != "session-token" {
				t.Errorf("X-Amz-Security-Token = %q, want the session token", tok)
			}
			out, err := a.Invoke(context.Background(), []byte(`{"type":"TOKEN","authorizationToken":"Bearer `+envKey+`","methodArn":"arn:aws:execute-api:eu-west-1:123456789012:a1b2c3d4e5/prod/GET/hello"}`))
			if err != nil || !strings.Contains(string(out), `"principalId":"env"`) {
				t.Errorf("Invoke = %s, %v; want an Allow for env", out, err)
			}
		})
	}
	t.Run("ignored", func(t *testing.T) {
		env := lambdaEnv()
		env[authorizer.EnvAWSEndpoint] = service.URL
		env[authorizer.EnvAWSIgnoreEndpoints] = "true"
		c, err := authorizer.SecretsManagerFromEnv(getenv(env))
		if err != nil {
			t.Fatal(err)
		}
		if got := c.Endpoint(); got != "https://secretsmanager.eu-west-1.amazonaws.com" {
			t.Errorf("Endpoint = %q, want the Region's", got)
		}
	})
}

func TestNewFromEnvErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  map[string]string
		want string
	}{
		{"no secret", map[string]string{authorizer.EnvSecretID: ""}, authorizer.EnvSecretID},
		{"bad TTL", map[string]string{authorizer.EnvKeyTTL: "soon"}, authorizer.EnvKeyTTL},
		{"bad scheme", map[string]string{authorizer.EnvTokenScheme: "Bad Scheme"}, "scheme"},
		{"TTL over max stale", map[string]string{authorizer.EnvKeyTTL: "1h", authorizer.EnvKeyMaxStale: "5m"}, "MaxStale"},
		{"no region", map[string]string{authorizer.EnvAWSRegion: ""}, authorizer.EnvAWSRegion},
		{"no key id", map[string]string{authorizer.EnvAWSAccessKeyID: ""}, authorizer.EnvAWSAccessKeyID},
		{"no secret key", map[string]string{authorizer.EnvAWSSecretAccessKey: ""}, authorizer.EnvAWSSecretAccessKey},
		{"endpoint without scheme", map[string]string{authorizer.EnvAWSEndpoint: "localhost:4566"}, authorizer.EnvAWSEndpoint},
		{"endpoint not http", map[string]string{authorizer.EnvAWSEndpointAll: "ftp://example.com"}, authorizer.EnvAWSEndpointAll},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := lambdaEnv()
			for k, v := range tt.set {
				env[k] = v
			}
			a, err := authorizer.NewFromEnv(getenv(env))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("NewFromEnv = %v, %v; want an error naming %s", a, err, tt.want)
			}
		})
	}
	// AWS_DEFAULT_REGION stands in for AWS_REGION.
	env := lambdaEnv()
	env[authorizer.EnvAWSRegion], env[authorizer.EnvAWSDefaultRegion] = "", "ap-south-1"
	c, err := authorizer.SecretsManagerFromEnv(getenv(env))
	if err != nil || c.Region() != "ap-south-1" || c.Endpoint() != "https://secretsmanager.ap-south-1.amazonaws.com" {
		t.Errorf("with AWS_DEFAULT_REGION only: %v, %v; want Region ap-south-1", c, err)
	}
}

// The real SDK client, configured from Lambda's variables, reads a real
// Secrets Manager API (moto).
func TestNewFromEnvMoto(t *testing.T) {
	moto := motoserver.Start(t)
	arn := moto.CreateSecret(t, "tollgate/env", envKey) // the seeds' bare-string form
	env := lambdaEnv()
	env[authorizer.EnvSecretID] = arn
	env[authorizer.EnvAWSRegion] = "us-east-1"
	env[authorizer.EnvAWSEndpoint] = moto.URL
	a, err := authorizer.NewFromEnv(getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Load(context.Background()); err != nil {
		t.Fatalf("Load through %s: %v", authorizer.EnvAWSEndpoint, err)
	}
	out, err := a.Invoke(context.Background(), []byte(`{"type":"TOKEN","authorizationToken":"Bearer `+envKey+`","methodArn":"arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/hello"}`))
	if err != nil || !strings.Contains(string(out), `"principalId":"default"`) {
		t.Errorf("Invoke = %s, %v; want an Allow for default", out, err)
	}
}

// Secrets Manager's endpoint in each partition, as the SDK's endpoint
// rules give it (aws-sdk-go-v2 internal/endpoints/awsrulesfn/partitions.json
// and service/secretsmanager/endpoints.go).
func TestRegionalEndpoints(t *testing.T) {
	for region, want := range map[string]string{
		"eu-west-1":       "https://secretsmanager.eu-west-1.amazonaws.com",
		"us-east-1":       "https://secretsmanager.us-east-1.amazonaws.com",
		"il-central-1":    "https://secretsmanager.il-central-1.amazonaws.com",
		"cn-north-1":      "https://secretsmanager.cn-north-1.amazonaws.com.cn",
		"us-gov-west-1":   "https://secretsmanager.us-gov-west-1.amazonaws.com",
		"us-iso-east-1":   "https://secretsmanager.us-iso-east-1.c2s.ic.gov",
		"us-isob-east-1":  "https://secretsmanager.us-isob-east-1.sc2s.sgov.gov",
		"eu-isoe-west-1":  "https://secretsmanager.eu-isoe-west-1.cloud.adc-e.uk",
		"us-isof-south-1": "https://secretsmanager.us-isof-south-1.csp.hci.ic.gov",
		"eusc-de-east-1":  "https://secretsmanager.eusc-de-east-1.amazonaws.eu",
		"xx-new-1":        "https://secretsmanager.xx-new-1.amazonaws.com",
	} {
		env := lambdaEnv()
		env[authorizer.EnvAWSRegion] = region
		c, err := authorizer.SecretsManagerFromEnv(getenv(env))
		if err != nil || c.Endpoint() != want {
			t.Errorf("%s: %v, %v; want %s", region, c.Endpoint(), err, want)
		}
		// And as the SDK's own resolver gives it.
		sdk, err := secretsmanager.NewDefaultEndpointResolverV2().ResolveEndpoint(context.Background(), secretsmanager.EndpointParameters{Region: &region})
		if err != nil || sdk.URI.String() != want {
			t.Errorf("%s: the SDK resolves %v, %v; want %s", region, sdk.URI.String(), err, want)
		}
	}
}

package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"tollgate/authorizer"
	"tollgate/internal/motoserver"
)

// The SDK's standard AWS_ENDPOINT_URL_SECRETS_MANAGER variable
// (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html)
// points the function at an emulator, with nothing else changed.
func TestEndpointFromEnvironment(t *testing.T) {
	moto := motoserver.Start(t)
	const key = "tg_test_cmd_authorizer_key_0123456789abcdefg"
	arn := moto.CreateSecret(t, "tollgate/cmd", key) // the seeds' bare-string form
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": moto.URL,
		"AWS_REGION":                       "us-east-1",
		"AWS_ACCESS_KEY_ID":                "testing",
		"AWS_SECRET_ACCESS_KEY":            "testing",
		"AWS_CONFIG_FILE":                  os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE":      os.DevNull,
		"AWS_EC2_METADATA_DISABLED":        "true",
	} {
		t.Setenv(k, v)
	}
	env := map[string]string{authorizer.EnvSecretID: arn, authorizer.EnvLogLevel: "error"}
	a, err := newAuthorizer(context.Background(), func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Load(context.Background()); err != nil {
		t.Fatalf("Load through AWS_ENDPOINT_URL_SECRETS_MANAGER: %v", err)
	}
	event, _ := json.Marshal(map[string]string{
		"type": "TOKEN", "authorizationToken": "Bearer " + key,
		"methodArn": "arn:aws:execute-api:us-east-1:123456789012:a1b2c3d4e5/prod/GET/hello",
	})
	out, err := a.Invoke(context.Background(), event)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"principalId":"default"`) {
		t.Errorf("answer = %s, want principal default", out)
	}
}

func TestConfigurationErrors(t *testing.T) {
	for _, env := range []map[string]string{
		{},
		{authorizer.EnvSecretID: "s", authorizer.EnvKeyTTL: "soon"},
		{authorizer.EnvSecretID: "s", authorizer.EnvTokenScheme: "Bad Scheme"},
		{authorizer.EnvSecretID: "s", authorizer.EnvKeyTTL: "1h", authorizer.EnvKeyMaxStale: "5m"},
	} {
		if _, err := newAuthorizer(context.Background(), func(k string) string { return env[k] }); err == nil {
			t.Errorf("newAuthorizer(%v) = nil error, want a configuration error", env)
		}
	}
}

package authorizer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"tollgate/internal/testkit/motoserver"
)

// The key lifecycle against a real Secrets Manager emulator: per-client
// rotation with a grace stated in the keyring, removal, and deletion. Only
// AWSCURRENT is read (PutSecretValue moves it to the new version,
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html#term_version),
// so what the older versions hold never matters.
func TestSecretsManagerKeyLifecycle(t *testing.T) {
	moto := motoserver.Start(t)
	arn := moto.CreateSecret(t, "tollgate/rotation", `{"keys":[
		{"id":"mobile-app","sha256":"`+Digest(oldMobileKey)+`"},
		{"id":"orders-bot","sha256":"`+Digest(ordersKey)+`"}]}`)

	clock := newFakeClock()
	a, logs := newTestAuthorizerAt(t, clock.Now, Config{}, SecretsManager(motoSecrets(t, moto), arn))
	if err := a.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	decide := func(key string) (answer, error) {
		t.Helper()
		b, err := a.Invoke(context.Background(), tokenEvent("Bearer "+key, testARN))
		if err != nil {
			return answer{}, err
		}
		return decodeAnswer(t, b), nil
	}
	refresh := func() {
		t.Helper()
		clock.Advance(DefaultTTL + time.Second)
		_, _ = decide(unknownKey)
		waitIdle(t, a)
	}
	if _, err := decide(oldMobileKey); err != nil {
		t.Fatalf("before rotation: %v", err)
	}

	// Rotate mobile-app alone, with an hour of grace for its old key.
	grace := clock.Now().Add(DefaultTTL + time.Hour)
	moto.PutSecretValue(t, arn, `{"keys":[
		{"id":"mobile-app","sha256":"`+Digest(mobileKey)+`","previous":[{"sha256":"`+Digest(oldMobileKey)+`","until":"`+grace.Format(time.RFC3339)+`"}]},
		{"id":"orders-bot","sha256":"`+Digest(ordersKey)+`"}]}`)
	refresh()
	for _, tt := range []struct{ key, version string }{
		{mobileKey, versionCurrent},
		{oldMobileKey, versionPrevious},
		{ordersKey, versionCurrent}, // untouched by another client's rotation
	} {
		ans, err := decide(tt.key)
		if err != nil || ans.Context["keyVersion"] != tt.version {
			t.Fatalf("after rotation: %v, %v; want allowed as %s", ans.Context, err, tt.version)
		}
	}
	clock.Set(grace)
	if _, err := decide(oldMobileKey); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("old key at the end of its grace: %v, want Unauthorized", err)
	}

	// Removing a client ends its key at the next refresh, although the
	// version before (now AWSPREVIOUS) still holds it.
	moto.PutSecretValue(t, arn, `{"keys":[{"id":"mobile-app","sha256":"`+Digest(mobileKey)+`"}]}`)
	refresh()
	if _, err := decide(ordersKey); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("removed client: %v, want Unauthorized", err)
	}
	if _, err := decide(mobileKey); err != nil {
		t.Errorf("remaining client: %v", err)
	}

	// Deleting the secret revokes every key at the next refresh, however
	// young the last good keys are: it is an answer, not an outage.
	moto.DeleteSecret(t, arn)
	refresh()
	if _, err := decide(mobileKey); !errors.Is(err, ErrNoKeys) || errors.Is(err, ErrUnauthorized) {
		t.Errorf("after deletion: error = %v, want ErrNoKeys (500)", err)
	}
	for _, k := range secretKeys {
		if strings.Contains(logs.String(), k) {
			t.Errorf("logs hold key %.12s…", k)
		}
	}
}

// When Secrets Manager cannot be reached, the last good keys are used up to
// MaxStale and then the authorizer fails closed.
func TestSecretsManagerUnreachable(t *testing.T) {
	moto := motoserver.Start(t)
	arn := moto.CreateSecret(t, "tollgate/outage", string(fixture(t, "keyrings/current.json")))
	clock := newFakeClock()
	a, logs := newTestAuthorizerAt(t, clock.Now, Config{MaxStale: time.Hour, FetchTimeout: 2 * time.Second}, SecretsManager(motoSecrets(t, moto), arn))
	if err := a.Load(context.Background()); err != nil {
		t.Fatalf("Load: %v", err)
	}
	moto.Stop()

	loaded := clock.Now()
	event := tokenEvent("Bearer "+mobileKey, testARN)
	for _, age := range []time.Duration{DefaultTTL + time.Second, 30 * time.Minute, 59 * time.Minute} {
		clock.Set(loaded.Add(age))
		if _, err := a.Invoke(context.Background(), event); err != nil {
			t.Fatalf("keys %s old with the endpoint down: %v; want the last good keys used", age, err)
		}
		waitIdle(t, a)
	}
	clock.Set(loaded.Add(time.Hour + time.Second))
	if _, err := a.Invoke(context.Background(), event); !errors.Is(err, ErrNoKeys) {
		t.Fatalf("keys past MaxStale: error = %v, want ErrNoKeys", err)
	}
	if got := logs.String(); !strings.Contains(got, `"msg":"key refresh failed"`) {
		t.Errorf("no refresh failure logged:\n%s", got)
	}
}

// motoSecrets is the authorizer's Secrets Manager client for moto, as a
// Lambda function's environment would point it there.
func motoSecrets(t *testing.T, moto *motoserver.Server) *SecretsManagerClient {
	t.Helper()
	env := map[string]string{EnvAWSRegion: "us-east-1", EnvAWSAccessKeyID: "testing", EnvAWSSecretAccessKey: "testing", EnvAWSEndpoint: moto.URL}
	c, err := SecretsManagerFromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}

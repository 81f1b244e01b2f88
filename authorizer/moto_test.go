package authorizer

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"tollgate/internal/motoserver"
)

// Secret loading against a real Secrets Manager emulator: both stages,
// rotation, deletion and an unreachable endpoint. The staging-label
// behaviour (PutSecretValue moves AWSCURRENT to the new version and
// AWSPREVIOUS to the one it replaced) is from
// https://docs.aws.amazon.com/secretsmanager/latest/userguide/whats-in-a-secret.html#term_version
func TestSecretsManagerRotation(t *testing.T) {
	moto := motoserver.Start(t)
	arn := moto.CreateSecret(t, "tollgate/rotation", string(fixture(t, "keyrings/previous.json")))

	clock := newFakeClock()
	a, logs := newTestAuthorizer(t, Config{now: clock.Now}, SecretsManager(moto.Client(), arn))
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
	// A new secret has only AWSCURRENT.
	if ans, err := decide(oldMobileKey); err != nil || ans.Context["keyStage"] != StageCurrent {
		t.Fatalf("before rotation: %v, %v; want the key allowed as AWSCURRENT", ans.Context, err)
	}
	if _, err := decide(mobileKey); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("new key before rotation: error = %v, want Unauthorized", err)
	}

	// Rotate: the new version becomes AWSCURRENT, the old one AWSPREVIOUS.
	moto.PutSecretValue(t, arn, string(fixture(t, "keyrings/current.json")))
	// Within the TTL the loaded keys are used and nothing is fetched.
	if _, err := decide(mobileKey); !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("new key within the TTL: error = %v, want Unauthorized (keys are cached)", err)
	}
	clock.Advance(DefaultTTL + time.Second)
	// Past the TTL the request is answered with the keys it has, and a
	// refresh runs in the background.
	if _, err := decide(oldMobileKey); err != nil {
		t.Fatalf("old key during the refresh: %v", err)
	}
	waitIdle(t, a)
	for _, tt := range []struct{ key, stage string }{
		{mobileKey, StageCurrent},
		{oldMobileKey, StagePrevious},
		{ordersKey, StageCurrent}, // in both versions: kept once, from AWSCURRENT
	} {
		ans, err := decide(tt.key)
		if err != nil {
			t.Fatalf("after rotation, key of %s: %v", tt.stage, err)
		}
		if ans.Context["keyStage"] != tt.stage {
			t.Errorf("after rotation: keyStage = %v, want %s", ans.Context["keyStage"], tt.stage)
		}
	}

	// A second rotation drops the oldest key.
	moto.PutSecretValue(t, arn, `{"keys":[{"id":"mobile-app","key":"tg_test_mobile_app_NEW_key_0123456789abcdefg"}]}`)
	clock.Advance(DefaultTTL + time.Second)
	_, _ = decide(mobileKey)
	waitIdle(t, a)
	if _, err := decide(oldMobileKey); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("key two rotations old: error = %v, want Unauthorized", err)
	}
	if ans, err := decide(mobileKey); err != nil || ans.Context["keyStage"] != StagePrevious {
		t.Errorf("key one rotation old: %v, %v; want allowed as AWSPREVIOUS", ans.Context, err)
	}

	// Deleting the secret revokes every key at the next refresh, however
	// young the last good keys are: it is an answer, not an outage.
	moto.DeleteSecret(t, arn)
	clock.Advance(DefaultTTL + time.Second)
	_, _ = decide(mobileKey)
	waitIdle(t, a)
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
	a, logs := newTestAuthorizer(t, Config{now: clock.Now, MaxStale: time.Hour, FetchTimeout: 2 * time.Second}, SecretsManager(moto.Client(), arn))
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

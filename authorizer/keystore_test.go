package authorizer

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

var errOutage = errors.New("connection refused")

// With no keys ever loaded every request is an error (500), whatever it
// carries: never an allow, and not a 401 either.
func TestNoKeysEverLoadedFailsClosed(t *testing.T) {
	src := &stages{err: errOutage}
	clock := newFakeClock()
	a, _ := newTestAuthorizerAt(t, clock.Now, Config{}, src)
	if err := a.Load(context.Background()); !errors.Is(err, ErrNoKeys) || !errors.Is(err, errOutage) {
		t.Fatalf("Load() = %v, want ErrNoKeys wrapping the fetch error", err)
	}
	for _, ev := range [][]byte{
		tokenEvent("Bearer "+mobileKey, testARN),
		tokenEvent("", testARN),
		tokenEvent("Bearer "+unknownKey, testARN),
		fixture(t, "events/http-v2.json"),
	} {
		out, err := a.Invoke(context.Background(), ev)
		if !errors.Is(err, ErrNoKeys) || out != nil {
			t.Errorf("Invoke(%.40s…) = %s, %v; want ErrNoKeys", ev, out, err)
		}
	}
}

// After a failed fetch, requests fail at once until the backoff ends
// instead of each calling Secrets Manager; then a fetch runs again, and
// service recovers by itself when the fault ends.
func TestBackoffAndRecovery(t *testing.T) {
	src := &stages{err: errOutage}
	clock := newFakeClock()
	a, _ := newTestAuthorizerAt(t, clock.Now, Config{}, src)
	event := tokenEvent("Bearer "+mobileKey, testARN)
	_, _ = a.Invoke(context.Background(), event)
	calls := src.count()
	for range 20 {
		if _, err := a.Invoke(context.Background(), event); !errors.Is(err, ErrNoKeys) {
			t.Fatalf("during backoff: %v", err)
		}
	}
	if got := src.count(); got != calls {
		t.Errorf("%d Secrets Manager calls during the backoff, want none", got-calls)
	}
	// The backoff grows: 1s, then 2s, …
	clock.Advance(minBackoff)
	_, _ = a.Invoke(context.Background(), event)
	if src.count() == calls {
		t.Fatal("no fetch after the backoff ended")
	}
	calls = src.count()
	clock.Advance(minBackoff)
	_, _ = a.Invoke(context.Background(), event)
	if src.count() != calls {
		t.Errorf("fetched 1s after the second failure; want the backoff doubled")
	}
	// The fault ends.
	src.set(testStages(t).values, nil)
	clock.Advance(2 * minBackoff)
	if _, err := a.Invoke(context.Background(), event); err != nil {
		t.Fatalf("after the fault ended: %v", err)
	}
}

func TestBackoffIsBounded(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 7: 64 * time.Second, 100: time.Minute} {
		if got := backoff(n); got != min(want, maxBackoff) {
			t.Errorf("backoff(%d) = %s, want %s", n, got, min(want, maxBackoff))
		}
	}
}

// gate is a secret source that holds every fetch until released.
type gate struct {
	stages
	entered chan struct{}
	release chan struct{}
}

func (g *gate) SecretValue(ctx context.Context, stage string) ([]byte, error) {
	g.entered <- struct{}{}
	<-g.release
	return g.stages.SecretValue(ctx, stage)
}

// Past the refresh margin, warm requests are answered with the keys they have
// while one fetch, and only one, runs ahead in the background.
func TestRefreshDoesNotBlockWarmRequests(t *testing.T) {
	g := &gate{stages: *testStages(t), entered: make(chan struct{}, 16), release: make(chan struct{})}
	clock := newFakeClock()
	a, _ := newTestAuthorizerAt(t, clock.Now, Config{}, g)
	go func() { <-g.entered; g.release <- struct{}{} }()
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	calls := g.count()
	event := tokenEvent("Bearer "+mobileKey, testARN)
	for range 50 {
		if _, err := a.Invoke(context.Background(), event); err != nil {
			t.Fatal(err)
		}
	}
	if g.count() != calls {
		t.Fatalf("fetched within the TTL")
	}
	clock.Advance(DefaultTTL / 2)
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			if _, err := a.Invoke(context.Background(), event); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait() // every request returned while the fetch is held at the gate
	<-g.entered
	select {
	case <-g.entered:
		t.Fatal("a second fetch started while one was in flight")
	default:
	}
	g.release <- struct{}{}
	waitIdle(t, a)
	if got := g.count() - calls; got != 1 {
		t.Errorf("%d fetches for 50 requests past the refresh margin, want 1", got)
	}
}

// A request with no usable keys waits for the fetch no longer than its own
// deadline.
func TestColdRequestHonoursItsDeadline(t *testing.T) {
	g := &gate{stages: *testStages(t), entered: make(chan struct{}, 16), release: make(chan struct{})}
	a, _ := newTestAuthorizer(t, Config{}, g)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := a.Invoke(ctx, tokenEvent("Bearer "+mobileKey, testARN)); !errors.Is(err, ErrNoKeys) {
		t.Errorf("Invoke past its deadline = %v, want ErrNoKeys", err)
	}
	<-g.entered
	close(g.release)
	waitIdle(t, a)
}

func TestMalformedSecret(t *testing.T) {
	event := tokenEvent("Bearer "+mobileKey, testARN)
	t.Run("at start it is an error", func(t *testing.T) {
		src := &stages{values: map[string][]byte{StageCurrent: []byte(`{"keys":[{"id":"a","key":"short"}]}`)}}
		a, _ := newTestAuthorizer(t, Config{}, src)
		_, err := a.Invoke(context.Background(), event)
		if !errors.Is(err, ErrNoKeys) || !errors.Is(err, ErrMalformedKeyring) {
			t.Errorf("Invoke() = %v, want ErrNoKeys wrapping ErrMalformedKeyring", err)
		}
		if strings.Contains(err.Error(), "short\"") {
			t.Errorf("error quotes the key: %v", err)
		}
	})
	t.Run("a missing current version revokes", func(t *testing.T) {
		src := &stages{values: map[string][]byte{StagePrevious: fixture(t, "keyrings/current.json")}}
		a, _ := newTestAuthorizer(t, Config{}, src)
		if _, err := a.Invoke(context.Background(), event); !errors.Is(err, ErrSecretNotFound) {
			t.Errorf("Invoke() = %v, want ErrSecretNotFound", err)
		}
	})
}

func TestConfigValidation(t *testing.T) {
	src := testStages(t)
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no source", Config{}},
		{"bad header", Config{Source: src, TokenHeader: "Author ization"}},
		{"bad scheme", Config{Source: src, Scheme: "Bear er"}},
		{"negative TTL", Config{Source: src, TTL: -time.Second}},
		{"MaxStale below TTL", Config{Source: src, TTL: time.Hour, MaxStale: time.Minute}},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg); err == nil {
			t.Errorf("%s: New() = nil error", tt.name)
		}
	}
	// A TTL above the default raises the default MaxStale with it.
	a, err := New(Config{Source: src, TTL: 2 * time.Hour})
	if err != nil || a.store.maxStale != 2*time.Hour {
		t.Errorf("New(TTL 2h): maxStale %v, %v", a.store.maxStale, err)
	}
}

func TestFromEnv(t *testing.T) {
	env := map[string]string{
		EnvSecretID:     " arn:aws:secretsmanager:us-east-1:123456789012:secret:tollgate ",
		EnvTokenHeader:  "x-api-key",
		EnvTokenScheme:  SchemeNone,
		EnvKeyTTL:       "1m",
		EnvKeyMaxStale:  "10m",
		EnvFetchTimeout: "500ms",
		EnvLogLevel:     "warn",
	}
	id, cfg, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if id != "arn:aws:secretsmanager:us-east-1:123456789012:secret:tollgate" || cfg.TokenHeader != "x-api-key" || cfg.Scheme != SchemeNone ||
		cfg.TTL != time.Minute || cfg.MaxStale != 10*time.Minute || cfg.FetchTimeout != 500*time.Millisecond {
		t.Errorf("FromEnv() = %q, %+v", id, cfg)
	}
	if cfg.Logger.Enabled(context.Background(), 0) || !cfg.Logger.Enabled(context.Background(), 4) {
		t.Error("log level warn not applied")
	}
	for name, bad := range map[string]map[string]string{
		"no secret id": {},
		"bad duration": {EnvSecretID: "s", EnvKeyTTL: "5"},
		"zero TTL":     {EnvSecretID: "s", EnvKeyTTL: "0s"},
		"bad level":    {EnvSecretID: "s", EnvLogLevel: "loud"},
		"old stages":   {EnvSecretID: "s", envSecretStages: "AWSCURRENT,AWSPREVIOUS"},
	} {
		if _, _, err := FromEnv(func(k string) string { return bad[k] }); err == nil {
			t.Errorf("%s: FromEnv() = nil error", name)
		}
	}
}

// Without the extension, a Lambda environment is frozen between
// invocations, so a refresh started ahead in the background stops, and its
// deadline fires at thaw. That must not count as a failure (no backoff, no
// warning), and keys past their TTL are then refreshed before use.
func TestRefreshCutOffBySuspension(t *testing.T) {
	src := testStages(t)
	clock := newFakeClock()
	var mu sync.Mutex
	freeze := false
	source := SourceFunc(func(ctx context.Context, stage string) ([]byte, error) {
		mu.Lock()
		f := freeze
		mu.Unlock()
		if f { // hang until the deadline while the clock jumps, as in a frozen process
			<-ctx.Done()
			clock.Advance(10 * time.Minute)
			return nil, ctx.Err()
		}
		return src.SecretValue(ctx, stage)
	})
	setFreeze := func(f bool) { mu.Lock(); freeze = f; mu.Unlock() }

	a, logs := newTestAuthorizerAt(t, clock.Now, Config{FetchTimeout: 20 * time.Millisecond}, source)
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	event := tokenEvent("Bearer "+mobileKey, testARN)
	setFreeze(true)
	clock.Advance(DefaultTTL / 2)
	if _, err := a.Invoke(context.Background(), event); err != nil {
		t.Fatal(err) // answered at once with the keys it has
	}
	waitIdle(t, a)
	if strings.Contains(logs.String(), "key refresh failed") {
		t.Errorf("a suspension was logged as a failed refresh:\n%s", logs)
	}
	a.store.mu.Lock()
	failures := a.store.failures
	a.store.mu.Unlock()
	if failures != 0 {
		t.Fatalf("after a suspension: failures %d, want 0", failures)
	}

	// The keys are 12.5 minutes old. The next request waits for its
	// refresh, so they are fresh when it returns.
	setFreeze(false)
	if _, err := a.Invoke(context.Background(), event); err != nil {
		t.Fatal(err)
	}
	if age := clock.Now().Sub(a.store.state.Load().loadedAt); age != 0 {
		t.Errorf("keys are %s old after the waited refresh, want fresh", age)
	}
}

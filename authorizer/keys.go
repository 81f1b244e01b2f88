package authorizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNoKeys is returned (wrapped, with the last fetch error) when the
// authorizer holds no keys it may use: none were ever loaded, the last good
// ones are older than Config.MaxStale, or the secret was found deleted.
var ErrNoKeys = errors.New("no keys loaded")

// Backoff between failed fetches: 1s, 2s, 4s … up to a minute. Requests that
// find no usable keys while a backoff runs fail at once instead of waiting.
const (
	minBackoff = time.Second
	maxBackoff = time.Minute
)

// keyState is one loaded keyring, immutable once stored.
type keyState struct {
	table    *keyTable // nil after the secret was found deleted
	loadedAt time.Time
}

// keyStore holds the keys in memory and refreshes them from the secret:
// at most one fetch runs at a time, warm requests never wait for one, and
// nothing is served past its maximum age.
type keyStore struct {
	source       SecretSource
	stages       []string
	format       tokenFormat
	ttl          time.Duration
	maxStale     time.Duration
	fetchTimeout time.Duration
	now          func() time.Time
	log          *slog.Logger

	state atomic.Pointer[keyState]

	mu        sync.Mutex
	inflight  chan struct{} // closed when the running fetch ends; nil when none runs
	notBefore time.Time     // no fetch starts before this (backoff after failures)
	failures  int
	lastErr   error
	// suspended is set when a fetch was cut off because the process was
	// not running (a Lambda environment is frozen between invocations, so
	// background work stops): the next refresh is waited for by the
	// request that starts it, the only way it can finish there.
	suspended bool
}

// keys returns the keys to decide with. Fresh keys are returned at once.
// Keys past the TTL but within the maximum age are returned at once too,
// and a background fetch is started if none runs (after a fetch cut off by
// a suspension, that fetch is waited for). With no usable keys the call
// waits for a fetch (bounded by ctx and the fetch timeout) and fails closed
// with ErrNoKeys if it brings none.
func (s *keyStore) keys(ctx context.Context, now time.Time) (*keyTable, error) {
	st := s.state.Load()
	usable := st != nil && st.table != nil && now.Sub(st.loadedAt) < s.maxStale
	if usable && now.Sub(st.loadedAt) < s.ttl {
		return st.table, nil
	}
	if done, wait := s.startFetch(now); done != nil && (wait || !usable) {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
	if st := s.state.Load(); st != nil && st.table != nil && s.now().Sub(st.loadedAt) < s.maxStale {
		return st.table, nil
	}
	return nil, s.noKeys()
}

func (s *keyStore) noKeys() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil {
		return fmt.Errorf("%w: %w", ErrNoKeys, s.lastErr)
	}
	if st := s.state.Load(); st != nil && st.table != nil {
		return fmt.Errorf("%w: keys loaded %s ago are past the maximum age %s", ErrNoKeys, s.now().Sub(st.loadedAt).Round(time.Second), s.maxStale)
	}
	return ErrNoKeys
}

// startFetch starts a fetch unless one runs (whose channel it returns) or a
// backoff is in force (nil). wait reports that the last fetch was cut off
// by a suspension, so a refresh should be waited for rather than left to
// the background.
func (s *keyStore) startFetch(now time.Time) (done <-chan struct{}, wait bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight, s.suspended
	}
	if now.Before(s.notBefore) {
		return nil, false
	}
	ch := make(chan struct{})
	s.inflight = ch
	go s.fetch(ch, now)
	return ch, s.suspended
}

func (s *keyStore) fetch(done chan struct{}, started time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), s.fetchTimeout)
	defer cancel()
	table, err := s.load(ctx)
	now := s.now()
	// A fetch whose deadline passed while far more time went by than its
	// timeout was not slow: the process was frozen (a Lambda environment
	// between invocations) and the timer fired at thaw. That is no
	// failure of Secrets Manager: no backoff, no warning.
	suspended := err != nil && ctx.Err() != nil && now.Sub(started) > 2*s.fetchTimeout

	s.mu.Lock()
	defer func() {
		s.inflight = nil
		close(done)
		s.mu.Unlock()
	}()
	s.suspended = suspended
	switch {
	case suspended:
		s.log.LogAttrs(ctx, slog.LevelDebug, "key refresh cut off by a suspension; the next one is waited for",
			slog.Duration("elapsed", now.Sub(started)))
		return
	case err == nil:
		s.state.Store(&keyState{table: table, loadedAt: now})
		s.failures, s.lastErr, s.notBefore = 0, nil, time.Time{}
		s.log.LogAttrs(ctx, slog.LevelInfo, "keys loaded",
			slog.Int("keys", len(table.entries)), slog.Any("stages", s.stages))
		return
	case errors.Is(err, ErrSecretNotFound):
		// A definite answer, not an outage: the secret is gone, so are
		// its keys. Serving stale keys here would keep a deleted
		// secret's callers in.
		s.state.Store(&keyState{loadedAt: now})
		s.log.LogAttrs(ctx, slog.LevelError, "secret not found: every key revoked", slog.String("error", err.Error()))
	default:
		attrs := []slog.Attr{slog.String("error", err.Error())}
		if st := s.state.Load(); st != nil && st.table != nil {
			attrs = append(attrs, slog.Duration("keysAge", now.Sub(st.loadedAt)), slog.Duration("maxStale", s.maxStale))
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "key refresh failed", attrs...)
	}
	s.failures++
	s.lastErr = err
	s.notBefore = now.Add(backoff(s.failures))
}

func backoff(failures int) time.Duration {
	d := minBackoff
	for i := 1; i < failures && d < maxBackoff; i++ {
		d *= 2
	}
	return min(d, maxBackoff)
}

// load reads every configured stage at once and builds the key table. The
// first stage must be there. A later stage that does not exist (a new secret
// has no AWSPREVIOUS) or holds a malformed keyring is left out, and its keys
// are refused, so a bad old version cannot take the current keys down; any
// other error fails the whole load so that no stage is dropped by an outage.
func (s *keyStore) load(ctx context.Context) (*keyTable, error) {
	type result struct {
		value []byte
		err   error
	}
	results := make([]result, len(s.stages))
	var wg sync.WaitGroup
	for i, stage := range s.stages {
		wg.Go(func() {
			v, err := s.source.SecretValue(ctx, stage)
			results[i] = result{v, err}
		})
	}
	wg.Wait()

	stages := make([]stageKeyring, 0, len(s.stages))
	for i, stage := range s.stages {
		r := results[i]
		if r.err != nil {
			if i > 0 && errors.Is(r.err, ErrSecretNotFound) {
				continue
			}
			return nil, r.err
		}
		kr, err := ParseKeyring(r.value)
		if err == nil {
			err = s.format.check(kr)
		}
		if err != nil {
			if i > 0 {
				s.log.LogAttrs(ctx, slog.LevelError, "keyring stage left out",
					slog.String("stage", stage), slog.String("error", err.Error()))
				continue
			}
			return nil, fmt.Errorf("%s: %w", stage, err)
		}
		stages = append(stages, stageKeyring{stage: stage, keyring: kr})
	}
	return newKeyTable(stages)
}

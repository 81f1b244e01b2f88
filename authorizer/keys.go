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
	function     string // the metric's dimension: the Lambda function's name
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
		s.log.LogAttrs(ctx, slog.LevelInfo, "keys loaded", slog.Int("keys", len(table.entries)))
		return
	case errors.Is(err, ErrSecretNotFound):
		// A definite answer, not an outage: the secret is gone, so are
		// its keys. Serving stale keys here would keep a deleted
		// secret's callers in.
		s.state.Store(&keyState{loadedAt: now})
		s.log.LogAttrs(ctx, slog.LevelError, "secret not found: every key revoked", slog.String("error", err.Error()))
	case errors.Is(err, ErrMalformedKeyring):
		// An operator's write, not an outage, and one the authorizer
		// cannot read: it cannot tell which of the keys it holds the write
		// meant to revoke, so it serves none of them. Every refresh (1 s
		// to 1 min apart while it lasts) logs an error carrying the
		// KeyringInvalid metric in CloudWatch's embedded metric format,
		// for an alarm.
		s.state.Store(&keyState{loadedAt: now})
		s.log.LogAttrs(ctx, slog.LevelError, msgKeyringInvalid,
			slog.String("error", err.Error()),
			slog.Int(metricKeyringInvalid, 1),
			slog.String("function", s.function),
			slog.Any("_aws", emfDirective(now, metricKeyringInvalid)))
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

// load reads the current version of the secret and builds the key table.
// It is one GetSecretValue call: rotation grace lives in the keyring
// (Key.Previous), not in older versions of the secret.
func (s *keyStore) load(ctx context.Context) (*keyTable, error) {
	v, err := s.source.SecretValue(ctx, StageCurrent)
	if err != nil {
		return nil, err
	}
	kr, err := ParseKeyring(v)
	if err == nil {
		err = s.format.check(kr)
	}
	if err != nil {
		return nil, err
	}
	return newKeyTable(kr)
}

// The error a keyring that fails validation is logged with, and its metric.
const (
	msgKeyringInvalid    = "keyring invalid: every request fails until it is fixed"
	metricKeyringInvalid = "KeyringInvalid"
)

// emfDirective is the "_aws" member that makes CloudWatch Logs extract
// metric from the log line as a metric in the tollgate namespace, by
// function
// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
func emfDirective(now time.Time, metric string) map[string]any {
	return map[string]any{
		"Timestamp": now.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  "tollgate",
			"Dimensions": [][]string{{"function"}},
			"Metrics":    []any{map[string]string{"Name": metric, "Unit": "Count"}},
		}},
	}
}

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

// keyStore holds the keys in memory and refreshes them from the secret.
//
// Freshness: keys are used to decide for at most TTL after the fetch that
// read them started, while Secrets Manager answers. Between TTL/2 and TTL
// they are refreshed ahead, where it costs no caller anything: after the
// response, by the Lambda extension (StartExtension), or else in the
// background. A request that finds keys older than TTL (an environment
// idle for that long) waits for the refresh, bounded by its own deadline
// and the fetch timeout. If that refresh fails (an outage, throttling, a
// timeout), the last good keys serve up to MaxStale; an answer that the
// keys are gone (the secret deleted, or an invalid keyring) serves none.
// At most one fetch runs at a time, and failures back off.
type keyStore struct {
	source       SecretSource
	function     string // the metric's dimension: the Lambda function's name
	format       tokenFormat
	ttl          time.Duration
	maxStale     time.Duration
	fetchTimeout time.Duration
	now          func() time.Time
	log          *slog.Logger
	// afterResponse is set when refreshes ahead are left to refreshDue,
	// called after each response (the Lambda extension): no background
	// fetch is started, since Lambda would freeze it mid-way.
	afterResponse atomic.Bool

	state atomic.Pointer[keyState]

	mu        sync.Mutex
	inflight  chan struct{} // closed when the running fetch ends; nil when none runs
	notBefore time.Time     // no fetch starts before this (backoff after failures)
	failures  int
	lastErr   error
}

// keys returns the keys to decide with at now (see keyStore). It fails
// closed with ErrNoKeys when it has none it may use.
func (s *keyStore) keys(ctx context.Context, now time.Time) (*keyTable, error) {
	st := s.state.Load()
	if st != nil && st.table != nil {
		if age := now.Sub(st.loadedAt); age < s.ttl {
			if age >= s.ttl/2 && !s.afterResponse.Load() {
				s.startFetch(now) // ahead, in the background
			}
			return st.table, nil
		}
	}
	s.refresh(ctx, now)
	// Fresh keys if the fetch brought them; else, within MaxStale, the
	// last good ones: the fetch failed, backs off or is still running.
	if st := s.state.Load(); st != nil && st.table != nil && s.now().Sub(st.loadedAt) < s.maxStale {
		return st.table, nil
	}
	return nil, s.noKeys()
}

// refreshDue refreshes the keys if they are past half their TTL (or there
// are none), and waits for it, bounded by the fetch timeout. It is called
// after a response, where waiting delays no caller.
func (s *keyStore) refreshDue(ctx context.Context) {
	now := s.now()
	if st := s.state.Load(); st != nil && st.table != nil && now.Sub(st.loadedAt) < s.ttl/2 {
		return
	}
	s.refresh(ctx, now)
}

// refresh starts a fetch (unless one runs or a backoff is in force) and
// waits for it.
func (s *keyStore) refresh(ctx context.Context, now time.Time) {
	if done := s.startFetch(now); done != nil {
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
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
// backoff is in force (nil).
func (s *keyStore) startFetch(now time.Time) <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight
	}
	if now.Before(s.notBefore) {
		return nil
	}
	ch := make(chan struct{})
	s.inflight = ch
	go s.fetch(ch, now)
	return ch
}

func (s *keyStore) fetch(done chan struct{}, started time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), s.fetchTimeout)
	defer cancel()
	table, err := s.load(ctx)
	now := s.now()
	// A fetch whose deadline passed while far more time went by than its
	// timeout was not slow: the process was frozen (a Lambda environment
	// between invocations, with no extension to finish the refresh) and
	// the timer fired at thaw. That is no failure of Secrets Manager: no
	// backoff, no warning.
	suspended := err != nil && ctx.Err() != nil && now.Sub(started) > 2*s.fetchTimeout

	s.mu.Lock()
	defer func() {
		s.inflight = nil
		close(done)
		s.mu.Unlock()
	}()
	switch {
	case suspended:
		s.log.LogAttrs(ctx, slog.LevelDebug, "key refresh cut off by a suspension",
			slog.Duration("elapsed", now.Sub(started)))
		return
	case err == nil:
		// Aged from the fetch's start: the version it read was current
		// then or later, so a key removed before the start is never
		// served past start + TTL.
		s.state.Store(&keyState{table: table, loadedAt: started})
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

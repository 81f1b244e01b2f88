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

// snapshot is one loaded value (a keyring's table, a JWKS), immutable once
// stored.
type snapshot[T any] struct {
	value    T
	gone     bool // the source answered that there is nothing to serve
	loadedAt time.Time
}

// keyStore holds the keys in memory and refreshes them from the secret.
type keyStore = refresher[*keyTable]

// newKeyStore returns the refresher of the keyring read by load.
func newKeyStore(load func(context.Context) (*keyTable, error), function string, ttl, maxStale, fetchTimeout time.Duration, now func() time.Time, log *slog.Logger) *keyStore {
	return &keyStore{
		load:         load,
		ttl:          ttl,
		maxStale:     maxStale,
		fetchTimeout: fetchTimeout,
		now:          now,
		log:          log,
		noneErr:      ErrNoKeys,
		what:         "keys",
		msgFailed:    "key refresh failed",
		loaded:       func(t *keyTable) slog.Attr { return slog.Int("keys", len(t.entries)) },
		gone: func(ctx context.Context, err error, now time.Time) bool {
			switch {
			case errors.Is(err, ErrSecretNotFound):
				// A definite answer, not an outage: the secret is
				// gone, so are its keys. Serving stale keys here would
				// keep a deleted secret's callers in.
				log.LogAttrs(ctx, slog.LevelError, "secret not found: every key revoked", slog.String("error", err.Error()))
				return true
			case errors.Is(err, ErrMalformedKeyring):
				// An operator's write, not an outage, and one the
				// authorizer cannot read: it cannot tell which of the
				// keys it holds the write meant to revoke, so it serves
				// none of them. Every refresh (1 s to 1 min apart while
				// it lasts) logs an error carrying the KeyringInvalid
				// metric in CloudWatch's embedded metric format, for an
				// alarm.
				log.LogAttrs(ctx, slog.LevelError, msgKeyringInvalid,
					slog.String("error", err.Error()),
					slog.Int(metricKeyringInvalid, 1),
					slog.String("function", function),
					slog.Any("_aws", emfDirective(now, metricKeyringInvalid)))
				return true
			}
			return false
		},
	}
}

// refresher holds a value loaded from a remote source (the keyring from
// Secrets Manager, the JWKS from an issuer) and refreshes it.
//
// Freshness: a value is used to decide for at most TTL after the fetch that
// read it started, while the source answers. Between TTL/2 and TTL it is
// refreshed ahead, where it costs no caller anything: after the response,
// by the Lambda extension (StartExtension), or else in the background. A
// request that finds a value older than TTL (an environment idle for that
// long) waits for the refresh, bounded by its own deadline and the fetch
// timeout. If that refresh fails (an outage, throttling, a timeout), the
// last good value serves up to MaxStale; an answer that the value is gone
// (for keys: the secret deleted, or an invalid keyring) serves none. At
// most one fetch runs at a time, and failures back off.
type refresher[T any] struct {
	load         func(context.Context) (T, error)
	ttl          time.Duration
	maxStale     time.Duration
	fetchTimeout time.Duration
	now          func() time.Time
	log          *slog.Logger
	noneErr      error  // wrapped by every error get returns (ErrNoKeys, ErrNoJWKS)
	what         string // what is held, in messages: "keys", "JWKS"
	msgFailed    string // the warning a failed refresh logs
	loaded       func(T) slog.Attr
	// gone reports (and logs) a failed load whose error is an answer
	// that nothing may be served, rather than an outage; nil: none is.
	gone func(ctx context.Context, err error, now time.Time) bool
	// afterResponse is set when refreshes ahead are left to refreshDue,
	// called after each response (the Lambda extension): no background
	// fetch is started, since Lambda would freeze it mid-way.
	afterResponse atomic.Bool

	state atomic.Pointer[snapshot[T]]

	mu        sync.Mutex
	inflight  chan struct{} // closed when the running fetch ends; nil when none runs
	notBefore time.Time     // no fetch starts before this (backoff after failures)
	// waiting, when set, is called as a caller starts waiting for a
	// fetch: tests learn from it that a request is blocked.
	waiting func()
	// lastRefetch is when refetch last fetched.
	lastRefetch time.Time
	failures    int
	lastErr     error
}

// get returns the value to decide with at now (see refresher). It fails
// closed with an error wrapping noneErr when it has none it may use.
func (s *refresher[T]) get(ctx context.Context, now time.Time) (T, error) {
	st := s.state.Load()
	if st != nil && !st.gone {
		if age := now.Sub(st.loadedAt); age < s.ttl {
			if age >= s.ttl/2 && !s.afterResponse.Load() {
				s.startFetch(now) // ahead, in the background
			}
			return st.value, nil
		}
	}
	s.refresh(ctx, now)
	// A fresh value if the fetch brought one; else, within MaxStale, the
	// last good one: the fetch failed, backs off or is still running.
	if st := s.state.Load(); st != nil && !st.gone && s.now().Sub(st.loadedAt) < s.maxStale {
		return st.value, nil
	}
	var zero T
	return zero, s.none()
}

// refreshDue refreshes the value if it is past half its TTL (or there is
// none), and waits for it, bounded by the fetch timeout. It is called
// after a response, where waiting delays no caller.
func (s *refresher[T]) refreshDue(ctx context.Context) {
	now := s.now()
	if st := s.state.Load(); st != nil && !st.gone && now.Sub(st.loadedAt) < s.ttl/2 {
		return
	}
	s.refresh(ctx, now)
}

// refetch refreshes now, whatever the value's age, unless it refetched
// less than interval ago (or a backoff is in force), and waits for it: a
// JWT signed with a key the set does not hold may be the issuer's new key.
// The interval bounds how often callers presenting unknown key ids make
// the authorizer fetch.
func (s *refresher[T]) refetch(ctx context.Context, now time.Time, interval time.Duration) {
	s.mu.Lock()
	recent := !s.lastRefetch.IsZero() && now.Sub(s.lastRefetch) < interval
	if !recent {
		s.lastRefetch = now
	}
	s.mu.Unlock()
	if !recent {
		s.refresh(ctx, now)
	}
}

// refresh starts a fetch (unless one runs or a backoff is in force) and
// waits for it.
func (s *refresher[T]) refresh(ctx context.Context, now time.Time) {
	if done := s.startFetch(now); done != nil {
		if s.waiting != nil {
			s.waiting()
		}
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
}

func (s *refresher[T]) none() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastErr != nil {
		return fmt.Errorf("%w: %w", s.noneErr, s.lastErr)
	}
	if st := s.state.Load(); st != nil && !st.gone {
		return fmt.Errorf("%w: %s loaded %s ago are past the maximum age %s", s.noneErr, s.what, s.now().Sub(st.loadedAt).Round(time.Second), s.maxStale)
	}
	return s.noneErr
}

// startFetch starts a fetch unless one runs (whose channel it returns) or a
// backoff is in force (nil).
func (s *refresher[T]) startFetch(now time.Time) <-chan struct{} {
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

func (s *refresher[T]) fetch(done chan struct{}, started time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), s.fetchTimeout)
	defer cancel()
	value, err := s.load(ctx)
	now := s.now()
	// A fetch whose deadline passed while far more time went by than its
	// timeout was not slow: the process was frozen (a Lambda environment
	// between invocations, with no extension to finish the refresh) and
	// the timer fired at thaw. That is no failure of the source: no
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
		s.log.LogAttrs(ctx, slog.LevelDebug, "refresh cut off by a suspension", slog.String("of", s.what),
			slog.Duration("elapsed", now.Sub(started)))
		return
	case err == nil:
		// Aged from the fetch's start: the version it read was current
		// then or later, so a key removed before the start is never
		// served past start + TTL.
		s.state.Store(&snapshot[T]{value: value, loadedAt: started})
		s.failures, s.lastErr, s.notBefore = 0, nil, time.Time{}
		s.log.LogAttrs(ctx, slog.LevelInfo, s.what+" loaded", s.loaded(value))
		return
	case s.gone != nil && s.gone(ctx, err, now):
		s.state.Store(&snapshot[T]{gone: true, loadedAt: now})
	default:
		attrs := []slog.Attr{slog.String("error", err.Error())}
		if st := s.state.Load(); st != nil && !st.gone {
			attrs = append(attrs, slog.Duration(s.what+"Age", now.Sub(st.loadedAt)), slog.Duration("maxStale", s.maxStale))
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, s.msgFailed, attrs...)
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
func loadKeys(ctx context.Context, source SecretSource, format tokenFormat) (*keyTable, error) {
	v, err := source.SecretValue(ctx, StageCurrent)
	if err != nil {
		return nil, err
	}
	kr, err := ParseKeyring(v)
	if err == nil {
		err = format.check(kr)
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

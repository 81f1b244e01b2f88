package authorizer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
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
func newKeyStore(load func(context.Context) (*keyTable, error), function string, metrics bool, ttl, maxStale, fetchTimeout time.Duration, now func() time.Time, log *slog.Logger) *keyStore {
	s := &keyStore{
		load:         load,
		ttl:          ttl,
		maxStale:     maxStale,
		fetchTimeout: fetchTimeout,
		now:          now,
		log:          log,
		noneErr:      ErrNoKeys,
		what:         "keys",
		msgFailed:    "key refresh failed",
		metricLoaded: MetricKeyRefreshes,
		metricFailed: MetricKeyRefreshFailures,
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
				attrs := []slog.Attr{slog.String("error", err.Error())}
				if metrics {
					attrs = append(attrs, slog.Int(metricKeyringInvalid, 1), slog.String("function", function),
						slog.Any("_aws", emfDirective(now, metricKeyringInvalid)))
				}
				log.LogAttrs(ctx, slog.LevelError, msgKeyringInvalid, attrs...)
				return true
			}
			return false
		},
	}
	s.measure(function, metrics)
	return s
}

// RefreshMargin is the age from which keys (and a JWKS) of TTL ttl are
// refreshed ahead of a request: a fifth of the TTL, 1 minute at the
// default 5. A busy environment fetches once per margin: at the default
// TTL, 60 GetSecretValue calls an hour (it was 24, at half the TTL).
func RefreshMargin(ttl time.Duration) time.Duration { return ttl / 5 }

// SteadyGap is the longest gap between invocations under which an
// environment served by Serve (as deployed) or with the extension never waits for a
// refresh while Secrets Manager answers within the fetch timeout: the TTL
// less RefreshMargin, 4 minutes at the default TTL.
// TestInvariantSteadyTrafficNeverWaits checks it over generated schedules.
func SteadyGap(ttl time.Duration) time.Duration { return ttl - RefreshMargin(ttl) }

// refresher holds a value loaded from a remote source (the keyring from
// Secrets Manager, the JWKS from an issuer) and refreshes it.
//
// Freshness: a value is used to decide for at most TTL after the fetch that
// read it started, unless the source is failing. From RefreshMargin(TTL)
// of age on it is refreshed ahead, where it costs no caller anything:
// after the response (Serve, as deployed, or the Lambda extension,
// StartExtension), or else in the background. So after the response, an
// environment invoked at least
// every SteadyGap(TTL) never waits: a request that finds the value younger
// than the margin is answered within the next SteadyGap, before the TTL,
// and one that finds it older has it refreshed after its response. A request that finds a value older than TTL (an environment
// idle for that long) waits for the refresh, bounded by its own deadline
// and the fetch timeout.
//
// Outages: the last good value serves up to MaxStale only while the source
// is failing, that is when the fetch the request waited on failed, or a
// backoff after a failure is in force. An answer that the value is gone
// (for keys: the secret deleted, or an invalid keyring) serves none. At
// most one fetch runs at a time, and failures back off.
//
// Freezes: Lambda freezes an environment between invocations, and a fetch
// in flight then stops until the thaw, at which its deadline has passed.
// Such a timeout says nothing of the source. So a fetch that timed out
// after the environment was left free to freeze (mayFreeze: the end of an
// invocation, the runtime or the extension asking for its next event) is cut off, not
// failed: it starts no backoff and lets no stale value serve, and a request
// that waited on it fetches again. Nothing outside an invocation can time
// a fetch out while the source is healthy, so a removed key is never
// accepted past the TTL while Secrets Manager answers.
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
	// function, metricLoaded and metricFailed: the metric a refresh's
	// line carries, by function (metrics.go).
	function                   string
	metricLoaded, metricFailed string
	loaded                     func(T) slog.Attr
	// gone reports (and logs) a failed load whose error is an answer
	// that nothing may be served, rather than an outage; nil: none is.
	gone func(ctx context.Context, err error, now time.Time) bool
	// afterResponse is set when refreshes ahead are left to refreshDue,
	// called after each response (Serve, the Lambda extension): no background
	// fetch is started, since Lambda would freeze it mid-way.
	afterResponse atomic.Bool
	// freezes counts the points after which Lambda may have frozen the
	// environment (mayFreeze).
	freezes atomic.Uint64

	state atomic.Pointer[snapshot[T]]

	mu        sync.Mutex
	inflight  *fetchRun // the running fetch; nil when none runs
	fetches   uint64    // fetches started
	notBefore time.Time // no fetch starts before this (backoff after failures)
	// waiting, when set, is called as a caller starts waiting for a
	// fetch: tests learn from it that a request is blocked.
	waiting func()
	// lastRefetch is when refetch last fetched.
	lastRefetch time.Time
	failures    int
	lastErr     error
}

// fetchRun is one fetch: its outcome is set before done is closed.
type fetchRun struct {
	done    chan struct{}
	started time.Time
	freezes uint64 // the refresher's freezes when it started
	outcome fetchOutcome
}

type fetchOutcome uint8

const (
	fetchLoaded fetchOutcome = iota // a value was stored
	fetchGone                       // the source answered there is nothing to serve
	fetchFailed                     // the source failed: an outage
	fetchCutOff                     // timed out across a possible freeze: no verdict on the source
)

// mayFreeze records that Lambda may freeze the environment from now on: an
// invocation has been answered (without work after the response, nothing
// runs until the next), or the runtime (Serve) or the extension asked for
// its next event. A fetch in flight
// across it that times out is cut off, not failed.
func (s *refresher[T]) mayFreeze() { s.freezes.Add(1) }

// get returns the value to decide with at now (see refresher). It fails
// closed with an error wrapping noneErr when it has none it may use.
func (s *refresher[T]) get(ctx context.Context, now time.Time) (T, error) {
	st := s.state.Load()
	if st != nil && !st.gone {
		if age := now.Sub(st.loadedAt); age < s.ttl {
			if age >= RefreshMargin(s.ttl) && !s.afterResponse.Load() {
				s.startFetch(now) // ahead, in the background
			}
			return st.value, nil
		}
	}
	failing := s.refresh(ctx, now)
	// A fresh value if the fetch brought one; else, while the source is
	// failing and within MaxStale, the last good one.
	if st := s.state.Load(); st != nil && !st.gone {
		if age := s.now().Sub(st.loadedAt); age < s.ttl || failing && age < s.maxStale {
			return st.value, nil
		}
	}
	var zero T
	return zero, s.none(failing)
}

// due reports whether refreshDue would fetch at now: the value is
// RefreshMargin(TTL) old, or there is none.
func (s *refresher[T]) due(now time.Time) bool {
	st := s.state.Load()
	return st == nil || st.gone || now.Sub(st.loadedAt) >= RefreshMargin(s.ttl)
}

// refreshDue refreshes the value if it is RefreshMargin(TTL) old (or there
// is none), and waits for it, bounded by ctx. It is called after a response,
// where waiting delays no caller.
func (s *refresher[T]) refreshDue(ctx context.Context) {
	now := s.now()
	if !s.due(now) {
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

// refresh starts a fetch (or joins the one in flight) and waits for it,
// bounded by ctx. It reports whether the source is failing: the fetch
// failed, or no fetch may start because a backoff after a failure is in
// force. A fetch cut off by a freeze, or one that loaded a value already
// past its TTL (it started before a freeze), is followed by one of the
// caller's own, once: a request in an invocation is not frozen, so that
// one ends with a verdict unless ctx ends first.
func (s *refresher[T]) refresh(ctx context.Context, now time.Time) (failing bool) {
	for range 2 {
		run := s.startFetch(now)
		if run == nil {
			return true
		}
		if s.waiting != nil {
			s.waiting()
		}
		select {
		case <-run.done:
		case <-ctx.Done():
			return false
		}
		now = s.now()
		switch {
		case run.outcome == fetchFailed:
			return true
		case run.outcome == fetchGone, run.outcome == fetchLoaded && now.Sub(run.started) < s.ttl:
			return false
		}
	}
	return false
}

// none is the error of a get that has no value it may use.
func (s *refresher[T]) none(failing bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state.Load()
	switch {
	case s.lastErr != nil && (failing || st == nil || st.gone):
		return fmt.Errorf("%w: %w", s.noneErr, s.lastErr)
	case st == nil || st.gone:
		return s.noneErr
	case failing:
		return fmt.Errorf("%w: %s loaded %s ago are past the maximum age %s", s.noneErr, s.what, s.now().Sub(st.loadedAt).Round(time.Second), s.maxStale)
	}
	return fmt.Errorf("%w: %s loaded %s ago are past their TTL %s, and no refresh ended in time", s.noneErr, s.what, s.now().Sub(st.loadedAt).Round(time.Second), s.ttl)
}

// startFetch starts a fetch unless one runs (which it returns) or a
// backoff is in force (nil).
func (s *refresher[T]) startFetch(now time.Time) *fetchRun {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inflight != nil {
		return s.inflight
	}
	if now.Before(s.notBefore) {
		return nil
	}
	run := &fetchRun{done: make(chan struct{}), started: now, freezes: s.freezes.Load()}
	s.inflight = run
	s.fetches++
	go s.fetch(run)
	return run
}

func (s *refresher[T]) fetch(run *fetchRun) {
	ctx, cancel := context.WithTimeout(context.Background(), s.fetchTimeout)
	defer cancel()
	value, err := s.load(ctx)
	now := s.now()
	// A fetch that timed out after the environment could be frozen may
	// have been stopped by the freeze, its deadline firing at the thaw:
	// that is no failure of the source.
	cutOff := err != nil && timedOut(ctx, err) && s.freezes.Load() != run.freezes

	s.mu.Lock()
	defer func() {
		s.inflight = nil
		close(run.done)
		s.mu.Unlock()
	}()
	switch {
	case cutOff:
		run.outcome = fetchCutOff
		s.log.LogAttrs(ctx, slog.LevelDebug, "refresh cut off by a possible freeze", slog.String("of", s.what),
			slog.Duration("elapsed", now.Sub(run.started)))
		return
	case err == nil:
		// Aged from the fetch's start: the version it read was current
		// then or later, so a key removed before the start is never
		// served past start + TTL.
		run.outcome = fetchLoaded
		s.state.Store(&snapshot[T]{value: value, loadedAt: run.started})
		s.failures, s.lastErr, s.notBefore = 0, nil, time.Time{}
		s.log.LogAttrs(ctx, slog.LevelInfo, s.what+" loaded", append([]slog.Attr{s.loaded(value)}, s.metric(now, s.metricLoaded)...)...)
		return
	case s.gone != nil && s.gone(ctx, err, now):
		run.outcome = fetchGone
		s.state.Store(&snapshot[T]{gone: true, loadedAt: now})
	default:
		run.outcome = fetchFailed
		attrs := []slog.Attr{slog.String("error", err.Error())}
		if st := s.state.Load(); st != nil && !st.gone {
			attrs = append(attrs, slog.Duration(s.what+"Age", now.Sub(st.loadedAt)), slog.Duration("maxStale", s.maxStale))
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, s.msgFailed, append(attrs, s.metric(now, s.metricFailed)...)...)
	}
	s.failures++
	s.lastErr = err
	s.notBefore = now.Add(backoff(s.failures))
}

// measure names the function a refresh's metric is of; without metrics
// (Config.NoMetrics), a refresh's line carries none.
func (s *refresher[T]) measure(function string, metrics bool) {
	s.function = function
	if !metrics {
		s.metricLoaded, s.metricFailed = "", ""
	}
}

// metric is a refresh line's metric name, in CloudWatch's embedded metric
// format: its function, the count 1 and the directive; none without a
// name.
func (s *refresher[T]) metric(now time.Time, name string) []slog.Attr {
	if name == "" {
		return nil
	}
	return []slog.Attr{slog.String("function", s.function), slog.Int(name, 1), slog.Any("_aws", emfDirective(now, name))}
}

// timedOut reports whether a fetch's error is a timeout: its own deadline,
// or an attempt's.
func timedOut(ctx context.Context, err error) bool {
	var ne net.Error
	return ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
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
	kr, limits, err := parseKeyring(v)
	if err == nil {
		err = format.check(kr)
	}
	if err != nil {
		return nil, err
	}
	return newKeyTable(kr, limits)
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

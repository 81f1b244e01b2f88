package authorizer

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync/atomic"
	"time"

	"tollgate/internal/httptoken"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Defaults for the zero values of Config.
const (
	DefaultTTL          = 5 * time.Minute
	DefaultMaxStale     = 30 * time.Minute
	DefaultFetchTimeout = 3 * time.Second
)

var (
	// ErrUnauthorized is the error whose message API Gateway turns into
	// 401 Unauthorized. Its message is exactly "Unauthorized"; any other
	// error message gives the caller a 500.
	ErrUnauthorized = errors.New("Unauthorized") //nolint:staticcheck // the exact message is API Gateway's contract

	// ErrMalformedEvent is wrapped by the error returned for an event that
	// is not one of the three formats, is not JSON, or has no usable
	// methodArn/routeArn. API Gateway answers it with a 500.
	ErrMalformedEvent = errors.New("malformed event")
)

// Config configures an Authorizer. The zero value of every field but Source
// means the documented default.
type Config struct {
	// Source reads the keyring secret. Required.
	Source SecretSource

	// Function names the function in metrics; default the
	// AWS_LAMBDA_FUNCTION_NAME Lambda sets, else "authorizer".
	Function string

	// NoMetrics leaves the metrics (metrics.go) out of the log lines:
	// no custom metric is billed, and the dashboard and alarms have none
	// of the authorizer's to show.
	NoMetrics bool

	// TokenHeader is the header REQUEST and HTTP API events are read from,
	// looked up ignoring case; default "Authorization". TOKEN events carry
	// the value of the header API Gateway was told to read.
	TokenHeader string

	// Scheme is the authentication scheme in front of the key, matched
	// ignoring case and followed by one or more spaces (RFC 6750 section
	// 2.1); default "Bearer". SchemeNone takes the whole header value as
	// the key: use it only for a header that holds nothing else, such as
	// x-api-key.
	Scheme string

	// TTL is how long loaded keys are used before a refresh is started in
	// the background; default DefaultTTL. A key removed from the secret
	// keeps working for up to TTL.
	TTL time.Duration

	// MaxStale is how long the last good keys keep being used while
	// refreshes fail (Secrets Manager unreachable, throttled, or returning
	// a malformed keyring); default DefaultMaxStale, and at least TTL.
	// Past it the authorizer fails closed: every request is an error.
	MaxStale time.Duration

	// FetchTimeout bounds one fetch of every stage; default
	// DefaultFetchTimeout. A request that has no keys waits at most this
	// long (or until its own deadline) before it fails closed.
	FetchTimeout time.Duration

	// KeyTable, when set, looks keys up in a DynamoDB table (KeyItem), by
	// digest, beside or instead of the keyring of Source (tablestore.go):
	// the key store of a stack with keyStore: dynamodb.
	KeyTable *KeyTable

	// JWT, when set, accepts JWTs from an identity provider beside the
	// keys: a bearer token that is a JWT is verified against the issuer's
	// JWKS, which is fetched with FetchTimeout and kept like the keys
	// (JWTConfig.JWKSTTL, JWTConfig.JWKSMaxStale).
	JWT *JWTConfig

	// Logger receives one line per decision and one per key fetch; default
	// slog.JSONHandler on standard output at level Info. Tokens, keys,
	// usage keys and digests of them are never logged.
	Logger *slog.Logger

	// DecisionLog, when set, is where the decision lines go instead, as
	// the Logger's JSON handler would write them (its level still
	// decides whether they are): the writer the Logger's handler writes
	// to, standard output for FromEnv. The authorizer encodes them
	// itself, and under Serve or with the extension (StartExtension)
	// writes them after the response rather than on the request path
	// (decisionlog.go).
	DecisionLog io.Writer
}

// hooks replace parts of an Authorizer in tests; the zero value is none.
type hooks struct {
	now func() time.Time // nil means time.Now
	// match replaces the key comparison (keyTable.match): the timing test
	// plants a leaky one to show it would be caught.
	match func(t *keyTable, token []byte) (*entry, bool)
}

// Authorizer is an API Gateway Lambda authorizer. It implements
// lambda.Handler, so lambda.Start(a) serves it, and Serve is its own
// runtime loop (as deployed). It is safe for concurrent
// use.
type Authorizer struct {
	header string
	format tokenFormat
	store  *keyStore
	jwt    *jwtVerifier // nil unless Config.JWT is set
	now    func() time.Time
	since  func(time.Time) time.Duration
	match  func(t *keyTable, token []byte) (*entry, bool)

	logs    [FormatHTTP + 1]*slog.Logger // by EventFormat, with the format attribute bound
	logNone *slog.Logger                 // for events whose format is unknown

	// decisions, when Config.DecisionLog is set, buffers the decision
	// lines for it.
	decisions *decisionLog

	// table, with Config.KeyTable, is where keys the keyring lacks are
	// looked up.
	table *tableStore

	// function is the function's name, the metrics' dimension; metrics
	// is whether lines carry metrics (not Config.NoMetrics); decided is
	// set by the environment's first decision (ColdStarts).
	function string
	metrics  bool
	decided  atomic.Bool

	// invoked, once StartExtension registered the extension, is sent to
	// (without blocking) after each decision: the extension refreshes
	// keys once the invocation is answered.
	invoked chan struct{}
}

// KeyTimes are how long cfg's keys serve: its TTL and MaxStale, a zero
// one its default (DefaultTTL; the longer of DefaultMaxStale and the TTL),
// as New takes them. The deploy's alarms read them so too.
func (cfg Config) KeyTimes() (ttl, maxStale time.Duration) {
	ttl = cmp.Or(cfg.TTL, DefaultTTL)
	return ttl, cmp.Or(cfg.MaxStale, max(DefaultMaxStale, ttl))
}

// New checks cfg and returns an Authorizer. It does not fetch the secret:
// call Load at start, or the first request will.
func New(cfg Config) (*Authorizer, error) { return newAuthorizer(cfg, hooks{}) }

func newAuthorizer(cfg Config, h hooks) (*Authorizer, error) {
	if cfg.Source == nil && cfg.KeyTable == nil {
		return nil, errors.New("authorizer: Config.Source or Config.KeyTable is required")
	}
	function := cmp.Or(cfg.Function, os.Getenv("AWS_LAMBDA_FUNCTION_NAME"), "authorizer")
	header := cfg.TokenHeader
	if header == "" {
		header = DefaultTokenHeader
	}
	for i := range len(header) {
		if !httptoken.Char(header[i]) {
			return nil, fmt.Errorf("authorizer: token header %q is not an HTTP field name", header)
		}
	}
	format, err := newTokenFormat(cfg.Scheme)
	if err != nil {
		return nil, err
	}
	if cfg.TTL < 0 || cfg.MaxStale < 0 || cfg.FetchTimeout < 0 {
		return nil, errors.New("authorizer: TTL, MaxStale and FetchTimeout cannot be negative")
	}
	ttl, maxStale := cfg.KeyTimes()
	fetchTimeout := cfg.FetchTimeout
	if maxStale < ttl {
		return nil, fmt.Errorf("authorizer: MaxStale %s is shorter than TTL %s", maxStale, ttl)
	}
	if fetchTimeout == 0 {
		fetchTimeout = DefaultFetchTimeout
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewJSONHandler(os.Stdout, nil))
	}
	now, since := h.now, time.Since
	if now == nil {
		now = time.Now
	} else {
		since = func(t time.Time) time.Duration { return now().Sub(t) }
	}
	match := h.match
	if match == nil {
		match = (*keyTable).match
	}
	a := &Authorizer{
		function: function,
		metrics:  !cfg.NoMetrics,
		header:   header,
		format:   format,
		now:      now,
		since:    since,
		match:    match,
		store: newKeyStore(func(ctx context.Context) (*keyTable, error) {
			if cfg.Source == nil {
				return &keyTable{}, nil // every key is the table's
			}
			return loadKeys(ctx, cfg.Source, format)
		},
			function, !cfg.NoMetrics, ttl, maxStale, fetchTimeout, now, log),
	}
	if cfg.JWT != nil {
		if a.jwt, err = newJWTVerifier(*cfg.JWT, fetchTimeout, now, log); err != nil {
			return nil, err
		}
		a.jwt.jwks.measure(function, !cfg.NoMetrics)
	}
	if t := cfg.KeyTable; t != nil {
		if t.Name == "" || t.Client == nil {
			return nil, errors.New("authorizer: KeyTable needs its Name and Client")
		}
		a.table = newTableStore(t.Client, t.Name, ttl, cmp.Or(t.NegativeTTL, DefaultNegativeTTL), cmp.Or(t.MaxCached, DefaultMaxCached), now)
	}
	for _, f := range []EventFormat{FormatToken, FormatRequest, FormatHTTP} {
		a.logs[f] = log.With(slog.String("format", f.String()))
	}
	a.logNone = log
	if cfg.DecisionLog != nil {
		a.decisions = &decisionLog{w: cfg.DecisionLog}
	}
	return a, nil
}

// Load fetches the keys now, waiting at most until ctx is done or the fetch
// timeout passes. Call it once at start, in the Lambda init phase; if it
// fails, requests fail closed and retry the fetch (with backoff) until one
// succeeds.
//
// With JWTs on, the JWKS is fetched at the same time, and an error of
// either is returned.
func (a *Authorizer) Load(ctx context.Context) error {
	jwks := make(chan error, 1)
	if a.jwt != nil {
		go func() {
			_, err := a.jwt.jwks.get(ctx, a.now())
			jwks <- err
		}()
	} else {
		jwks <- nil
	}
	_, err := a.store.get(ctx, a.now())
	return errors.Join(err, <-jwks)
}

// Outcomes, as logged.
const (
	outcomeAllow        = "allow"
	outcomeDeny         = "deny"
	outcomeUnauthorized = "unauthorized"
	outcomeError        = "error"
)

// Why a known key or a valid JWT was denied a route.
const (
	reasonRouteNotAllowed = "route not allowed"
	// reasonRoutePartly: on an HTTP API, the limit covers some paths of
	// the API route, not all (routeLimit.covers).
	reasonRoutePartly = "route limit covers part of the API route"
)

// decision is what one event was answered with, and why.
type decision struct {
	format    EventFormat
	outcome   string
	reason    string
	principal string
	answer    []byte
	err       error
}

// Invoke decides one authorizer event: payload is the event's JSON, the
// result the answer's JSON, or an error for API Gateway to turn into a 401
// (ErrUnauthorized) or a 500 (anything else). See the package doc for the
// table of outcomes. The returned bytes are shared between calls and must
// not be modified.
func (a *Authorizer) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	var requestID string
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		requestID = lc.AwsRequestID
	}
	return a.invoke(ctx, payload, requestID)
}

// invoke is Invoke for the invocation requestID (Serve knows it without a
// lambdacontext).
func (a *Authorizer) invoke(ctx context.Context, payload []byte, requestID string) ([]byte, error) {
	start := a.now()
	d := a.decide(ctx, payload, start)

	log, level := a.logNone, slog.LevelInfo
	if d.format != 0 {
		log = a.logs[d.format]
	}
	if d.outcome == outcomeError {
		level = slog.LevelError
	}
	// The record goes to the handler directly: slog.Logger would capture
	// the caller's PC with runtime.Callers, a third of the cost of a
	// decision, for a source location the handler does not print. The
	// record is stamped with the decision's start, so one clock read and
	// one monotonic read serve both the time and the duration.
	if h := log.Handler(); h.Enabled(ctx, level) {
		a.logDecision(ctx, h, level, start, &d, requestID)
	}
	if a.invoked != nil {
		select {
		case a.invoked <- struct{}{}:
		default:
		}
	}
	a.mayFreeze()
	return d.answer, d.err
}

// mayFreeze records that Lambda may freeze the environment from here on:
// an invocation answered, or the runtime or the extension asking for its
// next event (see refresher).
func (a *Authorizer) mayFreeze() {
	a.store.mayFreeze()
	if a.jwt != nil {
		a.jwt.jwks.mayFreeze()
	}
}

func (a *Authorizer) decide(ctx context.Context, payload []byte, now time.Time) decision {
	ev, err := parseEvent(payload, a.header)
	if err != nil {
		return decision{outcome: outcomeError, reason: err.Error(), err: err}
	}
	fail := func(err error) decision {
		return decision{format: ev.format, outcome: outcomeError, reason: err.Error(), err: err}
	}
	prefix, err := apiStagePrefix(ev.arn)
	if err == nil && ev.format != FormatHTTP && bytes.IndexByte(ev.arn[prefix:], '/') < 1 {
		// A REST method ARN's route is VERB/path ("GET/" for the root);
		// the whole-stage Allow, <stage>/*/*, covers nothing else.
		err = errBadARN
	}
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrMalformedEvent, err))
	}
	refuse := func(reason string) decision {
		d := decision{format: ev.format, outcome: outcomeUnauthorized, reason: reason, err: ErrUnauthorized}
		if ev.format == FormatHTTP {
			// HTTP APIs have no 401 from the function: a simple response
			// that is not authorized is their only denial (403).
			d.answer, d.err = simpleDenied, nil
		}
		return d
	}
	if a.jwt != nil && ev.identity == identityPresent {
		if token, reason := a.format.extract(ev.value); reason == "" && looksLikeJWT(token) {
			return a.decideJWT(ctx, ev, prefix, token, now, refuse, fail)
		}
	}
	table, err := a.store.get(ctx, now)
	if err != nil {
		return fail(err)
	}
	switch ev.identity {
	case identityMissing:
		return refuse(reasonNoToken)
	case identityAmbiguous:
		return refuse(reasonAmbiguousToken)
	}
	token, reason := a.format.extract(ev.value)
	if reason != "" {
		return refuse(reason)
	}
	if len(token) > MaxKeyLength {
		return refuse(reasonUnknownKey)
	}
	if hasKeyPrefix(token) && !CheckKey(token) {
		// A tollgate key with a wrong checksum is a typo (or a guess):
		// refused before any lookup. The check reads only the token.
		return refuse(reasonMistypedKey)
	}
	e, ok := a.match(table, token)
	if !ok && a.table != nil {
		e, err = a.table.lookup(ctx, token, a.store.fetchTimeout)
		if err != nil {
			return fail(fmt.Errorf("key table: %w", err)) // fails closed
		}
		ok = e != nil
	}
	if !ok {
		return refuse(reasonUnknownKey)
	}
	if reason := e.usableAt(now); reason != "" {
		d := refuse(reason)
		d.principal = e.id
		return d
	}
	d := decision{format: ev.format, outcome: outcomeAllow, principal: e.id}
	if ev.format == FormatHTTP {
		d.answer = e.simpleAllow
		if reason := httpRefusal(e.limit, ev, prefix); reason != "" {
			d.outcome, d.reason, d.answer = outcomeDeny, reason, e.simpleDeny
		}
		return d
	}
	// The same answer on or off the key's routes: API Gateway denies
	// this request by it as it would a later one by its cached copy.
	d.answer = e.answer(ev.arn[:prefix])
	if !e.permits(ev.arn, prefix) {
		d.outcome, d.reason = outcomeDeny, reasonRouteNotAllowed
	}
	return d
}

// httpRefusal is why limit denies an HTTP API request, or "": the request
// is judged by its API route (routeLimit.covers), whose every path shares
// the answer API Gateway caches.
func httpRefusal(limit *routeLimit, ev event, prefix int) string {
	if limit == nil {
		return ""
	}
	method := ev.arn[prefix:]
	if i := bytes.IndexByte(method, '/'); i >= 0 {
		method = method[:i]
	}
	switch limit.covers(method, ev.routeKey) {
	case coverageAll:
		return ""
	case coveragePart:
		return reasonRoutePartly
	}
	return reasonRouteNotAllowed
}

// decideJWT decides an event whose token is a JWT: a refusal (401) for a
// token that fails any check, an error (500) while no JWKS may be used, and
// otherwise the same answers as a key's, with the token's principal, the
// routes its scopes grant, and its context.
func (a *Authorizer) decideJWT(ctx context.Context, ev event, prefix int, token []byte, now time.Time,
	refuse func(string) decision, fail func(error) decision) decision {
	r := a.jwt.verify(ctx, token, now)
	switch {
	case r.err != nil:
		return fail(r.err)
	case r.reason != "":
		d := refuse(r.reason)
		d.principal = r.principal
		return d
	}
	d := decision{format: ev.format, outcome: outcomeAllow, principal: r.principal}
	allowed := r.limit.permits(ev.arn[prefix:])
	reason := reasonJWTScopeNotGranted
	if ev.format == FormatHTTP {
		if why := httpRefusal(r.limit, ev, prefix); why != "" {
			allowed = false
			if why == reasonRoutePartly {
				reason = why
			}
		} else {
			allowed = true
		}
	}
	if ev.format == FormatHTTP {
		d.answer = mustJSON(events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: allowed, Context: r.context})
	} else {
		d.answer = renderPolicy(r.principal, r.limit, r.context, "", ev.arn[:prefix])
	}
	if !allowed {
		d.outcome, d.reason = outcomeDeny, reason
	}
	return d
}

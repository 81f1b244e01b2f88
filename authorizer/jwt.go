package authorizer

// JWTs beside API keys: a bearer token that is a JWT is verified against
// the issuer's JWKS (held by the same refresher as the keys), and answered
// with the same cache-safe policies as keys.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// jwtVerifier decides JWTs.
type jwtVerifier struct {
	cfg    JWTConfig
	parser *jwt.Parser
	jwks   *refresher[*jwkSet]
	// scopes are ScopeRoutes compiled, by scope.
	scopes map[string]*routeLimit

	// verified remembers tokens that passed every check, by SHA-256 of
	// the token, so that a caller's repeated token is not verified again
	// (a signature check is most of a decision's time). An entry holds
	// only with the JWKS it was verified against, and only between the
	// token's nbf/iat and its exp (with the leeway).
	mu       sync.Mutex
	verified map[[32]byte]*verifiedJWT
}

// maxVerified bounds the verified tokens remembered; when full, they are
// forgotten at once and verified again as they come.
const maxVerified = 1024

// verifiedJWT is a token that passed every check, and when its result may
// be reused.
type verifiedJWT struct {
	result              jwtResult
	set                 *jwkSet
	notBefore, notAfter time.Time
}

// remembered returns the result of a token verified against set that holds
// at now.
func (v *jwtVerifier) remembered(sum [32]byte, set *jwkSet, now time.Time) (jwtResult, bool) {
	v.mu.Lock()
	e := v.verified[sum]
	v.mu.Unlock()
	if e == nil || e.set != set || now.Before(e.notBefore) || !now.Before(e.notAfter) {
		return jwtResult{}, false
	}
	return e.result, true
}

// remember keeps a verified token's result until its exp (plus leeway).
func (v *jwtVerifier) remember(sum [32]byte, set *jwkSet, claims jwt.MapClaims, r jwtResult) {
	exp, err := claims.GetExpirationTime()
	if err != nil || exp == nil { // required, and checked: keep the check total
		return
	}
	e := &verifiedJWT{result: r, set: set, notAfter: exp.Add(v.cfg.Leeway)}
	for _, get := range []func() (*jwt.NumericDate, error){claims.GetNotBefore, claims.GetIssuedAt} {
		if t, err := get(); err == nil && t != nil && t.Add(-v.cfg.Leeway).After(e.notBefore) {
			e.notBefore = t.Add(-v.cfg.Leeway)
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.verified) >= maxVerified {
		clear(v.verified)
	}
	v.verified[sum] = e
}

func newJWTVerifier(cfg JWTConfig, fetchTimeout time.Duration, now func() time.Time, log *slog.Logger) (*jwtVerifier, error) {
	scopes, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	v := &jwtVerifier{cfg: cfg, scopes: scopes, verified: map[[32]byte]*verifiedJWT{}}
	v.parser = jwt.NewParser(append(parserOptions(cfg, now),
		jwt.WithAudience(cfg.Audiences...))...) // any one of them
	client := cfg.Client
	if client == nil {
		client = &http.Client{Timeout: fetchTimeout}
	}
	v.jwks = &refresher[*jwkSet]{
		load:         func(ctx context.Context) (*jwkSet, error) { return fetchJWKS(ctx, client, cfg.JWKSURL) },
		ttl:          cfg.JWKSTTL,
		maxStale:     cfg.JWKSMaxStale,
		fetchTimeout: fetchTimeout,
		now:          now,
		log:          log,
		noneErr:      ErrNoJWKS,
		what:         "JWKS",
		msgFailed:    "JWKS refresh failed",
		metricLoaded: MetricJWKSRefreshes,
		metricFailed: MetricJWKSRefreshFailures,
		loaded:       func(s *jwkSet) slog.Attr { return slog.Int("jwks", len(s.kids)) },
	}
	return v, nil
}

// parserOptions are the parser's checks every JWT passes: the algorithm,
// the issuer, exp required, nbf and iat, with the leeway, on now's clock.
// The audience is the caller's to add: GatewayJWT checks it otherwise.
func parserOptions(cfg JWTConfig, now func() time.Time) []jwt.ParserOption {
	return []jwt.ParserOption{
		jwt.WithValidMethods(cfg.Algorithms),
		jwt.WithIssuer(cfg.Issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(cfg.Leeway),
		jwt.WithTimeFunc(now),
	}
}

// looksLikeJWT reports whether a bearer token is a JWS compact
// serialisation: three base64url parts whose header starts `{"` ("eyJ").
// A tollgate key (tgk_…) never is.
func looksLikeJWT(token []byte) bool {
	return bytes.HasPrefix(token, []byte("eyJ")) && bytes.Count(token, []byte(".")) == 2
}

// Why a JWT was refused. Reasons for logs, never sent to a caller.
const (
	reasonJWTTooLong         = "jwt too long"
	reasonJWTMalformed       = "jwt malformed"
	reasonJWTAlgorithm       = "jwt algorithm not allowed"
	reasonJWTUnknownKid      = "jwt kid unknown"
	reasonJWTNoKey           = "jwt key not usable"
	reasonJWTSignature       = "jwt signature invalid"
	reasonJWTExpired         = "jwt expired"
	reasonJWTNotYetValid     = "jwt not valid yet"
	reasonJWTIssuedLater     = "jwt issued in the future"
	reasonJWTIssuer          = "jwt issuer wrong"
	reasonJWTAudience        = "jwt audience wrong"
	reasonJWTNoExp           = "jwt exp missing"
	reasonJWTNoIssuer        = "jwt iss missing"
	reasonJWTNoAudience      = "jwt aud missing"
	reasonJWTClaims          = "jwt claims invalid"
	reasonJWTRequiredClaim   = "jwt required claim missing"
	reasonJWTPrincipal       = "jwt principal claim missing or not a usable string"
	reasonJWTScopeNotGranted = "route not granted by the jwt's scopes"
)

var errUnknownKid = errors.New("unknown kid")

// jwtResult is a verified token's answer parts, or why it was refused (or
// the error that keeps it from being decided).
type jwtResult struct {
	principal string
	limit     *routeLimit // nil: the whole stage
	context   map[string]any
	reason    string
	err       error
}

// verify checks token at now; see JWTConfig for the checks.
func (v *jwtVerifier) verify(ctx context.Context, token []byte, now time.Time) jwtResult {
	if len(token) > v.cfg.MaxTokenLength {
		return jwtResult{reason: reasonJWTTooLong}
	}
	set, err := v.jwks.get(ctx, now)
	if err != nil {
		return jwtResult{err: err}
	}
	sum := sha256.Sum256(token)
	if r, ok := v.remembered(sum, set, now); ok {
		return r
	}
	claims, set, reason := v.parse(ctx, token, now, set)
	if reason != "" {
		return jwtResult{reason: reason}
	}
	subject, ok := claims[v.cfg.PrincipalClaim].(string)
	if !ok || subject == "" || len(subject) > 256 || !utf8.ValidString(subject) || strings.ContainsFunc(subject, isControl) {
		return jwtResult{reason: reasonJWTPrincipal}
	}
	principal := JWTPrincipalPrefix + subject
	for _, name := range v.cfg.RequiredClaims {
		if claims[name] == nil {
			return jwtResult{principal: principal, reason: reasonJWTRequiredClaim}
		}
	}
	r := jwtResult{principal: principal, context: map[string]any{ContextAuthType: "jwt", ContextPrincipal: principal}}
	for _, name := range v.cfg.ContextClaims {
		if val, ok := scalar(claims[name]); ok {
			r.context[name] = val
		}
	}
	if v.scopes != nil {
		var granted []*routeLimit
		for _, s := range scopesOf(claims[v.cfg.ScopeClaim]) {
			if l := v.scopes[s]; l != nil {
				granted = append(granted, l)
			}
		}
		r.limit = mergeLimits(granted)
	}
	v.remember(sum, set, claims, r) // set: the one verified against, refetched or not
	return r
}

// parse verifies token's signature against set (fetched again, at most
// once per KidRefetchInterval, for a kid it lacks) and checks its claims
// as v's parser does. It returns the claims and the set that verified
// them, or why the token is refused.
func (v *jwtVerifier) parse(ctx context.Context, token []byte, now time.Time, set *jwkSet) (jwt.MapClaims, *jwkSet, string) {
	claims := jwt.MapClaims{}
	tok, err := v.parser.ParseWithClaims(string(token), claims, func(t *jwt.Token) (any, error) {
		if kid, ok := t.Header["kid"].(string); ok && !set.kids[kid] {
			// Perhaps the issuer's new key: fetch the set again, at
			// most once per KidRefetchInterval.
			v.jwks.refetch(ctx, now, v.cfg.KidRefetchInterval)
			if fresh, err := v.jwks.get(ctx, now); err == nil {
				set = fresh
			}
			if !set.kids[kid] {
				return nil, errUnknownKid
			}
		}
		return set.keyfunc.KeyfuncCtx(ctx)(t)
	})
	if err != nil {
		return nil, set, v.refusal(tok, claims, err)
	}
	return claims, set, ""
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// refusal names why ParseWithClaims refused a token, the most basic
// failure first.
func (v *jwtVerifier) refusal(tok *jwt.Token, claims jwt.MapClaims, err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return reasonJWTMalformed
	case tok != nil && (tok.Method == nil || !slices.Contains(v.cfg.Algorithms, tok.Method.Alg())):
		return reasonJWTAlgorithm
	case errors.Is(err, errUnknownKid):
		return reasonJWTUnknownKid
	case errors.Is(err, jwt.ErrTokenUnverifiable):
		return reasonJWTNoKey
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return reasonJWTSignature
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		switch {
		case claims["exp"] == nil:
			return reasonJWTNoExp
		case claims["iss"] == nil:
			return reasonJWTNoIssuer
		default:
			return reasonJWTNoAudience
		}
	case errors.Is(err, jwt.ErrTokenExpired):
		return reasonJWTExpired
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return reasonJWTNotYetValid
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return reasonJWTIssuedLater
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return reasonJWTIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return reasonJWTAudience
	}
	return reasonJWTClaims
}

// scopesOf reads a scope claim: a space-separated string or an array of
// strings.
func scopesOf(v any) []string {
	switch v := v.(type) {
	case string:
		return strings.Fields(v)
	case []any:
		var out []string
		for _, s := range v {
			if s, ok := s.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// scalar turns a claim into a context value: API Gateway's context holds
// strings, numbers and booleans only
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
func scalar(v any) (any, bool) {
	switch v := v.(type) {
	case string, float64, bool, json.Number:
		return v, true
	case []any:
		parts := make([]string, 0, len(v))
		for _, s := range v {
			s, ok := s.(string)
			if !ok {
				return nil, false
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, " "), true
	}
	return nil, false
}

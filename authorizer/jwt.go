package authorizer

// JWTs beside API keys: a bearer token that is a JWT is verified against
// the issuer's JWKS (held by the same refresher as the keys), and answered
// with the same cache-safe policies as keys.

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// Defaults for the zero values of JWTConfig.
const (
	// DefaultJWTLeeway is the clock skew allowed on exp, nbf and iat.
	DefaultJWTLeeway = 30 * time.Second
	// MaxJWTLeeway is the largest leeway a configuration may state.
	MaxJWTLeeway = 5 * time.Minute
	// DefaultMaxTokenLength is the longest JWT read, in bytes. API
	// Gateway refuses request headers past 10,240 bytes in all
	// (https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html).
	DefaultMaxTokenLength = 8192
	// DefaultJWKSTTL is how long a fetched JWKS is used before it is
	// fetched again.
	DefaultJWKSTTL = 10 * time.Minute
	// DefaultJWKSMaxStale is how long the last good JWKS serves while the
	// issuer cannot be reached; past it every JWT is an error (500).
	DefaultJWKSMaxStale = time.Hour
	// DefaultKidRefetchInterval is the shortest time between two fetches
	// of the JWKS made for a token whose kid the set does not hold: at
	// most one fetch per interval, however many made-up kids callers
	// send. It is also the bound on a new key: a key the issuer publishes
	// at P is accepted for every token presented from P + interval on,
	// whatever others send (a fetch after P holds it, and one is allowed
	// by then), while the issuer answers.
	DefaultKidRefetchInterval = 10 * time.Second
	// DefaultPrincipalClaim names the principal.
	DefaultPrincipalClaim = "sub"
	// DefaultScopeClaim holds the scopes: a space-separated string (RFC
	// 8693 section 4.2, RFC 9068 section 2.2.3) or an array of strings
	// (as "scp" is in some identity providers).
	DefaultScopeClaim = "scope"
	// maxJWKSBytes bounds the JWKS document read.
	maxJWKSBytes = 256 << 10
)

// DefaultJWTAlgorithms are the algorithms accepted when none are stated.
var DefaultJWTAlgorithms = []string{"RS256", "ES256"}

// jwtAlgorithms are the algorithms a configuration may allow: the
// asymmetric JWS algorithms of RFC 7518 section 3.1 and EdDSA (RFC 8037).
// Never "none", and never HMAC: with a public key set, an HS256 token
// "signed" with a public key would verify (algorithm confusion).
var jwtAlgorithms = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

// Context keys every JWT answer carries; the claims of
// JWTConfig.ContextClaims go beside them under their own names.
const (
	ContextAuthType  = "authType"  // "jwt" for an answer to a JWT
	ContextPrincipal = "principal" // the principal: JWTPrincipalPrefix and the principal claim's value
)

// JWTPrincipalPrefix starts a JWT's principal (its principalId, its
// context's principal, the logs'): "jwt:" and the principal claim's value.
// No key id may start with it (ValidateID), so a key client and a token
// subject of the same name are never the same principal to a backend.
const JWTPrincipalPrefix = "jwt:"

// ErrNoJWKS is returned (wrapped, with the last fetch error) when a JWT
// arrives while the authorizer holds no JWKS it may use.
var ErrNoJWKS = errors.New("no JWKS loaded")

// JWTConfig turns on JWTs beside API keys: a bearer token that is a JWT
// (three base64url parts, the first starting "eyJ") is verified against
// the issuer's JWKS instead of being looked up among the keys.
type JWTConfig struct {
	// Issuer is the exact "iss" tokens must carry. Required.
	Issuer string
	// JWKSURL is where the issuer's JSON Web Key Set is read: https, or
	// http to a loopback address (a local issuer). Required.
	JWKSURL string
	// Audiences are the "aud" values accepted; a token must name at
	// least one of them. Required.
	Audiences []string
	// Algorithms are the "alg" values accepted, from RS256, RS384,
	// RS512, PS256, PS384, PS512, ES256, ES384, ES512 and EdDSA; default
	// DefaultJWTAlgorithms.
	Algorithms []string
	// PrincipalClaim names the claim that is the principal (the answer's
	// principalId and the logs' principal); default "sub". It must be a
	// string of 1 to 256 characters without control characters.
	PrincipalClaim string
	// ScopeClaim names the claim holding the token's scopes; default
	// "scope".
	ScopeClaim string
	// ScopeRoutes maps a scope to the routes it grants, in the grammar of
	// Key.Routes ("GET /orders/*"). When set, a token may call exactly
	// the routes of its scopes (none: every request is denied); when
	// nil, a valid token may call every route of the stage.
	ScopeRoutes map[string][]string
	// RequiredClaims must be present (and not null) in every token.
	RequiredClaims []string
	// ContextClaims are passed to the integration in the answer's
	// context under their own names: strings, numbers and booleans as
	// they are, an array of strings joined with spaces; a claim of
	// another type, or absent, is left out.
	ContextClaims []string
	// Leeway is the clock skew allowed on exp, nbf and iat; default
	// DefaultJWTLeeway, at most MaxJWTLeeway.
	Leeway time.Duration
	// MaxTokenLength bounds the token; default DefaultMaxTokenLength.
	MaxTokenLength int
	// JWKSTTL and JWKSMaxStale are the JWKS's Config.TTL and
	// Config.MaxStale; default DefaultJWKSTTL and DefaultJWKSMaxStale.
	JWKSTTL      time.Duration
	JWKSMaxStale time.Duration
	// KidRefetchInterval is the shortest time between two fetches made
	// for unknown key ids; default DefaultKidRefetchInterval.
	KidRefetchInterval time.Duration
	// Client fetches the JWKS; default a client with the fetch timeout.
	Client *http.Client
}

// validate checks c and fills in its defaults, and returns its scopes'
// route limits, compiled (nil without ScopeRoutes). Errors name the
// setting.
func (c *JWTConfig) validate() (map[string]*routeLimit, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("authorizer: JWT: "+format, args...)
	}
	if c.Issuer == "" || strings.TrimSpace(c.Issuer) != c.Issuer {
		return nil, fail("an issuer is required, without spaces around it")
	}
	u, err := url.Parse(c.JWKSURL)
	switch {
	case c.JWKSURL == "":
		return nil, fail("a JWKS URL is required")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return nil, fail("JWKS URL %q: want an https URL", c.JWKSURL)
	case u.Scheme == "http" && !loopback(u.Hostname()):
		return nil, fail("JWKS URL %q: want https (http only to a loopback address, for a local issuer)", c.JWKSURL)
	}
	if len(c.Audiences) == 0 {
		return nil, fail("at least one audience is required: a token for another service of the same issuer must not pass")
	}
	for _, a := range c.Audiences {
		if a == "" {
			return nil, fail("an empty audience")
		}
	}
	if len(c.Algorithms) == 0 {
		c.Algorithms = slices.Clone(DefaultJWTAlgorithms)
	}
	for _, alg := range c.Algorithms {
		if !slices.Contains(jwtAlgorithms, alg) {
			return nil, fail("algorithm %q: want some of %s (never none, never HMAC with a public key set)", alg, strings.Join(jwtAlgorithms, ", "))
		}
	}
	c.PrincipalClaim = cmp.Or(c.PrincipalClaim, DefaultPrincipalClaim)
	c.ScopeClaim = cmp.Or(c.ScopeClaim, DefaultScopeClaim)
	for scope, routes := range c.ScopeRoutes {
		if scope == "" || strings.ContainsAny(scope, " \t\r\n") {
			return nil, fail("scope %q: scopes hold no spaces", scope)
		}
		if len(routes) == 0 {
			return nil, fail("scope %q grants no route: list its routes, or leave it out", scope)
		}
	}
	// A token's routes are its scopes' together: each scope's
	// parameter denies must leave every other scope's routes alone.
	scopes, err := compileScopes(c.ScopeRoutes)
	if err != nil {
		return nil, fail("%v", err)
	}
	for _, name := range append(append([]string{c.PrincipalClaim, c.ScopeClaim}, c.RequiredClaims...), c.ContextClaims...) {
		if name == "" {
			return nil, fail("an empty claim name")
		}
	}
	for _, name := range c.ContextClaims {
		if name == ContextAuthType || name == ContextPrincipal {
			return nil, fail("context claim %q: the answer's context has its own %q", name, name)
		}
	}
	switch {
	case c.Leeway < 0 || c.Leeway > MaxJWTLeeway:
		return nil, fail("leeway %s: want 0 to %s", c.Leeway, MaxJWTLeeway)
	case c.Leeway == 0:
		c.Leeway = DefaultJWTLeeway
	}
	if c.MaxTokenLength < 0 {
		return nil, fail("a negative maximum token length")
	}
	c.MaxTokenLength = cmp.Or(c.MaxTokenLength, DefaultMaxTokenLength)
	if c.JWKSTTL < 0 || c.JWKSMaxStale < 0 || c.KidRefetchInterval < 0 {
		return nil, fail("JWKS TTL, maximum age and refetch interval cannot be negative")
	}
	c.JWKSTTL = cmp.Or(c.JWKSTTL, DefaultJWKSTTL)
	c.JWKSMaxStale = cmp.Or(c.JWKSMaxStale, max(DefaultJWKSMaxStale, c.JWKSTTL))
	if c.JWKSMaxStale < c.JWKSTTL {
		return nil, fail("JWKS maximum age %s is shorter than its TTL %s", c.JWKSMaxStale, c.JWKSTTL)
	}
	c.KidRefetchInterval = cmp.Or(c.KidRefetchInterval, DefaultKidRefetchInterval)
	return scopes, nil
}

// loopback reports whether host names this machine.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

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

// jwkSet is one fetched JWKS: its keys for keyfunc, and their ids.
type jwkSet struct {
	keyfunc keyfunc.Keyfunc
	kids    map[string]bool // a token without a kid is tried on every key
}

// errJWKS is wrapped by every error reading a JWKS.
var errJWKS = errors.New("JWKS")

// fetchJWKS reads the JWKS at u. Keys for encryption ("use":"enc"),
// symmetric keys ("kty":"oct") and keys jwkset cannot read are left out; a
// set with no key left is an error, as is anything but a 200 with JSON.
func fetchJWKS(ctx context.Context, client *http.Client, u string) (*jwkSet, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKS, err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKS, err)
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: %s", errJWKS, u, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%w: reading %s: %w", errJWKS, u, err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("%w: %s is larger than %d bytes", errJWKS, u, maxJWKSBytes)
	}
	return parseJWKS(body)
}

// parseJWKS reads a JWKS document (RFC 7517 section 5).
func parseJWKS(body []byte) (*jwkSet, error) {
	var doc jwkset.JWKSMarshal
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, fmt.Errorf("%w: not a JWK Set document: %w", errJWKS, err)
	}
	store := jwkset.NewMemoryStorage()
	set := &jwkSet{kids: map[string]bool{}}
	skipped := 0
	for _, m := range doc.Keys {
		if m.USE == jwkset.UseEnc || m.KTY == jwkset.KtyOct || m.D != "" {
			// Not for signatures, a shared secret, or a private key
			// published by mistake: none of them verifies a token here.
			skipped++
			continue
		}
		k, err := jwkset.NewJWKFromMarshal(m, jwkset.JWKMarshalOptions{}, jwkset.JWKValidateOptions{})
		if err != nil || set.kids[m.KID] {
			skipped++
			continue
		}
		if err := store.KeyWrite(context.Background(), k); err != nil {
			skipped++
			continue
		}
		set.kids[m.KID] = true
	}
	if len(set.kids) == 0 {
		return nil, fmt.Errorf("%w: no usable signing key (%d left out)", errJWKS, skipped)
	}
	kf, err := keyfunc.New(keyfunc.Options{Storage: store})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errJWKS, err)
	}
	set.keyfunc = kf
	return set, nil
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

package authorizer

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// JWTConfig: the JWT settings, their defaults and checks, and their JSON
// form.

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

// EnvJWT holds a JWTConfig in its JSON form (ParseJWTConfig): set, the
// authorizer accepts JWTs beside keys.
const EnvJWT = "TOLLGATE_JWT"

// jwtJSON is JWTConfig's JSON form, the one the stack setting "jwt", the
// local run's -jwt flag and EnvJWT share: durations are Go duration
// strings ("30s").
type jwtJSON struct {
	Issuer             string              `json:"issuer"`
	JWKSURL            string              `json:"jwksUrl"`
	Audiences          []string            `json:"audiences"`
	Algorithms         []string            `json:"algorithms,omitempty"`
	PrincipalClaim     string              `json:"principalClaim,omitempty"`
	ScopeClaim         string              `json:"scopeClaim,omitempty"`
	ScopeRoutes        map[string][]string `json:"scopeRoutes,omitempty"`
	RequiredClaims     []string            `json:"requiredClaims,omitempty"`
	ContextClaims      []string            `json:"contextClaims,omitempty"`
	Leeway             string              `json:"leeway,omitempty"`
	MaxTokenLength     int                 `json:"maxTokenLength,omitempty"`
	JWKSTTL            string              `json:"jwksTtl,omitempty"`
	JWKSMaxStale       string              `json:"jwksMaxStale,omitempty"`
	KidRefetchInterval string              `json:"kidRefetchInterval,omitempty"`
}

// ParseJWTConfig reads a JWTConfig from its JSON form,
//
//	{"issuer":"https://id.example.com/","jwksUrl":"https://id.example.com/.well-known/jwks.json",
//	 "audiences":["orders-api"],"scopeRoutes":{"orders:read":["GET /orders/*"]},"leeway":"30s"}
//
// refusing unknown fields, and checks it (the defaults are filled in).
// Errors name the setting; no claim value reaches them.
func ParseJWTConfig(b []byte) (*JWTConfig, error) {
	var j jwtJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return nil, fmt.Errorf("authorizer: JWT settings: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("authorizer: JWT settings: data after the object")
	}
	c := &JWTConfig{
		Issuer: j.Issuer, JWKSURL: j.JWKSURL, Audiences: j.Audiences, Algorithms: j.Algorithms,
		PrincipalClaim: j.PrincipalClaim, ScopeClaim: j.ScopeClaim, ScopeRoutes: j.ScopeRoutes,
		RequiredClaims: j.RequiredClaims, ContextClaims: j.ContextClaims, MaxTokenLength: j.MaxTokenLength,
	}
	for _, d := range []struct {
		name, v string
		dst     *time.Duration
	}{
		{"leeway", j.Leeway, &c.Leeway},
		{"jwksTtl", j.JWKSTTL, &c.JWKSTTL},
		{"jwksMaxStale", j.JWKSMaxStale, &c.JWKSMaxStale},
		{"kidRefetchInterval", j.KidRefetchInterval, &c.KidRefetchInterval},
	} {
		if d.v == "" {
			continue
		}
		v, err := time.ParseDuration(d.v)
		if err != nil || v <= 0 {
			return nil, fmt.Errorf("authorizer: JWT settings: %s %q: want a positive duration such as 30s", d.name, d.v)
		}
		*d.dst = v
	}
	if _, err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// MarshalJSON writes c in the form ParseJWTConfig reads.
func (c JWTConfig) MarshalJSON() ([]byte, error) {
	dur := func(d time.Duration) string {
		if d == 0 {
			return ""
		}
		return d.String()
	}
	return json.Marshal(jwtJSON{
		Issuer: c.Issuer, JWKSURL: c.JWKSURL, Audiences: c.Audiences, Algorithms: c.Algorithms,
		PrincipalClaim: c.PrincipalClaim, ScopeClaim: c.ScopeClaim, ScopeRoutes: c.ScopeRoutes,
		RequiredClaims: c.RequiredClaims, ContextClaims: c.ContextClaims, MaxTokenLength: c.MaxTokenLength,
		Leeway: dur(c.Leeway), JWKSTTL: dur(c.JWKSTTL), JWKSMaxStale: dur(c.JWKSMaxStale),
		KidRefetchInterval: dur(c.KidRefetchInterval),
	})
}

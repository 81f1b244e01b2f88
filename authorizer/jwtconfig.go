package authorizer

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

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

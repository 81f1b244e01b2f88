package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"tollgate/api"
	"tollgate/authorizer"
	"tollgate/internal/jwtissuer"
)

// The local issuer: with Config.JWTLocal the local run serves a JWKS for a
// signing key it keeps in StateDir (IssuerFile), and Mint signs tokens
// with that key, so that JWTs can be tried with no identity provider.
const (
	// LocalIssuer is the local issuer's "iss", and LocalAudience the
	// "aud" its tokens carry and the local run accepts.
	LocalIssuer   = "tollgate-local"
	LocalAudience = "tollgate-local"
	// jwksPath is where the control endpoint serves the local JWKS.
	jwksPath = "/.well-known/jwks.json"
	// issuerKeyID names the local issuer's key.
	issuerKeyID = "tollgate-local-1"
)

// IssuerFile is where the local issuer's key is kept (git-ignored, mode
// 0600): a private key for trying things, never one to trust.
func IssuerFile(stateDir string) string { return filepath.Join(stateDir, "issuer.json") }

// localIssuer loads the issuer kept in stateDir, or creates one with a new
// RS256 key.
func localIssuer(stateDir string) (*jwtissuer.Issuer, error) {
	path := IssuerFile(stateDir)
	i, err := jwtissuer.Load(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return i, err
	}
	// RS256: API Gateway's own JWT authorizer takes RSA keys only
	// (authorizer.GatewayJWT), tollgate's takes both.
	k, err := jwtissuer.NewKey(issuerKeyID, "RS256")
	if err != nil {
		return nil, err
	}
	i = jwtissuer.New(LocalIssuer, LocalAudience, k)
	if err := privateDir(stateDir); err != nil {
		return nil, err
	}
	return i, i.Save(path)
}

// jwtDefaults is cfg.JWT as a JSON object, with the local issuer's
// issuer, audience and (when jwksURL is not empty) JWKS URL where it leaves
// them out and cfg.JWTLocal is set.
func jwtDefaults(cfg Config, jwksURL string) (map[string]any, error) {
	settings := map[string]any{}
	if cfg.JWT != "" {
		if err := json.Unmarshal([]byte(cfg.JWT), &settings); err != nil {
			return nil, fmt.Errorf("JWT settings: want a JSON object: %w", err)
		}
	}
	if cfg.JWTLocal {
		defaults := map[string]any{"issuer": LocalIssuer, "audiences": []any{LocalAudience}}
		if jwksURL != "" {
			defaults["jwksUrl"] = jwksURL
		}
		for k, v := range defaults {
			if _, ok := settings[k]; !ok {
				settings[k] = v
			}
		}
	}
	return settings, nil
}

// jwtSettings is the authorizer's JWT settings for cfg (jwtDefaults, the
// local JWKS on the control endpoint controlURL), checked by the
// authorizer's own parser, so that a mistake stops the run at start.
func jwtSettings(cfg Config, controlURL string) (*authorizer.JWTConfig, error) {
	settings, err := jwtDefaults(cfg, controlURL+jwksPath)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return nil, err
	}
	return authorizer.ParseJWTConfig(b)
}

// Mint signs a token from the local issuer kept in stateDir (started once
// by a local run with JWTLocal) for subject, with scope (space-separated;
// none when empty) and extra claims, valid for ttl from now.
func Mint(stateDir, subject, scope string, extra map[string]any, ttl time.Duration) (string, error) {
	i, err := jwtissuer.Load(IssuerFile(stateDir))
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("no local issuer in %s: start one first with go run ./cmd/local -jwt-local", stateDir)
	}
	if err != nil {
		return "", err
	}
	if subject == "" {
		return "", errors.New("a subject is required")
	}
	claims := jwt.MapClaims{"sub": subject}
	if scope != "" {
		claims["scope"] = scope
	}
	for k, v := range extra {
		claims[k] = v
	}
	return i.Mint(claims, ttl, time.Now())
}

// serveJWKS adds the local issuer's JWKS to the control endpoint's mux.
func serveJWKS(mux *http.ServeMux, i *jwtissuer.Issuer) {
	mux.Handle("GET "+jwksPath, i)
}

// DefaultStateDir is the state directory a run with cfg keeps: StateDir,
// or .tollgate at the module's root.
func (cfg Config) DefaultStateDir() (string, error) {
	if err := fill(&cfg); err != nil {
		return "", err
	}
	return cfg.StateDir, nil
}

// jwtIdentity is the issuer and audiences of cfg's JWT settings
// (jwtDefaults), for API Gateway's JWT authorizer; the settings are
// checked whole by jwtSettings.
func jwtIdentity(cfg Config) (issuer string, audiences []string) {
	settings, _ := jwtDefaults(cfg, "")
	issuer, _ = settings["issuer"].(string)
	list, _ := settings["audiences"].([]any)
	for _, a := range list {
		if a, ok := a.(string); ok {
			audiences = append(audiences, a)
		}
	}
	return issuer, audiences
}

// gatewayJWT is the local gateway's JWT authorizer for def's JWT routes,
// reading the keys at the authorizer's JWKS URL, logging its fetches to
// logs.
func gatewayJWT(def *api.JWTAuthorizer, settings *authorizer.JWTConfig, logs io.Writer) (*authorizer.GatewayJWT, error) {
	return authorizer.NewGatewayJWT(def.Issuer, def.Audiences, settings.JWKSURL, slog.New(slog.NewJSONHandler(logs, nil)).With("function", "apigateway-jwt-authorizer"))
}

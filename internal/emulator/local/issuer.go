package local

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
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
	if err := os.MkdirAll(stateDir, 0o755); err != nil {
		return nil, err
	}
	return i, i.Save(path)
}

// jwtSettings is the authorizer's TOLLGATE_JWT for cfg: cfg.JWT, with the
// local issuer's issuer, JWKS URL (on the control endpoint controlURL) and
// audience where it leaves them out and cfg.JWTLocal is set. It is checked
// by the authorizer's own parser, so a mistake stops the run at start.
func jwtSettings(cfg Config, controlURL string) (string, error) {
	settings := map[string]any{}
	if cfg.JWT != "" {
		if err := json.Unmarshal([]byte(cfg.JWT), &settings); err != nil {
			return "", fmt.Errorf("JWT settings: want a JSON object: %w", err)
		}
	}
	if cfg.JWTLocal {
		for k, v := range map[string]any{"issuer": LocalIssuer, "jwksUrl": controlURL + jwksPath, "audiences": []string{LocalAudience}} {
			if _, ok := settings[k]; !ok {
				settings[k] = v
			}
		}
	}
	b, err := json.Marshal(settings)
	if err != nil {
		return "", err
	}
	c, err := authorizer.ParseJWTConfig(b)
	if err != nil {
		return "", err
	}
	b, err = json.Marshal(c)
	return string(b), err
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

// jwtIdentity is the issuer and audiences of cfg's JWT settings, the local
// issuer's where cfg.JWTLocal leaves them out. The settings are checked
// whole by jwtSettings.
func jwtIdentity(cfg Config) (issuer string, audiences []string) {
	var j struct {
		Issuer    string   `json:"issuer"`
		Audiences []string `json:"audiences"`
	}
	_ = json.Unmarshal([]byte(cfg.JWT), &j) // checked by jwtSettings
	if cfg.JWTLocal && j.Issuer == "" {
		j.Issuer = LocalIssuer
	}
	if cfg.JWTLocal && j.Audiences == nil {
		j.Audiences = []string{LocalAudience}
	}
	return j.Issuer, j.Audiences
}

// gatewayJWT is the local gateway's JWT authorizer for def's JWT routes,
// reading the keys at the JWKS URL of settings (the authorizer's
// TOLLGATE_JWT), logging its fetches to logs.
func gatewayJWT(def *api.JWTAuthorizer, settings string, logs io.Writer) (*authorizer.GatewayJWT, error) {
	var j struct {
		JWKSURL string `json:"jwksUrl"`
	}
	if err := json.Unmarshal([]byte(settings), &j); err != nil {
		return nil, err
	}
	return authorizer.NewGatewayJWT(def.Issuer, def.Audiences, j.JWKSURL, slog.New(slog.NewJSONHandler(logs, nil)).With("function", "apigateway-jwt-authorizer"))
}

// Package jwtissuer is a small JWT issuer for trying and testing tollgate's
// JWTs with no identity provider: it holds signing keys (RSA for RS256,
// P-256 for ES256), serves their public JWK Set, mints tokens, rotates
// keys, and keeps its keys in a file between runs (the local run's
// `mint` command reads it). It is not an identity provider: it signs
// whatever it is asked to.
package jwtissuer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/MicahParks/jwkset"
	"github.com/golang-jwt/jwt/v5"
)

// Key is one signing key.
type Key struct {
	ID     string
	Alg    string // RS256 or ES256
	Signer crypto.Signer
}

// NewKey generates a key for alg: RSA 2048 for RS256, P-256 for ES256.
func NewKey(id, alg string) (Key, error) {
	var (
		s   crypto.Signer
		err error
	)
	switch alg {
	case "RS256":
		s, err = rsa.GenerateKey(rand.Reader, 2048)
	case "ES256":
		s, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	default:
		return Key{}, fmt.Errorf("jwtissuer: algorithm %q: want RS256 or ES256", alg)
	}
	if err != nil {
		return Key{}, err
	}
	return Key{ID: id, Alg: alg, Signer: s}, nil
}

// Issuer signs tokens with its first key and publishes all of its keys.
type Issuer struct {
	ID       string // the tokens' iss
	Audience string // their aud, unless a minted token states one

	mu   sync.Mutex
	keys []Key
	// Fetches counts the JWKS requests answered; Fail, while set, makes
	// them answer 503 (an outage).
	Fetches atomic.Int64
	Fail    atomic.Bool
}

// New returns an issuer with the given keys; the first signs.
func New(id, audience string, keys ...Key) *Issuer {
	return &Issuer{ID: id, Audience: audience, keys: keys}
}

// Rotate puts k first (it signs from now on); the others stay published
// until Drop.
func (i *Issuer) Rotate(k Key) {
	i.mu.Lock()
	defer i.mu.Unlock()
	i.keys = append([]Key{k}, i.keys...)
}

// Drop stops publishing the key with id.
func (i *Issuer) Drop(id string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	for n, k := range i.keys {
		if k.ID == id {
			i.keys = append(i.keys[:n:n], i.keys[n+1:]...)
			return
		}
	}
}

// JWKS is the public JWK Set of every key (RFC 7517 section 5).
func (i *Issuer) JWKS() ([]byte, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	set := jwkset.JWKSMarshal{Keys: []jwkset.JWKMarshal{}}
	for _, k := range i.keys {
		j, err := jwkset.NewJWKFromKey(k.Signer.Public(), jwkset.JWKOptions{
			Metadata: jwkset.JWKMetadataOptions{KID: k.ID, ALG: jwkset.ALG(k.Alg), USE: jwkset.UseSig},
		})
		if err != nil {
			return nil, err
		}
		set.Keys = append(set.Keys, j.Marshal())
	}
	return json.Marshal(set)
}

// ServeHTTP answers with the JWKS, or 503 while Fail is set.
func (i *Issuer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	i.Fetches.Add(1)
	if i.Fail.Load() {
		http.Error(w, "issuer unavailable", http.StatusServiceUnavailable)
		return
	}
	b, err := i.JWKS()
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

// Mint signs claims with the first key, adding iss, aud, iat and exp (ttl
// from now) where claims do not state them.
func (i *Issuer) Mint(claims jwt.MapClaims, ttl time.Duration, now time.Time) (string, error) {
	i.mu.Lock()
	if len(i.keys) == 0 {
		i.mu.Unlock()
		return "", errors.New("jwtissuer: no signing key")
	}
	k := i.keys[0]
	i.mu.Unlock()
	c := jwt.MapClaims{"iss": i.ID, "aud": i.Audience, "iat": now.Unix(), "exp": now.Add(ttl).Unix()}
	for name, v := range claims {
		if v == nil {
			delete(c, name) // a nil claim leaves a default out
			continue
		}
		c[name] = v
	}
	return Sign(k, c)
}

// Sign signs claims with k, naming it in the header's kid.
func Sign(k Key, claims jwt.Claims) (string, error) {
	t := jwt.NewWithClaims(jwt.GetSigningMethod(k.Alg), claims)
	t.Header["kid"] = k.ID
	return t.SignedString(k.Signer)
}

// file is the issuer's keys as Save writes them.
type file struct {
	Issuer   string `json:"issuer"`
	Audience string `json:"audience"`
	Keys     []struct {
		ID    string `json:"kid"`
		Alg   string `json:"alg"`
		PKCS8 []byte `json:"pkcs8"`
	} `json:"keys"`
}

// Save writes the issuer, its private keys included, to path (mode 0600).
func (i *Issuer) Save(path string) error {
	i.mu.Lock()
	f := file{Issuer: i.ID, Audience: i.Audience}
	for _, k := range i.keys {
		der, err := x509.MarshalPKCS8PrivateKey(k.Signer)
		if err != nil {
			i.mu.Unlock()
			return err
		}
		f.Keys = append(f.Keys, struct {
			ID    string `json:"kid"`
			Alg   string `json:"alg"`
			PKCS8 []byte `json:"pkcs8"`
		}{k.ID, k.Alg, der})
	}
	i.mu.Unlock()
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o600)
}

// Load reads an issuer Save wrote.
func Load(path string) (*Issuer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var f file
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("jwtissuer: %s: %w", path, err)
	}
	i := New(f.Issuer, f.Audience)
	for _, k := range f.Keys {
		p, err := x509.ParsePKCS8PrivateKey(k.PKCS8)
		if err != nil {
			return nil, fmt.Errorf("jwtissuer: %s: key %q: %w", path, k.ID, err)
		}
		s, ok := p.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("jwtissuer: %s: key %q cannot sign", path, k.ID)
		}
		i.keys = append(i.keys, Key{ID: k.ID, Alg: k.Alg, Signer: s})
	}
	if len(i.keys) == 0 {
		return nil, fmt.Errorf("jwtissuer: %s holds no key", path)
	}
	return i, nil
}

// Must returns v, and panics on err: for tests and examples.
func Must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

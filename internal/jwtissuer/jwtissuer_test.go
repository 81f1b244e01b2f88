package jwtissuer

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// A token minted by an issuer saved and loaded again verifies against the
// JWKS it publishes, and the file is private.
func TestSaveLoadMint(t *testing.T) {
	k, err := NewKey("ec-1", "ES256")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "issuer.json")
	if err := New("iss", "aud", k).Save(path); err != nil {
		t.Fatal(err)
	}
	i, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tok, err := i.Mint(jwt.MapClaims{"sub": "alice", "aud": nil}, time.Hour, now)
	if err != nil {
		t.Fatal(err)
	}
	kf, err := keyfunc.NewJWKSetJSON(Must(i.JWKS()))
	if err != nil {
		t.Fatal(err)
	}
	var c jwt.MapClaims
	if _, err := jwt.ParseWithClaims(tok, &c, kf.Keyfunc, jwt.WithIssuer("iss"), jwt.WithExpirationRequired()); err != nil {
		t.Fatal(err)
	}
	if c["sub"] != "alice" || c["aud"] != nil {
		t.Errorf("claims %v", c)
	}
	if _, err := NewKey("x", "HS256"); err == nil {
		t.Error("HS256 key made")
	}
}

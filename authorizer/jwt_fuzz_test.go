package authorizer

import (
	"context"
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzJWT feeds arbitrary bearer tokens to an authorizer that accepts JWTs
// from a test issuer. Whatever the token, the answer is a 401 or an answer
// for a token that an independent check (jwt.Parse with the issuer's two
// public keys, the same claims rules) finds valid: never an Allow for
// anything else, never an error (500) while the JWKS is held, never a
// panic.
func FuzzJWT(f *testing.F) {
	e := newJWTEnv(f, nil)
	valid := e.sign(f, e.rsa, nil)
	f.Add(valid)
	f.Add(e.sign(f, e.ec, func(c jwt.MapClaims) { c["scope"] = "a b" }))
	f.Add(valid[:len(valid)-2])
	f.Add("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")
	f.Add("eyJ..")
	f.Add("eyJ")
	independent := jwt.NewParser(jwt.WithValidMethods(DefaultJWTAlgorithms), jwt.WithIssuer(testIssuer),
		jwt.WithAudience(testAudience, "other-api"), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		jwt.WithLeeway(DefaultJWTLeeway), jwt.WithTimeFunc(e.clock.Now))
	keyOf := func(t *jwt.Token) (any, error) {
		switch t.Header["kid"] {
		case e.rsa.ID:
			return e.rsa.Signer.Public(), nil
		case e.ec.ID:
			return e.ec.Signer.Public(), nil
		}
		return jwt.VerificationKeySet{Keys: []jwt.VerificationKey{e.rsa.Signer.Public(), e.ec.Signer.Public()}}, nil
	}
	f.Fuzz(func(t *testing.T, token string) {
		b, err := e.a.Invoke(context.Background(), tokenEvent("Bearer "+token, testARN))
		switch {
		case errors.Is(err, ErrUnauthorized):
			return
		case err != nil:
			t.Fatalf("error %v (want 401 or an answer)", err)
		}
		if _, err := independent.Parse(token, keyOf); err != nil {
			t.Fatalf("answered %s for a token the independent check refuses: %v", b, err)
		}
	})
}

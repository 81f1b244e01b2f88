package authorizer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/MicahParks/jwkset"
	"github.com/MicahParks/keyfunc/v3"
)

// Reading an issuer's JWKS (RFC 7517).

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

package authorizer

import (
	"fmt"

	"tollgate/internal/httptoken"
)

// DefaultScheme is the authentication scheme read when Config.Scheme is
// empty: "Authorization: Bearer <key>" as RFC 6750 section 2.1 describes.
const DefaultScheme = "Bearer"

// SchemeNone, as Config.Scheme, reads the header's whole value as the key,
// with no scheme in front (as in "x-api-key: <key>").
const SchemeNone = "none"

// DefaultTokenHeader is the header a REQUEST or HTTP API event is read from
// when Config.TokenHeader is empty.
const DefaultTokenHeader = "Authorization"

// MaxKeyLength is the longest key a keyring may hold, in bytes. A presented
// token longer than this cannot match and is refused before it is hashed;
// the only thing that reveals is that the token was longer than this public
// constant.
const MaxKeyLength = 1024

// Why a token was refused. These are reasons for logs, never sent to a caller.
const (
	reasonNoToken        = "no token"
	reasonAmbiguousToken = "several token values"
	reasonMalformedToken = "malformed token"
	reasonUnknownKey     = "unknown key"
	reasonMistypedKey    = "mistyped key (checksum)"
)

// tokenFormat says how to take a key out of an identity value.
type tokenFormat struct {
	scheme string // "" reads the raw value
}

func newTokenFormat(scheme string) (tokenFormat, error) {
	switch scheme {
	case "":
		return tokenFormat{scheme: DefaultScheme}, nil
	case SchemeNone:
		return tokenFormat{}, nil
	}
	for i := range len(scheme) {
		if !httptoken.Char(scheme[i]) {
			return tokenFormat{}, fmt.Errorf("authorizer: scheme %q is not an HTTP token (RFC 9110 section 11.1)", scheme)
		}
	}
	return tokenFormat{scheme: scheme}, nil
}

// extract returns the key carried by an identity value, or a reason for
// refusing it. It never splits a value: a comma-joined list of values is not
// a credential in either format, so it cannot be a way around the check.
func (f tokenFormat) extract(v []byte) (token []byte, reason string) {
	if len(v) == 0 {
		return nil, reasonNoToken
	}
	if f.scheme == "" {
		if !isRawKey(v) {
			return nil, reasonMalformedToken
		}
		return v, ""
	}
	// credentials = auth-scheme 1*SP b64token (RFC 6750 section 2.1); the
	// scheme compares case-insensitively (RFC 9110 section 11.1).
	n := len(f.scheme)
	if len(v) < n+2 || !asciiEqualFold(v[:n], f.scheme) || v[n] != ' ' {
		return nil, reasonMalformedToken
	}
	i := n + 1
	for i < len(v) && v[i] == ' ' {
		i++
	}
	if !isB64Token(v[i:]) {
		return nil, reasonMalformedToken
	}
	return v[i:], ""
}

// admits reports whether key could ever be presented in this format, so that
// a keyring holding a key nobody can send is refused at load.
func (f tokenFormat) admits(key string) bool {
	if f.scheme == "" {
		return isRawKey([]byte(key))
	}
	return isB64Token([]byte(key))
}

// check refuses a keyring that holds a plain key format cannot carry (a
// digest's key cannot be checked).
func (f tokenFormat) check(kr Keyring) error {
	for _, k := range kr.Keys {
		if k.Key != "" && !f.admits(k.Key) {
			return fmt.Errorf("%w: key %q: cannot be presented with %s", ErrMalformedKeyring, k.ID, f)
		}
	}
	return nil
}

func (f tokenFormat) String() string {
	if f.scheme == "" {
		return "a raw header value"
	}
	return fmt.Sprintf("the %s scheme", f.scheme)
}

// Character classes, as tables so the hot path is one load per byte.
var (
	// b64tokenChar: ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"
	// (RFC 6750 section 2.1), without the trailing "=" padding.
	b64tokenChar = charClass(func(c byte) bool {
		return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
	})
	// rawKeyChar: visible ASCII (VCHAR) but the comma, which joins repeated
	// header values.
	rawKeyChar = charClass(func(c byte) bool { return 0x21 <= c && c <= 0x7e && c != ',' })
)

func charClass(in func(byte) bool) (t [256]bool) {
	for c := range 256 {
		t[c] = in(byte(c))
	}
	return t
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// isB64Token reports whether b is 1*b64token-char *"=".
func isB64Token(b []byte) bool {
	i := 0
	for i < len(b) && b64tokenChar[b[i]] {
		i++
	}
	if i == 0 {
		return false
	}
	for i < len(b) && b[i] == '=' {
		i++
	}
	return i == len(b)
}

func isRawKey(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if !rawKeyChar[c] {
			return false
		}
	}
	return true
}

// asciiEqualFold reports whether b and s are equal ignoring ASCII case: how
// header names and authentication schemes compare (RFC 9110).
func asciiEqualFold(b []byte, s string) bool {
	if len(b) != len(s) {
		return false
	}
	for i := range len(b) {
		x, y := b[i], s[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

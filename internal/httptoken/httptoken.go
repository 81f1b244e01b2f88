// Package httptoken is the one copy of RFC 9110's token rule
// (https://www.rfc-editor.org/rfc/rfc9110#section-5.6.2): what an HTTP
// field name and an authentication scheme may be. The API definition
// checks identity source names with it, and the authorizer its token
// header and scheme.
package httptoken

// Char reports whether c is a tchar: a letter, a digit or one of
// !#$%&'*+-.^_`|~.
func Char(c byte) bool { return chars[c] }

// Valid reports whether s is a token: one or more tchars.
func Valid(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		if !chars[s[i]] {
			return false
		}
	}
	return true
}

var chars = func() (t [256]bool) {
	for c := range 256 {
		b := byte(c)
		t[c] = 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] = true
	}
	return t
}()

package authorizer

import (
	"strings"
	"testing"
)

// RFC 6750 section 2.1: credentials = "Bearer" 1*SP b64token, where
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"=";
// the scheme is case-insensitive (RFC 9110 section 11.1).
func TestExtract(t *testing.T) {
	bearer, _ := newTokenFormat("")
	custom, _ := newTokenFormat("ApiKey")
	raw, _ := newTokenFormat(SchemeNone)
	tests := []struct {
		f          tokenFormat
		value      string
		want       string // the token, when accepted
		wantReason string
	}{
		{bearer, "Bearer abc", "abc", ""},
		{bearer, "bearer abc", "abc", ""},
		{bearer, "BeArEr abc", "abc", ""},
		{bearer, "Bearer   abc", "abc", ""},
		{bearer, "Bearer a-b.c_d~e+f/g==", "a-b.c_d~e+f/g==", ""},
		{bearer, "", "", reasonNoToken},
		{bearer, "Bearer", "", reasonMalformedToken},
		{bearer, "Bearer ", "", reasonMalformedToken},
		{bearer, "Bearer  ", "", reasonMalformedToken},
		{bearer, "Bearer\tabc", "", reasonMalformedToken},
		{bearer, "Bearer abc ", "", reasonMalformedToken},
		{bearer, " Bearer abc", "", reasonMalformedToken},
		{bearer, "Bearerabc", "", reasonMalformedToken},
		{bearer, "Bearer a=b", "", reasonMalformedToken},
		{bearer, "Bearer =", "", reasonMalformedToken},
		{bearer, "Bearer abc, Bearer def", "", reasonMalformedToken},
		{bearer, "Bearer abc,def", "", reasonMalformedToken},
		{bearer, "Bearer ab\x00c", "", reasonMalformedToken},
		{bearer, "Bearer ab\xffc", "", reasonMalformedToken},
		{bearer, "Basic abc", "", reasonMalformedToken},
		{bearer, "abc", "", reasonMalformedToken},
		{custom, "apikey abc", "abc", ""},
		{custom, "Bearer abc", "", reasonMalformedToken},
		{raw, "abc!#$", "abc!#$", ""},
		{raw, "Bearer abc", "", reasonMalformedToken},
		{raw, "abc,def", "", reasonMalformedToken},
		{raw, "abc\t", "", reasonMalformedToken},
		{raw, "", "", reasonNoToken},
	}
	for _, tt := range tests {
		got, reason := tt.f.extract([]byte(tt.value))
		if string(got) != tt.want || reason != tt.wantReason {
			t.Errorf("%s.extract(%q) = %q, %q; want %q, %q", tt.f, tt.value, got, reason, tt.want, tt.wantReason)
		}
	}
}

func TestNewTokenFormat(t *testing.T) {
	for _, bad := range []string{"Bear er", "Bearer:", "Bé"} {
		if _, err := newTokenFormat(bad); err == nil {
			t.Errorf("newTokenFormat(%q) = nil error", bad)
		}
	}
}

func FuzzExtract(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer  a==", "Bearer", "x-api-key-value", "Bearer a, Bearer b", "Bearer \x00"} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, value string, rawFormat bool) {
		scheme := ""
		if rawFormat {
			scheme = SchemeNone
		}
		tf, _ := newTokenFormat(scheme)
		token, reason := tf.extract([]byte(value))
		if reason != "" {
			if token != nil {
				t.Fatalf("extract(%q) refused (%s) but returned a token", value, reason)
			}
			return
		}
		// An accepted token is a whole, single credential: never empty,
		// never holding a comma or white space, and the whole value
		// after the scheme and its spaces.
		if len(token) == 0 || strings.ContainsAny(string(token), ", \t") {
			t.Fatalf("extract(%q) = %q", value, token)
		}
		if !strings.HasSuffix(value, string(token)) {
			t.Fatalf("extract(%q) = %q is not the end of the value", value, token)
		}
		if rawFormat {
			if string(token) != value {
				t.Fatalf("raw extract(%q) = %q", value, token)
			}
			return
		}
		head := strings.TrimRight(value[:len(value)-len(token)], " ")
		if !strings.EqualFold(head, DefaultScheme) || !isB64Token(token) {
			t.Fatalf("extract(%q) = %q", value, token)
		}
	})
}

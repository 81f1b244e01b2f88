package httptoken

import (
	"strings"
	"testing"
)

// Every byte against the RFC's list.
func TestChar(t *testing.T) {
	for c := range 256 {
		b := byte(c)
		want := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
		if Char(b) != want {
			t.Errorf("Char(%q) = %v, want %v", b, Char(b), want)
		}
	}
}

func TestValid(t *testing.T) {
	for s, want := range map[string]bool{
		"Authorization": true, "X-Api-Key": true, "x_y.z~1": true, "": false,
		"Author ization": false, "a:b": false, "é": false, "a\x00": false, "(a)": false,
	} {
		if Valid(s) != want {
			t.Errorf("Valid(%q) = %v, want %v", s, Valid(s), want)
		}
	}
}

package motoserver

import (
	"strings"
	"testing"
)

// Issue 27: without moto_server a test says how to install it, and fails
// unless skipping was asked for: a skip alone is printed only with -v.
func TestMissing(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		skip bool
	}{
		{nil, false},
		{map[string]string{SkipEnv: "1"}, true},
		{map[string]string{SkipEnv: "1", RequireEnv: "1"}, false},
		{map[string]string{RequireEnv: "1"}, false},
		{map[string]string{SkipEnv: "yes"}, false},
	} {
		skip, msg := missing(func(k string) string { return c.env[k] })
		if skip != c.skip || !strings.Contains(msg, Install) {
			t.Errorf("%v: skip %v, %q; want skip %v and how to install it", c.env, skip, msg, c.skip)
		}
		if !skip && c.env[RequireEnv] == "" && !strings.Contains(msg, SkipEnv+"=1") {
			t.Errorf("%v: %q does not say how to skip", c.env, msg)
		}
	}
}

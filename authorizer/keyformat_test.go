package authorizer

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
)

func TestNewKeyFormat(t *testing.T) {
	re := regexp.MustCompile(KeyPattern)
	seen := map[string]bool{}
	counts := map[byte]int{}
	const n = 2000
	for range n {
		k := NewKey()
		if len(k) != KeyLength || !strings.HasPrefix(k, KeyPrefix) || !CheckKey(k) {
			t.Fatalf("NewKey() = %q: want %d characters, prefix %s, a good checksum", k, KeyLength, KeyPrefix)
		}
		if !re.MatchString("log line: token=" + k + ".") {
			t.Fatalf("KeyPattern does not find %q in text", k)
		}
		if seen[k] {
			t.Fatalf("NewKey() repeated %q", k)
		}
		seen[k] = true
		for i := len(KeyPrefix); i < len(KeyPrefix)+keyRandomChars; i++ {
			counts[k[i]]++
		}
	}
	// Every base62 character appears, none wildly more than the others
	// (expected n*32/62 ≈ 1032 each; a byte-modulo bias would give the
	// first 8 characters about 1.2 times the rest).
	if len(counts) != 62 {
		t.Fatalf("%d distinct characters, want 62", len(counts))
	}
	for c, got := range counts {
		if got < 850 || got > 1220 {
			t.Errorf("character %q appears %d times in %d keys, want about 1032", c, got, n)
		}
	}
}

// The checksum catches every single-character typo and swap of two
// neighbouring characters (CRC-32 detects every burst of up to 32 bits).
func TestCheckKeyCatchesTypos(t *testing.T) {
	k := NewKey()
	for i := len(KeyPrefix); i < len(k); i++ {
		for j := range len(base62) {
			c := base62[j]
			if c == k[i] {
				continue
			}
			typo := k[:i] + string(c) + k[i+1:]
			if CheckKey(typo) {
				t.Fatalf("a typo at %d passes the checksum", i)
			}
		}
		if i+1 < len(k) && k[i] != k[i+1] {
			swap := k[:i] + string(k[i+1]) + string(k[i]) + k[i+2:]
			if CheckKey(swap) {
				t.Fatalf("a swap at %d passes the checksum", i)
			}
		}
	}
	for _, bad := range []string{"", KeyPrefix, k[:len(k)-1], k + "0", "tgx_" + k[4:], strings.Replace(k, k[10:11], "-", 1)} {
		if CheckKey(bad) {
			t.Errorf("CheckKey(%q) = true", bad)
		}
	}
}

func TestKeyFromRandom(t *testing.T) {
	k, ok := KeyFromRandom("0123456789abcdefghijABCDEFGHIJkl")
	if !ok || !CheckKey(k) || k[:len(KeyPrefix)+keyRandomChars] != KeyPrefix+"0123456789abcdefghijABCDEFGHIJkl" {
		t.Errorf("KeyFromRandom = %q, %v", k, ok)
	}
	for _, bad := range []string{"short", "0123456789abcdefghijABCDEFGHIJk-", strings.Repeat("a", 33)} {
		if _, ok := KeyFromRandom(bad); ok {
			t.Errorf("KeyFromRandom(%q) accepted", bad)
		}
	}
}

func FuzzCheckKey(f *testing.F) {
	f.Add(NewKey())
	f.Add("tgk_")
	f.Fuzz(func(t *testing.T, s string) {
		if CheckKey(s) != CheckKey([]byte(s)) {
			t.Fatal("string and bytes disagree")
		}
		if CheckKey(s) {
			if !regexp.MustCompile(`^` + KeyPattern + `$`).MatchString(s) {
				t.Fatalf("%q passes CheckKey but not KeyPattern", s)
			}
			if k, ok := KeyFromRandom(s[len(KeyPrefix) : len(KeyPrefix)+keyRandomChars]); !ok || k != s {
				t.Fatalf("%q: the checksum is not the one KeyFromRandom adds", s)
			}
		}
	})
}

func ExampleNewKey() {
	key := NewKey()
	fmt.Println(len(key), key[:4], CheckKey(key))
	// The keyring stores only this:
	fmt.Println(len(Digest(key)))
	// Output:
	// 42 tgk_ true
	// 64
}

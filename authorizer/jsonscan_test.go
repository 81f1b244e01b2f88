package authorizer

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math/bits"
	"strings"
	"testing"
)

// specialBytes must find the first byte that is a control character, a
// quote or a backslash in every 8-byte word; check it against a byte loop
// over words built from the bytes that matter and their neighbours.
func TestSpecialBytes(t *testing.T) {
	interesting := []byte{0x00, 0x01, 0x1f, 0x20, 0x21, '"', '#', '\\', ']', '[', 0x5b, 0x7f, 0x80, 0xa2, 0xdc, 0xff, 'a'}
	check := func(w [8]byte) {
		want := 8
		for i, c := range w {
			if !strPlain[c] {
				want = i
				break
			}
		}
		m := specialBytes(binary.LittleEndian.Uint64(w[:]))
		got := 8
		if m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != want {
			t.Fatalf("specialBytes(%q): first special byte at %d, want %d", w, got, want)
		}
	}
	// Every pair of interesting bytes at every pair of positions, in a
	// word of plain bytes.
	for i := range 8 {
		for j := range 8 {
			for _, a := range interesting {
				for _, b := range interesting {
					w := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
					w[i], w[j] = a, b
					check(w)
				}
			}
		}
	}
}

func FuzzSpecialBytes(f *testing.F) {
	f.Add(uint64(0x2222222222222222))
	f.Fuzz(func(t *testing.T, x uint64) {
		var w [8]byte
		binary.LittleEndian.PutUint64(w[:], x)
		want := 8
		for i, c := range w {
			if !strPlain[c] {
				want = i
				break
			}
		}
		got := 8
		if m := specialBytes(x); m != 0 {
			got = bits.TrailingZeros64(m) >> 3
		}
		if got != want {
			t.Fatalf("specialBytes(%q) = lane %d, want %d", w, got, want)
		}
	})
}

// The scanner accepts exactly the JSON values encoding/json accepts, but
// for nesting deeper than maxDepth, which it refuses.
func FuzzScanner(f *testing.F) {
	for _, s := range []string{
		`{}`, `[]`, `{"a":[1,2,{"b":null}],"c":"\u00e9\n"}`, `-0.5e+10`, `"\ud83d\ude00"`,
		`{"a":1,}`, `[1 2]`, `{"a" 1}`, `tru`, `01`, `1.`, `"\x"`, "\"\x01\"", `{"a":1}x`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s := scanner{data: data}
		_, err := s.value(0)
		got := err == nil && s.end()
		want := json.Valid(data)
		if got == want {
			return
		}
		if want && nesting(data) > maxDepth {
			return // refused on purpose
		}
		t.Fatalf("scanner accepts %q: %v, encoding/json: %v", data, got, want)
	})
}

// nesting returns how deeply a valid JSON document nests.
func nesting(data []byte) int {
	depth, deepest, inString := 0, 0, false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case !inString && (c == '{' || c == '['):
			depth++
			deepest = max(deepest, depth)
		case !inString && (c == '}' || c == ']'):
			depth--
		}
	}
	return deepest
}

func TestUnescapeAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range []string{`a\"b`, `\\\/\b\f\n\r\t`, `\u00e9\u65e5`, `\ud83d\ude00`, `\ud83d`, `\ude00x`, `\ud83dabc`, `\u0000`} {
		var want string
		if err := json.Unmarshal([]byte(`"`+s+`"`), &want); err != nil {
			t.Fatal(err)
		}
		if got := string(unescape([]byte(s))); got != want {
			t.Errorf("unescape(%q) = %q, want %q", s, got, want)
		}
	}
}

func TestDeepNestingIsRefused(t *testing.T) {
	deep := strings.Repeat("[", maxDepth+1) + strings.Repeat("]", maxDepth+1)
	s := scanner{data: []byte(deep)}
	if _, err := s.value(0); err == nil {
		t.Error("nesting past maxDepth accepted")
	}
	ok := strings.Repeat("[", maxDepth) + strings.Repeat("]", maxDepth)
	s = scanner{data: []byte(ok)}
	if _, err := s.value(0); err != nil {
		t.Errorf("nesting of maxDepth refused: %v", err)
	}
	// An event nested past the limit anywhere is malformed, not a crash.
	ev := `{"type":"TOKEN","authorizationToken":"Bearer x","methodArn":"` + testARN + `","x":` + deep + `}`
	if _, err := parseEvent([]byte(ev), DefaultTokenHeader); !errors.Is(err, ErrMalformedEvent) {
		t.Errorf("parseEvent(deep) error = %v, want ErrMalformedEvent", err)
	}
}

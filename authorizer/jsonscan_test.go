package authorizer

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

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

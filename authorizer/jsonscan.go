package authorizer

import (
	"encoding/binary"
	"errors"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
)

// errSyntax reports an event that is not well-formed JSON. It is wrapped in
// ErrMalformedEvent before it leaves the package.
var errSyntax = errors.New("invalid JSON")

// maxDepth bounds the nesting of arrays and objects in an event. API Gateway's
// events nest four levels deep; anything past this is not an event.
const maxDepth = 32

// scanner walks a JSON document held in memory. It validates what it passes
// over with the grammar of RFC 8259 (what encoding/json.Valid accepts) and
// returns slices of the input instead of copies, so reading the few fields an
// authorizer needs allocates nothing. Its real reason to exist is
// strictness, which encoding/json cannot give: scanEvent refuses an event
// that names one of its fields twice (encoding/json keeps the last), reads
// field names exactly (encoding/json also takes "METHODARN" for
// "methodArn"), and counts every header whose name matches the token header
// in any case, refusing more than one value, so no field an authorizer
// decides on can be smuggled past it. Unlike encoding/json it does not turn
// invalid UTF-8 into U+FFFD: the bytes are kept, and the ARN and token
// grammars, which are ASCII-only, refuse them.
type scanner struct {
	data []byte
	pos  int
}

// strPlain marks the bytes that may stand in a JSON string as themselves:
// everything but control characters, the quote and the backslash.
var strPlain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func (s *scanner) skipSpace() {
	if s.pos < len(s.data) && s.data[s.pos] > ' ' {
		return // the usual case: compact JSON has no white space
	}
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// peek returns the next non-space byte without consuming it, or 0 at the end.
func (s *scanner) peek() byte {
	s.skipSpace()
	if s.pos < len(s.data) {
		return s.data[s.pos]
	}
	return 0
}

// end reports whether only white space is left.
func (s *scanner) end() bool {
	s.skipSpace()
	return s.pos == len(s.data)
}

// str consumes a string and returns its contents between the quotes, still
// escaped, and whether it holds any escape.
func (s *scanner) str() (raw []byte, escaped bool, err error) {
	if s.peek() != '"' {
		return nil, false, errSyntax
	}
	end, escaped, ok := scanString(s.data, s.pos)
	if !ok {
		return nil, false, errSyntax
	}
	raw = s.data[s.pos+1 : end-1]
	s.pos = end
	return raw, escaped, nil
}

// scanString checks the string that starts with the quote at d[i] and
// returns the index after its closing quote, and whether it holds escapes.
func scanString(d []byte, i int) (end int, escaped, ok bool) {
	i++
	for {
		// Eight bytes at a time; the lowest flagged lane is the first byte
		// that needs a look (the tests flag no false lane below a true one).
		if i+8 <= len(d) {
			m := jsonSpecial(binary.LittleEndian.Uint64(d[i:]))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else {
			for i < len(d) && strPlain[d[i]] {
				i++
			}
			if i >= len(d) {
				return 0, false, false
			}
		}
		switch d[i] {
		case '"':
			return i + 1, escaped, true
		case '\\':
			escaped = true
			if i+1 >= len(d) {
				return 0, false, false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex4(d[i+2:i+6]) {
					return 0, false, false
				}
				i += 6
			default:
				return 0, false, false
			}
		default: // a control character
			return 0, false, false
		}
	}
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// value consumes one value of any kind and returns its bytes. depth is the
// nesting the value starts at; nothing may nest deeper than maxDepth.
//
// It is one loop over a small state machine rather than a recursive descent:
// the open arrays and objects are a bit stack in a word, so skipping the
// parts of an event nobody reads costs a switch per token and a word-at-a-time
// scan per string, and no calls.
func (s *scanner) value(depth int) ([]byte, error) {
	const (
		wantValue        = iota // a value must come
		wantValueOrClose        // just after '[': a value or ']'
		wantKey                 // after ',' in an object
		wantKeyOrClose          // just after '{': a key or '}'
		wantColon               // after a key
		wantNext                // after a value: ',' or the closing byte, or the end at level 0
	)
	if s.peek() == '"' { // most values an event skips are strings
		end, _, ok := scanString(s.data, s.pos)
		if !ok {
			return nil, errSyntax
		}
		start := s.pos
		s.pos = end
		return s.data[start:end], nil
	}
	d := s.data
	i := s.pos
	start := -1
	var objects uint64 // bit k set when level k+1 is an object
	level := 0
	state := wantValue
	for {
		for i < len(d) && (d[i] == ' ' || d[i] == '\n' || d[i] == '\t' || d[i] == '\r') {
			i++
		}
		if state == wantNext && level == 0 {
			s.pos = i
			return d[start:i], nil
		}
		if i >= len(d) {
			return nil, errSyntax
		}
		if start < 0 {
			start = i
		}
		c := d[i]
		switch state {
		case wantKeyOrClose, wantKey:
			if c == '}' && state == wantKeyOrClose {
				level--
				i++
				state = wantNext
				continue
			}
			if c != '"' {
				return nil, errSyntax
			}
			end, _, ok := scanString(d, i)
			if !ok {
				return nil, errSyntax
			}
			i, state = end, wantColon
			continue
		case wantColon:
			if c != ':' {
				return nil, errSyntax
			}
			i++
			state = wantValue
			continue
		case wantNext:
			inObject := objects>>(level-1)&1 == 1
			switch {
			case c == ',':
				state = wantValue
				if inObject {
					state = wantKey
				}
			case c == '}' && inObject, c == ']' && !inObject:
				level--
			default:
				return nil, errSyntax
			}
			i++
			continue
		case wantValueOrClose:
			if c == ']' {
				level--
				i++
				state = wantNext
				continue
			}
		}
		// A value.
		switch {
		case c == '"':
			end, _, ok := scanString(d, i)
			if !ok {
				return nil, errSyntax
			}
			i = end
			state = wantNext
		case c == '{' || c == '[':
			if depth+level >= maxDepth {
				return nil, errSyntax
			}
			objects &^= 1 << level
			state = wantValueOrClose
			if c == '{' {
				objects |= 1 << level
				state = wantKeyOrClose
			}
			level++
			i++
		case c == 't' || c == 'f' || c == 'n':
			lit := "null"
			if c == 't' {
				lit = "true"
			} else if c == 'f' {
				lit = "false"
			}
			if len(d)-i < len(lit) || string(d[i:i+len(lit)]) != lit {
				return nil, errSyntax
			}
			i += len(lit)
			state = wantNext
		case c == '-' || '0' <= c && c <= '9':
			s.pos = i
			if err := s.number(); err != nil {
				return nil, err
			}
			i = s.pos
			state = wantNext
		default:
			return nil, errSyntax
		}
	}
}

// listNext consumes the ',' between two members or elements, or the closing
// byte, and reports whether the list ended.
func (s *scanner) listNext(closing byte) (done bool, err error) {
	switch s.peek() {
	case ',':
		s.pos++
		return false, nil
	case closing:
		s.pos++
		return true, nil
	}
	return false, errSyntax
}

func (s *scanner) literal(lit string) ([]byte, error) {
	if len(s.data)-s.pos < len(lit) || string(s.data[s.pos:s.pos+len(lit)]) != lit {
		return nil, errSyntax
	}
	s.pos += len(lit)
	return s.data[s.pos-len(lit) : s.pos], nil
}

func (s *scanner) number() error {
	d, i := s.data, s.pos
	digits := func() bool {
		start := i
		for i < len(d) && '0' <= d[i] && d[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case !digits():
		return errSyntax
	}
	if i < len(d) && d[i] == '.' {
		i++
		if !digits() {
			return errSyntax
		}
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		if !digits() {
			return errSyntax
		}
	}
	s.pos = i
	return nil
}

// member is an object member's key as read by key: still escaped, with
// whether it holds escapes. Objects are walked with a plain loop of
// objectStart, key, a value method and listNext('}'), rather than an iterator
// or callback, so that nothing escapes to the heap.
type member struct {
	key     []byte
	escaped bool
}

// objectStart consumes '{' and reports whether the object is empty (in which
// case '}' is consumed too).
func (s *scanner) objectStart() (empty bool, err error) {
	if s.peek() != '{' {
		return false, errSyntax
	}
	s.pos++
	if s.peek() == '}' {
		s.pos++
		return true, nil
	}
	return false, nil
}

// key consumes a member's key and the ':' after it.
func (s *scanner) key() (member, error) {
	k, esc, err := s.str()
	if err != nil {
		return member{}, err
	}
	if s.peek() != ':' {
		return member{}, errSyntax
	}
	s.pos++
	return member{key: k, escaped: esc}, nil
}

// is reports whether the member's key is name. Escaped keys are decoded first
// (API Gateway never escapes its field names, so this costs nothing in
// practice but keeps the scanner exact).
func (m member) is(name string) bool {
	if !m.escaped {
		return string(m.key) == name
	}
	return string(unescape(m.key)) == name
}

// foldIs reports whether the member's key equals name ignoring ASCII case, as
// HTTP header names compare.
func (m member) foldIs(name string) bool {
	k := m.key
	if m.escaped {
		k = unescape(k)
	}
	return asciiEqualFold(k, name)
}

// stringOrNull consumes a string (returning its decoded contents and true) or
// null (returning false). Any other value is a syntax error.
func (s *scanner) stringOrNull() ([]byte, bool, error) {
	if s.peek() == 'n' {
		_, err := s.literal("null")
		return nil, false, err
	}
	raw, esc, err := s.str()
	if err != nil {
		return nil, false, err
	}
	if esc {
		raw = unescape(raw)
	}
	return raw, true, nil
}

// unescape decodes the escapes of a string's contents that str has already
// validated. It allocates; the hot path only reaches it for escaped input.
func unescape(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := rune(hex4(raw[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					if r2 := utf16.DecodeRune(r, rune(hex4(raw[i+2:i+6]))); r2 != utf8.RuneError {
						out = utf8.AppendRune(out, r2)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
			continue
		default: // '"', '\\', '/'
			out = append(out, raw[i+1])
		}
		i += 2
	}
	return out
}

func hex4(b []byte) uint16 {
	var v uint16
	for _, c := range b[:4] {
		switch {
		case c <= '9':
			c -= '0'
		case c <= 'F':
			c -= 'A' - 10
		default:
			c -= 'a' - 10
		}
		v = v<<4 | uint16(c)
	}
	return v
}

package authorizer

import (
	"errors"
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
// authorizer needs allocates nothing.
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
	s.pos++
	start := s.pos
	d := s.data
	for i := s.pos; i < len(d); {
		c := d[i]
		if strPlain[c] {
			i++
			continue
		}
		switch c {
		case '"':
			s.pos = i + 1
			return d[start:i], escaped, nil
		case '\\':
			escaped = true
			if i+1 >= len(d) {
				return nil, false, errSyntax
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex4(d[i+2:i+6]) {
					return nil, false, errSyntax
				}
				i += 6
			default:
				return nil, false, errSyntax
			}
		default: // a control character
			return nil, false, errSyntax
		}
	}
	return nil, false, errSyntax
}

func isHex4(b []byte) bool {
	for _, c := range b[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// value consumes one value of any kind and returns its bytes.
func (s *scanner) value(depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, errSyntax
	}
	c := s.peek()
	start := s.pos
	switch {
	case c == '"':
		if _, _, err := s.str(); err != nil {
			return nil, err
		}
	case c == '{':
		s.pos++
		if s.peek() == '}' {
			s.pos++
			break
		}
		for {
			if _, _, err := s.str(); err != nil {
				return nil, err
			}
			if s.peek() != ':' {
				return nil, errSyntax
			}
			s.pos++
			if _, err := s.value(depth + 1); err != nil {
				return nil, err
			}
			if done, err := s.listNext('}'); err != nil || done {
				if err != nil {
					return nil, err
				}
				break
			}
		}
	case c == '[':
		s.pos++
		if s.peek() == ']' {
			s.pos++
			break
		}
		for {
			if _, err := s.value(depth + 1); err != nil {
				return nil, err
			}
			if done, err := s.listNext(']'); err != nil || done {
				if err != nil {
					return nil, err
				}
				break
			}
		}
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || '0' <= c && c <= '9':
		if err := s.number(); err != nil {
			return nil, err
		}
	default:
		return nil, errSyntax
	}
	return s.data[start:s.pos], nil
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

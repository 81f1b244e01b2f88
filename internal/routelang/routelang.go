// Package routelang decides questions about sets of method ARN suffixes
// ("GET/orders/42", the part of an execute-api method ARN after the stage)
// exactly: whether a route covers every path another covers, whether two
// share any, whether an IAM policy's resources allow exactly what a list of
// routes means.
//
// A Pattern is a sequence of bytes in which some stand for more:
//
//   - in an IAM glob (Glob), "*" is any run of bytes, "/" included, and "?"
//     any one byte, as IAM reads a policy's Resource
//     (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html);
//   - in a route (Route), a whole path segment "{name}" is one path segment,
//     one or more bytes other than "/", and "{name+}" one or more bytes,
//     "/" included, as API Gateway matches path parameters
//     (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-method-settings-method-request.html#api-gateway-proxy-resource);
//     "*" and "?" elsewhere in a route are IAM's.
//
// Each pattern is a nondeterministic automaton over bytes; the questions
// are answered by a search of the product of the automata, determinized
// as it goes, over one byte of each class the patterns tell apart. The
// answers are exact, not approximations, and cost time in the product of
// the patterns' lengths at worst, which for routes is small.
package routelang

import (
	"errors"
	"strings"
)

// op is one step of a pattern's automaton.
type op uint8

const (
	opByte      op = iota // the byte b
	opAny                 // any one byte
	opNotSlash            // any one byte but '/'
	opRun                 // any run of bytes, possibly empty
	opNotSlashs           // any run of bytes without '/', possibly empty
)

type step struct {
	op op
	b  byte
}

// Pattern is a set of method ARN suffixes (see the package doc). The zero
// Pattern holds the empty string only.
type Pattern struct {
	steps []step
}

// Glob returns the pattern of an IAM policy resource suffix: "*" any run,
// "?" any byte, every other byte itself.
func Glob(s string) Pattern {
	var p Pattern
	for i := range len(s) {
		switch s[i] {
		case '*':
			p.steps = append(p.steps, step{op: opRun})
		case '?':
			p.steps = append(p.steps, step{op: opAny})
		default:
			p.steps = append(p.steps, step{op: opByte, b: s[i]})
		}
	}
	return p
}

// ErrBadParameter is returned by Route for a segment that opens a
// parameter and does not close it, or an empty parameter name.
var ErrBadParameter = errors.New(`a path parameter is a whole segment, "{name}" or "{name+}"`)

// Route returns the pattern of a route as a method ARN suffix
// ("GET/orders/{id}"): a segment "{name}" is one path segment, "{name+}"
// one or more bytes, and "*" and "?" elsewhere are IAM wildcards.
func Route(s string) (Pattern, error) {
	var p Pattern
	for i, seg := range strings.Split(s, "/") {
		if i > 0 {
			p.steps = append(p.steps, step{op: opByte, b: '/'})
		}
		switch name, isParam := param(seg); {
		case isParam && name == "", isParam && strings.ContainsAny(name, "{}/"):
			return Pattern{}, ErrBadParameter
		case isParam && strings.HasSuffix(seg, "+}"):
			p.steps = append(p.steps, step{op: opAny}, step{op: opRun})
		case isParam:
			p.steps = append(p.steps, step{op: opNotSlash}, step{op: opNotSlashs})
		case strings.ContainsAny(seg, "{}"):
			return Pattern{}, ErrBadParameter
		default:
			p.steps = append(p.steps, Glob(seg).steps...)
		}
	}
	return p, nil
}

// param reports whether seg is a path parameter, and its name.
func param(seg string) (string, bool) {
	if len(seg) < 2 || seg[0] != '{' || seg[len(seg)-1] != '}' {
		return "", false
	}
	return strings.TrimSuffix(seg[1:len(seg)-1], "+"), true
}

// Match reports whether s is in p.
func (p Pattern) Match(s string) bool {
	cur := make(bits, p.words())
	cur.set(0)
	p.closure(cur)
	nx := make(bits, len(cur))
	for i := range len(s) {
		p.next(nx, cur, s[i])
		cur, nx = nx, cur
	}
	return cur.has(len(p.steps))
}

// bits is a set of a pattern's states: state i is "before step i", and
// state len(steps) accepts.
type bits []uint64

func (b bits) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }
func (b bits) set(i int)      { b[i/64] |= 1 << (i % 64) }

// words is how many words a set of p's states takes.
func (p Pattern) words() int { return (len(p.steps) + 64) / 64 }

// closure adds to b the states reached from its own by skipping runs.
func (p Pattern) closure(b bits) {
	for i, s := range p.steps {
		if (s.op == opRun || s.op == opNotSlashs) && b.has(i) {
			b.set(i + 1)
		}
	}
}

// next sets dst to the states after reading c from the states in src.
func (p Pattern) next(dst, src bits, c byte) {
	clear(dst)
	for i, s := range p.steps {
		if !src.has(i) {
			continue
		}
		switch s.op {
		case opByte:
			if s.b == c {
				dst.set(i + 1)
			}
		case opAny:
			dst.set(i + 1)
		case opNotSlash:
			if c != '/' {
				dst.set(i + 1)
			}
		case opRun:
			dst.set(i)
		case opNotSlashs:
			if c != '/' {
				dst.set(i)
			}
		}
	}
	p.closure(dst)
}

// A Union is the union of its patterns.
type Union []Pattern

// Exists reports whether some string s makes want true of the unions'
// memberships: want(in) where in[i] says whether s is in sets[i]. It
// searches the product of the unions' automata, determinized as it goes,
// with one byte of each class of bytes the patterns tell apart.
//
// Subset, Disjoint and the like are Exists with the right want.
func Exists(want func(in []bool) bool, sets ...Union) bool {
	alphabet := classes(sets)
	// A state of the search is one set of states per pattern, all in one
	// slice of words: pattern k's at off[k]:off[k+1].
	var pats []Pattern
	var owner []int // the set each pattern belongs to
	off := []int{0}
	for i, u := range sets {
		for _, p := range u {
			pats = append(pats, p)
			owner = append(owner, i)
			off = append(off, off[len(off)-1]+p.words())
		}
	}
	width := off[len(off)-1]
	start := make(bits, width)
	for k, p := range pats {
		b := start[off[k]:off[k+1]]
		b.set(0)
		p.closure(b)
	}
	in := make([]bool, len(sets))
	accepts := func(st bits) bool {
		clear(in)
		for k, p := range pats {
			if st[off[k]:off[k+1]].has(len(p.steps)) {
				in[owner[k]] = true
			}
		}
		return want(in)
	}
	key := make([]byte, 8*width)
	keyOf := func(st bits) []byte {
		for i, w := range st {
			for j := range 8 {
				key[8*i+j] = byte(w >> (8 * j))
			}
		}
		return key
	}
	seen := map[string]bool{string(keyOf(start)): true}
	queue := []bits{start}
	nx := make(bits, width)
	for len(queue) > 0 {
		st := queue[0]
		queue = queue[1:]
		if accepts(st) {
			return true
		}
		for _, c := range alphabet {
			for k, p := range pats {
				p.next(nx[off[k]:off[k+1]], st[off[k]:off[k+1]], c)
			}
			if k := keyOf(nx); !seen[string(k)] {
				seen[string(k)] = true
				queue = append(queue, append(bits(nil), nx...))
			}
		}
	}
	return false
}

// classes returns one byte of each class of bytes the patterns tell apart:
// each byte a pattern names, '/', and one byte none names.
func classes(sets []Union) []byte {
	named := map[byte]bool{'/': true}
	for _, u := range sets {
		for _, p := range u {
			for _, s := range p.steps {
				if s.op == opByte {
					named[s.b] = true
				}
			}
		}
	}
	out := make([]byte, 0, len(named)+1)
	for c := range 256 {
		if named[byte(c)] {
			out = append(out, byte(c))
		}
	}
	for i := range 256 { // some byte no pattern names, a letter if it can be
		if c := byte('a' + i); !named[c] {
			return append(out, c)
		}
	}
	return out // every byte is named: each is its own class
}

// Subset reports whether every string in a is in b.
func Subset(a, b Union) bool {
	return !Exists(func(in []bool) bool { return in[0] && !in[1] }, a, b)
}

// Disjoint reports whether no string is in both a and b.
func Disjoint(a, b Union) bool {
	return !Exists(func(in []bool) bool { return in[0] && in[1] }, a, b)
}

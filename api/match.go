package api

import (
	"strings"
)

type segmentKind uint8

const (
	greedy  segmentKind = iota // {name+}
	param                      // {name}
	literal                    // text
)

type segment struct {
	kind segmentKind
	text string // the literal, or the parameter's name
	raw  string
}

// segments parses a resource path.
func segments(path string) ([]segment, error) {
	if path == "/" {
		return nil, nil
	}
	if !strings.HasPrefix(path, "/") {
		return nil, errorf("path %q does not start with /", path)
	}
	parts := strings.Split(path[1:], "/")
	segs := make([]segment, len(parts))
	for i, p := range parts {
		switch {
		case p == "":
			return nil, errorf("path %q has an empty segment", path)
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}"):
			if i != len(parts)-1 {
				return nil, errorf("path %q: greedy %s must be the last segment", path, p)
			}
			segs[i] = segment{kind: greedy, text: p[1 : len(p)-2], raw: p}
		case strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}"):
			segs[i] = segment{kind: param, text: p[1 : len(p)-1], raw: p}
		default:
			segs[i] = segment{kind: literal, text: p, raw: p}
			if !isPathText(p) {
				return nil, errorf("path %q: segment %q: use letters, digits and -._~:", path, p)
			}
			continue
		}
		if !isPathText(segs[i].text) {
			return nil, errorf("path %q: parameter %q: use letters, digits and -._~:", path, p)
		}
	}
	return segs, nil
}

func isPathText(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._~:", c) >= 0) {
			return false
		}
	}
	return true
}

// shape is a path with its parameter names erased: two routes of the same
// shape and method are the same method to API Gateway.
func shape(path string) string {
	segs, _ := segments(path)
	var b strings.Builder
	for _, s := range segs {
		b.WriteByte('/')
		switch s.kind {
		case literal:
			b.WriteString(s.text)
		case param:
			b.WriteString("{}")
		case greedy:
			b.WriteString("{+}")
		}
	}
	if b.Len() == 0 {
		return "/"
	}
	return b.String()
}

// Match finds the route API Gateway would choose for a request: at each
// segment a literal beats a parameter, which beats a greedy parameter, and
// a route's own method beats ANY. It returns the route and its path
// parameters. A request no route matches, by path or by method, is
// answered by API Gateway with MISSING_AUTHENTICATION_TOKEN.
func (d *Definition) Match(method, path string) (Route, map[string]string, bool) {
	if !strings.HasPrefix(path, "/") {
		return Route{}, nil, false
	}
	var parts []string
	if path != "/" {
		parts = strings.Split(path[1:], "/")
	}
	best, bestRank, bestSegs := -1, []int(nil), []segment(nil)
	for i, r := range d.Routes {
		if r.Method != method && r.Method != "ANY" {
			continue
		}
		segs, err := segments(r.Path)
		if err != nil {
			continue
		}
		rank, ok := rankMatch(segs, parts)
		if !ok {
			continue
		}
		if r.Method == method {
			rank = append(rank, 1)
		} else {
			rank = append(rank, 0)
		}
		if best < 0 || compareRanks(rank, bestRank) > 0 {
			best, bestRank, bestSegs = i, rank, segs
		}
	}
	if best < 0 {
		return Route{}, nil, false
	}
	var params map[string]string
	for i, s := range bestSegs {
		switch s.kind {
		case param:
			params = setParam(params, s.text, parts[i])
		case greedy:
			params = setParam(params, s.text, strings.Join(parts[i:], "/"))
		}
	}
	return d.Routes[best], params, true
}

func setParam(m map[string]string, k, v string) map[string]string {
	if m == nil {
		m = map[string]string{}
	}
	m[k] = v
	return m
}

// rankMatch matches parts against segs and ranks the match by the kind of
// each segment.
func rankMatch(segs []segment, parts []string) ([]int, bool) {
	rank := make([]int, 0, len(segs)+1)
	for i, s := range segs {
		if i >= len(parts) || parts[i] == "" {
			return nil, false
		}
		switch s.kind {
		case literal:
			if parts[i] != s.text {
				return nil, false
			}
		case greedy:
			for _, p := range parts[i:] {
				if p == "" {
					return nil, false
				}
			}
			return append(rank, int(greedy)), true
		}
		rank = append(rank, int(s.kind))
	}
	return rank, len(segs) == len(parts)
}

func compareRanks(a, b []int) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] - b[i]
		}
	}
	return len(a) - len(b)
}

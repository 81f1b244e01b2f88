package routelang

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"

	"tollgate/internal/iam"
)

func mustRoute(t testing.TB, s string) Pattern {
	t.Helper()
	p, err := Route(s)
	if err != nil {
		t.Fatalf("Route(%q): %v", s, err)
	}
	return p
}

func TestRouteMatch(t *testing.T) {
	for _, tt := range []struct {
		route, s string
		want     bool
	}{
		{"GET/orders/{id}", "GET/orders/42", true},
		{"GET/orders/{id}", "GET/orders/42/refunds", false}, // a parameter is one segment
		{"GET/orders/{id}", "GET/orders/", false},           // and not an empty one
		{"GET/orders/{id}/items", "GET/orders/42/items", true},
		{"GET/orders/{id}/items", "GET/orders/4/2/items", false},
		{"GET/files/{path+}", "GET/files/a/b/c", true}, // a greedy one spans segments
		{"GET/files/{path+}", "GET/files/", false},
		{"GET/files/public/*", "GET/files/public/a/b", true}, // IAM's * spans them too
		{"GET/files/public/*", "GET/files/private", false},
		{"GET/orders/4?", "GET/orders/42", true},
		{"GET/orders/4?", "GET/orders/4", false},
		{"GET/", "GET/", true},
		{"GET/hello", "GET/hello/", false},
	} {
		if got := mustRoute(t, tt.route).Match(tt.s); got != tt.want {
			t.Errorf("Route(%q).Match(%q) = %v, want %v", tt.route, tt.s, got, tt.want)
		}
	}
	for _, bad := range []string{"GET/{}", "GET/{id", "GET/a{id}", "GET/{a/b}", "GET/{+}"} {
		if _, err := Route(bad); err == nil {
			t.Errorf("Route(%q) = nil error, want ErrBadParameter", bad)
		}
	}
}

func TestSetQuestions(t *testing.T) {
	r := func(s ...string) Union {
		var u Union
		for _, x := range s {
			u = append(u, mustRoute(t, x))
		}
		return u
	}
	g := func(s ...string) Union {
		var u Union
		for _, x := range s {
			u = append(u, Glob(x))
		}
		return u
	}
	for _, tt := range []struct {
		name     string
		a, b     Union
		subset   bool
		disjoint bool
	}{
		{"a route within the glob it becomes", r("GET/orders/{id}"), g("GET/orders/*"), true, false},
		{"the glob is wider", g("GET/orders/*"), r("GET/orders/{id}"), false, false},
		{"the glob less its one-segment deny", g("GET/orders/?*"), append(r("GET/orders/{id}"), Glob("GET/orders/*/*")), true, false},
		{"the deny misses the route", g("GET/orders/*/*"), r("GET/orders/{id}"), false, true},
		{"a nested route meets the deny", g("GET/orders/*/*"), r("GET/orders/{id}/items"), false, false},
		{"one value of a parameter", r("GET/orders/1"), r("GET/orders/{id}"), true, false},
		{"a parameter is more than one value", r("GET/orders/{id}"), r("GET/orders/1"), false, false},
		{"a prefix of a greedy path", r("GET/files/public/*"), r("GET/files/{proxy+}"), true, false},
		{"other methods", r("GET/orders/{id}"), r("POST/orders/{id}"), false, true},
		{"a union covers", r("GET/a/{x}"), r("GET/a/1", "GET/a/{y}"), true, false},
		{"the empty union", Union{}, r("GET/a"), true, true},
	} {
		if got := Subset(tt.a, tt.b); got != tt.subset {
			t.Errorf("%s: Subset = %v, want %v", tt.name, got, tt.subset)
		}
		if got := Disjoint(tt.a, tt.b); got != tt.disjoint {
			t.Errorf("%s: Disjoint = %v, want %v", tt.name, got, tt.disjoint)
		}
	}
}

// The set questions agree with brute force: every string up to a length
// over the bytes the patterns use, tried against Match.
func TestSetQuestionsAgreeWithBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	pieces := []string{"a", "b", "/", "*", "?", "{p}", "{q+}"}
	gen := func() string {
		var b strings.Builder
		for range 1 + rng.IntN(4) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		return b.String()
	}
	var strs []string
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		strs = append(strs, prefix)
		if n == 0 {
			return
		}
		for _, c := range []string{"a", "b", "c", "/"} {
			grow(prefix+c, n-1)
		}
	}
	grow("", 6)
	for range 400 {
		a, errA := Route(gen())
		b, errB := Route(gen())
		if errA != nil || errB != nil {
			continue
		}
		sub, dis := true, true
		for _, s := range strs {
			ma, mb := a.Match(s), b.Match(s)
			sub = sub && (!ma || mb)
			dis = dis && !(ma && mb)
		}
		// Brute force over short strings can miss a long witness, so it
		// can only refute: a witness it finds must be found by the search.
		if !sub && Subset(Union{a}, Union{b}) {
			t.Errorf("Subset(%v, %v) = true, but a short string is in one only", a, b)
		}
		if !dis && Disjoint(Union{a}, Union{b}) {
			t.Errorf("Disjoint(%v, %v) = true, but a short string is in both", a, b)
		}
	}
}

// FuzzMatch holds Glob to IAM's own matcher and Route to a regular
// expression of its meaning.
func FuzzMatch(f *testing.F) {
	f.Add("GET/orders/{id}", "GET/orders/42")
	f.Add("GET/files/{p+}", "GET/files/a/b")
	f.Add("*/a?/*", "x/ab/y")
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if len(pattern) > 64 || len(s) > 64 || !ascii(pattern) || !ascii(s) {
			return // the oracle's regexp reads runes, the patterns bytes
		}
		if got, want := Glob(pattern).Match(s), iam.Match(pattern, s); got != want {
			t.Fatalf("Glob(%q).Match(%q) = %v, iam.Match = %v", pattern, s, got, want)
		}
		p, err := Route(pattern)
		if err != nil {
			return
		}
		var re strings.Builder
		re.WriteString("^")
		for i, seg := range strings.Split(pattern, "/") {
			if i > 0 {
				re.WriteString("/")
			}
			if name, ok := param(seg); ok && strings.HasSuffix(seg, "+}") && name != "" {
				re.WriteString("(?s:.+)")
				continue
			} else if ok {
				re.WriteString("[^/]+")
				continue
			}
			for _, c := range seg {
				switch c {
				case '*':
					re.WriteString("(?s:.*)")
				case '?':
					re.WriteString("(?s:.)")
				default:
					re.WriteString(regexp.QuoteMeta(string(c)))
				}
			}
		}
		re.WriteString("$")
		if want := regexp.MustCompile(re.String()).MatchString(s); p.Match(s) != want {
			t.Fatalf("Route(%q).Match(%q) = %v, want %v (%s)", pattern, s, !want, want, re.String())
		}
	})
}

func ascii(s string) bool {
	for i := range len(s) {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

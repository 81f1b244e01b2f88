package authorizer

// Route limits: a key's (or a JWT scope's) routes compiled into the
// resources of an IAM policy that allows exactly those routes, proven
// exact when the keyring is read, so that the answer API Gateway caches is
// right for every request it is applied to.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"tollgate/internal/iam"
	"tollgate/internal/routelang"
)

// routeLimit is a route limit as policy resources: method ARN suffixes
// after the stage (IAM globs) to allow, and to deny. The policy
// "allow minus deny" holds exactly the routes' method ARNs, but those with
// a dot segment or an encoded ".", "/", "\" or "%" (pathDenies).
type routeLimit struct {
	allow []string
	// paramDeny are the suffixes where a one-segment parameter ({id})
	// would span segments: IAM's "*" matches "/" too, so the Allow of
	// GET/orders/?* needs the Deny of GET/orders/*/*.
	paramDeny []string
	// exact is what the routes mean, as routelang patterns.
	exact routelang.Union

	// coverage keeps covers' answers, by HTTP API route key.
	coverageMu sync.Mutex
	coverage   atomic.Pointer[map[string]*[methodCount]atomic.Uint32]
}

// How much of an HTTP API's route a limit covers.
type coverage uint32

const (
	coverageUnknown coverage = iota // not worked out yet (in the cache)
	coverageNone                    // none of its paths
	coveragePart                    // some of its paths, not all
	coverageAll                     // every path of it
)

// methodCount is how many methods a method ARN may name (iam.Methods).
const methodCount = 7

// maxCoverageRoutes bounds the route keys a limit keeps coverage for: an
// API has that many routes at most (API Gateway's quota is 300 routes per
// HTTP API; past the bound, coverage is worked out each time).
const maxCoverageRoutes = 512

// covers reports how much of the HTTP API route routeKey ("GET
// /orders/{id}", "ANY /files/{proxy+}", "$default"), called with method,
// l allows. An HTTP API caches an answer by its identity sources, the
// route key and the method among them (api.Authorizer.HTTPIdentitySources),
// and applies it to every path of the route: so a request is allowed only
// where the limit covers the whole route, whichever of its paths came
// first, and a limit narrower than an API route (one order of
// GET /orders/{id}) allows none of it. A route key that cannot be read
// is covered by nothing.
func (l *routeLimit) covers(method, routeKey []byte) coverage {
	mi := methodIndex(method)
	if mi < 0 {
		return coverageNone
	}
	if m := l.coverage.Load(); m != nil {
		if c := (*m)[string(routeKey)]; c != nil {
			if v := coverage(c[mi].Load()); v != coverageUnknown {
				return v
			}
		}
	}
	v := coverageNone
	if route, ok := apiRoute(string(method), string(routeKey)); ok {
		v = l.coverageOf(route)
	}
	l.coverageMu.Lock()
	defer l.coverageMu.Unlock()
	m := map[string]*[methodCount]atomic.Uint32{}
	if old := l.coverage.Load(); old != nil {
		if c := (*old)[string(routeKey)]; c != nil {
			c[mi].Store(uint32(v))
			return v
		}
		if len(*old) >= maxCoverageRoutes {
			return v
		}
		maps.Copy(m, *old)
	}
	c := &[methodCount]atomic.Uint32{}
	c[mi].Store(uint32(v))
	m[string(routeKey)] = c
	l.coverage.Store(&m)
	return v
}

// coverageOf is how much of route's method ARN suffixes l allows.
func (l *routeLimit) coverageOf(route routelang.Union) coverage {
	switch {
	case routelang.Subset(route, l.exact):
		return coverageAll
	case routelang.Disjoint(route, l.exact):
		return coverageNone
	}
	return coveragePart
}

// apiRoute is the method ARN suffixes of an HTTP API's route key, called
// with method: "$default" is every path; an ANY route's method is the
// request's.
func apiRoute(method, routeKey string) (routelang.Union, bool) {
	if routeKey == "$default" {
		return routelang.Union{routelang.Glob(method + "/*")}, true
	}
	m, path, ok := strings.Cut(routeKey, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		return nil, false
	}
	if m == "ANY" {
		m = method
	}
	p, err := routelang.Route(m + path)
	if err != nil {
		return nil, false
	}
	return routelang.Union{p}, true
}

func methodIndex(method []byte) int {
	for i, m := range iam.Methods() {
		if m == string(method) {
			return i
		}
	}
	return -1
}

// pathDenies are denied to every limited key and token: paths whose
// meaning a function may take otherwise than the method ARN says. No AWS
// page states that API Gateway resolves dot segments or decodes an
// encoded "/" before it builds the method ARN, and a function that
// resolves "/files/public/../private/x" serves another file than the one
// authorized; so a dot segment, or a percent-encoded ".", "/", "\" or "%"
// (a double encoding), anywhere in the path is refused, whatever API
// Gateway sends. Matching is case-sensitive, so both cases are listed.
var pathDenies = []string{
	"*/../*", "*/..", "*/./*", "*/.",
	"*%2e*", "*%2E*", "*%2f*", "*%2F*", "*%5c*", "*%5C*", "*%25*",
}

// pathDenied reports whether suffix matches one of pathDenies: a scan
// that does what the globs say (TestPathDeniedIsItsGlobs), without their
// cost on the decision's path.
func pathDenied(suffix []byte) bool {
	segStart := 0
	for i := 0; i <= len(suffix); i++ {
		if i == len(suffix) || suffix[i] == '/' {
			// A dot segment: "." or "..", after a "/" (the first
			// segment is the method).
			if seg := suffix[segStart:i]; segStart > 0 && (string(seg) == "." || string(seg) == "..") {
				return true
			}
			segStart = i + 1
			continue
		}
		if suffix[i] == '%' && i+2 < len(suffix) {
			switch string(suffix[i+1 : i+3]) {
			case "2e", "2E", "2f", "2F", "5c", "5C", "25":
				return true
			}
		}
	}
	return false
}

// permits reports whether l allows the method ARN suffix, as API Gateway
// decides from l's policy: no Deny matches and an Allow does. A nil limit
// is the whole stage.
func (l *routeLimit) permits(suffix []byte) bool {
	if l == nil {
		return true
	}
	if pathDenied(suffix) {
		return false
	}
	for _, d := range l.paramDeny {
		if iam.Match(d, suffix) {
			return false
		}
	}
	for _, a := range l.allow {
		if iam.Match(a, suffix) {
			return true
		}
	}
	return false
}

// deny is every suffix l's policy denies.
func (l *routeLimit) deny() []string {
	return append(append([]string{}, l.paramDeny...), pathDenies...)
}

// errRouteLimit is wrapped by the errors of routes that no IAM policy can
// state exactly.
var errRouteLimit = errors.New("not expressible as an IAM policy")

// compileRoutes compiles a route list ("GET /orders/{id}", the grammar of
// Key.Routes) into a routeLimit, and proves its policy exact: every method
// ARN of the routes is allowed, and no other (but pathDenies, refused to
// all). It refuses the lists no policy can state, since IAM's only
// wildcard that spans one segment also spans "/": a one-segment parameter
// whose longer paths are another route of the list ("GET /orders/{id}"
// beside "GET /orders/{id}/items"), or a wildcard beside a parameter.
// Errors name routes by position, never by value.
func compileRoutes(routes []string) (*routeLimit, error) {
	type compiled struct {
		n      int // the route's position, from 1
		method string
		glob   string
		exact  routelang.Pattern
		deny   []string // the parameter denies it would need
	}
	var cs []compiled
	l := &routeLimit{}
	for i, r := range routes {
		methods, path, err := parseRoute(r)
		if err != nil {
			return nil, fmt.Errorf("route #%d: %w", i+1, err)
		}
		for _, m := range methods {
			exact, err := routelang.Route(m + path)
			if err != nil {
				return nil, fmt.Errorf("route #%d: %w", i+1, err)
			}
			glob, deny := policyGlobs(m + path)
			cs = append(cs, compiled{n: i + 1, method: m, glob: glob, exact: exact, deny: deny})
			l.exact = append(l.exact, exact)
			l.allow = appendNew(l.allow, glob)
		}
	}
	// Only a route with a one-segment parameter needs a proof: any other
	// route's glob is the route. Its proofs need only the routes of its
	// method (a method ARN suffix starts with the method and a "/"), and
	// leave pathDenies out: they are denied to every limited key alike,
	// and leaving them out only makes a proof ask more.
	sameMethod := func(m string) (u routelang.Union, of []compiled) {
		for _, c := range cs {
			if c.method == m {
				u, of = append(u, c.exact), append(of, c)
			}
		}
		return u, of
	}
	for _, c := range cs {
		if len(c.deny) == 0 {
			continue
		}
		routes, others := sameMethod(c.method)
		// The Allow alone says too much only where it reaches past the
		// routes: then its parameter denies are needed, and must take
		// nothing of the routes.
		if routelang.Subset(globs([]string{c.glob}), routes) {
			continue
		}
		for _, d := range c.deny {
			for _, other := range others {
				if !routelang.Disjoint(globs([]string{d}), routelang.Union{other.exact}) {
					if other.n == c.n {
						return nil, fmt.Errorf("route #%d: %w: a wildcard beside a one-segment parameter spans segments", c.n, errRouteLimit)
					}
					return nil, fmt.Errorf("routes #%d and #%d: %w: a one-segment parameter of #%d is stated by denying its longer paths, and #%d is one of them; "+
						"write #%d with a wildcard (\"/*\") to allow every path under it, or give the routes to separate keys", c.n, other.n, errRouteLimit, c.n, other.n, c.n)
				}
			}
			l.paramDeny = appendNew(l.paramDeny, d)
		}
	}
	// Nothing but the routes is allowed.
	for _, c := range cs {
		if routes, _ := sameMethod(c.method); len(c.deny) > 0 && !routelang.Subset(globs([]string{c.glob}), append(routes, globs(l.paramDeny)...)) {
			return nil, fmt.Errorf("route #%d: %w: a wildcard beside a parameter", c.n, errRouteLimit)
		}
	}
	return l, nil
}

// parseRoute reads "METHOD /path" into the methods it names (ANY or "*":
// each of them, never IAM's "*", which would match "/" too:
// "*/customers" covers GET/admin/customers) and its path. Errors never
// quote the route.
func parseRoute(route string) (methods []string, path string, err error) {
	method, path, ok := strings.Cut(route, " ")
	if !ok {
		return nil, "", errors.New(`want "METHOD /path"`)
	}
	if !strings.HasPrefix(path, "/") {
		return nil, "", errors.New("path must start with /")
	}
	for i := range len(path) {
		if !arnChar[path[i]] && path[i] != '*' && path[i] != '?' {
			return nil, "", errors.New("path holds a character that cannot appear in a method ARN")
		}
	}
	if method == "ANY" || method == "*" {
		return iam.Methods(), path, nil
	}
	for _, m := range iam.Methods() {
		if m == method {
			return []string{m}, path, nil
		}
	}
	return nil, "", errors.New("unknown method: want one of " + strings.Join(iam.Methods(), ", ") + ", or ANY")
}

// policyGlobs returns the IAM glob that allows a route ("GET/orders/{id}"
// becomes "GET/orders/?*", a parameter one or more bytes), and for each
// one-segment parameter the glob of its paths that span segments
// ("GET/orders/*/*").
func policyGlobs(route string) (allow string, deny []string) {
	segs := strings.Split(route, "/")
	glob := make([]string, len(segs))
	for i, s := range segs {
		glob[i] = s
		if _, ok := param(s); ok {
			glob[i] = "?*"
		}
	}
	for i, s := range segs {
		if name, ok := param(s); ok && !strings.HasSuffix(s, "+}") && name != "" {
			d := make([]string, len(segs))
			for j := range segs {
				d[j] = glob[j]
				if d[j] == "?*" {
					d[j] = "*"
				}
			}
			d[i] = "*/*"
			deny = append(deny, strings.Join(d, "/"))
		}
	}
	return strings.Join(glob, "/"), deny
}

// param reports whether a path segment is a parameter, {name} or
// {name+}, and its name.
func param(seg string) (string, bool) {
	if len(seg) < 2 || seg[0] != '{' || seg[len(seg)-1] != '}' {
		return "", false
	}
	return strings.TrimSuffix(seg[1:len(seg)-1], "+"), true
}

func globs(ss []string) routelang.Union {
	u := make(routelang.Union, len(ss))
	for i, s := range ss {
		u[i] = routelang.Glob(s)
	}
	return u
}

func appendNew(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// mergeLimits is the limit of the union of ls's routes: a token's, from
// its scopes'. The scopes are checked at configuration (JWTConfig) to
// merge exactly: no scope's parameter denies take another's routes.
func mergeLimits(ls []*routeLimit) *routeLimit {
	m := &routeLimit{}
	for _, l := range ls {
		for _, a := range l.allow {
			m.allow = appendNew(m.allow, a)
		}
		for _, d := range l.paramDeny {
			m.paramDeny = appendNew(m.paramDeny, d)
		}
		m.exact = append(m.exact, l.exact...)
	}
	slices.Sort(m.allow) // the same policy whatever the order of the scopes
	slices.Sort(m.paramDeny)
	return m
}

// disjointLimits reports whether a's parameter denies take nothing of b's
// routes, so that the two merge exactly.
func disjointLimits(a, b *routeLimit) bool {
	return routelang.Disjoint(globs(a.paramDeny), b.exact)
}

// compileScopes compiles JWT scopes' route limits (nil for none), and
// checks that they merge exactly: no scope's parameter denies take another
// scope's routes, so that a token holding several is allowed exactly their
// routes together. Scopes are named in its errors (they are settings, not
// secrets).
func compileScopes(scopeRoutes map[string][]string) (map[string]*routeLimit, error) {
	if scopeRoutes == nil {
		return nil, nil
	}
	limits := map[string]*routeLimit{}
	for _, scope := range slices.Sorted(maps.Keys(scopeRoutes)) {
		l, err := compileRoutes(scopeRoutes[scope])
		if err != nil {
			return nil, fmt.Errorf("scope %q: %w", scope, err)
		}
		limits[scope] = l
	}
	for _, a := range slices.Sorted(maps.Keys(limits)) {
		for _, b := range slices.Sorted(maps.Keys(limits)) {
			if a != b && !disjointLimits(limits[a], limits[b]) {
				return nil, fmt.Errorf("scopes %q and %q: %w: a one-segment parameter of %q is stated by denying its longer paths, and a route of %q is one of them; "+
					"write it with a wildcard (\"/*\") to allow every path under it", a, b, errRouteLimit, a, b)
			}
		}
	}
	return limits, nil
}

// ErrPartialRoute is wrapped by CheckHTTPRouteLimit's errors.
var ErrPartialRoute = errors.New("covers part of an HTTP API route")

// CheckHTTPRouteLimit checks a route limit (a client's routes, or a JWT
// scope's: the grammar of Key.Routes) against an HTTP API's routes
// ("GET /orders/{id}"): an HTTP API caches the authorizer's answer for a
// whole API route, so a limit that covers only part of one cannot be kept,
// and the authorizer allows none of that route (covers). The error, which
// wraps ErrPartialRoute, names the limit's route by position and the API
// route it covers part of.
func CheckHTTPRouteLimit(routes []string, apiRoutes []string) error {
	l, err := compileRoutes(routes)
	if err != nil {
		return err
	}
	for _, ar := range apiRoutes {
		methods := iam.Methods() // ANY and $default: each method has its answer
		if m, _, _ := strings.Cut(ar, " "); slices.Contains(methods, m) {
			methods = []string{m}
		}
		for _, m := range methods {
			route, ok := apiRoute(m, ar)
			if !ok {
				return fmt.Errorf("API route %q: want \"METHOD /path\"", ar)
			}
			if l.coverageOf(route) != coveragePart {
				continue
			}
			for i, r := range routes {
				one, _ := compileRoutes([]string{r})
				if one.coverageOf(route) != coverageNone {
					return fmt.Errorf("route #%d %w %s: an HTTP API caches an answer for the whole route, so a limit to part of it cannot be kept, and none of the route is allowed; "+
						"limit to the whole route, or deploy a REST API, whose cached policies name each path", i+1, ErrPartialRoute, ar)
				}
			}
		}
	}
	return nil
}

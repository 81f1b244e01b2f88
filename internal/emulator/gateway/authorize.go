package gateway

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"tollgate/api"
	"tollgate/internal/iam"
)

// The messages API Gateway gives its authorizer outcomes; see
// https://repost.aws/knowledge-center/api-gateway-403-error-lambda-authorizer.
const (
	msgUnauthorized = "Unauthorized"
	msgExplicitDeny = "User is not authorized to access this resource with an explicit deny"
	msgNotAllowed   = "User is not authorized to access this resource"
)

// policy is an authorizer's answer as the gateway keeps it.
type policy struct {
	principalID string
	context     map[string]string
	statements  []statement
	// usageKey is the answer's usageIdentifierKey: the API key of the
	// caller's usage plan, cached with the rest of the answer.
	usageKey string
	// An HTTP API's simple response (simple set): whether the caller is
	// authorized, and the context passed to the integration.
	simple        bool
	authorized    bool
	simpleContext map[string]any
}

type statement struct {
	allow     bool
	actions   []string
	resources []string
}

// authorize runs step 2 to 4 of the package doc. It answers the request
// itself and returns false when the request may not go on; else the
// authorizer's usageIdentifierKey.
func (g *Gateway) authorize(x *exchange) (string, bool) {
	began := g.cfg.Now()
	defer func() { x.authLatency = g.cfg.Now().Sub(began) }()

	values := make([]string, len(g.sources))
	for i, src := range g.sources {
		values[i] = g.identityValue(x, src)
		if values[i] == "" {
			g.fail(x, api.Unauthorized, 0, msgUnauthorized)
			return "", false
		}
	}
	if g.tokenRegex != nil && !g.tokenRegex.MatchString(values[0]) {
		g.fail(x, api.Unauthorized, 0, msgUnauthorized)
		return "", false
	}

	key := strings.Join(values, "\x00")
	p, ok := g.cache.get(key, g.cfg.Now())
	if !ok {
		var t api.ResponseType
		p, t = g.invokeAuthorizer(x, values[0])
		if t != "" {
			msg := "Internal server error"
			if t == api.Unauthorized {
				msg = msgUnauthorized
			}
			g.fail(x, t, 0, msg)
			return "", false
		}
		g.cache.put(key, p, g.cfg.Now())
	}
	x.principalID, x.authContext = p.principalID, p.context

	switch evaluate(p.statements, x.methodARN) {
	case denied:
		g.fail(x, api.AccessDenied, 0, msgExplicitDeny)
		return "", false
	case notAllowed:
		g.fail(x, api.AccessDenied, 0, msgNotAllowed)
		return "", false
	}
	return p.usageKey, true
}

// identityValue reads one identity source from the request.
func (g *Gateway) identityValue(x *exchange, src api.IdentitySource) string {
	switch src.Location {
	case api.InHeader:
		return headerValue(x.r.Header, src.Name)
	case api.InQueryString:
		return strings.Join(x.r.URL.Query()[src.Name], ",")
	case api.InContext:
		return g.contextValue(x, src.Name)
	}
	return "" // stage variables: the definition has none
}

// contextValue is a $context variable usable as an identity source.
func (g *Gateway) contextValue(x *exchange, name string) string {
	switch name {
	case "identity.sourceIp":
		return x.sourceIP
	case "identity.userAgent":
		return x.r.UserAgent()
	case "httpMethod":
		return x.r.Method
	case "resourcePath":
		return x.route.Path
	case "stage":
		return g.def.Stage
	}
	return ""
}

// invokeAuthorizer runs the authorizer and reads its answer. It returns
// the gateway response type of a failure, or "".
func (g *Gateway) invokeAuthorizer(x *exchange, token string) (policy, api.ResponseType) {
	var event []byte
	var err error
	if g.def.Authorizer.Type == api.Token {
		event, err = json.Marshal(tokenEvent{Type: "TOKEN", AuthorizationToken: token, MethodARN: x.methodARN})
	} else {
		event, err = requestEvent(g, x)
	}
	if err != nil {
		return policy{}, api.AuthorizerConfigurationError
	}
	out, failure := g.callAuthorizer(x, event)
	if failure != "" {
		return policy{}, failure
	}
	p, err := parseAnswer(out)
	if err != nil {
		x.authStatus = http.StatusInternalServerError
		return policy{}, api.AuthorizerConfigurationError
	}
	x.authStatus = http.StatusOK
	return p, ""
}

// callAuthorizer invokes the authorizer with event, for a REST or an HTTP
// API alike. Its error "Unauthorized" is api.Unauthorized (401), any other
// failure api.AuthorizerFailure (500); "" means it answered.
func (g *Gateway) callAuthorizer(x *exchange, event []byte) ([]byte, api.ResponseType) {
	x.authInvoked = true
	began := g.cfg.Now()
	out, err := g.cfg.Functions[g.def.Authorizer.Function].Invoke(x.r.Context(), event)
	x.authIntegration = g.cfg.Now().Sub(began)
	if err != nil {
		var fe FunctionError
		if errors.As(err, &fe) && fe.ErrorMessage() == msgUnauthorized {
			x.authStatus = http.StatusUnauthorized
			return nil, api.Unauthorized
		}
		x.authStatus = http.StatusInternalServerError
		return nil, api.AuthorizerFailure
	}
	return out, ""
}

type tokenEvent struct {
	Type               string `json:"type"`
	AuthorizationToken string `json:"authorizationToken"`
	MethodARN          string `json:"methodArn"`
}

var errMalformedAnswer = errors.New("malformed authorizer answer")

// parseAnswer reads a REST authorizer's answer, per
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html.
func parseAnswer(out []byte) (policy, error) {
	var a struct {
		PrincipalID    json.RawMessage `json:"principalId"`
		PolicyDocument *struct {
			Statement json.RawMessage `json:"Statement"`
		} `json:"policyDocument"`
		Context            map[string]json.RawMessage `json:"context"`
		UsageIdentifierKey string                     `json:"usageIdentifierKey"`
	}
	if err := json.Unmarshal(out, &a); err != nil {
		return policy{}, errMalformedAnswer
	}
	p := policy{usageKey: a.UsageIdentifierKey}
	if json.Unmarshal(a.PrincipalID, &p.principalID) != nil || p.principalID == "" {
		return policy{}, errMalformedAnswer
	}
	if a.PolicyDocument == nil || len(a.PolicyDocument.Statement) == 0 {
		return policy{}, errMalformedAnswer
	}
	raw := []json.RawMessage{a.PolicyDocument.Statement}
	if bytes.HasPrefix(bytes.TrimSpace(a.PolicyDocument.Statement), []byte("[")) {
		if json.Unmarshal(a.PolicyDocument.Statement, &raw) != nil {
			return policy{}, errMalformedAnswer
		}
	}
	for _, r := range raw {
		s, err := parseStatement(r)
		if err != nil {
			return policy{}, err
		}
		p.statements = append(p.statements, s)
	}
	if len(a.Context) > 0 {
		p.context = make(map[string]string, len(a.Context))
	}
	for k, v := range a.Context {
		s, ok := contextString(v)
		if !ok {
			return policy{}, errMalformedAnswer
		}
		p.context[k] = s
	}
	return p, nil
}

// contextString turns a context value into the string the integration
// sees: strings as they are, numbers and booleans as their JSON text.
// Objects, arrays and null are refused, as API Gateway refuses them.
func contextString(v json.RawMessage) (string, bool) {
	v = bytes.TrimSpace(v)
	if len(v) == 0 {
		return "", false
	}
	switch v[0] {
	case '"':
		var s string
		err := json.Unmarshal(v, &s)
		return s, err == nil
	case 't', 'f':
		return string(v), true
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(v), true
	}
	return "", false
}

func parseStatement(raw json.RawMessage) (statement, error) {
	var s struct {
		Effect      string          `json:"Effect"`
		Action      json.RawMessage `json:"Action"`
		Resource    json.RawMessage `json:"Resource"`
		NotAction   json.RawMessage `json:"NotAction"`
		NotResource json.RawMessage `json:"NotResource"`
		Condition   json.RawMessage `json:"Condition"`
	}
	if json.Unmarshal(raw, &s) != nil || s.NotAction != nil || s.NotResource != nil || s.Condition != nil {
		return statement{}, errMalformedAnswer
	}
	var st statement
	switch s.Effect {
	case "Allow":
		st.allow = true
	case "Deny":
	default:
		return statement{}, errMalformedAnswer
	}
	var ok1, ok2 bool
	st.actions, ok1 = stringOrList(s.Action)
	st.resources, ok2 = stringOrList(s.Resource)
	if !ok1 || !ok2 {
		return statement{}, errMalformedAnswer
	}
	return st, nil
}

func stringOrList(raw json.RawMessage) ([]string, bool) {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, true
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) > 0 {
		return list, true
	}
	return nil, false
}

type verdict uint8

const (
	notAllowed verdict = iota
	allowed
	denied
)

// evaluate applies IAM's rules: an explicit Deny wins, then an Allow, and
// no match is an implicit deny. Actions match case-insensitively, resource
// ARNs case-sensitively, both with wildcards.
func evaluate(statements []statement, methodARN string) verdict {
	v := notAllowed
	for _, s := range statements {
		if !matchAny(s.actions, "execute-api:invoke", true) || !matchAny(s.resources, methodARN, false) {
			continue
		}
		if !s.allow {
			return denied
		}
		v = allowed
	}
	return v
}

func matchAny(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p = strings.ToLower(p)
		}
		if iam.Match(p, s) {
			return true
		}
	}
	return false
}

// resultCache is API Gateway's authorizer result cache: policies by
// identity, for a TTL. It holds at most maxCached entries.
type resultCache struct {
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]cached
}

type cached struct {
	p       policy
	expires time.Time
}

const (
	maxCached    = 10000
	keepWhenFull = maxCached * 7 / 8
)

func newResultCache(ttl time.Duration) *resultCache {
	return &resultCache{ttl: ttl, entries: map[string]cached{}}
}

func (c *resultCache) get(key string, now time.Time) (policy, bool) {
	if c.ttl <= 0 {
		return policy{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok || !now.Before(e.expires) {
		return policy{}, false
	}
	return e.p, true
}

// flush empties the cache.
func (c *resultCache) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.entries)
}

func (c *resultCache) put(key string, p policy, now time.Time) {
	if c.ttl <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCached {
		// Make room for many entries at once, so that a flood of new
		// tokens costs each put a small share of one sweep rather than a
		// sweep each: first what has expired, then any entries, down to
		// keepWhenFull.
		for k, e := range c.entries {
			if !now.Before(e.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) <= keepWhenFull {
				break
			}
			delete(c.entries, k)
		}
	}
	c.entries[key] = cached{p: p, expires: now.Add(c.ttl)}
}

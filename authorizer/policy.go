package authorizer

import (
	"encoding/json"
	"maps"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-lambda-go/events"
)

// permits reports whether e may call the method ARN whose stage prefix is
// arn[:prefix], judged as API Gateway will judge the policy e is answered
// with.
func (e *entry) permits(arn []byte, prefix int) bool { return e.limit.permits(arn[prefix:]) }

// maxCachedPrefixes bounds how many stage prefixes an entry keeps answers
// for. One deployment sends one or two; the bound keeps a stream of unusual
// ARNs from growing memory.
const maxCachedPrefixes = 32

// answerCache keeps an entry's rendered Allow answers by stage prefix. Reads
// take no lock and allocate nothing: the map is replaced, never changed.
type answerCache struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[string][]byte]
}

func (c *answerCache) get(prefix []byte) ([]byte, bool) {
	if m := c.m.Load(); m != nil {
		b, ok := (*m)[string(prefix)]
		return b, ok
	}
	return nil, false
}

func (c *answerCache) put(prefix []byte, answer []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string][]byte{}
	if old := c.m.Load(); old != nil {
		if len(*old) >= maxCachedPrefixes {
			return // answered, just not kept
		}
		m = maps.Clone(*old)
	}
	m[string(prefix)] = answer
	c.m.Store(&m)
}

// answer returns e's REST answer for any request in the stage whose ARN
// prefix is given, rendered once per prefix and kept: Allow on the whole
// stage, or on exactly e's routes (see renderPolicy).
func (e *entry) answer(prefix []byte) []byte {
	if b, ok := e.answers.get(prefix); ok {
		return b
	}
	b := renderPolicy(e.id, e.limit, e.context(), e.usageKey, prefix)
	e.answers.put(prefix, b)
	return b
}

// renderPolicy returns a REST authorizer answer (the output format of
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html),
// encoded by encoding/json from aws-lambda-go's type, for principal limited
// to limit (nil: the whole stage), with context and usageKey. The Allow
// statement covers the whole stage ("<prefix>*/*"), or each route of the
// limit, never just the request's method ARN, and a limited caller's Deny
// statement what its Allow says beyond its routes and the paths refused to
// every limited caller (routeLimit). The answer names nothing of the
// request but its stage: so it is the same whichever route is called, and
// API Gateway's cache, which applies it to later requests, answers each
// as the authorizer would. A request off the routes is matched by no Allow
// (an implicit deny, 403) or by a Deny (an explicit one, 403), cached or
// not; with no route at all (a JWT whose scopes grant none) there is no
// Allow statement.
func renderPolicy(principal string, limit *routeLimit, context map[string]any, usageKey string, prefix []byte) []byte {
	statement := func(effect string, resources []string) events.IAMPolicyStatement {
		arns := make([]string, len(resources))
		for i, r := range resources {
			arns[i] = string(prefix) + r
		}
		return events.IAMPolicyStatement{Action: invokeAction, Effect: effect, Resource: arns}
	}
	var statements []events.IAMPolicyStatement
	if limit == nil {
		statements = append(statements, statement("Allow", []string{"*/*"}))
	} else {
		if len(limit.allow) > 0 {
			statements = append(statements, statement("Allow", limit.allow))
		}
		statements = append(statements, statement("Deny", limit.deny())) // never empty: pathDenies
	}
	return mustJSON(events.APIGatewayCustomAuthorizerResponse{
		PrincipalID:        principal,
		PolicyDocument:     events.APIGatewayCustomAuthorizerPolicy{Version: "2012-10-17", Statement: statements},
		Context:            context,
		UsageIdentifierKey: usageKey,
	})
}

// invokeAction is the one action an authorizer's policy names.
var invokeAction = []string{"execute-api:Invoke"}

// context is the context every answer carries: scalar values only, as API
// Gateway requires.
func (e *entry) context() map[string]any {
	return map[string]any{"keyId": e.id, "keyVersion": e.version}
}

// renderSimple returns an HTTP API simple response
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
func (e *entry) renderSimple(authorized bool) []byte {
	return mustJSON(events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: authorized, Context: e.context()})
}

// mustJSON encodes an answer. The answers hold only strings, slices of
// strings, booleans and maps of strings, which encoding/json always
// encodes.
func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("authorizer: encoding an answer: " + err.Error())
	}
	return b
}

// simpleDenied is the HTTP API answer for a caller without a valid key.
var simpleDenied = mustJSON(events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false})

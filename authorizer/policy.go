package authorizer

import (
	"maps"
	"sync"
	"sync/atomic"

	"tollgate/internal/iam"
)

// permits reports whether e may call the method ARN whose stage prefix is
// arn[:prefix], judged with the IAM rules API Gateway will apply to the
// policy e is answered with.
func (e *entry) permits(arn []byte, prefix int) bool {
	if e.resources == nil {
		return true
	}
	for _, r := range e.resources {
		if iam.Match(r, arn[prefix:]) {
			return true
		}
	}
	return false
}

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

// allowAnswer returns e's REST answer for a request in the stage whose ARN
// prefix is given: Allow on the whole stage, or on exactly e's routes.
func (e *entry) allowAnswer(prefix []byte) []byte {
	if b, ok := e.answers.get(prefix); ok {
		return b
	}
	b := e.renderPolicy(prefix, nil)
	e.answers.put(prefix, b)
	return b
}

// renderPolicy writes a REST authorizer answer (the output format of
// https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-lambda-authorizer-output.html).
// The Allow statement covers the whole stage ("<prefix>*/*"), or each of e's
// routes, never just the request's method ARN, so the answer stays right
// for every route while API Gateway caches it. When deny is not nil it is
// added as an explicit Deny: the method ARN of a request outside e's routes,
// which by construction no Allow resource covers.
func (e *entry) renderPolicy(prefix, deny []byte) []byte {
	b := make([]byte, 0, 256+len(prefix)*(1+len(e.resources))+len(deny))
	b = append(b, `{"principalId":`...)
	b = append(b, e.idJSON...)
	b = append(b, `,"policyDocument":{"Version":"2012-10-17","Statement":[{"Action":"execute-api:Invoke","Effect":"Allow","Resource":[`...)
	if e.resources == nil {
		b = append(b, '"')
		b = append(b, prefix...)
		b = append(b, `*/*"`...)
	}
	// The prefix passed apiStagePrefix and the resources routeResources:
	// ARN characters only, none of which JSON escapes.
	for i, r := range e.resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		b = append(b, prefix...)
		b = append(b, r...)
		b = append(b, '"')
	}
	b = append(b, "]}"...)
	if deny != nil {
		b = append(b, `,{"Action":"execute-api:Invoke","Effect":"Deny","Resource":["`...)
		b = append(b, deny...)
		b = append(b, `"]}`...)
	}
	b = append(b, "]},"...)
	b = e.appendContext(b)
	if e.usageKey != "" {
		b = append(b, `,"usageIdentifierKey":`...)
		b = append(b, e.usageKeyJSON...)
	}
	return append(b, '}')
}

// appendContext writes the context every answer carries: scalar values only,
// as API Gateway requires.
func (e *entry) appendContext(b []byte) []byte {
	b = append(b, `"context":{"keyId":`...)
	b = append(b, e.idJSON...)
	b = append(b, `,"keyVersion":"`...)
	b = append(b, e.version...) // a constant of letters
	return append(b, '"', '}')
}

// renderSimple writes an HTTP API simple response
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-lambda-authorizer.html).
func (e *entry) renderSimple(authorized bool) []byte {
	b := []byte(`{"isAuthorized":false,`)
	if authorized {
		b = []byte(`{"isAuthorized":true,`)
	}
	b = e.appendContext(b)
	return append(b, '}')
}

// simpleDenied is the HTTP API answer for a caller without a valid key.
var simpleDenied = []byte(`{"isAuthorized":false}`)

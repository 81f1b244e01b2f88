package conformance

import (
	"context"
	"fmt"
	"strings"
	"sync"
)

// Rows both kinds of API share: JWTs from the operator's issuer, and a
// route's own throttle.

const (
	srcJWTAuthorizer = "https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-jwt-authorizer.html"
	srcThrottling    = "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html"
	msgThrottled     = "Too Many Requests"
)

// jwtOn: the operator's token on a route it may call.
func jwtOn(ctx context.Context, t *Target) error {
	a, err := t.call(ctx, t.JWTRoute, t.JWT)
	if err != nil {
		return err
	}
	return expect(a, 200, "", "")
}

// cutSignature is a token with its signature left out: "header.payload.".
func cutSignature(token string) string {
	if i := strings.LastIndexByte(token, '.'); i >= 0 {
		return token[:i+1]
	}
	return token
}

// jwtCut: the operator's token without its signature is refused, never
// let through: with 401 by a REST API's authorizer or an HTTP API's JWT
// authorizer, with 403 by an HTTP API's Lambda authorizer of simple
// responses (isAuthorized false).
func jwtCut(ctx context.Context, t *Target) error {
	a, err := t.call(ctx, t.JWTRoute, cutSignature(t.JWT))
	if err != nil {
		return err
	}
	switch {
	case !t.HTTP:
		return expect(a, 401, msgUnauthorized, errUnauthorized)
	case t.JWTAuthorizer:
		return expect(a, 401, msgUnauthorized, "")
	default:
		return expect(a, 403, msgForbidden, "")
	}
}

// throttled: requests sent at once to a route with a throttle of its own,
// ten more than its burst, are answered 429 Too Many Requests past what
// the bucket holds, and the rest 200. The count is bounded: at most 110
// requests.
func throttled(ctx context.Context, t *Target) error {
	n := min(max(t.ThrottleBurst, 0), 100) + 10
	answers, err := t.atOnce(ctx, n, t.ThrottledRoute, t.Key)
	if err != nil {
		return err
	}
	count := map[int]int{}
	for _, a := range answers {
		count[a.status]++
		switch {
		case a.status == 429 && a.message() != msgThrottled:
			return fmt.Errorf("a 429 with message %q, want %q (answer: %s)", a.message(), msgThrottled, a)
		case a.status != 429 && a.status != 200:
			return fmt.Errorf("%s: %s, want 200 or 429", t.ThrottledRoute, a)
		}
	}
	if count[429] == 0 {
		return fmt.Errorf("%d requests at once to %s, of burst %d: none throttled (%d answered 200)", n, t.ThrottledRoute, t.ThrottleBurst, count[200])
	}
	return nil
}

// atOnce sends n requests to route with key together, released at one
// instant, and returns their answers, or the first error.
func (t *Target) atOnce(ctx context.Context, n int, route, key string) ([]answer, error) {
	answers := make([]answer, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			answers[i], errs[i] = t.call(ctx, route, key)
		})
	}
	close(start)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return answers, nil
}

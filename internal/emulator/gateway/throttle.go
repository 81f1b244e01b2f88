package gateway

import (
	"sync"
	"time"

	"tollgate/api"
)

// bucket is a route's throttle, API Gateway's token bucket algorithm: it
// holds up to BurstLimit tokens, refilled at RateLimit a second, and each
// request takes one or is throttled
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
type bucket struct {
	mu     sync.Mutex
	limit  api.Throttle
	tokens float64
	last   time.Time
}

func newBucket(t api.Throttle, now time.Time) *bucket {
	return &bucket{limit: t, tokens: float64(t.BurstLimit), last: now}
}

// take reports whether a request at now may pass, and takes its token.
func (b *bucket) take(now time.Time) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(float64(b.limit.BurstLimit), b.tokens+elapsed.Seconds()*b.limit.RateLimit)
		b.last = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

package gateway

import (
	"testing"
	"time"

	"tollgate/api"
)

// A route's throttle is a token bucket: its burst passes at once, then
// requests pass at its rate; the rest are THROTTLED (429), before the
// authorizer runs, and other routes are not counted against it
// (https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-request-throttling.html).
func TestRouteThrottle(t *testing.T) {
	s := newSetup(t, func(c *Config) {
		c.Definition.Routes[0].Throttle = &api.Throttle{RateLimit: 2, BurstLimit: 3} // GET /hello
	})
	status := func() int { return s.do(call{auth: goodToken}).Code }
	for i := range 3 {
		if got := status(); got != 200 {
			t.Fatalf("request %d of the burst = %d, want 200", i+1, got)
		}
	}
	calls := s.auth.calls.Load()
	rec := s.do(call{auth: goodToken})
	if rec.Code != 429 || rec.Body.String() != gatewayBody(rec, "Too Many Requests", api.Throttled) {
		t.Fatalf("past the burst = %d %s, want 429 THROTTLED", rec.Code, rec.Body)
	}
	if s.auth.calls.Load() != calls {
		t.Error("a throttled request reached the authorizer")
	}
	if got := s.do(call{path: "/customers", auth: goodToken}).Code; got != 200 {
		t.Errorf("another route = %d, want 200: throttles are per route", got)
	}
	s.clock.Advance(500 * time.Millisecond) // one token at 2 a second
	if got := status(); got != 200 {
		t.Errorf("after one token's time = %d, want 200", got)
	}
	if got := status(); got != 429 {
		t.Errorf("the next at once = %d, want 429", got)
	}
	s.clock.Advance(time.Hour) // refilled to the burst, not beyond
	for i := range 3 {
		if got := status(); got != 200 {
			t.Fatalf("request %d after an hour = %d, want 200", i+1, got)
		}
	}
	if got := status(); got != 429 {
		t.Errorf("past the refilled burst = %d, want 429", got)
	}
}

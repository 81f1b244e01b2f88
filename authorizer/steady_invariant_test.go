package authorizer

import (
	"math/rand/v2"
	"testing"
	"time"

	"tollgate/internal/testkit/property"
)

// The promise of docs/keys.md: with the extension (as deployed) and
// Secrets Manager answering within the fetch timeout, an environment
// invoked at least once every TTL minus the refresh margin never waits
// for a refresh, however it is frozen between invocations.
//
// TestInvariantSteadyTrafficNeverWaits checks it over generated
// schedules of the removal model (removalSim): healthy fetches of random
// latency, freezes after most invocations, key changes, and gaps between
// invocations drawn below the bound, many just under it and many short,
// so that a request just before the refresh threshold is followed by one
// just under the bound.
func TestInvariantSteadyTrafficNeverWaits(t *testing.T) {
	property.Run(t, "steady traffic never waits", 60, func(t *testing.T, rng *rand.Rand, counts *property.Counts) {
		s := newRemovalSim(t, rng, counts)
		s.ext, s.healthy = true, true
		s.a.store.afterResponse.Store(true)
		s.steadyGap = SteadyGap(s.ttl)
		if err := s.await(s.now.Add(10*time.Second), s.a.Load); err != nil {
			t.Fatalf("first load: %v", err)
		}
		for range 150 {
			next := s.now.Add(s.gap())
			if s.rng.IntN(3) == 0 {
				s.advance(s.now.Add(time.Duration(s.rng.Int64N(int64(next.Sub(s.now))))))
				s.change()
			}
			s.advance(next)
			s.request()
			if s.requestWaited {
				s.fatalf("a request waited for a refresh, with every gap under %s", s.steadyGap)
			}
		}
	})
}

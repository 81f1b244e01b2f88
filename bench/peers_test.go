package bench

import (
	"context"
	"testing"
)

// The peers decide as tollgate does on every event the benchmarks use, so
// that the figures compare implementations, not answers; and only the seed
// pattern calls Secrets Manager per request.
func TestPeersAgree(t *testing.T) {
	ctx := context.Background()
	for _, keys := range []int{1, 100} {
		ep, kinds := deciders(t, keys)
		for _, tt := range kinds {
			for valid, want := range map[bool]string{true: "allow", false: "deny"} {
				ev := event(t, tt.fixture, valid)
				for _, s := range tt.subjects {
					calls := ep.calls.Load()
					if got := decision(s.h.Invoke(ctx, ev)); got != want {
						t.Errorf("keys=%d %s valid=%v: %s decided %s, want %s", keys, tt.name, valid, s.impl, got, want)
					}
					wantCalls := int64(0)
					if s.impl == "seed" {
						wantCalls = 1
					}
					if got := ep.calls.Load() - calls; got != wantCalls {
						t.Errorf("keys=%d %s: %s made %d Secrets Manager calls, want %d", keys, tt.name, s.impl, got, wantCalls)
					}
				}
			}
		}
	}
}

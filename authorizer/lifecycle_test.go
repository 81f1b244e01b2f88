package authorizer

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"
)

// The window in which a key that is meant to be gone is still accepted by
// the authorizer, with a fake clock, for each way a key ends. The
// documented bounds (package doc, "Key lifecycle"):
//
//   - expired, rotated out: not one instant past its expires or until;
//   - removed or disabled in the secret: less than TTL after the change
//     (keys are used for at most TTL after the fetch that read them
//     started), however the requests are spaced;
//
// API Gateway adds its result cache TTL to each, for answers it cached.
func TestKeyEndWindows(t *testing.T) {
	t.Run("expired and rotated out end at their instant", func(t *testing.T) {
		clock := newFakeClock()
		end := testNow.Add(90 * time.Second)
		src := &stages{values: map[string][]byte{StageCurrent: fmt.Appendf(nil, `{"keys":[
			{"id":"temp","sha256":"%s","expires":"%s"},
			{"id":"mobile-app","sha256":"%s","previous":[{"sha256":"%s","until":"%s"}]}]}`,
			Digest(ordersKey), end.Format(time.RFC3339), Digest(mobileKey), Digest(oldMobileKey), end.Format(time.RFC3339))}}
		a, logs := newTestAuthorizerAt(t, clock.Now, Config{}, src)
		for _, tt := range []struct{ key, reason string }{{ordersKey, reasonKeyExpired}, {oldMobileKey, reasonKeyRotatedOut}} {
			clock.Set(end.Add(-time.Nanosecond))
			if _, err := a.Invoke(context.Background(), tokenEvent("Bearer "+tt.key, testARN)); err != nil {
				t.Errorf("%s: a nanosecond before its end: %v", tt.reason, err)
			}
			clock.Set(end)
			if _, err := a.Invoke(context.Background(), tokenEvent("Bearer "+tt.key, testARN)); !errors.Is(err, ErrUnauthorized) {
				t.Errorf("%s: at its end: %v, want Unauthorized", tt.reason, err)
			}
			last := logs.lines(t)[len(logs.lines(t))-1]
			if last["reason"] != tt.reason || last["principal"] == "" {
				t.Errorf("logged %v, want reason %q with the principal", last, tt.reason)
			}
		}
		if _, err := a.Invoke(context.Background(), tokenEvent("Bearer "+mobileKey, testARN)); err != nil {
			t.Errorf("the current key after the previous one ended: %v", err)
		}
	})

	// Removal and disabling: requests every gap, in both refresh modes,
	// with the change at several points of the refresh cycle.
	for _, change := range []string{"removed", "disabled"} {
		for _, afterResponse := range []bool{false, true} {
			for _, gap := range []time.Duration{time.Second, 100 * time.Second, 4 * time.Minute, 7 * time.Minute} {
				name := fmt.Sprintf("%s/extension=%v/every %s", change, afterResponse, gap)
				t.Run(name, func(t *testing.T) {
					var longest time.Duration
					for _, offset := range []time.Duration{0, 30 * time.Second, 149 * time.Second, 150 * time.Second, 299 * time.Second} {
						w := removalWindow(t, change, afterResponse, gap, offset)
						longest = max(longest, w)
						if w >= DefaultTTL {
							t.Errorf("change %s after the load: accepted %s after it, want less than the TTL %s", offset, w, DefaultTTL)
						}
						// Under steady traffic the keys are refreshed ahead
						// at RefreshMargin: a change right after a load is
						// seen exactly then.
						if gap == time.Second && offset == 0 && w != RefreshMargin(DefaultTTL) {
							t.Errorf("steady traffic, change at the load: window %s, want exactly %s", w, RefreshMargin(DefaultTTL))
						}
					}
					t.Logf("longest window: %s (the bound: under the TTL, %s)", longest, DefaultTTL)
				})
			}
		}
	}
}

// removalWindow loads a keyring, changes it (removing or disabling
// orders-bot) offset after the load, sends a request every gap, and returns
// how long after the change the key was last accepted (0 if never).
func removalWindow(t *testing.T, change string, afterResponse bool, gap, offset time.Duration) time.Duration {
	t.Helper()
	clock := newFakeClock()
	both := `{"keys":[{"id":"mobile-app","sha256":"` + Digest(mobileKey) + `"},{"id":"orders-bot","sha256":"` + Digest(ordersKey) + `"}]}`
	src := &stages{values: map[string][]byte{StageCurrent: []byte(both)}}
	a, _ := newTestAuthorizerAt(t, clock.Now, Config{}, src)
	a.store.afterResponse.Store(afterResponse)
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	after := `{"keys":[{"id":"mobile-app","sha256":"` + Digest(mobileKey) + `"}]}`
	if change == "disabled" {
		after = `{"keys":[{"id":"mobile-app","sha256":"` + Digest(mobileKey) + `"},{"id":"orders-bot","sha256":"` + Digest(ordersKey) + `","disabled":true}]}`
	}
	changed := testNow.Add(offset)
	var last time.Duration
	applied := false
	for now := testNow.Add(gap); now.Before(changed.Add(3 * DefaultTTL)); now = now.Add(gap) {
		// Fetches happen only at request instants, so a change made
		// between two requests is applied before the later one.
		if !applied && !now.Before(changed) {
			src.set(map[string][]byte{StageCurrent: []byte(after)}, nil)
			applied = true
		}
		clock.Set(now)
		_, err := a.Invoke(context.Background(), tokenEvent("Bearer "+ordersKey, testARN))
		if afterResponse {
			a.store.refreshDue(context.Background())
		}
		waitIdle(t, a)
		if err == nil && !now.Before(changed) {
			last = now.Sub(changed)
		}
	}
	return last
}

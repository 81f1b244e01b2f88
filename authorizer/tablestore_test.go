package authorizer

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeTable answers GetKeyItem from items by digest, counting calls.
type fakeTable struct {
	mu    sync.Mutex
	items map[string]KeyItem
	calls int
	err   error
}

func (f *fakeTable) GetKeyItem(_ context.Context, _, digest string) (KeyItem, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return KeyItem{}, false, f.err
	}
	it, ok := f.items[digest]
	return it, ok, nil
}

func (f *fakeTable) put(key string, it KeyItem) {
	f.mu.Lock()
	defer f.mu.Unlock()
	it.SHA256 = Digest(key)
	f.items[it.SHA256] = it
}

func (f *fakeTable) remove(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.items, Digest(key))
}

// Issue 32: a key looked up in the table keeps what the
// keyring promises of it: its routes, its expiry, a rotated-out key's
// grace (which the client's expiry also ends), a disabled client.
func TestTableStoreKeepsTheKeyringsRules(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	f := &fakeTable{items: map[string]KeyItem{}}
	f.put(mobileKey, KeyItem{ID: "mobile"})
	f.put(ordersKey, KeyItem{ID: "orders", Routes: []string{"POST /orders"}})
	f.put("expired key 0123456789abcdefghijklmnop", KeyItem{ID: "old", Expires: now.Add(-time.Hour)})
	f.put("in grace 0123456789abcdefghijklmnopqrs", KeyItem{ID: "mobile", Until: now.Add(time.Hour)})
	f.put("grace over 0123456789abcdefghijklmnopq", KeyItem{ID: "mobile", Until: now.Add(-time.Hour)})
	f.put("grace cut 0123456789abcdefghijklmnopqr", KeyItem{ID: "mobile", Until: now.Add(time.Hour), Expires: now.Add(-time.Minute)})
	f.put("disabled 0123456789abcdefghijklmnopqrs", KeyItem{ID: "gone", Disabled: true})
	s := newTableStore(f, "t", 5*time.Minute, time.Minute, 100, func() time.Time { return now })
	for _, tc := range []struct {
		token, id, version, refusal string
		limited                     bool
	}{
		{mobileKey, "mobile", versionCurrent, "", false},
		{ordersKey, "orders", versionCurrent, "", true},
		{"expired key 0123456789abcdefghijklmnop", "old", versionCurrent, reasonKeyExpired, false},
		{"in grace 0123456789abcdefghijklmnopqrs", "mobile", versionPrevious, "", false},
		{"grace over 0123456789abcdefghijklmnopq", "mobile", versionPrevious, reasonKeyRotatedOut, false},
		{"grace cut 0123456789abcdefghijklmnopqr", "mobile", versionPrevious, reasonKeyExpired, false},
		{"disabled 0123456789abcdefghijklmnopqrs", "gone", versionCurrent, reasonKeyDisabled, false},
	} {
		e, err := s.lookup(context.Background(), []byte(tc.token), time.Second)
		if err != nil || e == nil {
			t.Fatalf("%s: %v %v", tc.id, e, err)
		}
		if e.id != tc.id || e.version != tc.version || e.usableAt(now) != tc.refusal || (e.limit != nil) != tc.limited {
			t.Errorf("%s: id %s version %s refusal %q limited %v", tc.token[:12], e.id, e.version, e.usableAt(now), e.limit != nil)
		}
	}
	if e, err := s.lookup(context.Background(), []byte(unknownKey), time.Second); e != nil || err != nil {
		t.Errorf("an unknown key: %v %v", e, err)
	}
	// An item of another shape, and a table that does not answer, are
	// errors (the caller fails closed), never cached.
	f.put("bad item 0123456789abcdefghijklmnopqrs", KeyItem{ID: "tgk_not an id"})
	if _, err := s.lookup(context.Background(), []byte("bad item 0123456789abcdefghijklmnopqrs"), time.Second); err == nil {
		t.Error("an item with an id the keyring refuses was used")
	}
	f.err = errors.New("throttled")
	calls := f.calls
	for range 2 {
		if e, err := s.lookup(context.Background(), []byte("never asked 0123456789abcdefghijklmno"), time.Second); e != nil || err == nil {
			t.Errorf("a failed read: %v %v", e, err)
		}
	}
	if f.calls != calls+2 {
		t.Errorf("a failed read was cached: %d calls, want %d", f.calls, calls+2)
	}
}

// No key removed from the table is served past the store's TTL after its
// removal, whatever the schedule of lookups, removals and guesses (seeded,
// generated): the revocation bound of the keyring, kept by the table. The
// reads over the same schedules: a lookup whose answer is cached and
// fresh reads nothing, any other reads once; without eviction a key is
// read again only once its answer expired, a guess at most once per
// negative TTL; and the cache never holds more than its bound.
func TestTableStoreRemovalBound(t *testing.T) {
	const ttl, negTTL = 5 * time.Minute, time.Minute
	guesses := []string{unknownKey, "a guess 0123456789abcdefghijklmnopqrstu", "another guess 0123456789abcdefghijklmno"}
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 32))
		start := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
		clock := start
		f := &fakeTable{items: map[string]KeyItem{}}
		keys := []string{mobileKey, ordersKey, "third key 0123456789abcdefghijklmnopq"}
		for i, k := range keys {
			f.put(k, KeyItem{ID: fmt.Sprint("c", i)})
		}
		tokens := append(slices.Clone(keys), guesses...)
		now := func() time.Time { return clock }
		// s evicts (it keeps 2); roomy keeps everything, so that its
		// reads are the bound itself.
		s := newTableStore(f, "t", ttl, negTTL, 2, now)
		roomyTable := &fakeTable{items: f.items}
		roomy := newTableStore(roomyTable, "t", ttl, negTTL, 1000, now)
		removed := map[string]time.Time{}
		type read struct {
			at    time.Time
			found bool
		}
		lastRead := map[string]read{}
		for range 80 {
			clock = clock.Add(time.Duration(rng.IntN(int(3 * time.Minute))))
			k := tokens[rng.IntN(len(tokens))]
			if _, gone := removed[k]; !gone && slices.Contains(keys, k) && rng.IntN(8) == 0 {
				f.remove(k)
				removed[k] = clock
			}
			// A fresh answer in the cache is never read again; anything
			// else is read once.
			fresh := false
			if el, ok := s.cache[sha256.Sum256([]byte(k))]; ok {
				c := el.Value.(*cachedKey)
				fresh = clock.Sub(c.at) < map[bool]time.Duration{true: ttl, false: negTTL}[c.e != nil]
			}
			calls := f.calls
			e, err := s.lookup(context.Background(), []byte(k), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[bool]int{true: 0, false: 1}[fresh]; f.calls-calls != want {
				t.Fatalf("seed %d: %d reads for a lookup whose answer was cached fresh: %v, want %d", seed, f.calls-calls, fresh, want)
			}
			if at, gone := removed[k]; gone && e != nil && clock.Sub(at) >= ttl {
				t.Fatalf("seed %d: key removed at %v still served at %v", seed, at, clock)
			}
			if s.lru.Len() > 2 || len(s.cache) > 2 {
				t.Fatalf("seed %d: %d cached, past the bound 2", seed, s.lru.Len())
			}
			// Without eviction, a key is read again only once its answer
			// has expired: a guess at most once per negative TTL.
			calls = roomyTable.calls
			e, err = roomy.lookup(context.Background(), []byte(k), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			if roomyTable.calls > calls {
				if last, ok := lastRead[k]; ok {
					bound := map[bool]time.Duration{true: ttl, false: negTTL}[last.found]
					if clock.Sub(last.at) < bound {
						t.Fatalf("seed %d: read again %v after the last read, within %v", seed, clock.Sub(last.at), bound)
					}
				}
				lastRead[k] = read{clock, e != nil}
			}
		}
	}

	clock := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	f := &fakeTable{items: map[string]KeyItem{}}
	s := newTableStore(f, "t", ttl, negTTL, 1000, func() time.Time { return clock })
	for range 10 {
		_, _ = s.lookup(context.Background(), []byte(unknownKey), time.Second)
	}
	if f.calls != 1 {
		t.Errorf("a guess repeated within the negative TTL: %d reads, want 1", f.calls)
	}
	clock = clock.Add(negTTL)
	_, _ = s.lookup(context.Background(), []byte(unknownKey), time.Second)
	for i := range 50 {
		_, _ = s.lookup(context.Background(), fmt.Appendf(nil, "guess %d 0123456789abcdefghijklmnopqrstu", i), time.Second)
	}
	if f.calls != 52 {
		t.Errorf("%d reads for a repeated guess after its negative TTL and 50 distinct ones, want 52", f.calls)
	}
}

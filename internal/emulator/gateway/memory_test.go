package gateway

import (
	"context"
	"io"
	"runtime"
	"sync"
	"testing"
	"time"

	"tollgate/handler"
)

// hoarder is a function that keeps every event it is given: a planted
// leak the memory test must see.
type hoarder struct {
	mu   sync.Mutex
	kept [][]byte
}

func (h *hoarder) Invoke(ctx context.Context, event []byte) ([]byte, error) {
	h.mu.Lock()
	h.kept = append(h.kept, event)
	h.mu.Unlock()
	return handler.Handler{}.Invoke(ctx, event)
}

// Serving a request keeps nothing once it is answered: after thousands
// more requests, allowed, refused (401) and denied (403), through the
// real authorizer and handler, the live heap is what it was, to within a
// few bytes a request. This is the in-process side of tollverify's load,
// which judges the resident memory of the gateway's processes; a planted
// leak of one event a request shows that the test sees what it is after.
func TestRequestsRetainNothing(t *testing.T) {
	const (
		warm     = 500
		measured = 5000
		perReq   = 40 // bytes a request the live heap may grow by
	)
	calls := []struct {
		call
		status int
	}{
		{call{auth: goodToken}, 200},
		{call{auth: "Bearer tg_test_unknown_key_0123456789abcdefghijklm"}, 401},
		{call{auth: "Bearer " + ordersKey, path: "/customers"}, 200},
		{call{auth: "Bearer " + ordersKey}, 403},
		{call{}, 401},
		{call{method: "POST", path: "/orders", auth: goodToken, body: `{"item":"tea"}`}, 200},
	}
	for _, tt := range []struct {
		name    string
		ttl     time.Duration
		handler Invoker
		leaks   bool
	}{
		{"uncached", 0, handler.Handler{}, false},
		{"cached", 300 * time.Second, handler.Handler{}, false},
		{"a planted leak", 0, &hoarder{}, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := newSetup(t, func(c *Config) {
				c.Definition.Authorizer.ResultTTL = tt.ttl
				c.Functions = map[string]Invoker{"authorizer": newRealAuthorizer(t, io.Discard), "handler": tt.handler}
				c.AccessLog = io.Discard
			})
			serve := func(n int) {
				for i := range n {
					c := calls[i%len(calls)]
					if rec := s.do(c.call); rec.Code != c.status {
						t.Fatalf("%s %s with %q = %d, want %d: %s", c.method, c.path, c.auth, rec.Code, c.status, rec.Body)
					}
				}
			}
			serve(warm)
			before := liveHeap()
			serve(measured)
			grew := int64(liveHeap()) - int64(before)
			t.Logf("live heap %d → %d bytes (%+d B a request)", before, before+uint64(grew), grew/measured)
			if leaked := grew > perReq*measured; leaked != tt.leaks {
				t.Errorf("live heap grew by %d bytes over %d requests (%d B a request); a leak is over %d B a request, want leak = %v",
					grew, measured, grew/measured, perReq, tt.leaks)
			}
		})
	}
}

// liveHeap is the heap's size after a collection: what is still reachable.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // a second cycle frees what the first left to finalizers and pools
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

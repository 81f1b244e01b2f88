package verify

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// A server that answers one target wrongly, and with a 500 sometimes: the
// load counts exactly those answers.
func TestLoad(t *testing.T) {
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer good":
			fmt.Fprint(w, `{"principal":"p"}`)
		case "Bearer impostor":
			fmt.Fprint(w, `{"principal":"someone else"}`)
		case "Bearer flaky":
			w.WriteHeader(500)
		default:
			w.WriteHeader(401)
		}
		n++
	}))
	defer srv.Close()
	targets := []Target{
		{Name: "good", Method: "GET", Path: "/", Token: "Bearer good", Status: 200, Principal: "p"},
		{Name: "impostor", Method: "GET", Path: "/", Token: "Bearer impostor", Status: 200, Principal: "p"},
		{Name: "flaky", Method: "POST", Path: "/", Token: "Bearer flaky", Status: 200},
		{Name: "none", Method: "GET", Path: "/", Status: 401},
	}
	r := Load(context.Background(), srv.URL, targets, 1, time.Minute, 400)
	if r.Requests != 400 || r.Wrong != 200 || r.Unexpected5xx != 100 || r.Errors != 0 {
		t.Errorf("Load = %+v, want 400 requests, 200 wrong, 100 5xx, no errors", r)
	}
	if r.P50 <= 0 || r.P99 < r.P50 || r.Max < r.P99 || r.RPS <= 0 || len(r.Examples) == 0 {
		t.Errorf("Load = %+v: want latencies, a rate and examples", r)
	}
}

// The time bound ends a load that the request bound would not.
func TestLoadIsBoundedInTime(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer srv.Close()
	r := Load(context.Background(), srv.URL, []Target{{Name: "x", Method: "GET", Path: "/", Status: 200}}, 4, 200*time.Millisecond, 0)
	if r.Requests == 0 || r.Errors != 0 || r.Wrong != 0 {
		t.Errorf("Load = %+v", r)
	}
}

// With maxRequests the number of targets, each target is sent once,
// whatever the concurrency: a load of distinct keys reaches every key.
func TestLoadSendsEachTargetOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Authorization")]++
		mu.Unlock()
		w.WriteHeader(401)
	}))
	defer srv.Close()
	var targets []Target
	for i := range 500 {
		targets = append(targets, Target{Name: "k", Method: "GET", Path: "/", Token: fmt.Sprint("Bearer ", i), Status: 401})
	}
	r := Load(context.Background(), srv.URL, targets, 16, time.Minute, len(targets))
	if r.Requests != 500 || r.Wrong != 0 || len(seen) != 500 {
		t.Fatalf("%d requests, %d wrong, %d distinct tokens; want each of 500 once", r.Requests, r.Wrong, len(seen))
	}
	for tok, n := range seen {
		if n != 1 {
			t.Errorf("%s sent %d times", tok, n)
		}
	}
}

//go:build unix

package local

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// go test ./internal/emulator/local -run TestLoad -v -load measures throughput and
// latency. Without -load the same generator runs a short bounded burst
// and checks only the answers.
var (
	loadFlag        = flag.Bool("load", false, "measure the gateway under load (TestLoad)")
	loadConcurrency = flag.Int("load-concurrency", 16, "concurrent clients with -load")
)

type loadResult struct {
	n          int
	elapsed    time.Duration
	latencies  []time.Duration
	badAnswers int64
}

func (r loadResult) String() string {
	slices.Sort(r.latencies)
	q := func(p float64) time.Duration { return r.latencies[int(p*float64(len(r.latencies)-1))] }
	return fmt.Sprintf("%d requests in %v: %.0f req/s, p50 %v, p99 %v, max %v",
		r.n, r.elapsed.Round(time.Millisecond), float64(r.n)/r.elapsed.Seconds(),
		q(0.50).Round(time.Microsecond), q(0.99).Round(time.Microsecond), r.latencies[len(r.latencies)-1].Round(time.Microsecond))
}

// load sends n GET requests to url with token from c workers, bounded by
// limit in time, and records every latency and every answer that is not
// 200.
func load(t *testing.T, url, token string, n, c int, limit time.Duration) loadResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: c}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var bad atomic.Int64
	lat := make([][]time.Duration, c)
	var wg sync.WaitGroup
	began := time.Now()
	for w := range c {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
				req.Header.Set("Authorization", token)
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				lat[w] = append(lat[w], time.Since(t0))
				if resp.StatusCode != 200 {
					bad.Add(1)
				}
			}
		})
	}
	wg.Wait()
	r := loadResult{elapsed: time.Since(began), badAnswers: bad.Load()}
	for _, l := range lat {
		r.latencies = append(r.latencies, l...)
	}
	r.n = len(r.latencies)
	if ctx.Err() != nil {
		t.Fatalf("load did not finish within %v: %d of %d answered", limit, r.n, n)
	}
	return r
}

func TestLoad(t *testing.T) {
	n, c := 200, 8
	if *loadFlag {
		n, c = 20000, *loadConcurrency
	}
	for _, tt := range []struct {
		name string
		ttl  time.Duration
	}{
		{"cached (result TTL 5m)", 5 * time.Minute},
		{"uncached (result TTL 0)", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ttl := tt.ttl
			m := start(t, func(cfg *Config) { cfg.TTL = &ttl })
			// Warm up: one instance of each function, and the cache.
			want(t, send(t, m, "GET", "/hello", "Bearer "+mobileKey, ""), 200, "mobile-app", "")
			r := load(t, m.URL+"/hello", "Bearer "+mobileKey, n, c, 5*time.Minute)
			if r.badAnswers != 0 {
				t.Fatalf("%d of %d answers were not 200", r.badAnswers, n)
			}
			auth := m.Pool("authorizer").Stats()
			if tt.ttl > 0 && auth.Invocations != 1 {
				t.Errorf("authorizer invoked %d times with the cache on, want 1", auth.Invocations)
			}
			if tt.ttl == 0 && auth.Invocations != int64(n)+1 {
				t.Errorf("authorizer invoked %d times with the cache off, want %d", auth.Invocations, n+1)
			}
			t.Logf("%s, concurrency %d; authorizer instances %d, handler instances %d", r, c,
				auth.ColdStarts, m.Pool("handler").Stats().ColdStarts)
		})
	}
}

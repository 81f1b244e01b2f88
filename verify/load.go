package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Target is one kind of request in a load, with the answer it must get.
type Target struct {
	Name      string `json:"name"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Token     string `json:"token,omitempty"` // the Authorization value; "" sends none
	Status    int    `json:"status"`
	Principal string `json:"principal,omitempty"` // the principal a 200's body must name
}

// LoadResult is what a load run saw.
type LoadResult struct {
	Requests      int           `json:"requests"`
	Wrong         int           `json:"wrong"`         // not the status, or the principal, the target wants
	Unexpected5xx int           `json:"unexpected5xx"` // every 5xx: no target expects one
	Errors        int           `json:"errors"`        // requests that got no answer
	Elapsed       time.Duration `json:"elapsed"`
	RPS           float64       `json:"rps"`
	P50           time.Duration `json:"p50"`
	P99           time.Duration `json:"p99"`
	Max           time.Duration `json:"max"`
	Examples      []string      `json:"examples,omitempty"` // the first few wrong answers
}

// Load sends requests to base from concurrency workers for duration (and
// at most maxRequests in all, if that is not 0), the workers taking
// targets in turn (the n-th request sent is targets[n % len(targets)], so
// that maxRequests = len(targets) sends each once), over keep-alive
// connections, and checks every answer.
func Load(ctx context.Context, base string, targets []Target, concurrency int, duration time.Duration, maxRequests int) LoadResult {
	ctx, cancel := context.WithTimeout(ctx, duration)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency}}
	defer client.CloseIdleConnections()

	workers := make([]loadWorker, concurrency)
	var mu sync.Mutex
	sent := 0
	take := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if maxRequests > 0 && sent >= maxRequests {
			return 0, false
		}
		sent++
		return sent - 1, true
	}
	var wg sync.WaitGroup
	began := time.Now()
	for w := range workers {
		wg.Go(func() {
			me := &workers[w]
			for ctx.Err() == nil {
				i, ok := take()
				if !ok {
					break
				}
				tg := targets[i%len(targets)]
				req, err := http.NewRequestWithContext(ctx, tg.Method, base+tg.Path, strings.NewReader(map[bool]string{true: "{}"}[tg.Method == "POST"]))
				if err != nil {
					panic(err) // targets are ours
				}
				if tg.Token != "" {
					req.Header.Set("Authorization", tg.Token)
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						me.errors++
						me.wrong++
						me.example(fmt.Sprintf("%s: %v", tg.Name, err))
					}
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				_ = resp.Body.Close()
				me.lat = append(me.lat, time.Since(t0))
				if resp.StatusCode >= 500 {
					me.fivexx++
				}
				if why := tg.check(resp.StatusCode, body); why != "" {
					me.wrong++
					me.example(tg.Name + ": " + why)
				}
			}
		})
	}
	wg.Wait()
	r := LoadResult{Elapsed: time.Since(began)}
	var lat []time.Duration
	for _, w := range workers {
		lat = append(lat, w.lat...)
		r.Wrong += w.wrong
		r.Unexpected5xx += w.fivexx
		r.Errors += w.errors
		for _, e := range w.examples {
			if len(r.Examples) < 10 {
				r.Examples = append(r.Examples, e)
			}
		}
	}
	r.Requests = len(lat) + r.Errors
	if len(lat) > 0 {
		slices.Sort(lat)
		q := func(p float64) time.Duration { return lat[int(p*float64(len(lat)-1))] }
		r.P50, r.P99, r.Max = q(0.50), q(0.99), lat[len(lat)-1]
		r.RPS = float64(len(lat)) / r.Elapsed.Seconds()
	}
	return r
}

// loadWorker is one worker's tally.
type loadWorker struct {
	lat                   []time.Duration
	wrong, fivexx, errors int
	examples              []string
}

func (w *loadWorker) example(s string) {
	if len(w.examples) < 10 {
		w.examples = append(w.examples, s)
	}
}

// check returns why an answer is wrong for t, or "".
func (t Target) check(status int, body []byte) string {
	if status != t.Status {
		return fmt.Sprintf("status %d, want %d: %.200s", status, t.Status, body)
	}
	if t.Status == http.StatusOK && t.Principal != "" {
		var b struct{ Principal string }
		if err := json.Unmarshal(body, &b); err != nil || b.Principal != t.Principal {
			return fmt.Sprintf("principal %q, want %q", b.Principal, t.Principal)
		}
	}
	return ""
}

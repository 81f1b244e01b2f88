package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/emulator/local"
	"tollgate/internal/testkit/leakscan"
	"tollgate/verify"
)

// The load step: the local gateway under load from a second process, and
// its memory.

func load(ctx context.Context, root string, o options, b *strings.Builder) bool {
	dir, err := os.MkdirTemp("", "tollverify-load")
	if err != nil {
		fmt.Fprintf(b, "load: %v\n", err)
		return false
	}
	defer func() { _ = os.RemoveAll(dir) }()
	bin := filepath.Join(dir, "tollgate-local")
	if out, err := goCmd(ctx, root, nil, "build", "-o", bin, "./cmd/local/internal/local"); err != nil {
		fmt.Fprintf(b, "load: building cmd/local: %v\n%s\n", err, out)
		return false
	}
	full, _, err := local.NewKeyring("full")
	if err != nil {
		fmt.Fprintf(b, "load: %v\n", err)
		return false
	}
	scoped, _, _ := local.NewKeyring("scoped")
	unknown, _, _ := local.NewKeyring("nobody")
	keys := filepath.Join(dir, "keyring.json")
	doc := fmt.Sprintf(`{"keys":[{"id":"full","key":%q},{"id":"scoped","key":%q,"routes":["GET /customers"]}]}`, full, scoped)
	if err := os.WriteFile(keys, []byte(doc), 0o600); err != nil {
		fmt.Fprintf(b, "load: %v\n", err)
		return false
	}
	// A mix of valid, route-scoped and invalid keys, half of it allowed.
	targets := []verify.Target{
		{Name: "full key, GET /hello", Method: "GET", Path: "/hello", Token: "Bearer " + full, Status: 200, Principal: "full"},
		{Name: "unknown key", Method: "GET", Path: "/hello", Token: "Bearer " + unknown, Status: 401},
		{Name: "scoped key on its route", Method: "GET", Path: "/customers", Token: "Bearer " + scoped, Status: 200, Principal: "scoped"},
		{Name: "no token", Method: "GET", Path: "/customers", Status: 401},
		{Name: "full key, POST /orders", Method: "POST", Path: "/orders", Token: "Bearer " + full, Status: 200, Principal: "full"},
		{Name: "scoped key off its route", Method: "GET", Path: "/hello", Token: "Bearer " + scoped, Status: 403},
		{Name: "full key, GET /customers", Method: "GET", Path: "/customers", Token: "Bearer " + full, Status: 200, Principal: "full"},
		// The scheme is matched ignoring case (RFC 6750 section 2.1), by the
		// validation expression and the authorizer alike.
		{Name: "a key in lower-case scheme", Method: "GET", Path: "/hello", Token: "bearer " + full, Status: 200, Principal: "full"},
	}
	fmt.Fprintf(b, "## Load\n\nThe local gateway (`cmd/local`, real authorizer and handler binaries, local Secrets Manager) under %s of load from a second process at %d concurrent keep-alive connections on loopback, mixing %d kinds of request: the full key on three routes, a route-scoped key on and off its route, an unknown key, no token, the full key after a lower-case scheme. Memory is the resident size of the gateway and every function process it runs.\n\n",
		o.loadDuration, o.loadConcurrency, len(targets))
	fmt.Fprintln(b, "| path | requests | req/s | p50 | p99 | max | wrong | 5xx | memory at 25 / 50 / 75 / 100 % | log lines scanned | key bytes in logs |")
	fmt.Fprintln(b, "|---|---|---|---|---|---|---|---|---|---|---|")
	ok := true
	var memory, notes []string
	for _, p := range []struct{ name, ttl string }{{"cached (result TTL 5m)", "5m"}, {"uncached (TTL 0)", "0"}} {
		r, mem, lines, leaks, err := loadOnce(ctx, root, bin, []string{"-keys", keys, "-ttl", p.ttl}, keys+"."+p.ttl+".log",
			workerPlan{Targets: targets, Concurrency: o.loadConcurrency, Duration: o.loadDuration}, []string{full, scoped, unknown})
		if err != nil {
			fmt.Fprintf(b, "| %s | %v |\n", p.name, err)
			ok = false
			continue
		}
		var ms []string
		for _, m := range mem.quarters {
			ms = append(ms, megabytes(m.Total()))
		}
		fmt.Fprintf(b, "| %s | %d | %.0f | %s | %s | %s | %d | %d | %s MB | %d | %d |\n", p.name, r.Requests, r.RPS,
			r.P50.Round(10*time.Microsecond), r.P99.Round(10*time.Microsecond), r.Max.Round(time.Millisecond), r.Wrong, r.Unexpected5xx, strings.Join(ms, " / "), lines, len(leaks))
		if r.Wrong > 0 || r.Unexpected5xx > 0 || len(leaks) > 0 || r.Requests == 0 {
			ok = false
			for _, e := range r.Examples {
				fmt.Fprintf(os.Stderr, "%s: %s\n", p.name, e)
			}
			for _, l := range leaks {
				fmt.Fprintf(os.Stderr, "%s: log %v\n", p.name, l)
			}
		}
		rows, verdict, settled := mem.report(p.name, o.loadDuration)
		memory = append(memory, rows...)
		notes = append(notes, verdict)
		ok = ok && settled
	}
	fmt.Fprintln(b, "\nMemory over each run, the gateway and its function instances apart:")
	fmt.Fprintln(b, "\n| path | at | total | gateway | function instances | mean per instance |")
	fmt.Fprintln(b, "|---|---|---|---|---|---|")
	for _, row := range memory {
		fmt.Fprintln(b, row)
	}
	fmt.Fprintf(b, "\nThe local gateway starts a function instance when an invocation finds none idle, as Lambda does, up to %d per function; the tree grows by whole processes until there are enough for the load. Memory counts as stopped growing when, from half time to the end, neither the gateway nor the instances alive at both moments grew by more than 10 %%, and no function passed its bound.\n", lambdalocal.DefaultMaxInstances)
	for _, n := range notes {
		fmt.Fprintln(b, "\n"+n)
	}
	return ok
}

// memoryRun is the memory of the gateway's tree over a load: every
// sample, and the samples at each quarter of the run.
type memoryRun struct {
	samples  []verify.Memory
	quarters []verify.Memory // at 25, 50, 75 and 100 %
}

func newMemoryRun(samples []verify.Memory) memoryRun {
	m := memoryRun{samples: samples}
	for _, q := range []float64{0.25, 0.5, 0.75, 1} {
		if len(samples) > 0 {
			m.quarters = append(m.quarters, samples[max(0, int(q*float64(len(samples)))-1)])
		}
	}
	return m
}

// report gives the run's rows of the memory table, its verdict in a
// sentence, and whether memory stopped growing.
func (m memoryRun) report(name string, d time.Duration) (rows []string, verdict string, settled bool) {
	if len(m.samples) < 4 { // fewer, and quarters would repeat a sample
		return nil, fmt.Sprintf("**%s: too few memory samples (%d).**", name, len(m.samples)), false
	}
	for i, q := range m.quarters {
		rows = append(rows, fmt.Sprintf("| %s | %s | %s MB | %s MB | %d (%s) | %s MB |", name, d*time.Duration(i+1)/4,
			megabytes(q.Total()), megabytes(q.Root), len(q.Procs), q, megabytes(q.Mean())))
	}
	most := map[string]int{}
	for _, s := range m.samples {
		for fn, n := range s.Counts() {
			most[fn] = max(most[fn], n)
		}
	}
	var over []string
	for _, fn := range slices.Sorted(maps.Keys(most)) {
		if n := most[fn]; n > lambdalocal.DefaultMaxInstances {
			over = append(over, fmt.Sprintf("%s ran %d instances", fn, n))
		}
	}
	half, end := m.quarters[1], m.quarters[3]
	g := verify.Compare(half, end)
	settled = g.Root <= 1.10 && g.Survivors <= 1.10 && len(over) == 0
	verdict = fmt.Sprintf("%s, from half time to the end: total ×%.2f; the gateway ×%.2f; the %d instances alive at both moments ×%.2f; %d started, %d ended.",
		name, float64(end.Total())/float64(half.Total()), g.Root, g.Survived, g.Survivors, g.Started, g.Ended)
	if len(over) > 0 {
		verdict += " " + strings.Join(over, ", ") + ", past the bound."
	}
	// What the tree comes to when every function runs its most instances,
	// each of the mean size measured at the end.
	ceiling := end.Root + int64(len(end.Counts())*lambdalocal.DefaultMaxInstances)*end.Mean()
	verdict += fmt.Sprintf(" With every function at its bound: about %s MB.", megabytes(ceiling))
	if !settled {
		verdict = "**" + verdict + " Memory did not stop growing.**"
	}
	return rows, verdict, settled
}

func megabytes(n int64) string { return fmt.Sprintf("%.0f", float64(n)/(1<<20)) }

// loadOnce runs the gateway with args (besides its address), logging to
// logPath, loads it from a worker process with plan (its URL filled in),
// and returns the load's result, the memory of the gateway's tree over
// it, and the gateway's log lines scanned and the secrets found in them.
// It is long because the gateway, its log, the memory sampler and the
// worker are started and stopped together, in one place.
func loadOnce(ctx context.Context, root, bin string, args []string, logPath string, plan workerPlan, secrets []string) (verify.LoadResult, memoryRun, int, []leakscan.Leak, error) {
	var mem memoryRun
	var r verify.LoadResult
	logf, err := os.Create(logPath)
	if err != nil {
		return r, mem, 0, nil, err
	}
	defer func() { _ = logf.Close() }()
	gw := exec.CommandContext(ctx, bin, append([]string{"-addr", "127.0.0.1:0"}, args...)...)
	gw.Dir = root // it builds the functions from the checkout
	gw.Stderr = logf
	stdout, _ := gw.StdoutPipe()
	if err := gw.Start(); err != nil {
		return r, mem, 0, nil, err
	}
	// stop asks the gateway to stop (it stops its functions), and kills
	// it if it has not within 15 s.
	stop := sync.OnceFunc(func() {
		_ = gw.Process.Signal(os.Interrupt)
		done := make(chan error, 1)
		go func() { done <- gw.Wait() }()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = gw.Process.Kill()
			<-done
		}
	})
	defer stop()
	url, err := waitForURL(stdout, 3*time.Minute)
	if err != nil {
		return r, mem, 0, nil, err
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()

	// Sample memory while the worker loads the gateway.
	samples := make(chan []verify.Memory, 1)
	stopSampling := make(chan struct{})
	go func() {
		var s []verify.Memory
		tick := time.NewTicker(250 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopSampling:
				samples <- s
				return
			case <-tick.C:
				if m, err := verify.Snapshot(gw.Process.Pid); err == nil {
					s = append(s, m)
				}
			}
		}
	}()
	plan.URL = url
	planJSON, _ := json.Marshal(plan)
	self, err := os.Executable()
	if err != nil {
		return r, mem, 0, nil, err
	}
	worker := exec.CommandContext(ctx, self, "-load-worker")
	worker.Stdin = bytes.NewReader(planJSON)
	worker.Stderr = os.Stderr
	out, werr := worker.Output()
	close(stopSampling)
	mem = newMemoryRun(<-samples)
	if werr != nil {
		return r, mem, 0, nil, fmt.Errorf("load worker: %w", werr)
	}
	if err := json.Unmarshal(out, &r); err != nil {
		return r, mem, 0, nil, err
	}
	// Every line the gateway and its functions wrote: the access log, the
	// functions' output, the authorizer's decisions.
	stop()
	f, err := os.Open(logPath)
	if err != nil {
		return r, mem, 0, nil, err
	}
	defer func() { _ = f.Close() }()
	lines, leaks, err := leakscan.New(secrets...).Scan(f)
	if lines == 0 && err == nil {
		err = errors.New("the gateway wrote no log lines to scan")
	}
	return r, mem, lines, leaks, err
}

var urlRE = regexp.MustCompile(`on (http://127\.0\.0\.1:\d+) `)

// waitForURL reads the gateway's greeting until it names its URL.
func waitForURL(r io.Reader, limit time.Duration) (string, error) {
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if m := urlRE.FindStringSubmatch(sc.Text()); m != nil {
				found <- m[1]
				return
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			return "", errors.New("the gateway exited without serving")
		}
		return u, nil
	case <-time.After(limit):
		return "", fmt.Errorf("the gateway did not serve within %v", limit)
	}
}

type workerPlan struct {
	URL         string          `json:"url"`
	Targets     []verify.Target `json:"targets"`
	Concurrency int             `json:"concurrency"`
	Duration    time.Duration   `json:"duration"`
	// MaxRequests, when not 0, ends the load after that many requests,
	// and then no warm-up precedes it: MaxRequests = len(Targets) sends
	// each target once (verify.Load).
	MaxRequests int `json:"maxRequests,omitempty"`
}

func loadWorker(in io.Reader, out io.Writer) error {
	var p workerPlan
	if err := json.NewDecoder(in).Decode(&p); err != nil {
		return err
	}
	if p.MaxRequests == 0 {
		// Warm up: one of each, so the run measures a started gateway.
		verify.Load(context.Background(), p.URL, p.Targets, 1, time.Minute, len(p.Targets))
	}
	r := verify.Load(context.Background(), p.URL, p.Targets, p.Concurrency, p.Duration, p.MaxRequests)
	return json.NewEncoder(out).Encode(r)
}

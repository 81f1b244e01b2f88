// Command tollverify produces the evidence VERIFY.md records: the timing
// test with many measurements in several processes, every fuzz target for
// a bounded time, the bad-input and fault tests, and the local gateway with
// the real binaries under load from a second process, with every log line
// scanned for keys. See the verify package for what each step shows.
//
//	go run ./verify/cmd/tollverify           # everything, about 12 minutes
//	go run ./verify/cmd/tollverify -update   # and write the figures into VERIFY.md
//	go run ./verify/cmd/tollverify -steps load -load-duration 10s
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/emulator/local"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/dudect"
	"tollgate/internal/testkit/leakscan"
	"tollgate/internal/testkit/mdsection"
	"tollgate/verify"
)

type options struct {
	steps           map[string]bool
	timingSamples   int
	timingProcesses int
	fuzzTime        time.Duration
	loadDuration    time.Duration
	loadConcurrency int
	update          bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-load-worker" {
		// The load runs in a process of its own: its clients' CPU and
		// memory are not the gateway's.
		if err := loadWorker(os.Stdin, os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "tollverify load worker:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	steps := flag.String("steps", "timing,fuzz,tests,load", "steps to run, comma-separated")
	flag.IntVar(&o.timingSamples, "timing-samples", 500_000, "measurements per pair in each timing process")
	flag.IntVar(&o.timingProcesses, "timing-processes", 5, "timing processes; a leak must show in most")
	flag.DurationVar(&o.fuzzTime, "fuzztime", 20*time.Second, "time for each fuzz target")
	flag.DurationVar(&o.loadDuration, "load-duration", 60*time.Second, "load on each of the cached and uncached paths")
	flag.IntVar(&o.loadConcurrency, "load-concurrency", 200, "concurrent connections of the load")
	flag.BoolVar(&o.update, "update", false, "write the report into VERIFY.md")
	flag.Parse()
	o.steps = map[string]bool{}
	for s := range strings.SplitSeq(*steps, ",") {
		o.steps[strings.TrimSpace(s)] = true
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	report, failed := run(ctx, o)
	fmt.Print(report)
	if o.update {
		if err := updateVerifyMD(report); err != nil {
			fmt.Fprintln(os.Stderr, "tollverify:", err)
			os.Exit(1)
		}
	}
	if failed {
		fmt.Fprintln(os.Stderr, "tollverify: FAILED (see above)")
		os.Exit(1)
	}
}

func run(ctx context.Context, o options) (string, bool) {
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		return err.Error() + "\n", true
	}
	var b strings.Builder
	failed := false
	cpu := cpuModel()
	fmt.Fprintf(&b, "Machine: %s, %d CPUs, %s %s/%s. Run: `go run ./verify/cmd/tollverify -update` on %s.\n\n",
		cpu, runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, time.Now().UTC().Format("2006-01-02"))
	for _, step := range []struct {
		name string
		fn   func(context.Context, string, options, *strings.Builder) bool
	}{
		{"timing", timing}, {"fuzz", fuzz}, {"tests", tests}, {"load", load},
	} {
		if !o.steps[step.name] {
			continue
		}
		fmt.Fprintf(os.Stderr, "== %s\n", step.name)
		if !step.fn(ctx, root, o, &b) {
			failed = true
		}
		if ctx.Err() != nil {
			fmt.Fprintln(&b, "\nInterrupted.")
			return b.String(), true
		}
	}
	return b.String(), failed
}

// ---- timing

type pairRun struct {
	Pair   string          `json:"pair"`
	Keys   int             `json:"keys"`
	Secret bool            `json:"secret"`
	Note   string          `json:"note"`
	Runs   []dudect.Result `json:"runs"`
}

func timing(ctx context.Context, root string, o options, b *strings.Builder) bool {
	type key struct {
		pair string
		keys int
	}
	var order []key
	byPair := map[key]*pairRun{}
	ok, planted := true, true
	dir, err := os.MkdirTemp("", "tollverify-timing")
	if err != nil {
		fmt.Fprintf(b, "timing: %v\n", err)
		return false
	}
	defer func() { _ = os.RemoveAll(dir) }()
	began := time.Now()
	for p := range o.timingProcesses {
		out := filepath.Join(dir, fmt.Sprintf("run%d.json", p))
		res, err := goCmd(ctx, root, []string{"TOLLGATE_TIMING_RUNS=1", "TOLLGATE_TIMING_REPORT=" + out,
			fmt.Sprintf("TOLLGATE_TIMING_SAMPLES=%d", o.timingSamples), "TOLLGATE_TIMING_SECONDS=60"},
			"test", "-count=1", "-run", "^TestTiming$", "./authorizer")
		if err != nil {
			// A failure here is a secret pair leaking in this process, or
			// the planted leak missed; the table below says which.
			fmt.Fprintf(os.Stderr, "timing process %d: %v\n%s", p+1, err, lastLines(res, 20))
		}
		var runs []pairRun
		data, rerr := os.ReadFile(out)
		if rerr == nil {
			rerr = json.Unmarshal(data, &runs)
		}
		if rerr != nil {
			fmt.Fprintf(b, "timing process %d wrote no report: %v\n%s\n", p+1, rerr, lastLines(res, 20))
			return false
		}
		if bytes.Contains(res, []byte("--- FAIL: TestTiming/planted_leak")) {
			ok, planted = false, false
		}
		for _, r := range runs {
			k := key{r.Pair, r.Keys}
			if byPair[k] == nil {
				order = append(order, k)
				byPair[k] = &pairRun{Pair: r.Pair, Keys: r.Keys, Secret: r.Secret, Note: r.Note}
			}
			byPair[k].Runs = append(byPair[k].Runs, r.Runs...)
		}
	}
	fmt.Fprintf(b, "## Timing\n\n%d processes, each measuring every pair once with %d measurements (Welch's t, dudect's crops; %s in all). A pair leaks when |t| > %.1f in most processes. Secret pairs must not; the others differ in what the caller knows or in the configuration, and are expected to.\n\n",
		o.timingProcesses, o.timingSamples, time.Since(began).Round(time.Second), dudect.Threshold)
	fmt.Fprintln(b, "| pair | keys | secret | \\|t\\| per process | means, ns | verdict |")
	fmt.Fprintln(b, "|---|---|---|---|---|---|")
	for _, k := range order {
		p := byPair[k]
		var ts []string
		for _, r := range p.Runs {
			ts = append(ts, fmt.Sprintf("%.1f", r.T))
		}
		leak := dudect.Consistent(p.Runs)
		verdict := "no leak"
		switch {
		case leak && p.Secret:
			verdict, ok = "**LEAK**", false
		case leak:
			verdict = "differs, as expected"
		case !p.Secret:
			verdict = "no difference found"
		}
		keys := fmt.Sprint(p.Keys)
		if p.Keys == 0 {
			keys = "1 / 100"
		}
		m := p.Runs[0].MeanNs
		fmt.Fprintf(b, "| %s | %s | %s | %s | %.0f / %.0f | %s |\n", p.Pair, keys, map[bool]string{true: "yes", false: "no"}[p.Secret], strings.Join(ts, ", "), m[0], m[1], verdict)
	}
	fmt.Fprintf(b, "\nEvery process also ran the near/far-miss pairs with the key comparison swapped for a byte-by-byte one that stops at the first difference: %s.\n\n",
		map[bool]string{true: "caught in every process", false: "**missed in at least one process**"}[planted])
	return ok
}

// ---- fuzz

var fuzzTargets = []struct{ pkg, name, what string }{
	{"./authorizer", "FuzzExtract", "token extraction"},
	{"./authorizer", "FuzzParseEvent", "event decoding"},
	{"./authorizer", "FuzzScanner", "the JSON scanner under it"},
	{"./authorizer", "FuzzParseKeyring", "keyring parsing"},
	{"./authorizer", "FuzzPolicy", "ARN and policy building"},
	{"./authorizer", "FuzzInvoke", "whole decisions: Allow only for a stored key, inside the request's stage"},
	{"./internal/emulator/gateway", "FuzzGateway", "the local gateway's request handling"},
	{"./internal/iam", "FuzzMatch", "IAM wildcard matching"},
	{"./api", "FuzzMatch", "route matching"},
	{"./api", "FuzzTemplate", "gateway response templates"},
	{"./handler", "FuzzInvoke", "the handler's events"},
	{"./authorizer", "FuzzSWARJSONSpecial", "the scanner's word-at-a-time search"},
}

var execsRE = regexp.MustCompile(`execs: (\d+)`)

func fuzz(ctx context.Context, root string, o options, b *strings.Builder) bool {
	ok := true
	fmt.Fprintf(b, "## Fuzzing\n\nEach target for %s (`go test -run '^$' -fuzz '^Target$' -fuzztime %s PKG`). A failure's input is kept in the package's testdata/fuzz and becomes a test.\n\n", o.fuzzTime, o.fuzzTime)
	fmt.Fprintln(b, "| target | what | executions | result |")
	fmt.Fprintln(b, "|---|---|---|---|")
	for _, t := range fuzzTargets {
		out, err := goCmd(ctx, root, nil, "test", "-run", "^$", "-fuzz", "^"+t.name+"$", "-fuzztime", o.fuzzTime.String(), t.pkg)
		execs := "?"
		if m := execsRE.FindAllSubmatch(out, -1); len(m) > 0 {
			execs = string(m[len(m)-1][1])
		}
		result := "passed"
		if err != nil {
			result, ok = "**FAILED**", false
			fmt.Fprintf(os.Stderr, "%s %s:\n%s", t.pkg, t.name, lastLines(out, 30))
		}
		fmt.Fprintf(b, "| %s %s | %s | %s | %s |\n", strings.TrimPrefix(t.pkg, "./"), t.name, t.what, execs, result)
	}
	fmt.Fprintln(b)
	return ok
}

// ---- tests

var verifyTests = []struct{ pkg, pattern, what string }{
	{"./authorizer", "^(TestBadInput|TestBadSecret|TestOtherPartitions|TestLenientSchemeForms)$", "bad tokens, headers, events and secrets at the authorizer"},
	{"./internal/emulator/gateway", "^(TestBadRequests)$", "the same at the front door, through net/http and the gateway"},
	{"./authorizer", "^(TestSecretsManagerFaults)$", "Secrets Manager slow, 500, throttling, malformed, refusing; cold and on refresh"},
	{"./api", "^(TestAuthorizerTimeoutsNest)$", "fetch timeout < function timeout <= API Gateway's 10 s"},
	{"./internal/emulator/local", "^(TestAuthorizerCrashes|TestAuthorizerKilledUnderLoad|TestAuthorizerHangs|TestSecretsEndpointDownThenBack)$", "the authorizer's process killed or hung, Secrets Manager down, with the real binaries"},
}

var passRE = regexp.MustCompile(`(?m)^\s*--- PASS: (\S+)`)

func tests(ctx context.Context, root string, o options, b *strings.Builder) bool {
	ok := true
	fmt.Fprintln(b, "## Bad input and faults\n\nEach a test in the quick run too (`go test -race ./...`); here run again, with `-race`.\n\n| tests | what | passed | result |\n|---|---|---|---|")
	for _, t := range verifyTests {
		out, err := goCmd(ctx, root, []string{"TOLLGATE_REQUIRE_MOTO=1"}, "test", "-race", "-count=1", "-v", "-run", t.pattern, t.pkg)
		passed := len(passRE.FindAll(out, -1))
		result := "passed"
		if err != nil {
			result, ok = "**FAILED**", false
			fmt.Fprintf(os.Stderr, "%s %s:\n%s", t.pkg, t.pattern, lastLines(out, 40))
		}
		fmt.Fprintf(b, "| %s `%s` | %s | %d (with subtests) | %s |\n", strings.TrimPrefix(t.pkg, "./"), strings.Trim(t.pattern, "^$()"), t.what, passed, result)
	}
	fmt.Fprintln(b)
	return ok
}

// ---- load

func load(ctx context.Context, root string, o options, b *strings.Builder) bool {
	dir, err := os.MkdirTemp("", "tollverify-load")
	if err != nil {
		fmt.Fprintf(b, "load: %v\n", err)
		return false
	}
	defer func() { _ = os.RemoveAll(dir) }()
	bin := filepath.Join(dir, "tollgate-local")
	if out, err := goCmd(ctx, root, nil, "build", "-o", bin, "./cmd/local"); err != nil {
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
		{Name: "a key in lower-case scheme", Method: "GET", Path: "/hello", Token: "bearer " + full, Status: 401},
	}
	fmt.Fprintf(b, "## Load\n\nThe local gateway (`cmd/local`, real authorizer and handler binaries, local Secrets Manager) under %s of load from a second process at %d concurrent keep-alive connections on loopback, mixing %d kinds of request: the full key on three routes, a route-scoped key on and off its route, an unknown key, no token, a lower-case scheme. Memory is the resident size of the gateway and every function process it runs.\n\n",
		o.loadDuration, o.loadConcurrency, len(targets))
	fmt.Fprintln(b, "| path | requests | req/s | p50 | p99 | max | wrong | 5xx | memory at 25 / 50 / 75 / 100 % | log lines scanned | key bytes in logs |")
	fmt.Fprintln(b, "|---|---|---|---|---|---|---|---|---|---|---|")
	ok := true
	var memory, notes []string
	for _, p := range []struct{ name, ttl string }{{"cached (result TTL 5m)", "5m"}, {"uncached (TTL 0)", "0"}} {
		r, mem, lines, leaks, err := loadOnce(ctx, root, bin, keys, p.ttl, targets, []string{full, scoped, unknown}, o)
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

// loadOnce runs the gateway with result TTL ttl, loads it from a worker
// process, and returns the load's result, the memory of the gateway's
// tree over it, and the gateway's log lines scanned and the secrets found
// in them.
func loadOnce(ctx context.Context, root, bin, keys, ttl string, targets []verify.Target, secrets []string, o options) (verify.LoadResult, memoryRun, int, []leakscan.Leak, error) {
	var mem memoryRun
	var r verify.LoadResult
	logPath := keys + "." + ttl + ".log"
	logf, err := os.Create(logPath)
	if err != nil {
		return r, mem, 0, nil, err
	}
	defer func() { _ = logf.Close() }()
	gw := exec.CommandContext(ctx, bin, "-addr", "127.0.0.1:0", "-keys", keys, "-ttl", ttl)
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
	plan, _ := json.Marshal(workerPlan{URL: url, Targets: targets, Concurrency: o.loadConcurrency, Duration: o.loadDuration})
	self, err := os.Executable()
	if err != nil {
		return r, mem, 0, nil, err
	}
	worker := exec.CommandContext(ctx, self, "-load-worker")
	worker.Stdin = bytes.NewReader(plan)
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
}

func loadWorker(in io.Reader, out io.Writer) error {
	var p workerPlan
	if err := json.NewDecoder(in).Decode(&p); err != nil {
		return err
	}
	// Warm up: one of each, so the run measures a started gateway.
	verify.Load(context.Background(), p.URL, p.Targets, 1, time.Minute, len(p.Targets))
	r := verify.Load(context.Background(), p.URL, p.Targets, p.Concurrency, p.Duration, 0)
	return json.NewEncoder(out).Encode(r)
}

// ---- helpers

// goCmd runs the go command in root with env added to this process's
// environment, and returns its combined output.
func goCmd(ctx context.Context, root string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n") + "\n"
}

// updateVerifyMD puts report between the markers in VERIFY.md.
func updateVerifyMD(report string) error {
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		return err
	}
	return mdsection.Replace(filepath.Join(root, "VERIFY.md"), "<!-- tollverify -->", []byte(report))
}

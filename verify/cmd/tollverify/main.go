// Command tollverify produces the evidence VERIFY.md records: the timing
// test with many measurements in several processes, every fuzz target for
// a bounded time, the bad-input and fault tests, and the local gateway with
// the real binaries under load from a second process, with every log line
// scanned for keys, and with a key table of 100,000 keys, each sent once.
// See the verify package for what each step shows.
//
//	go run ./verify/cmd/tollverify           # everything, about 15 minutes
//	go run ./verify/cmd/tollverify -update   # and write the figures into VERIFY.md
//	go run ./verify/cmd/tollverify -steps load -load-duration 10s
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"tollgate/internal/lambdabuild"
)

type options struct {
	steps           map[string]bool
	timingSamples   int
	timingProcesses int
	fuzzTime        time.Duration
	loadDuration    time.Duration
	loadConcurrency int
	invariantCases  int
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
	steps := flag.String("steps", "timing,fuzz,invariants,tests,load,keytable", "steps to run, comma-separated")
	flag.IntVar(&o.timingSamples, "timing-samples", 500_000, "measurements per pair in each timing process")
	flag.IntVar(&o.timingProcesses, "timing-processes", 5, "timing processes; a leak must show in most")
	flag.DurationVar(&o.fuzzTime, "fuzztime", 20*time.Second, "time for each fuzz target")
	flag.DurationVar(&o.loadDuration, "load-duration", 60*time.Second, "load on each of the cached and uncached paths")
	flag.IntVar(&o.loadConcurrency, "load-concurrency", 200, "concurrent connections of the load")
	flag.IntVar(&o.invariantCases, "invariant-cases", 1000, "generated cases of each invariant")
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
		{"timing", timing}, {"fuzz", fuzz}, {"invariants", invariantsStep}, {"tests", tests}, {"load", load}, {"keytable", keyTableStep},
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

// Command testtimes measures how long the test suite takes, as a newcomer
// and a developer meet it, and prints the figures README states ("The tests"):
//
//	go run ./verify/cmd/testtimes          # cold and warm, about 15 minutes
//	go run ./verify/cmd/testtimes -cold=false -first=false
//
// First, a newcomer's first go run ./cmd/local: in a copy of the
// checkout (no .tollgate), from an empty build cache, the time to its
// first line of output and to its first answer, then a second run's.
//
// Cold is go test -race ./... from an empty build cache (a cache of its
// own, in a temporary directory, so the user's is untouched; the module
// cache is shared: modules downloaded). Warm is the same command again,
// and go test -short ./... (the inner loop), each run once to fill its
// cache and once measured. Each line gives the wall time, the time the
// test binaries ran (summed over packages, run two at a time on two
// cores, -p), and the packages that ran longest. Nothing is asserted: the
// machine may be shared; compare figures of one run.
package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	"tollgate/internal/lambdabuild"
)

func main() {
	cold := flag.Bool("cold", true, "also measure go test -race ./... from an empty build cache (the longest part)")
	top := flag.Int("top", 5, "how many of the slowest packages to name")
	first := flag.Bool("first", true, "also measure a first go run ./cmd/local from an empty build cache")
	flag.Parse()
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testtimes:", err)
		os.Exit(1)
	}
	cache, err := os.MkdirTemp("", "testtimes-gocache")
	if err != nil {
		fmt.Fprintln(os.Stderr, "testtimes:", err)
		os.Exit(1)
	}
	defer func() { _ = os.RemoveAll(cache) }()

	fmt.Printf("Machine: %d CPUs, %s %s/%s; GOFLAGS=%q. Run on %s.\n\n", runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH,
		os.Getenv("GOFLAGS"), time.Now().UTC().Format("2006-01-02"))
	if *first {
		lines, err := firstRun(root)
		for _, l := range lines {
			fmt.Println(l)
		}
		fmt.Println()
		if err != nil {
			fmt.Fprintln(os.Stderr, "testtimes: first run:", err)
			os.Exit(1)
		}
	}
	fmt.Println("| command | cache | wall | tests ran (sum over packages) | longest packages |")
	fmt.Println("|---|---|---|---|---|")
	failed := false
	measure := func(label string, args ...string) {
		r, err := run(root, cache, args)
		if err != nil {
			failed = true
			fmt.Fprintf(os.Stderr, "go %s: %v; failed: %s\n", strings.Join(args, " "), err, strings.Join(r.failed, ", "))
		}
		fmt.Printf("| `go %s` | %s | %s | %s | %s |\n", strings.Join(args, " "), label, r.wall.Round(time.Second), r.ran.Round(time.Second), r.longest(*top))
	}
	race := []string{"test", "-count=1", "-race", "./..."}
	short := []string{"test", "-count=1", "-short", "./..."}
	if *cold {
		measure("empty", race...)
	} else {
		_, _ = run(root, cache, race) // fill the cache
	}
	measure("warm", race...)
	_, _ = run(root, cache, short) // its own binaries, without -race
	measure("warm", short...)
	if failed {
		fmt.Fprintln(os.Stderr, "testtimes: a run failed (see above); its figures count what ran")
		os.Exit(1)
	}
}

// result is one go test run's figures.
type result struct {
	wall, ran time.Duration
	packages  map[string]time.Duration // test binaries' elapsed, by package
	failed    []string                 // the tests that failed, "package Test"
}

func (r result) longest(n int) string {
	names := make([]string, 0, len(r.packages))
	for p := range r.packages {
		names = append(names, p)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(r.packages[b], r.packages[a]) })
	var parts []string
	for _, p := range names[:min(n, len(names))] {
		parts = append(parts, fmt.Sprintf("%s %s", strings.TrimPrefix(p, "tollgate/"), r.packages[p].Round(time.Second)))
	}
	return strings.Join(parts, ", ")
}

// run runs go args -json in root with cache as the build cache and reads
// the elapsed time of every package from the JSON events.
func run(root, cache string, args []string) (result, error) {
	cmd := exec.CommandContext(context.Background(), "go", append(args[:1:1], append([]string{"-json"}, args[1:]...)...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOCACHE="+cache, "TOLLGATE_REQUIRE_MOTO=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, io.Discard
	start := time.Now()
	err := cmd.Run()
	r := result{wall: time.Since(start), packages: map[string]time.Duration{}}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var e struct {
			Action, Package, Test string
			Elapsed               float64
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil || (e.Action != "pass" && e.Action != "fail") {
			continue
		}
		if e.Test != "" {
			if e.Action == "fail" {
				r.failed = append(r.failed, strings.TrimPrefix(e.Package, "tollgate/")+" "+e.Test)
			}
			continue
		}
		d := time.Duration(e.Elapsed * float64(time.Second))
		r.packages[e.Package] = d
		r.ran += d
	}
	return r, err
}

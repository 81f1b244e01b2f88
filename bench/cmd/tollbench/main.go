// Command tollbench runs tollgate's benchmarks (tollgate/bench) beside the
// peers, several times each, builds every Go function for both Lambda
// architectures to weigh it, and prints one Markdown table: each figure's
// medians per implementation and each peer's ratio to tollgate, then the
// targets, met or missed.
//
// Usage, from anywhere in the module:
//
//	go run ./bench/cmd/tollbench [-count 5] [-benchtime 1s] [-bench regexp] [-update]
//
// -update also writes the table into bench/README.md, between its
// "<!-- tollbench -->" markers. The benchmarks' own output goes to standard
// error as they run.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"tollgate/bench"
	"tollgate/bench/internal/results"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/mdsection"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "tollbench:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("tollbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	count := fs.Int("count", 5, "runs of each benchmark; the table shows medians")
	benchtime := fs.String("benchtime", "1s", "go test -benchtime for each run")
	pattern := fs.String("bench", ".", "go test -bench: which figures to run")
	update := fs.Bool("update", false, "write the table into bench/README.md")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *count < 1 {
		return errors.New("-count must be at least 1")
	}
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		return err
	}
	fmt.Fprintln(stderr, "== building each function for linux/arm64 and linux/amd64")
	sizes, err := binarySizes(ctx, root)
	if err != nil {
		return err
	}
	cmdline := []string{"test", "-run", "^$", "-bench", *pattern, "-count", fmt.Sprint(*count), "-benchtime", *benchtime, "./bench"}
	fmt.Fprintln(stderr, "== go", strings.Join(cmdline, " "))
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "go", cmdline...)
	cmd.Dir = root
	cmd.Stdout = io.MultiWriter(&out, stderr)
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go test: %w", err)
	}
	set, err := results.Parse(&out)
	if err != nil {
		return err
	}
	var report bytes.Buffer
	write(&report, set, sizes, strings.Join(append([]string{"go run ./bench/cmd/tollbench"}, args...), " "))
	if _, err := stdout.Write(report.Bytes()); err != nil {
		return err
	}
	if *update {
		return mdsection.Replace(filepath.Join(root, "bench", "README.md"), marker, report.Bytes())
	}
	return nil
}

// binarySizes builds bench.Functions for both Lambda architectures, as
// they are deployed, and weighs each bootstrap.
func binarySizes(ctx context.Context, root string) ([]results.Result, error) {
	dir, err := os.MkdirTemp("", "tollbench-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	var rs []results.Result
	for _, arch := range []string{"arm64", "amd64"} {
		paths, err := lambdabuild.Build(ctx, root, filepath.Join(dir, arch), lambdabuild.Target{GOOS: "linux", GOARCH: arch}, bench.Functions)
		if err != nil {
			return nil, err
		}
		for impl, path := range paths {
			fi, err := os.Stat(path)
			if err != nil {
				return nil, err
			}
			rs = append(rs, results.Result{
				Name: "Binary/linux-" + arch + "/" + impl, N: 1,
				Metrics: map[string]float64{"bytes": float64(fi.Size())}, Units: []string{"bytes"},
			})
		}
	}
	return rs, nil
}

// write renders the machine, the table and the targets.
func write(w io.Writer, set *results.Set, sizes []results.Result, command string) {
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	fmt.Fprintf(w, "Measured %s with `%s` on %s/%s, %s, %d CPUs, %s. Medians of each figure's runs; ratios are peer/tollgate from the same run.\n\n",
		time.Now().UTC().Format("2006-01-02"), command, set.Config["goos"], set.Config["goarch"], set.Config["cpu"], runtime.NumCPU(), goVersion)
	rows := results.Summarize(append(set.Results, sizes...))
	impls := results.Impls(rows, "tollgate", []string{"tollgate-table", "tollgate-nometrics", "tollgate-nolog", "idiomatic", "seed", "hello", "python"})
	results.Table(w, rows, impls)
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Targets:")
	fmt.Fprintln(w)
	for _, t := range checkTargets(rows) {
		fmt.Fprintf(w, "- %s\n", t)
	}
}

const marker = "<!-- tollbench -->"

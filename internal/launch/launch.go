// Package launch lets a tollgate command say what it does before the long
// part. `go run ./cmd/local` compiles the command before running it and
// prints nothing meanwhile; a command that imports the AWS SDK takes a
// minute or more to compile the first time on a small machine, several on
// a busy one. So cmd/local and cmd/tollkeys are launchers: they import the
// standard library and this package only, compile in seconds, say what
// they build and how long it takes (Build), build the command itself into
// the module's .tollgate/bin, and become it (Exec), keeping their process,
// arguments, environment and signals.
//
// Build also announces the local run's builds of the Lambda functions.
package launch

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"
)

// tick is how often Build says a build is still going.
var tick = 15 * time.Second

// FirstBuildNote is what Build says, once a process, before a first build.
const FirstBuildNote = "A first build compiles its dependencies, the AWS SDK among them: a minute or more on a 2-core machine, more on a busy one; later builds take seconds."

var noted atomic.Bool

// Build runs build, announcing it to w as "Building what… " and its time,
// with the time so far every 15 s while it lasts, after FirstBuildNote
// when first is set (once a process): a long build is never silent.
func Build(w io.Writer, what string, first bool, build func() error) (time.Duration, error) {
	if first && !noted.Swap(true) {
		fmt.Fprintln(w, FirstBuildNote)
	}
	fmt.Fprintf(w, "Building %s… ", what)
	start := time.Now()
	done := make(chan struct{})
	ticked := make(chan struct{})
	go func() {
		defer close(ticked)
		t := time.NewTicker(tick)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				fmt.Fprintf(w, "%s… ", time.Since(start).Round(time.Second))
			}
		}
	}()
	err := build()
	close(done)
	<-ticked
	took := time.Since(start)
	if err != nil {
		fmt.Fprintln(w, "failed")
		return took, err
	}
	fmt.Fprintf(w, "%.1fs\n", took.Seconds())
	return took, nil
}

// ModuleRoot is the directory of tollgate's go.mod, found from dir up.
func ModuleRoot(dir string) (string, error) {
	for d := dir; ; d = filepath.Dir(d) {
		if f, err := os.Open(filepath.Join(d, "go.mod")); err == nil {
			sc := bufio.NewScanner(f)
			module := ""
			if sc.Scan() {
				module = strings.TrimSpace(strings.TrimPrefix(sc.Text(), "module"))
			}
			_ = f.Close()
			if module == "tollgate" {
				return d, nil
			}
		}
		if parent := filepath.Dir(d); parent == d {
			return "", errors.New("not in tollgate's module: run it from the repository, as go run ./cmd/…")
		}
	}
}

// Exec is a launcher's main: it builds the command pkg ("./cmd/local/internal/local")
// of the module around the working directory into .tollgate/bin/name,
// announcing the build on stderr, and becomes it with this process's
// arguments. It returns only on failure, with the exit status to use.
func Exec(pkg, name, what string) int {
	wd, err := os.Getwd()
	if err == nil {
		var root string
		if root, err = ModuleRoot(wd); err == nil {
			dir := filepath.Join(root, ".tollgate", "bin")
			bin := filepath.Join(dir, name)
			var unlock func()
			if err = os.MkdirAll(dir, 0o755); err == nil {
				unlock, err = lock(dir)
			}
			if err == nil {
				_, missing := os.Stat(bin)
				_, err = Build(os.Stderr, what, missing != nil, func() error {
					cmd := exec.Command("go", "build", "-o", bin, pkg)
					cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stderr, os.Stderr
					return cmd.Run()
				})
				if err == nil {
					err = become(bin, os.Args[1:]) // releases the lock
				}
				unlock()
			}
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	return 1
}

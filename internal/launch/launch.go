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

// FirstBuildNote is what Build says, once a run, before a first build.
const FirstBuildNote = "A first build compiles its dependencies, the AWS SDK among them: a minute or more on a 2-core machine, more on a busy one; later builds take seconds."

var noted atomic.Bool

// notedEnv tells the command a launcher becomes that FirstBuildNote was
// said already: it is said once a run, not once a process.
const notedEnv = "TOLLGATE_FIRST_BUILD_NOTED"

// Build runs build, announcing it to w as "Building what… " and its time,
// with the time so far every 15 s while it lasts, after FirstBuildNote
// when first is set (once a process): a long build is never silent.
func Build(w io.Writer, what string, first bool, build func() error) (time.Duration, error) {
	if first && !noted.Swap(true) && os.Getenv(notedEnv) == "" {
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

// Locate finds, from dir up, the root of the module go.mod is in (where
// the command runs and keeps .tollgate), and tollgate's own directory:
// the same for tollgate's checkout, else where the module's requirement
// of tollgate points (go list -m), as in a user's module that requires it.
func Locate(dir string) (root, tollgate string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		if module, ok := modulePath(filepath.Join(d, "go.mod")); ok {
			if module == "tollgate" {
				return d, d, nil
			}
			cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "tollgate")
			cmd.Dir = d
			out, err := cmd.Output()
			if tollgate = strings.TrimSpace(string(out)); err != nil || tollgate == "" {
				return "", "", fmt.Errorf("the module %s (%s) does not require tollgate: go get tollgate/cmd/local (see docs/your-own-api.md, \"From a module of your own\")", module, d)
			}
			return d, tollgate, nil
		}
		if parent := filepath.Dir(d); parent == d {
			return "", "", errors.New("not in a Go module: run it from tollgate's checkout (go run ./cmd/…) or from a module that requires tollgate (go run tollgate/cmd/…)")
		}
	}
}

// GoRun is how a user runs tollgate's command name ("local", "tollkeys")
// from the module at moduleDir: go run ./cmd/name in tollgate's checkout,
// go run tollgate/cmd/name in a module that requires tollgate.
func GoRun(moduleDir, name string) string {
	if module, _ := modulePath(filepath.Join(moduleDir, "go.mod")); module != "tollgate" && moduleDir != "" {
		return "go run tollgate/cmd/" + name
	}
	return "go run ./cmd/" + name
}

// modulePath is the module path a go.mod declares, if path is one.
func modulePath(path string) (string, bool) {
	f, err := os.Open(path)
	if err != nil {
		return "", false
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module"); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`), true
		}
	}
	return "", true
}

// Exec is a launcher's main: it builds tollgate's command pkg
// ("./cmd/local/internal/local") into .tollgate/bin/name of the module
// around the working directory (Locate),
// announcing the build on stderr, and becomes it with this process's
// arguments. It returns only on failure, with the exit status to use.
func Exec(pkg, name, what string) int {
	wd, err := os.Getwd()
	if err == nil {
		var root, tollgate string
		if root, tollgate, err = Locate(wd); err == nil {
			dir := filepath.Join(root, ".tollgate", "bin")
			bin := filepath.Join(dir, name)
			var unlock func()
			if err = os.MkdirAll(dir, 0o755); err == nil {
				unlock, err = Lock(dir)
			}
			if err == nil {
				_, missing := os.Stat(bin)
				_, err = Build(os.Stderr, what, missing != nil, func() error {
					cmd := exec.Command("go", "build", "-o", bin, pkg)
					cmd.Dir, cmd.Stdout, cmd.Stderr = tollgate, os.Stderr, os.Stderr
					return cmd.Run()
				})
				if err == nil {
					if noted.Load() {
						_ = os.Setenv(notedEnv, "1")
					}
					err = become(bin, os.Args[1:]) // releases the lock
				}
				unlock()
			}
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	return 1
}

package local

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"tollgate/api"
	"tollgate/internal/emulator/lambdalocal"
	"tollgate/internal/poll"
)

// watchPoll is how often -watch looks at the functions' sources. Polling
// the files' sizes and times needs nothing from the platform and costs
// little: a function's own packages are a few directories.
const watchPoll = 500 * time.Millisecond

// watcher rebuilds a function when a source file of its packages in the
// module (or go.mod, go.sum) changes, and swaps the new build in with
// lambdalocal.Pool.Update: new requests run it, requests in flight finish
// on the build they started on. A build that fails is reported and the
// last good one keeps serving.
type watcher struct {
	cfg   Config
	out   io.Writer
	fns   map[string]*watched
	names []string
}

type watched struct {
	pkg   string
	dirs  []string // the function's packages' directories inside the module
	stamp string   // what the sources looked like at the last build
	gen   int      // builds so far
}

func newWatcher(ctx context.Context, cfg Config, fns map[string]api.Function) (*watcher, error) {
	w := &watcher{cfg: cfg, out: cfg.Out, fns: map[string]*watched{}, names: slices.Sorted(maps.Keys(fns))}
	for name, f := range fns {
		dirs, err := sourceDirs(ctx, cfg.ModuleDir, f.Package)
		if err != nil {
			return nil, err
		}
		w.fns[name] = &watched{pkg: f.Package, dirs: dirs, stamp: stamp(cfg.ModuleDir, dirs)}
	}
	fmt.Fprintf(w.out, "Watching the functions' sources: a saved change is rebuilt and served.\n")
	return w, nil
}

// run polls until ctx ends.
func (w *watcher) run(ctx context.Context, pools map[string]*lambdalocal.Pool) {
	poll.Every(ctx, watchPoll, func() bool {
		for _, name := range w.names {
			if ctx.Err() != nil {
				return false
			}
			w.check(ctx, name, pools[name])
		}
		return true
	})
}

// check rebuilds function name if its sources changed.
func (w *watcher) check(ctx context.Context, name string, pool *lambdalocal.Pool) {
	f := w.fns[name]
	if stamp(w.cfg.ModuleDir, f.dirs) == f.stamp {
		return
	}
	// Its imports may have changed with the edit. What is stamped here is
	// what the build reads: a change saved during the build is seen at
	// the next poll.
	if dirs, err := sourceDirs(ctx, w.cfg.ModuleDir, f.pkg); err == nil {
		f.dirs = dirs
	}
	f.stamp = stamp(w.cfg.ModuleDir, f.dirs)
	f.gen++
	dir := filepath.Join(w.cfg.StateDir, "bin", "watch", strconv.Itoa(f.gen))
	start := time.Now()
	path, err := build(ctx, w.cfg, name, f.pkg, dir)
	took := time.Since(start)
	if err != nil {
		if ctx.Err() == nil {
			fmt.Fprintf(w.out, "%s changed; the build failed, the last build keeps serving:\n%v\n", name, err)
		}
		return
	}
	if err := pool.Update(path); err != nil {
		fmt.Fprintf(w.out, "%s: %v\n", name, err)
		return
	}
	// The build before the last: its processes have been retired by the
	// previous swap (or are finishing), and unix keeps a running file.
	_ = os.RemoveAll(filepath.Join(w.cfg.StateDir, "bin", "watch", strconv.Itoa(f.gen-1)))
	fmt.Fprintf(w.out, "%s changed: rebuilt in %.1fs; new requests run it.\n", name, took.Seconds())
}

// sourceDirs are the directories of pkg and of every package it imports
// that lies inside the module: what an edit can change. Dependencies in
// the module cache do not change under a running program.
func sourceDirs(ctx context.Context, moduleDir, pkg string) ([]string, error) {
	// -e: a package that does not compile yet is listed all the same.
	cmd := exec.CommandContext(ctx, "go", "list", "-e", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", pkg)
	cmd.Dir = moduleDir
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = strings.TrimSpace(string(ee.Stderr))
		}
		return nil, fmt.Errorf("listing the packages of %s: %v %s", pkg, err, msg)
	}
	var dirs []string
	for _, d := range strings.Fields(string(out)) {
		if d == moduleDir || strings.HasPrefix(d, moduleDir+string(filepath.Separator)) {
			dirs = append(dirs, d)
		}
	}
	return dirs, nil
}

// stamp sums the names, sizes and modification times of the Go files in
// dirs (tests aside, which no build reads) and of go.mod and go.sum.
func stamp(moduleDir string, dirs []string) string {
	h := sha256.New()
	add := func(path string) {
		if info, err := os.Stat(path); err == nil {
			fmt.Fprintf(h, "%s %d %d\n", path, info.Size(), info.ModTime().UnixNano())
		}
	}
	add(filepath.Join(moduleDir, "go.mod"))
	add(filepath.Join(moduleDir, "go.sum"))
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			fmt.Fprintf(h, "%s unreadable\n", d)
			continue
		}
		for _, e := range entries {
			if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				add(filepath.Join(d, n))
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

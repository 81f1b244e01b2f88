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
	"tollgate/internal/poll"
)

// watchPoll is how often -watch looks at the sources and the API file.
// Polling their contents needs nothing from the platform and costs little:
// a function's own packages are a few directories.
const watchPoll = 500 * time.Millisecond

// watcher serves each saved edit, under -watch:
//
//   - a function whose source files (in its packages inside the module,
//     or go.mod and go.sum) change is rebuilt, and the new build swapped
//     in with lambdalocal.Pool.Update: new requests run it, requests in
//     flight finish on the build they started on;
//   - an edit of the API file (api.yaml, or -api's) is read and checked
//     as at the start, the functions it adds or moves to another package
//     are built, and the new definition replaces the old whole
//     (Main.swap): new requests get its routes, requests in flight finish
//     on the old one, and functions it keeps unchanged keep their warm
//     instances. The gateway is new, with an empty result cache and full
//     throttle buckets, as after a deployment.
//
// A build that fails or a definition that is refused is reported, and
// what served before keeps serving. The sources are recorded before the
// first build (newWatcher), so that an edit saved at any time after that
// is served.
type watcher struct {
	m   *Main
	cfg Config
	out io.Writer

	apiFile  string // the API file watched; "" when the definition was given (Config.Definition)
	apiStamp string

	fns  map[string]*watched // by function name
	gens map[string]int      // each function's builds so far, naming their directories
}

type watched struct {
	pkg   string
	dirs  []string // the function's packages' directories inside the module
	stamp string   // what the sources held at the last build
}

// newWatcher records the sources of fns and the API file as they are now.
func newWatcher(ctx context.Context, m *Main, fns map[string]api.Function) (*watcher, error) {
	w := &watcher{m: m, cfg: m.cfg, out: m.cfg.Out, apiFile: m.cfg.apiFile(), gens: map[string]int{}}
	if w.apiFile != "" {
		w.apiStamp = stampFiles(w.apiFile)
	}
	var err error
	if w.fns, err = w.follow(ctx, fns); err != nil {
		return nil, err
	}
	what := "the functions' sources"
	if w.apiFile != "" {
		what += " and " + w.apiName()
	}
	fmt.Fprintf(w.out, "Watching %s: a saved change is rebuilt and served.\n", what)
	return w, nil
}

// follow is what to watch of fns: what is watched already of a function
// whose package is the same, the rest recorded now.
func (w *watcher) follow(ctx context.Context, fns map[string]api.Function) (map[string]*watched, error) {
	next := map[string]*watched{}
	for _, name := range slices.Sorted(maps.Keys(fns)) {
		pkg := fns[name].Package
		if f := w.fns[name]; f != nil && f.pkg == pkg {
			next[name] = f
			continue
		}
		dirs, err := sourceDirs(ctx, w.cfg.ModuleDir, pkg)
		if err != nil {
			return nil, err
		}
		next[name] = &watched{pkg: pkg, dirs: dirs, stamp: stamp(w.cfg.ModuleDir, dirs)}
	}
	return next, nil
}

// apiName is the API file as the user knows it: relative to the module.
func (w *watcher) apiName() string {
	if rel, err := filepath.Rel(w.cfg.ModuleDir, w.apiFile); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return w.apiFile
}

// run polls until ctx ends.
func (w *watcher) run(ctx context.Context) {
	poll.Every(ctx, watchPoll, func() bool {
		if w.apiFile != "" && stampFiles(w.apiFile) != w.apiStamp {
			w.reload(ctx)
		}
		for _, name := range slices.Sorted(maps.Keys(w.fns)) {
			if ctx.Err() != nil {
				return false
			}
			w.check(ctx, name)
		}
		return ctx.Err() == nil
	})
}

// check rebuilds function name if its sources changed.
func (w *watcher) check(ctx context.Context, name string) {
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
	s := w.m.cur.Load()
	pool := s.pools[name]
	if pool == nil {
		return
	}
	path, took, err := w.build(ctx, name, f.pkg)
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
	s.bins[name] = path
	w.prune(name)
	fmt.Fprintf(w.out, "%s changed: rebuilt in %.1fs; new requests run it.\n", name, took.Seconds())
}

// reload serves the API file's new definition, or says why it cannot.
func (w *watcher) reload(ctx context.Context) {
	// Stamped before it is read: a save during the reload is seen at the
	// next poll.
	w.apiStamp = stampFiles(w.apiFile)
	refuse := func(err error) {
		if ctx.Err() == nil {
			fmt.Fprintf(w.out, "%s changed; it is not served, the last good definition keeps serving:\n%v\n", w.apiName(), err)
		}
	}
	def, err := w.cfg.API()
	var doc []byte
	if err == nil {
		def, doc, err = Served(def)
	}
	if err != nil {
		refuse(err)
		return
	}
	fns, err := w.follow(ctx, def.Functions)
	if err != nil {
		refuse(err)
		return
	}
	old := w.m.cur.Load()
	bins := map[string]string{}
	for _, name := range slices.Sorted(maps.Keys(def.Functions)) {
		pkg := def.Functions[name].Package
		if was, ok := old.def.Functions[name]; ok && was.Package == pkg {
			bins[name] = old.bins[name]
			continue
		}
		path, took, err := w.build(ctx, name, pkg)
		if err != nil {
			refuse(fmt.Errorf("building %s (%s): %w", name, pkg, err))
			return
		}
		fmt.Fprintf(w.out, "Built %s (%s) in %.1fs.\n", name, pkg, took.Seconds())
		bins[name] = path
	}
	next, err := w.m.assemble(def, doc, bins, old)
	if err != nil {
		refuse(err)
		return
	}
	w.m.swap(old, next)
	w.fns = fns
	fmt.Fprintf(w.out, "%s changed: serving its %d routes; new requests get them.\n", w.apiName(), len(def.Routes))
	was := map[string]bool{}
	for _, r := range old.def.Routes {
		was[r.String()] = true
	}
	for _, r := range def.Routes {
		if !was[r.String()] {
			fmt.Fprintf(w.out, "    added %s: %s\n", r, w.m.curl(def, r))
		}
		delete(was, r.String())
	}
	for _, r := range slices.Sorted(maps.Keys(was)) {
		fmt.Fprintf(w.out, "    removed %s\n", r)
	}
}

// build builds function name from pkg into its next directory of
// StateDir/bin/watch: a running build's file is never written over.
func (w *watcher) build(ctx context.Context, name, pkg string) (string, time.Duration, error) {
	w.gens[name]++
	start := time.Now()
	path, err := build(ctx, w.cfg, name, pkg, w.genDir(name, w.gens[name]))
	return path, time.Since(start), err
}

// prune removes function name's build before the last: its processes
// have been retired by the previous swap (or are finishing), and unix
// keeps a running file.
func (w *watcher) prune(name string) {
	_ = os.RemoveAll(w.genDir(name, w.gens[name]-1))
}

func (w *watcher) genDir(name string, gen int) string {
	return filepath.Join(w.cfg.StateDir, "bin", "watch", name, strconv.Itoa(gen))
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

// stamp sums the Go files in dirs (tests aside, which no build reads) and
// go.mod and go.sum (stampFiles).
func stamp(moduleDir string, dirs []string) string {
	files := []string{filepath.Join(moduleDir, "go.mod"), filepath.Join(moduleDir, "go.sum")}
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err != nil {
			files = append(files, d) // stamped as unreadable
			continue
		}
		for _, e := range entries {
			if n := e.Name(); strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go") {
				files = append(files, filepath.Join(d, n))
			}
		}
	}
	return stampFiles(files...)
}

// stampFiles sums the names and contents of files: contents, not times,
// so that an edit is seen however soon after the last look it is saved
// and however coarse the file system's clock. A file that cannot be read
// is stamped as such.
func stampFiles(files ...string) string {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			fmt.Fprintf(h, "%s unreadable\n", f)
			continue
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(h, "%s %x\n", f, sum)
	}
	return hex.EncodeToString(h.Sum(nil))
}

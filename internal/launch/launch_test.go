package launch

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// A long build says it is still going; a first build says why it is long,
// once; a failed one says so.
func TestBuildIsNeverSilent(t *testing.T) {
	tick = 20 * time.Millisecond
	t.Cleanup(func() { tick = 15 * time.Second })
	noted.Store(false)
	var out strings.Builder
	if _, err := Build(&out, "the thing", true, func() error { time.Sleep(70 * time.Millisecond); return nil }); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.HasPrefix(got, FirstBuildNote+"\nBuilding the thing… ") || strings.Count(got, "… ") < 3 || !strings.HasSuffix(got, "s\n") {
		t.Errorf("a first, long build printed %q", got)
	}
	out.Reset()
	_, err := Build(&out, "the other", true, func() error { return errors.New("boom") })
	if err == nil || out.String() != "Building the other… failed\n" {
		t.Errorf("a failed build: %v, printed %q (want the note once a process)", err, out.String())
	}
}

func TestModuleRoot(t *testing.T) {
	wd, _ := os.Getwd()
	root, err := ModuleRoot(wd)
	if err != nil || filepath.Base(filepath.Dir(root)) == "" {
		t.Fatalf("ModuleRoot(%s) = %q, %v", wd, root, err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Errorf("ModuleRoot = %s, which holds no go.mod", root)
	}
	if _, err := ModuleRoot(t.TempDir()); err == nil {
		t.Error("ModuleRoot outside tollgate's module: no error")
	}
}

// Two launchers build one at a time: the second waits for the first's
// lock (on unix; elsewhere lock is a no-op).
func TestLockSerialisesBuilds(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	unlock, err := lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		second, err := lock(dir)
		if err != nil {
			t.Error(err)
		} else {
			second()
		}
		close(got)
	}()
	select {
	case <-got:
		t.Fatal("a second lock was taken while the first was held")
	case <-time.After(50 * time.Millisecond):
	}
	unlock()
	select {
	case <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the second lock was not taken after the first was released")
	}
}

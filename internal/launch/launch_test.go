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
	noted.Store(false)
	t.Setenv(notedEnv, "1") // said by the launcher, before this process
	if _, err := Build(&out, "the thing", true, func() error { return nil }); err != nil || strings.Contains(out.String(), FirstBuildNote) {
		t.Errorf("a first build after the launcher's said the note again: %q", out.String())
	}
	out.Reset()
	_, err := Build(&out, "the other", true, func() error { return errors.New("boom") })
	if err == nil || out.String() != "Building the other… failed\n" {
		t.Errorf("a failed build: %v, printed %q (want the note once a process)", err, out.String())
	}
}

// Locate finds tollgate's checkout from inside it, and from a user's
// module that requires it; elsewhere it says what is wrong.
func TestLocate(t *testing.T) {
	wd, _ := os.Getwd()
	root, tollgate, err := Locate(wd)
	if err != nil || root != tollgate || filepath.Base(wd) != "launch" || filepath.Join(root, "internal", "launch") != wd {
		t.Fatalf("Locate(%s) = %q, %q, %v; want the checkout twice", wd, root, tollgate, err)
	}

	user := t.TempDir()
	sub := filepath.Join(user, "functions", "hello")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(user, "go.mod"), []byte("module example.com/myapi\n\ngo 1.26\n\nrequire tollgate v0.0.0\n\nreplace tollgate => "+root+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, gotTollgate, err := Locate(sub)
	if err != nil || got != user || gotTollgate != root {
		t.Errorf("Locate(a user's module) = %q, %q, %v; want %q, %q", got, gotTollgate, err, user, root)
	}

	for dir, want := range map[string]string{root: "go run ./cmd/local", user: "go run tollgate/cmd/local", "": "go run ./cmd/local"} {
		if got := GoRun(dir, "local"); got != want {
			t.Errorf("GoRun(%q) = %q, want %q", dir, got, want)
		}
	}

	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Locate(other); err == nil || !strings.Contains(err.Error(), "does not require tollgate") {
		t.Errorf("Locate(a module without tollgate) = %v", err)
	}
	if _, _, err := Locate(string(filepath.Separator)); err == nil || !strings.Contains(err.Error(), "not in a Go module") {
		t.Errorf("Locate(/) = %v", err)
	}
}

// Two launchers build one at a time: the second waits for the first's
// lock (on unix; elsewhere Lock is a no-op).
func TestLockSerialisesBuilds(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no flock")
	}
	dir := t.TempDir()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan struct{})
	go func() {
		second, err := Lock(dir)
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

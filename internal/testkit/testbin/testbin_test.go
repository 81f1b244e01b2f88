//go:build unix

package testbin

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A directory lasts, under the module's .tollgate, and a second process
// waits for the first to release it.
func TestDirIsLockedPerProcess(t *testing.T) {
	if os.Getenv("TESTBIN_CHILD") == "1" {
		_, release, err := Dir("testbin-self-test")
		if err != nil {
			os.Exit(2)
		}
		release()
		return
	}
	dir, release, err := Dir("testbin-self-test")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(filepath.ToSlash(dir), "/.tollgate/testbin/testbin-self-test") {
		t.Errorf("Dir = %s", dir)
	}
	child := exec.Command(os.Args[0], "-test.run", "^TestDirIsLockedPerProcess$")
	child.Env = append(os.Environ(), "TESTBIN_CHILD=1")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	select {
	case err := <-done:
		t.Fatalf("a second process took the directory while it was held: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("the second process: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the second process did not get the directory once it was released")
	}
}

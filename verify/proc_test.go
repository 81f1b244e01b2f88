//go:build linux

package verify

import (
	"os"
	"os/exec"
	"testing"
)

// The tree of a process with a child holds at least the child's memory on
// top of its own.
func TestTreeRSS(t *testing.T) {
	self, err := TreeRSS(os.Getpid())
	if err != nil || self <= 0 {
		t.Fatalf("TreeRSS(self) = %d, %v", self, err)
	}
	child := exec.Command("sleep", "5")
	if err := child.Start(); err != nil {
		t.Skip("no sleep command:", err)
	}
	defer child.Process.Kill()
	alone, err := TreeRSS(child.Process.Pid)
	if err != nil || alone <= 0 {
		t.Fatalf("TreeRSS(child) = %d, %v", alone, err)
	}
	with, _ := TreeRSS(os.Getpid())
	if with < alone {
		t.Errorf("TreeRSS(self) = %d with a child of %d", with, alone)
	}
	if _, err := TreeRSS(1 << 30); err == nil {
		t.Error("TreeRSS of no process: no error")
	}
}

func TestVmRSS(t *testing.T) {
	if got := vmRSS([]byte("Name:\tx\nVmRSS:\t    1234 kB\nThreads: 1\n")); got != 1234<<10 {
		t.Errorf("vmRSS = %d, want %d", got, 1234<<10)
	}
	if got := vmRSS([]byte("Name:\tx\n")); got != 0 {
		t.Errorf("vmRSS without the line = %d", got)
	}
}

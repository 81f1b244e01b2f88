//go:build linux

package verify

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// A process's tree starts with the process and holds its children, each
// with its executable and memory.
func TestTree(t *testing.T) {
	self, err := Tree(os.Getpid())
	if err != nil || len(self) == 0 || self[0].PID != os.Getpid() || self[0].RSS <= 0 {
		t.Fatalf("Tree(self) = %+v, %v", self, err)
	}
	if exe, _ := os.Executable(); self[0].Exe != exe {
		t.Errorf("Tree(self)[0].Exe = %q, want %q", self[0].Exe, exe)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command:", err)
	}
	child := exec.Command(sleep, "5")
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill() }()
	alone, err := Tree(child.Process.Pid)
	if err != nil || len(alone) != 1 || alone[0].RSS <= 0 {
		t.Fatalf("Tree(child) = %+v, %v", alone, err)
	}
	if want, _ := filepath.EvalSymlinks(sleep); alone[0].Exe != want {
		t.Errorf("Tree(child)[0].Exe = %q, want %q", alone[0].Exe, want)
	}
	with, _ := Tree(os.Getpid())
	if !slices.ContainsFunc(with, func(p Proc) bool { return p.PID == child.Process.Pid }) {
		t.Errorf("Tree(self) = %+v, without child %d", with, child.Process.Pid)
	}
	if _, err := Tree(1 << 30); err == nil {
		t.Error("Tree of no process: no error")
	}
}

func TestSnapshot(t *testing.T) {
	m, err := Snapshot(os.Getpid())
	if err != nil || m.Root <= 0 || m.Total() < m.Root {
		t.Fatalf("Snapshot(self) = %+v, %v", m, err)
	}
	if _, err := Snapshot(1 << 30); err == nil {
		t.Error("Snapshot of no process: no error")
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

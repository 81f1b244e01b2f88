package bench

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Lambda gives a function CPU in proportion to its memory: one vCPU at
// 1,769 MB (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html),
// so a 128 MB function has about 7.2% of one.
const lambdaMBPerCPU = 1769

// cgroupCPU is the cgroup v1 cpu controller's mount.
const cgroupCPU = "/sys/fs/cgroup/cpu"

// cpuLimit returns a Start function for lambdalocal that starts a process
// with the CPU a Lambda function of memoryMB has, through a cgroup v1 cpu
// controller (a CFS quota), and the fraction of a CPU it allows; or nil,
// 1 and why, where the machine does not allow it (no cgroup v1 cpu
// controller, or no permission to make a group).
//
// The child starts in the group: the thread that forks it is moved into
// the group first and back after, and a child inherits its parent
// thread's group (cgroup v1 tasks), so its first instruction is already
// limited.
func cpuLimit(tb testing.TB, memoryMB int) (start func(*exec.Cmd) error, fraction float64, why string) {
	tb.Helper()
	dir := filepath.Join(cgroupCPU, fmt.Sprintf("tollgate-bench-%d-%d", os.Getpid(), memoryMB))
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		return nil, 1, fmt.Sprintf("no CPU limit: cannot make a cgroup v1 cpu group (%v)", err)
	}
	const period = 100000
	quota := period * memoryMB / lambdaMBPerCPU
	for file, v := range map[string]int{"cpu.cfs_period_us": period, "cpu.cfs_quota_us": quota} {
		if err := os.WriteFile(filepath.Join(dir, file), []byte(strconv.Itoa(v)), 0o644); err != nil {
			_ = os.Remove(dir)
			return nil, 1, fmt.Sprintf("no CPU limit: %s: %v", file, err)
		}
	}
	tb.Cleanup(func() {
		// The group's processes have exited by now (the pools close
		// first: cleanups run last-in first-out); move any stray thread
		// out, then remove it.
		moveOwnThreadsOut(dir)
		_ = os.Remove(dir)
	})
	start = func(cmd *exec.Cmd) error {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		tid := strconv.Itoa(syscall.Gettid())
		if err := os.WriteFile(filepath.Join(dir, "tasks"), []byte(tid), 0o644); err != nil {
			return fmt.Errorf("into the CPU group: %w", err)
		}
		err := cmd.Start()
		if werr := os.WriteFile(filepath.Join(cgroupCPU, "tasks"), []byte(tid), 0o644); werr != nil && err == nil {
			err = fmt.Errorf("out of the CPU group: %w", werr)
		}
		moveOwnThreadsOut(dir)
		return err
	}
	return start, float64(quota) / period, ""
}

// moveOwnThreadsOut moves back to the root group any thread of this
// process found in dir's group (one the Go runtime started from the
// forking thread while it was there).
func moveOwnThreadsOut(dir string) {
	b, err := os.ReadFile(filepath.Join(dir, "tasks"))
	if err != nil {
		return
	}
	for _, tid := range strings.Fields(string(b)) {
		if _, err := os.Stat(filepath.Join("/proc/self/task", tid)); err == nil {
			_ = os.WriteFile(filepath.Join(cgroupCPU, "tasks"), []byte(tid), 0o644)
		}
	}
}

//go:build unix

package lambdalocal

import (
	"os/exec"
	"syscall"
)

// killGroup kills the instance's process and everything it started.
func killGroup(cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

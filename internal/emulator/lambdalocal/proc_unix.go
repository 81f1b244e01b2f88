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

// Signals Function.Freeze sends.
const (
	sigStop = syscall.SIGSTOP
	sigCont = syscall.SIGCONT
)

// signalGroup sends sig to the instance's process group, and reports
// whether it was sent.
func signalGroup(cmd *exec.Cmd, sig syscall.Signal) bool {
	return cmd != nil && cmd.Process != nil && syscall.Kill(-cmd.Process.Pid, sig) == nil
}

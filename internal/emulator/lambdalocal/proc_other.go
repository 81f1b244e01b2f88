//go:build !unix

package lambdalocal

import (
	"os/exec"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

// killGroup kills the instance's process.
func killGroup(cmd *exec.Cmd) {
	if cmd != nil && cmd.Process != nil {
		cmd.Process.Kill()
	}
}

// Function.Freeze needs job control signals, which this system lacks: it
// does nothing here.
const (
	sigStop = 0
	sigCont = 0
)

func signalGroup(*exec.Cmd, int) bool { return false }

//go:build unix && !linux

package lambdalocal

import "syscall"

// sysProcAttr puts an instance in its own process group.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

package lambdalocal

import "syscall"

// sysProcAttr puts an instance in its own process group, and has Linux
// kill it if the process that started it dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

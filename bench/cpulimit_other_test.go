//go:build !linux

package bench

import (
	"os/exec"
	"testing"
)

// cpuLimit: only Linux's cgroups can limit a process's CPU here.
func cpuLimit(testing.TB, int) (func(*exec.Cmd) error, float64, string) {
	return nil, 1, "no CPU limit: cgroups are Linux's"
}

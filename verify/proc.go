package verify

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// Proc is one process of a tree, as Linux's /proc tells of it.
type Proc struct {
	PID int
	// Exe is the path of its executable; empty if /proc does not say
	// (the process is exiting, or belongs to another user).
	Exe string
	// RSS is its resident memory in bytes.
	RSS int64
}

// Tree returns process pid, first, and every process descended from it.
// Processes that exit while it reads are left out; pid itself gone is an
// error.
func Tree(pid int) ([]Proc, error) {
	var procs []Proc
	seen := map[int]bool{}
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if seen[p] {
			continue
		}
		seen[p] = true
		status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p))
		if err != nil {
			if p == pid {
				return nil, err
			}
			continue
		}
		exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p))
		procs = append(procs, Proc{PID: p, Exe: exe, RSS: vmRSS(status)})
		tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", p))
		for _, task := range tasks {
			children, _ := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/children", p, task.Name()))
			for f := range strings.FieldsSeq(string(children)) {
				if c, err := strconv.Atoi(f); err == nil {
					queue = append(queue, c)
				}
			}
		}
	}
	return procs, nil
}

// vmRSS reads the VmRSS line of a /proc/<pid>/status file.
func vmRSS(status []byte) int64 {
	for line := range bytes.Lines(status) {
		if rest, ok := bytes.CutPrefix(line, []byte("VmRSS:")); ok {
			f := strings.Fields(string(rest)) // "1234 kB"
			if len(f) == 2 && f[1] == "kB" {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n << 10
			}
		}
	}
	return 0
}

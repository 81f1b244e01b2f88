package verify

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// TreeRSS is the resident memory, in bytes, of process pid and every
// process descended from it, read from Linux's /proc. Processes that exit
// while it reads are left out.
func TreeRSS(pid int) (int64, error) {
	var total int64
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
				return 0, err
			}
			continue
		}
		total += vmRSS(status)
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
	return total, nil
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

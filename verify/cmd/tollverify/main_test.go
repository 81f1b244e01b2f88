package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"tollgate/internal/emulator/lambdalocal"
	"tollgate/verify"
)

// The load's memory verdict: a tree that grows by starting instances, up
// to the bound, has stopped growing; one whose gateway or whose lasting
// instances grow has not, and neither has one past the bound.
func TestMemoryVerdict(t *testing.T) {
	const mb = 1 << 20
	// tree is a gateway of gw MB with n instances of each MB, half of
	// them authorizers, numbered from 1.
	tree := func(gw, n, each int64) verify.Memory {
		m := verify.Memory{Root: gw * mb}
		for i := range n {
			fn := "authorizer"
			if i%2 == 1 {
				fn = "handler"
			}
			m.Procs = append(m.Procs, verify.Proc{PID: int(i + 1), Exe: "/tmp/b/" + fn + "/bootstrap", RSS: each * mb})
		}
		return m
	}
	for _, tt := range []struct {
		name    string
		samples []verify.Memory
		settled bool
		says    string
	}{
		{"flat", []verify.Memory{tree(35, 40, 12), tree(35, 40, 12), tree(35, 40, 12), tree(35, 40, 12)}, true,
			"total ×1.00; the gateway ×1.00; the 40 instances alive at both moments ×1.00; 0 started, 0 ended"},
		{"more instances, each as it was", []verify.Memory{tree(35, 20, 12), tree(35, 30, 12), tree(35, 40, 12), tree(35, 60, 12)}, true,
			"total ×1.91; the gateway ×1.00; the 30 instances alive at both moments ×1.00; 30 started, 0 ended"},
		{"the gateway grows", []verify.Memory{tree(35, 40, 12), tree(35, 40, 12), tree(38, 40, 12), tree(40, 40, 12)}, false,
			"the gateway ×1.14"},
		{"every instance grows", []verify.Memory{tree(35, 40, 10), tree(35, 40, 11), tree(35, 40, 12), tree(35, 40, 13)}, false,
			"the 40 instances alive at both moments ×1.18"},
		{"past the bound", []verify.Memory{tree(35, 40, 12), tree(35, 40, 12), tree(35, 2*lambdalocal.DefaultMaxInstances+2, 12), tree(35, 40, 12)}, false,
			fmt.Sprintf("authorizer ran %d instances, handler ran %d instances, past the bound", lambdalocal.DefaultMaxInstances+1, lambdalocal.DefaultMaxInstances+1)},
		{"too few samples", []verify.Memory{tree(35, 40, 12)}, false, "too few memory samples (1)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rows, verdict, settled := newMemoryRun(tt.samples).report("run", time.Minute)
			if settled != tt.settled || !strings.Contains(verdict, tt.says) {
				t.Errorf("verdict %q, settled %v; want settled %v, saying %q", verdict, settled, tt.settled, tt.says)
			}
			if len(tt.samples) >= 4 && len(rows) != 4 {
				t.Errorf("%d rows, want one a quarter", len(rows))
			}
		})
	}
}

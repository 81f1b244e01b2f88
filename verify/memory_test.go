package verify

import (
	"fmt"
	"math"
	"testing"
)

func TestCompare(t *testing.T) {
	const mb = 1 << 20
	proc := func(pid int, rss int64) Proc {
		return Proc{PID: pid, Exe: "/bin/fn/bootstrap", RSS: rss * mb}
	}
	for _, tt := range []struct {
		name     string
		from, to Memory
		want     Growth
	}{
		{
			name: "nothing changed",
			from: Memory{Root: 30 * mb, Procs: []Proc{proc(1, 10), proc(2, 10)}},
			to:   Memory{Root: 30 * mb, Procs: []Proc{proc(1, 10), proc(2, 10)}},
			want: Growth{Root: 1, Survivors: 1, Survived: 2},
		},
		{
			// The tree doubles, and the processes that were there stay
			// as they were: a pool scaling, not a leak.
			name: "the pool grew",
			from: Memory{Root: 30 * mb, Procs: []Proc{proc(1, 10), proc(2, 10)}},
			to:   Memory{Root: 30 * mb, Procs: []Proc{proc(1, 10), proc(2, 10), proc(3, 8), proc(4, 8)}},
			want: Growth{Root: 1, Survivors: 1, Survived: 2, Started: 2},
		},
		{
			// The same number of processes, each larger: a leak.
			name: "every process grew",
			from: Memory{Root: 30 * mb, Procs: []Proc{proc(1, 10), proc(2, 10)}},
			to:   Memory{Root: 30 * mb, Procs: []Proc{proc(1, 12), proc(2, 13)}},
			want: Growth{Root: 1, Survivors: 1.25, Survived: 2},
		},
		{
			// A replaced process is neither a survivor nor growth.
			name: "one replaced, the root grew",
			from: Memory{Root: 30 * mb, Procs: []Proc{proc(1, 10), proc(2, 10)}},
			to:   Memory{Root: 45 * mb, Procs: []Proc{proc(2, 11), proc(3, 50)}},
			want: Growth{Root: 1.5, Survivors: 1.1, Survived: 1, Started: 1, Ended: 1},
		},
		{
			name: "no descendants",
			from: Memory{Root: 30 * mb},
			to:   Memory{Root: 27 * mb},
			want: Growth{Root: 0.9, Survivors: 1},
		},
		{
			name: "from nothing",
			from: Memory{},
			to:   Memory{Root: 1},
			want: Growth{Root: math.Inf(1), Survivors: 1},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := Compare(tt.from, tt.to)
			if !near(got.Root, tt.want.Root) || !near(got.Survivors, tt.want.Survivors) ||
				got.Survived != tt.want.Survived || got.Started != tt.want.Started || got.Ended != tt.want.Ended {
				t.Errorf("Compare = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMemory(t *testing.T) {
	m := Memory{Root: 100, Procs: []Proc{
		{PID: 1, Exe: "/tmp/x/authorizer/bootstrap", RSS: 10},
		{PID: 2, Exe: "/tmp/x/handler/bootstrap", RSS: 20},
		{PID: 3, Exe: "/tmp/x/handler/bootstrap", RSS: 30},
	}}
	if m.Total() != 160 || m.Mean() != 20 {
		t.Errorf("Total, Mean = %d, %d; want 160, 20", m.Total(), m.Mean())
	}
	if got := m.Counts(); len(got) != 2 || got["authorizer"] != 1 || got["handler"] != 2 {
		t.Errorf("Counts = %v", got)
	}
	if got := m.String(); got != "authorizer 1, handler 2" {
		t.Errorf("String = %q", got)
	}
	if (Memory{Root: 5}).Mean() != 0 {
		t.Error("Mean without descendants is not 0")
	}
}

func near(a, b float64) bool { return a == b || math.Abs(a-b) < 1e-9 }

// Two snapshots of a gateway's tree: in between, one instance was
// started and one grew. Only the growth of instances present in both
// counts as growth.
func ExampleCompare() {
	const mb = 1 << 20
	half := Memory{Root: 34 * mb, Procs: []Proc{
		{PID: 101, Exe: "/tmp/bin/authorizer/bootstrap", RSS: 12 * mb},
		{PID: 102, Exe: "/tmp/bin/handler/bootstrap", RSS: 12 * mb},
	}}
	end := Memory{Root: 34 * mb, Procs: []Proc{
		{PID: 101, Exe: "/tmp/bin/authorizer/bootstrap", RSS: 12 * mb},
		{PID: 102, Exe: "/tmp/bin/handler/bootstrap", RSS: 15 * mb},
		{PID: 103, Exe: "/tmp/bin/handler/bootstrap", RSS: 9 * mb},
	}}
	g := Compare(half, end)
	fmt.Printf("instances: %s\n", end)
	fmt.Printf("total ×%.2f, gateway ×%.2f, survivors ×%.3f (%d), started %d\n",
		float64(end.Total())/float64(half.Total()), g.Root, g.Survivors, g.Survived, g.Started)
	// Output:
	// instances: authorizer 1, handler 2
	// total ×1.21, gateway ×1.00, survivors ×1.125 (2), started 1
}

package verify

import (
	"fmt"
	"maps"
	"math"
	"path/filepath"
	"slices"
	"strings"
)

// Memory is a process tree's memory at one moment: the root process's
// own, and each of its descendants'.
type Memory struct {
	Root  int64
	Procs []Proc // the descendants
}

// Snapshot reads the memory of process pid's tree (see Tree).
func Snapshot(pid int) (Memory, error) {
	procs, err := Tree(pid)
	if err != nil {
		return Memory{}, err
	}
	return Memory{Root: procs[0].RSS, Procs: procs[1:]}, nil
}

// Total is the tree's resident memory in bytes.
func (m Memory) Total() int64 {
	t := m.Root
	for _, p := range m.Procs {
		t += p.RSS
	}
	return t
}

// Mean is the descendants' mean resident memory, 0 if there are none.
func (m Memory) Mean() int64 {
	if len(m.Procs) == 0 {
		return 0
	}
	return (m.Total() - m.Root) / int64(len(m.Procs))
}

// Counts is the number of descendants per program, named by the
// directory of its executable, as lambdalocal's functions are
// (<function>/bootstrap).
func (m Memory) Counts() map[string]int {
	c := map[string]int{}
	for _, p := range m.Procs {
		c[filepath.Base(filepath.Dir(p.Exe))]++
	}
	return c
}

// String is the count per program, in name order: "authorizer 12, handler 16".
func (m Memory) String() string {
	c := m.Counts()
	var s []string
	for _, name := range slices.Sorted(maps.Keys(c)) {
		s = append(s, fmt.Sprintf("%s %d", name, c[name]))
	}
	return strings.Join(s, ", ")
}

// Growth is how memory changed from one snapshot of a tree to a later one,
// told apart from the tree growing: a pool that starts processes on demand
// grows by whole processes, up to its bound, while a leak grows the
// processes that are already there.
type Growth struct {
	// Root is the root process's memory at the end over its memory at the
	// start.
	Root float64
	// Survivors is the memory of the descendants alive at both moments, at
	// the end over at the start; 1 if there are none.
	Survivors float64
	// Survived, Started and Ended count descendants alive at both moments,
	// only at the end, and only at the start.
	Survived, Started, Ended int
}

// Compare measures the growth from snapshot from to snapshot to.
func Compare(from, to Memory) Growth {
	g := Growth{Root: ratio(to.Root, from.Root), Survivors: 1}
	before := map[int]int64{}
	for _, p := range from.Procs {
		before[p.PID] = p.RSS
	}
	var was, is int64
	for _, p := range to.Procs {
		if rss, ok := before[p.PID]; ok {
			g.Survived++
			was += rss
			is += p.RSS
			delete(before, p.PID)
		} else {
			g.Started++
		}
	}
	g.Ended = len(before)
	if g.Survived > 0 {
		g.Survivors = ratio(is, was)
	}
	return g
}

func ratio(a, b int64) float64 {
	if b == 0 {
		if a == 0 {
			return 1
		}
		return math.Inf(1)
	}
	return float64(a) / float64(b)
}

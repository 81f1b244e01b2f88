// Package property runs seeded property tests: a promise checked over many
// generated cases, each generated from a seed of its own, so that a failing
// case is reported with the seed that reproduces it.
//
// The number of cases is the caller's default, or TOLLGATE_PROPERTY_CASES
// (make verify runs many more than go test does); TOLLGATE_PROPERTY_SEED
// runs the one case of that seed, to reproduce a failure. Seeds are
// 1, 2, 3, …: every run tries the same cases, and a longer run tries the
// short run's cases and more.
package property

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
)

// The environment variables Run reads.
const (
	EnvCases = "TOLLGATE_PROPERTY_CASES"
	EnvSeed  = "TOLLGATE_PROPERTY_SEED"
)

// Counts are what a property run tried: its cases, and the named events
// the cases counted with Add (requests sent, keys refused, …).
type Counts struct {
	Cases  int
	Failed int
	events []namedCount
}

type namedCount struct {
	name string
	n    *atomic.Int64
}

// Add counts n events called name.
func (c *Counts) Add(name string, n int) {
	for _, e := range c.events {
		if e.name == name {
			e.n.Add(int64(n))
			return
		}
	}
	v := &atomic.Int64{}
	v.Add(int64(n))
	c.events = append(c.events, namedCount{name, v})
}

// String is the summary line Run logs: "property NAME: 40 cases, 0
// failed; requests 8000, …", which tollverify reads.
func (c *Counts) String() string {
	s := fmt.Sprintf("%d cases, %d failed", c.Cases, c.Failed)
	for i, e := range c.events {
		if i == 0 {
			s += ";"
		} else {
			s += ","
		}
		s += fmt.Sprintf(" %s %d", e.name, e.n.Load())
	}
	return s
}

// Run runs check on cases generated cases (or as many as EnvCases says),
// each as a subtest named by its seed, with a generator seeded by it, and
// logs the summary. check reports failures through its *testing.T; a
// failing case's message names the seed to pass in EnvSeed.
func Run(t *testing.T, name string, cases int, check func(t *testing.T, rng *rand.Rand, counts *Counts)) *Counts {
	t.Helper()
	if v := os.Getenv(EnvCases); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number of cases", EnvCases, v)
		}
		cases = n
	}
	first, last := uint64(1), uint64(cases)
	if v := os.Getenv(EnvSeed); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want a seed, a number", EnvSeed, v)
		}
		first, last = seed, seed
	}
	counts := &Counts{}
	for seed := first; seed <= last; seed++ {
		counts.Cases++
		ok := t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			defer func() {
				if t.Failed() {
					t.Logf("reproduce with %s=%d go test -run '^%s$'", EnvSeed, seed, strings.SplitN(t.Name(), "/", 2)[0])
				}
			}()
			check(t, rand.New(rand.NewPCG(seed, 0x7011ca7e)), counts)
		})
		if !ok {
			counts.Failed++
		}
	}
	t.Logf("property %s: %s", name, counts)
	return counts
}

package property

import (
	"math/rand/v2"
	"testing"
)

func TestRunSeedsAndCounts(t *testing.T) {
	t.Setenv(EnvCases, "")
	t.Setenv(EnvSeed, "")
	var firsts []uint64
	c := Run(t, "demo", 3, func(t *testing.T, rng *rand.Rand, counts *Counts) {
		firsts = append(firsts, rng.Uint64())
		counts.Add("requests", 2)
		counts.Add("refusals", 1)
	})
	if c.Cases != 3 || c.Failed != 0 {
		t.Errorf("Run() counted %d cases, %d failed; want 3, 0", c.Cases, c.Failed)
	}
	if want := "3 cases, 0 failed; requests 6, refusals 3"; c.String() != want {
		t.Errorf("summary %q, want %q", c.String(), want)
	}
	if firsts[0] == firsts[1] || firsts[1] == firsts[2] {
		t.Errorf("cases share a seed: %v", firsts)
	}

	// The same seeds give the same cases; EnvSeed runs one of them.
	t.Setenv(EnvSeed, "2")
	var again []uint64
	Run(t, "demo", 3, func(t *testing.T, rng *rand.Rand, _ *Counts) { again = append(again, rng.Uint64()) })
	if len(again) != 1 || again[0] != firsts[1] {
		t.Errorf("%s=2 ran %v, want the second case's %v alone", EnvSeed, again, firsts[1])
	}
	t.Setenv(EnvSeed, "")
	t.Setenv(EnvCases, "5")
	if c := Run(t, "demo", 3, func(*testing.T, *rand.Rand, *Counts) {}); c.Cases != 5 {
		t.Errorf("%s=5: %d cases", EnvCases, c.Cases)
	}
}

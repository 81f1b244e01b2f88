package main

import (
	"os"
	"strings"
	"testing"

	"tollgate/bench/internal/results"
)

func fixtureRows(t *testing.T, armBytes float64) []results.Row {
	t.Helper()
	f, err := os.Open("testdata/run.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	set, err := results.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	size := results.Result{Name: "Binary/linux-arm64/tollgate", N: 1, Metrics: map[string]float64{"bytes": armBytes}, Units: []string{"bytes"}}
	return results.Summarize(append(set.Results, size))
}

func TestCheckTargets(t *testing.T) {
	got := checkTargets(fixtureRows(t, 7.2e6))
	want := []string{
		"met: Warm TOKEN decision ≤ 1.00 µs/op, ≤ 0 allocs/op, ≥ 5× faster than idiomatic (every TOKEN figure) (worst: 500 ns/op, 0 allocs/op, 6×)",
		"**MISSED**: Warm REQUEST decision ≤ 2.00 µs/op, ≤ 1 allocs/op, ≥ 10× faster than idiomatic (every REQUEST figure) (worst: 1.50 µs/op, 0 allocs/op, 8×; Warm/REQUEST/valid/keys=1: 1.50 µs, 0 allocs, 8×)",
		"met: Whole-process cold start to first response ≤ 1.5× the hello-world floor, and ≥ 10× faster than the Python seed pattern (tollgate 6.00 ms, hello 4.00 ms (1.5×), python 300.00 ms (50×))",
		"**MISSED**: Cold start as on Lambda (128 MB of CPU, Secrets Manager over TLS 20 ms away) ≤ 1.5× the hello-world floor (tollgate 390.00 ms, hello 180.00 ms (2.17×); with the system's roots 540.00 ms (3×); tollgate/hello = 2.17×)",
		"met: Steady state: 0 Secrets Manager calls per warm request for tollgate; the seed pattern makes 1 (4 warm figures counted)",
		"met: Binary: the authorizer's stripped linux/arm64 bootstrap ≤ 8 MB (7200000 bytes (7.20 MB))",
	}
	if len(got) != len(want) {
		t.Fatalf("checkTargets = %q", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("target %d =\n%s\nwant\n%s", i, got[i], want[i])
		}
	}
	if got := checkTargets(fixtureRows(t, 8.5e6))[5]; !strings.HasPrefix(got, "**MISSED**") || !strings.Contains(got, "8.50 MB") {
		t.Errorf("a 8.5 MB binary: %s", got)
	}
	if got := checkTargets(nil)[0]; !strings.HasPrefix(got, "not measured") {
		t.Errorf("with no figures: %s", got)
	}
}

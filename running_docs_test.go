package main

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"tollgate/authorizer"
)

// docs/running-it.md's table of the authorizer's metrics is
// authorizer.Metrics: every metric, in order, with its unit and its
// dimension sets.
func TestRunningItMetricsTable(t *testing.T) {
	b, err := os.ReadFile("docs/running-it.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("(?m)^\\| `(\\w+)` \\| (\\w+) \\| ([a-z, ;]+) \\|")
	var got, want []string
	for _, m := range row.FindAllStringSubmatch(string(b), -1) {
		got = append(got, m[1]+" "+m[2]+" "+m[3])
	}
	for _, m := range authorizer.Metrics {
		var sets []string
		for _, d := range m.Dimensions {
			sets = append(sets, strings.Join(d, ", "))
		}
		want = append(want, m.Name+" "+m.Unit+" "+strings.Join(sets, "; "))
	}
	if !slices.Equal(got, want) {
		t.Errorf("docs/running-it.md's metrics:\n%q\nauthorizer.Metrics:\n%q", got, want)
	}
}

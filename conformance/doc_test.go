package conformance

import (
	"os"
	"strings"
	"testing"
)

// The package doc's tables name every row, in order, with what it needs:
// Rows' first, then HTTPRows'.
func TestDocTable(t *testing.T) {
	b, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "//\t") && !strings.HasPrefix(line, "//\trow ") {
			got = append(got, strings.TrimSpace(strings.TrimPrefix(line, "//\t")))
		}
	}
	rows := append(Rows(), HTTPRows()...)
	if len(got) != len(rows) {
		t.Fatalf("the doc's table has %d rows, Rows %d", len(got), len(rows))
	}
	for i, r := range rows {
		needs := r.Needs
		if needs == "" {
			needs = "-"
		}
		fields := strings.Fields(strings.TrimPrefix(got[i], r.Name))
		if !strings.HasPrefix(got[i], r.Name+" ") || len(fields) < 2 || fields[0] != needs {
			t.Errorf("doc row %d = %q, want %q needing %s", i+1, got[i], r.Name, needs)
		}
	}
}

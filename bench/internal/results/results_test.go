package results

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

func sample(t *testing.T) *Set {
	t.Helper()
	f, err := os.Open("testdata/sample.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	set, err := Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func TestParse(t *testing.T) {
	set := sample(t)
	if got := set.Config["cpu"]; got != "AMD EPYC 7B13" {
		t.Errorf("cpu = %q", got)
	}
	if len(set.Results) != 8 {
		t.Fatalf("%d results, want 8", len(set.Results))
	}
	r := set.Results[1]
	if r.Name != "Warm/TOKEN/valid/keys=1/idiomatic" || r.N != 200000 || r.Metrics["ns/op"] != 5012 || r.Metrics["allocs/op"] != 41 {
		t.Errorf("second result = %+v", r)
	}
	if got := strings.Join(r.Units, ","); got != "ns/op,sm-calls/op,B/op,allocs/op" {
		t.Errorf("units = %s", got)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"BenchmarkX-2 many 1 ns/op", "iterations"},
		{"BenchmarkX-2 0 1 ns/op", "iterations"},
		{"BenchmarkX-2 10 1", "without its unit"},
		{"BenchmarkX-2 10 fast ns/op", "not a number"},
		{"BenchmarkX-2 10 1 ns/op 2 ns/op", "twice"},
		{"Benchmark-2 10 1 ns/op", "no benchmark name"},
	} {
		_, err := Parse(strings.NewReader("goos: linux\n" + tt.in + "\n"))
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("Parse(%q) = %v, want an error at line 2 saying %q", tt.in, err, tt.want)
		}
	}
}

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5},
	} {
		if got := Median(tt.in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestTable(t *testing.T) {
	rows := Summarize(sample(t).Results)
	impls := Impls(rows, "tollgate", []string{"idiomatic", "seed", "hello"})
	if got := strings.Join(impls, ","); got != "tollgate,idiomatic,hello" {
		t.Fatalf("Impls = %s", got)
	}
	var b bytes.Buffer
	Table(&b, rows, impls)
	want, err := os.ReadFile("testdata/sample.md")
	if err != nil {
		t.Fatal(err)
	}
	if b.String() != string(want) {
		t.Errorf("Table =\n%s\nwant\n%s", b.String(), want)
	}
}

func TestRatio(t *testing.T) {
	m := map[string]float64{"a": 0, "b": 0, "c": 3, "d": 1.5}
	for _, tt := range []struct{ impl, base, want string }{
		{"b", "a", "="}, {"c", "a", "∞"}, {"c", "d", "2×"}, {"x", "d", ""}, {"d", "x", ""},
	} {
		if got := Ratio(m, tt.impl, tt.base); got != tt.want {
			t.Errorf("Ratio(%s, %s) = %q, want %q", tt.impl, tt.base, got, tt.want)
		}
	}
}

// Parse either fails or gives results whose names and iterations are
// usable, whatever the input.
func FuzzParse(f *testing.F) {
	b, _ := os.ReadFile("testdata/sample.txt")
	f.Add(string(b))
	f.Add("BenchmarkA/b-4 1 2 ns/op 3 x/op\n")
	f.Add("Benchmark 1\n")
	f.Fuzz(func(t *testing.T, in string) {
		set, err := Parse(strings.NewReader(in))
		if err != nil {
			return
		}
		for _, r := range set.Results {
			if r.Name == "" || r.N <= 0 || len(r.Units) != len(r.Metrics) {
				t.Fatalf("result %+v from %q", r, in)
			}
		}
		var out bytes.Buffer
		rows := Summarize(set.Results)
		if impls := Impls(rows, "tollgate", nil); len(impls) > 0 {
			Table(&out, rows, impls)
		}
	})
}

// A log line written while a benchmark runs lands between its name and
// its figures, as go test prints the name first: the figures on a later
// line still belong to it (tollbench crashed on an SDK warning there).
func TestParseLogInsideAResultLine(t *testing.T) {
	in := "goos: linux\n" +
		"BenchmarkColdProcess/TOKEN/idiomatic-2   \tSDK 2026/12/01 21:00:00 WARN Response has no supported checksum.\n" +
		"another log line\n" +
		"      12\t  83000000 ns/op\t 2.000 sm-calls/op\n" +
		"BenchmarkWarm/TOKEN/tollgate-2 \t 1000\t 120 ns/op\n"
	set, err := Parse(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(set.Results) != 2 || set.Results[0].Name != "ColdProcess/TOKEN/idiomatic" || set.Results[0].N != 12 ||
		set.Results[0].Metrics["sm-calls/op"] != 2 || set.Results[1].Name != "Warm/TOKEN/tollgate" {
		t.Errorf("results = %+v", set.Results)
	}
	// Figures with no benchmark before them are an error.
	if _, err := Parse(strings.NewReader("      12\t  83000000 ns/op\n")); err == nil {
		t.Error("figures without a name were accepted")
	}
}

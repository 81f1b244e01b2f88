// Package results reads the output of go test -bench and summarizes it as
// tollbench's table: for each figure, the median of each metric over the
// runs, per implementation, with each peer's ratio to tollgate.
//
// A benchmark's name is its figure and its implementation, the last
// element: Warm/TOKEN/valid/keys=1/tollgate is the figure
// Warm/TOKEN/valid/keys=1 measured for tollgate.
package results

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Result is one line of benchmark output: a run of one benchmark.
type Result struct {
	Name    string             // without "Benchmark" and the -GOMAXPROCS suffix
	N       int64              // iterations
	Metrics map[string]float64 // by unit: ns/op, B/op, allocs/op and custom units
	Units   []string           // the units in the line's order
}

// Set is a whole output: its configuration lines (goos, goarch, pkg, cpu)
// and its results in order.
type Set struct {
	Config  map[string]string
	Results []Result
}

// Parse reads benchmark output. Lines that are neither results nor
// configuration (test logs, PASS, ok) are skipped; a result line that is
// malformed is an error naming its line.
func Parse(r io.Reader) (*Set, error) {
	set := &Set{Config: map[string]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	// pending is a benchmark whose name was printed and whose figures
	// are still to come: go test prints the name when the benchmark
	// starts, so a line the benchmark logs lands right after it, and the
	// figures follow on a line of their own.
	pending := ""
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if k, v, ok := configLine(line); ok {
			set.Config[k] = v
			continue
		}
		f := strings.Fields(line)
		switch {
		case strings.HasPrefix(line, "Benchmark") && (len(f) == 1 || !isCount(f[1]) && !slices.Contains(f, "ns/op")):
			pending = f[0] // the name, then a log line (or nothing)
			continue
		case strings.HasPrefix(line, "Benchmark"):
			pending = ""
		case len(f) > 1 && isCount(f[0]) && slices.Contains(f, "ns/op"):
			if pending == "" {
				return nil, fmt.Errorf("line %d: figures with no benchmark name before them", n)
			}
			f = append([]string{pending}, f...)
			pending = ""
		default:
			continue
		}
		res, err := parseResult(f)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		set.Results = append(set.Results, res)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return set, nil
}

// configLine recognizes "key: value" lines with a lower-case key.
func configLine(line string) (key, value string, ok bool) {
	k, v, ok := strings.Cut(line, ": ")
	if !ok || k == "" || strings.ContainsAny(k, " \t") || strings.ToLower(k) != k {
		return "", "", false
	}
	return k, strings.TrimSpace(v), true
}

func isCount(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

func parseResult(f []string) (Result, error) {
	name := strings.TrimPrefix(f[0], "Benchmark")
	if i := strings.LastIndexByte(name, '-'); i >= 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	if name == "" {
		return Result{}, fmt.Errorf("%s: no benchmark name", f[0])
	}
	n, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil || n <= 0 {
		return Result{}, fmt.Errorf("%s: iterations %q: want a positive integer", f[0], f[1])
	}
	if len(f)%2 != 0 {
		return Result{}, fmt.Errorf("%s: a value without its unit", f[0])
	}
	res := Result{Name: name, N: n, Metrics: map[string]float64{}}
	for i := 2; i < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return Result{}, fmt.Errorf("%s: value %q: not a number", f[0], f[i])
		}
		unit := f[i+1]
		if _, dup := res.Metrics[unit]; dup {
			return Result{}, fmt.Errorf("%s: unit %s twice", f[0], unit)
		}
		res.Metrics[unit] = v
		res.Units = append(res.Units, unit)
	}
	return res, nil
}

// Split cuts a benchmark name into its figure and implementation.
func Split(name string) (figure, impl string) {
	i := strings.LastIndexByte(name, '/')
	if i < 0 {
		return name, ""
	}
	return name[:i], name[i+1:]
}

// Median is the median of vs; vs is reordered. It is 0 for no values.
func Median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	slices.Sort(vs)
	m := len(vs) / 2
	if len(vs)%2 == 1 {
		return vs[m]
	}
	return (vs[m-1] + vs[m]) / 2
}

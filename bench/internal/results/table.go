package results

import (
	"fmt"
	"io"
	"slices"
	"strings"
)

// Row is one metric of one figure: its median per implementation, over
// the runs each had.
type Row struct {
	Figure string
	Unit   string
	Median map[string]float64 // by implementation
	Runs   map[string]int
}

// Summarize groups results by figure and unit, in the order figures first
// appear, and takes medians over the runs.
func Summarize(rs []Result) []Row {
	type key struct{ figure, unit string }
	values := map[key]map[string][]float64{}
	var order []key
	for _, r := range rs {
		figure, impl := Split(r.Name)
		for _, unit := range r.Units {
			k := key{figure, unit}
			if values[k] == nil {
				values[k] = map[string][]float64{}
				order = append(order, k)
			}
			values[k][impl] = append(values[k][impl], r.Metrics[unit])
		}
	}
	// Keep a figure's rows together, in the order the figure first came.
	first := map[string]int{}
	for i, k := range order {
		if _, ok := first[k.figure]; !ok {
			first[k.figure] = i
		}
	}
	slices.SortStableFunc(order, func(a, b key) int { return first[a.figure] - first[b.figure] })
	rows := make([]Row, 0, len(order))
	for _, k := range order {
		row := Row{Figure: k.figure, Unit: k.unit, Median: map[string]float64{}, Runs: map[string]int{}}
		for impl, vs := range values[k] {
			row.Runs[impl] = len(vs)
			row.Median[impl] = Median(vs)
		}
		rows = append(rows, row)
	}
	return rows
}

// Impls lists the implementations the rows name: base first, then the
// others in the order they first appear.
func Impls(rows []Row, base string, order []string) []string {
	seen := map[string]bool{}
	for _, r := range rows {
		for impl := range r.Median {
			seen[impl] = true
		}
	}
	var out []string
	for _, impl := range append([]string{base}, order...) {
		if seen[impl] && !slices.Contains(out, impl) {
			out = append(out, impl)
		}
	}
	var rest []string
	for impl := range seen {
		if !slices.Contains(out, impl) {
			rest = append(rest, impl)
		}
	}
	slices.Sort(rest)
	return append(out, rest...)
}

// Table writes rows as a Markdown table: the figure and metric, each
// implementation's median, and each other implementation's ratio to base.
func Table(w io.Writer, rows []Row, impls []string) {
	base := impls[0]
	head := []string{"figure", "metric"}
	head = append(head, impls...)
	for _, impl := range impls[1:] {
		head = append(head, impl+"/"+base)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(head, " | "))
	fmt.Fprintf(w, "|%s\n", strings.Repeat("---|", len(head)))
	for _, r := range rows {
		cells := []string{r.Figure, r.Unit}
		for _, impl := range impls {
			v, ok := r.Median[impl]
			if !ok {
				cells = append(cells, "")
				continue
			}
			cells = append(cells, Format(v, r.Unit))
		}
		for _, impl := range impls[1:] {
			cells = append(cells, Ratio(r.Median, impl, base))
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
}

// Format writes v in the unit's natural scale.
func Format(v float64, unit string) string {
	switch {
	case strings.HasSuffix(unit, "ns/op"):
		return duration(v)
	case unit == "bytes":
		return fmt.Sprintf("%.2f MB", v/1e6)
	case unit == "B/op":
		return fmt.Sprintf("%.0f B", v)
	}
	return fmt.Sprintf("%.3g", v)
}

func duration(ns float64) string {
	switch {
	case ns < 1e3:
		return fmt.Sprintf("%.0f ns", ns)
	case ns < 1e6:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	case ns < 1e9:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	}
	return fmt.Sprintf("%.2f s", ns/1e9)
}

// Ratio is impl's median over base's, as "12.3×"; "" when either is
// missing, "=" when both are 0, "∞" when only base is 0.
func Ratio(m map[string]float64, impl, base string) string {
	v, ok1 := m[impl]
	b, ok2 := m[base]
	switch {
	case !ok1 || !ok2:
		return ""
	case b == 0 && v == 0:
		return "="
	case b == 0:
		return "∞"
	}
	return fmt.Sprintf("%.3g×", v/b)
}

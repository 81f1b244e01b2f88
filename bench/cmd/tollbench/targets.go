package main

import (
	"fmt"
	"slices"
	"strings"

	"tollgate/bench/internal/results"
)

// figures indexes rows by figure and unit.
type figures map[string]map[string]map[string]float64

func index(rows []results.Row) figures {
	f := figures{}
	for _, r := range rows {
		if f[r.Figure] == nil {
			f[r.Figure] = map[string]map[string]float64{}
		}
		f[r.Figure][r.Unit] = r.Median
	}
	return f
}

// value is impl's median of unit in figure.
func (f figures) value(figure, unit, impl string) (float64, bool) {
	v, ok := f[figure][unit][impl]
	return v, ok
}

// matching are the figures that start with prefix, sorted.
func (f figures) matching(prefix string) []string {
	var out []string
	for fig := range f {
		if strings.HasPrefix(fig, prefix) {
			out = append(out, fig)
		}
	}
	slices.Sort(out)
	return out
}

// target is one of issue 5's targets; check returns what failed, or
// nothing, and the worst values seen.
type target struct {
	text  string
	check func(figures) (failed []string, seen string, measured bool)
}

// warmTarget is the warm decision target for one event type: at most
// maxNS and maxAllocs, at least minRatio times faster than the idiomatic
// peer, on every figure of the type.
func warmTarget(kind string, maxNS, maxAllocs, minRatio float64) target {
	return target{
		text: fmt.Sprintf("Warm %s decision ≤ %s/op, ≤ %g allocs/op, ≥ %g× faster than idiomatic (every %s figure)", kind, fmtNS(maxNS), maxAllocs, minRatio, kind),
		check: func(f figures) ([]string, string, bool) {
			var failed []string
			worstNS, worstAllocs, worstRatio := 0.0, 0.0, 0.0
			figs := f.matching("Warm/" + kind + "/")
			for _, fig := range figs {
				ns, ok1 := f.value(fig, "ns/op", "tollgate")
				allocs, ok2 := f.value(fig, "allocs/op", "tollgate")
				peer, ok3 := f.value(fig, "ns/op", "idiomatic")
				if !ok1 || !ok2 || !ok3 || ns == 0 {
					failed = append(failed, fig+": not measured")
					continue
				}
				ratio := peer / ns
				if worstRatio == 0 || ratio < worstRatio {
					worstRatio = ratio
				}
				worstNS, worstAllocs = max(worstNS, ns), max(worstAllocs, allocs)
				if ns > maxNS || allocs > maxAllocs || ratio < minRatio {
					failed = append(failed, fmt.Sprintf("%s: %s, %g allocs, %.3g×", fig, fmtNS(ns), allocs, ratio))
				}
			}
			return failed, fmt.Sprintf("worst: %s/op, %g allocs/op, %.3g×", fmtNS(worstNS), worstAllocs, worstRatio), len(figs) > 0
		},
	}
}

var targets = []target{
	warmTarget("TOKEN", 1000, 0, 5),
	warmTarget("REQUEST", 2000, 1, 10),
	{
		text: "Whole-process cold start to first response ≤ 1.5× the hello-world floor, and ≥ 10× faster than the Python seed pattern",
		check: func(f figures) ([]string, string, bool) {
			tg, ok1 := f.value("ColdProcess/TOKEN", "cold-ns/op", "tollgate")
			hello, ok2 := f.value("ColdProcess/TOKEN", "cold-ns/op", "hello")
			py, ok3 := f.value("ColdProcess/TOKEN", "cold-ns/op", "python")
			if !ok1 || !ok2 || !ok3 || tg == 0 {
				return []string{"ColdProcess/TOKEN: not measured for tollgate, hello and python"}, "", ok1
			}
			var failed []string
			if tg > 1.5*hello {
				failed = append(failed, fmt.Sprintf("tollgate/hello = %.3g×", tg/hello))
			}
			if py/tg < 10 {
				failed = append(failed, fmt.Sprintf("python/tollgate = %.3g×", py/tg))
			}
			return failed, fmt.Sprintf("tollgate %s, hello %s (%.3g×), python %s (%.3g×)", fmtNS(tg), fmtNS(hello), tg/hello, fmtNS(py), py/tg), true
		},
	},
	{
		text: "Cold start as on Lambda (128 MB of CPU, Secrets Manager over TLS 20 ms away) ≤ 1.5× the hello-world floor",
		check: func(f figures) ([]string, string, bool) {
			tg, ok1 := f.value("ColdTLS/TOKEN", "cold-ns/op", "tollgate")
			hello, ok2 := f.value("ColdTLS/TOKEN", "cold-ns/op", "hello")
			if !ok1 || !ok2 || hello == 0 {
				return []string{"ColdTLS/TOKEN: not measured for tollgate and hello"}, "", ok1
			}
			seen := fmt.Sprintf("tollgate %s, hello %s (%.3g×)", fmtNS(tg), fmtNS(hello), tg/hello)
			if sys, ok := f.value("ColdTLS/TOKEN", "cold-ns/op", "tollgate-sysroots"); ok {
				seen += fmt.Sprintf("; with the system's roots %s (%.3g×)", fmtNS(sys), sys/hello)
			}
			if cpu, ok := f.value("ColdTLS/TOKEN", "cpu-fraction", "tollgate"); ok && cpu >= 1 {
				seen += "; no CPU limit on this machine"
			}
			var failed []string
			if tg > 1.5*hello {
				failed = append(failed, fmt.Sprintf("tollgate/hello = %.3g×", tg/hello))
			}
			return failed, seen, true
		},
	},
	{
		text: "Steady state: 0 Secrets Manager calls per warm request for tollgate; the seed pattern makes 1",
		check: func(f figures) ([]string, string, bool) {
			var failed []string
			figs := append(f.matching("Warm/"), f.matching("WarmProcess/")...)
			for _, fig := range figs {
				if v, ok := f.value(fig, "sm-calls/op", "tollgate"); !ok || v != 0 {
					failed = append(failed, fmt.Sprintf("%s: tollgate %g calls/op", fig, v))
				}
				if v, ok := f.value(fig, "sm-calls/op", "seed"); ok && v != 1 {
					failed = append(failed, fmt.Sprintf("%s: seed %g calls/op", fig, v))
				}
			}
			return failed, fmt.Sprintf("%d warm figures counted", len(figs)), len(figs) > 0
		},
	},
	{
		text: "Binary: the authorizer's stripped linux/arm64 bootstrap ≤ 8 MB",
		check: func(f figures) ([]string, string, bool) {
			v, ok := f.value("Binary/linux-arm64", "bytes", "tollgate")
			if !ok {
				return []string{"not measured"}, "", false
			}
			var failed []string
			if v > 8e6 {
				failed = append(failed, fmt.Sprintf("%.2f MB", v/1e6))
			}
			return failed, fmt.Sprintf("%.0f bytes (%.2f MB)", v, v/1e6), true
		},
	},
}

// checkTargets says, for each target, met, MISSED or not measured.
func checkTargets(rows []results.Row) []string {
	f := index(rows)
	var out []string
	for _, t := range targets {
		failed, seen, measured := t.check(f)
		switch {
		case !measured:
			out = append(out, "not measured in this run: "+t.text)
		case len(failed) == 0:
			out = append(out, fmt.Sprintf("met: %s (%s)", t.text, seen))
		default:
			out = append(out, fmt.Sprintf("**MISSED**: %s (%s; %s)", t.text, seen, strings.Join(failed, "; ")))
		}
	}
	return out
}

func fmtNS(ns float64) string {
	return results.Format(ns, "ns/op")
}

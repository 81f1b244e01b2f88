package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"tollgate/internal/testkit/dudect"
)

// The timing step: TestTiming of the authorizer, run again and again, and
// its pairs of inputs reported.

type pairRun struct {
	Pair   string          `json:"pair"`
	Keys   int             `json:"keys"`
	Secret bool            `json:"secret"`
	Note   string          `json:"note"`
	Runs   []dudect.Result `json:"runs"`
}

func timing(ctx context.Context, root string, o options, b *strings.Builder) bool {
	type key struct {
		pair string
		keys int
	}
	var order []key
	byPair := map[key]*pairRun{}
	ok, planted := true, true
	dir, err := os.MkdirTemp("", "tollverify-timing")
	if err != nil {
		fmt.Fprintf(b, "timing: %v\n", err)
		return false
	}
	defer func() { _ = os.RemoveAll(dir) }()
	began := time.Now()
	for p := range o.timingProcesses {
		out := filepath.Join(dir, fmt.Sprintf("run%d.json", p))
		res, err := goCmd(ctx, root, []string{"TOLLGATE_TIMING_RUNS=1", "TOLLGATE_TIMING_REPORT=" + out,
			fmt.Sprintf("TOLLGATE_TIMING_SAMPLES=%d", o.timingSamples), "TOLLGATE_TIMING_SECONDS=60"},
			"test", "-count=1", "-run", "^TestTiming$", "./authorizer")
		if err != nil {
			// A failure here is a secret pair leaking in this process, or
			// the planted leak missed; the table below says which.
			fmt.Fprintf(os.Stderr, "timing process %d: %v\n%s", p+1, err, lastLines(res, 20))
		}
		var runs []pairRun
		data, rerr := os.ReadFile(out)
		if rerr == nil {
			rerr = json.Unmarshal(data, &runs)
		}
		if rerr != nil {
			fmt.Fprintf(b, "timing process %d wrote no report: %v\n%s\n", p+1, rerr, lastLines(res, 20))
			return false
		}
		if bytes.Contains(res, []byte("--- FAIL: TestTiming/planted_leak")) {
			ok, planted = false, false
		}
		for _, r := range runs {
			k := key{r.Pair, r.Keys}
			if byPair[k] == nil {
				order = append(order, k)
				byPair[k] = &pairRun{Pair: r.Pair, Keys: r.Keys, Secret: r.Secret, Note: r.Note}
			}
			byPair[k].Runs = append(byPair[k].Runs, r.Runs...)
		}
	}
	fmt.Fprintf(b, "## Timing\n\n%d processes, each measuring every pair once with %d measurements (Welch's t, dudect's crops; %s in all). A pair leaks when |t| > %.1f in most processes. Secret pairs must not; the others differ in what the caller knows or in the configuration, and are expected to.\n\n",
		o.timingProcesses, o.timingSamples, time.Since(began).Round(time.Second), dudect.Threshold)
	fmt.Fprintln(b, "| pair | keys | secret | \\|t\\| per process | means, ns | verdict |")
	fmt.Fprintln(b, "|---|---|---|---|---|---|")
	for _, k := range order {
		p := byPair[k]
		var ts []string
		for _, r := range p.Runs {
			ts = append(ts, fmt.Sprintf("%.1f", r.T))
		}
		leak := dudect.Consistent(p.Runs)
		verdict := "no leak"
		switch {
		case leak && p.Secret:
			verdict, ok = "**LEAK**", false
		case leak:
			verdict = "differs, as expected"
		case !p.Secret:
			verdict = "no difference found"
		}
		keys := fmt.Sprint(p.Keys)
		if p.Keys == 0 {
			keys = "1 / 100"
		}
		m := p.Runs[0].MeanNs
		fmt.Fprintf(b, "| %s | %s | %s | %s | %.0f / %.0f | %s |\n", p.Pair, keys, map[bool]string{true: "yes", false: "no"}[p.Secret], strings.Join(ts, ", "), m[0], m[1], verdict)
	}
	fmt.Fprintf(b, "\nEvery process also ran the near/far-miss pairs with the key comparison swapped for a byte-by-byte one that stops at the first difference: %s.\n\n",
		map[bool]string{true: "caught in every process", false: "**missed in at least one process**"}[planted])
	return ok
}

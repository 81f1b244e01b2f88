package main

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tollgate/internal/testkit/pulumimock"
)

var update = flag.Bool("update", false, "rewrite deploy/testdata/dev-plan.golden")

// goldenPlan is where the dev stack's plan is kept.
var goldenPlan = filepath.Join("deploy", "testdata", "dev-plan.golden")

// maskBuild replaces what depends on the Go toolchain and the build
// directory, not on tollgate: a function's archive and its hash.
func maskBuild(r pulumimock.Resource, key string) (any, bool) {
	if r.Type != "aws:lambda/function:Function" {
		return nil, false
	}
	fn := strings.TrimPrefix(r.Name, "tollgate-dev-")
	switch key {
	case "code":
		return "[the " + fn + " build: a zip holding bootstrap]", true
	case "sourceCodeHash":
		return "[SHA-256 of the " + fn + " zip]", true
	}
	return nil, false
}

// The dev stack's plan is deploy/testdata/dev-plan.golden: every resource
// `pulumi up` registers, with its inputs and options (secrets masked), so
// that a change to the deploy shows as a diff of that file. Regenerate it
// with: go test . -run TestGoldenPlan -update
func TestGoldenPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both functions")
	}
	m, _, _, err := runProgram(t, devStack(t))
	if err != nil {
		t.Fatal(err)
	}
	header := "# The dev stack's plan: every resource `pulumi up` registers for Pulumi.dev.yaml,\n" +
		"# as the provider-faithful mocks (internal/testkit/pulumimock) see it: names autonamed, secrets masked.\n" +
		"# Regenerate with: go test . -run TestGoldenPlan -update\n\n"
	got := append([]byte(header), m.Plan(maskBuild)...)
	if *update {
		if err := os.WriteFile(goldenPlan, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(goldenPlan)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("the dev stack's plan differs from %s; if the change is meant, run: go test . -run TestGoldenPlan -update, and review the diff\n%s", goldenPlan, firstDifference(string(want), string(got)))
	}
	for _, secret := range []string{"secretString", "value"} {
		if strings.Contains(string(got), `"`+secret+`": "`) && !strings.Contains(string(got), `"`+secret+`": "`+pulumimock.Masked+`"`) {
			t.Errorf("%s is not masked in the plan", secret)
		}
	}
}

// firstDifference shows the first line where two texts differ.
func firstDifference(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + strconv.Itoa(i+1) + ":\n- " + w + "\n+ " + g
		}
	}
	return ""
}

package main

import (
	"bytes"
	"flag"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"tollgate/internal/testkit/pulumimock"
)

var update = flag.Bool("update", false, "rewrite the golden plans in deploy/testdata")

// goldenPlans are where the dev stack's plans are kept: as it is, and
// with apiType http (without its usage plans, which HTTP APIs lack).
var goldenPlans = []struct {
	file, what string
	config     map[string]string
}{
	{filepath.Join("deploy", "testdata", "dev-plan.golden"), "Pulumi.dev.yaml", nil},
	{filepath.Join("deploy", "testdata", "dev-http-plan.golden"), "Pulumi.dev.yaml with apiType http", map[string]string{"tollgate:apiType": "http", "tollgate:plans": "{}", "tollgate:defaultPlan": ""}},
}

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

// The dev stack's plans are deploy/testdata/dev-plan.golden and, for an
// HTTP API, dev-http-plan.golden: every resource `pulumi up` registers,
// with its inputs and options (secrets masked), so that a change to the
// deploy shows as a diff of those files. Regenerate them with:
// go test . -run TestGoldenPlan -update
func TestGoldenPlan(t *testing.T) {
	if testing.Short() {
		t.Skip("builds both functions")
	}
	for _, g := range goldenPlans {
		t.Run(filepath.Base(g.file), func(t *testing.T) {
			cfg := devStack(t)
			maps.Copy(cfg, g.config)
			m, _, _, err := runProgram(t, cfg)
			if err != nil {
				t.Fatal(err)
			}
			header := "# The dev stack's plan: every resource `pulumi up` registers for " + g.what + ",\n" +
				"# as the provider-faithful mocks (internal/testkit/pulumimock) see it: names autonamed, secrets masked.\n" +
				"# Regenerate with: go test . -run TestGoldenPlan -update\n\n"
			got := append([]byte(header), m.Plan(maskBuild)...)
			if *update {
				if err := os.WriteFile(g.file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(g.file)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("the plan differs from %s; if the change is meant, run: go test . -run TestGoldenPlan -update, and review the diff\n%s", g.file, firstDifference(string(want), string(got)))
			}
			// The secrets: a secret version's string and an API key's
			// value (a metric filter's value is a number to count).
			for _, block := range strings.Split(string(got), "\n\n") {
				for typ, secret := range map[string]string{"aws:secretsmanager/secretVersion:SecretVersion": "secretString", "aws:apigateway/apiKey:ApiKey": "value"} {
					if strings.HasPrefix(block, typ+" ") && strings.Contains(block, `"`+secret+`": "`) && !strings.Contains(block, `"`+secret+`": "`+pulumimock.Masked+`"`) {
						t.Errorf("%s is not masked in the plan: %s", secret, block)
					}
				}
			}
		})
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

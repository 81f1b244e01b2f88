package api

import (
	"os/exec"
	"strings"
	"testing"
)

// The definition is a leaf: it imports no Lambda package (authorizer,
// handler) and nothing internal. Whoever wires the functions (deploy, the
// local run) takes each package's environment from that package.
func TestImportsNoLambdaPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.HasPrefix(dep, "tollgate/") && dep != "tollgate/api" {
			t.Errorf("api imports %s", dep)
		}
	}
}

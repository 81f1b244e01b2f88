package api

import (
	"os/exec"
	"strings"
	"testing"
)

// The definition imports no Lambda package (authorizer, handler) and, of
// internal/, only leaf utilities. Whoever wires the functions (deploy,
// the local run) takes each package's environment from that package.
func TestImportsNoLambdaPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		leaf := strings.HasPrefix(dep, "tollgate/internal/") && !strings.HasPrefix(dep, "tollgate/internal/emulator/") && !strings.HasPrefix(dep, "tollgate/internal/testkit/")
		if strings.HasPrefix(dep, "tollgate/") && dep != "tollgate/api" && !leaf {
			t.Errorf("api imports %s", dep)
		}
	}
}

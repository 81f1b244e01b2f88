// Package testbin gives tests a lasting directory to build binaries into:
// .tollgate/testbin/<name> at the module's root (git-ignored). go build -o
// leaves a file that is up to date alone, and deploy's pack reuses the zip
// of an unchanged binary, so a warm test run links and compresses nothing
// (each was a second or more a function, per package, under -race). A
// temporary directory, as before, was built into afresh by every run.
//
// Each directory is locked for the test process that took it, until it
// ends or releases it: two runs of one package's tests at once take turns
// rather than write one file together.
package testbin

import (
	"fmt"
	"os"
	"path/filepath"
	"tollgate/internal/launch"

	"tollgate/internal/lambdabuild"
)

// Dir returns the module's .tollgate/testbin/name, made if missing and
// locked for this process until release.
func Dir(name string) (dir string, release func(), err error) {
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		return "", nil, err
	}
	dir = filepath.Join(root, ".tollgate", "testbin", name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	release, err = launch.Lock(dir)
	if err != nil {
		return "", nil, fmt.Errorf("testbin: lock %s: %w", dir, err)
	}
	return dir, release, nil
}

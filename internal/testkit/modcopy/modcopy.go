// Package modcopy copies a Go module's checkout to a temporary directory,
// as a fresh clone has it (no .git, no build state), so that a test can
// change it as a user would: the docs' walkthrough, the AWS acceptance
// run.
package modcopy

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// skipped are the top-level entries a clone does not have: version
// control, local state, builds, and the binaries `go build` leaves.
var skipped = map[string]bool{".git": true, ".tollgate": true, "dist": true, "tollgate": true, "tollkeys": true, "local": true}

// Copy copies the module rooted at root into a new temporary directory of
// tb and returns it.
func Copy(tb testing.TB, root string) string {
	tb.Helper()
	dst := tb.TempDir()
	if err := Into(root, dst); err != nil {
		tb.Fatal(err)
	}
	return dst
}

// Into copies the module rooted at root into the directory dst, as Copy
// does.
func Into(root, dst string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		if rel != "." && !strings.Contains(rel, string(filepath.Separator)) && skipped[rel] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, info.Mode().Perm())
	})
}

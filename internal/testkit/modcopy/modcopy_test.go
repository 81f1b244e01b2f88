package modcopy

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCopy(t *testing.T) {
	src := t.TempDir()
	for _, f := range []string{"go.mod", "a/b.go", ".git/HEAD", ".tollgate/keyring.json", "tollgate", "docs/tollgate/x.md"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(src, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(src, f), []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	dst := Copy(t, src)
	for f, want := range map[string]bool{"go.mod": true, "a/b.go": true, "docs/tollgate/x.md": true, ".git/HEAD": false, ".tollgate/keyring.json": false, "tollgate": false} {
		b, err := os.ReadFile(filepath.Join(dst, f))
		if got := err == nil; got != want || (got && string(b) != f) {
			t.Errorf("%s copied = %v (%q), want %v", f, got, b, want)
		}
	}
}

package mdsection

import (
	"os"
	"path/filepath"
	"testing"
)

const marker = "<!-- figures -->"

func TestReplace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "README.md")
	if err := os.WriteFile(path, []byte("# bench\n\n"+marker+"\nold table\n"+marker+"\n\nafter\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Replace(path, marker, []byte("new table\n")); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	if want := "# bench\n\n" + marker + "\nnew table\n" + marker + "\n\nafter\n"; string(b) != want {
		t.Errorf("README =\n%s\nwant\n%s", b, want)
	}
	for _, doc := range []string{"no markers\n", marker + " once\n", marker + marker + marker} {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Replace(path, marker, []byte("x")); err == nil {
			t.Errorf("Replace in %q succeeded", doc)
		}
	}
	if err := Replace(filepath.Join(t.TempDir(), "missing.md"), marker, nil); err == nil {
		t.Error("Replace in a missing file succeeded")
	}
}

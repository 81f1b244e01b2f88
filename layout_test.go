package main

import (
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// room is where a package lives in internal/: its leaf utilities first,
// then the local emulator, then the test and measurement kit. A package
// imports only from its own room or earlier ones, and only the measuring
// commands (bench/, verify/) and tests use the kit.
func room(pkg string) int {
	switch {
	case strings.HasPrefix(pkg, "tollgate/internal/emulator/"):
		return 1
	case strings.HasPrefix(pkg, "tollgate/internal/testkit/"):
		return 2
	}
	return 0
}

func measuring(pkg string) bool {
	return strings.HasPrefix(pkg, "tollgate/bench") || strings.HasPrefix(pkg, "tollgate/verify")
}

// launchers are the commands a newcomer runs with go run first: they
// compile in seconds and then say what they build (tollgate/internal/launch).
var launchers = map[string]bool{
	"tollgate/cmd/local":       true,
	"tollgate/cmd/tollkeys":    true,
	"tollgate/internal/launch": true,
}

func TestLayout(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports", "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		if launchers[p.ImportPath] {
			for _, imp := range p.Imports {
				thirdParty := strings.Contains(strings.Split(imp, "/")[0], ".")
				if thirdParty || strings.HasPrefix(imp, "tollgate/") && imp != "tollgate/internal/launch" {
					t.Errorf("%s, a launcher, imports %s: it imports the standard library and tollgate/internal/launch only, so that go run compiles it in seconds", p.ImportPath, imp)
				}
			}
		}
		internal := strings.HasPrefix(p.ImportPath, "tollgate/internal/")
		for _, imp := range p.Imports {
			if !strings.HasPrefix(imp, "tollgate/") {
				continue
			}
			switch {
			case internal && room(imp) > room(p.ImportPath):
				t.Errorf("%s imports %s, from a later room of internal/", p.ImportPath, imp)
			case !internal && room(imp) == 2 && !measuring(p.ImportPath):
				t.Errorf("%s is not a test, yet imports the test kit's %s", p.ImportPath, imp)
			case p.ImportPath == "tollgate/api" && !strings.HasPrefix(imp, "tollgate/internal/"):
				t.Errorf("api, the definition, imports %s: it imports only leaf utilities", imp)
			}
		}
	}
	if seen < 20 {
		t.Fatalf("go list found %d packages", seen)
	}
}

// maxFileLines is the size past which a production file holds several
// concerns and is split by them (issues 15 and 27).
const maxFileLines = 500

func TestFilesAreRoomsOfTheRightSize(t *testing.T) {
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != "." || d.Name() == "testdata" || d.Name() == "dist") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if n := bytes.Count(b, []byte("\n")); n > maxFileLines {
			t.Errorf("%s has %d lines, past %d: split it by concern", path, n, maxFileLines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

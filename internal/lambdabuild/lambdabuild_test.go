package lambdabuild

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// The Makefile builds with the same flags as everyone else.
func TestMakefileUsesFlags(t *testing.T) {
	root, err := ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	mk, err := os.ReadFile(filepath.Join(root, "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^GOFLAGS_LAMBDA := (.*)$`).FindSubmatch(mk)
	if m == nil {
		t.Fatal("Makefile has no GOFLAGS_LAMBDA line")
	}
	want := `-tags lambda.norpc -trimpath -buildvcs=false -ldflags="-s -w -buildid="`
	if got := string(m[1]); got != want {
		t.Errorf("Makefile GOFLAGS_LAMBDA = %s, want %s (buildFlags: %q)", got, want, buildFlags)
	}
	if strings.Join(buildFlags, " ") != `-tags lambda.norpc -trimpath -buildvcs=false -ldflags=-s -w -buildid=` {
		t.Errorf("buildFlags = %q changed: update the Makefile and this test together", buildFlags)
	}
}

func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	root, err := ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	host := Target{runtime.GOOS, runtime.GOARCH}
	var bins [2][]byte
	for i := range bins {
		paths, err := Build(context.Background(), root, t.TempDir(), host, map[string]string{"handler": "./cmd/handler"})
		if err != nil {
			t.Fatal(err)
		}
		if bins[i], err = os.ReadFile(paths["handler"]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(bins[0], bins[1]) {
		t.Error("two builds of the same source differ")
	}
}

func TestBuildFailureNamesTheError(t *testing.T) {
	root, err := ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(context.Background(), root, t.TempDir(), Target{runtime.GOOS, runtime.GOARCH}, map[string]string{"nope": "./cmd/does-not-exist"})
	if err == nil || !strings.Contains(err.Error(), "does-not-exist") {
		t.Fatalf("Build of a missing package = %v, want the compiler's message", err)
	}
}

func TestModuleDir(t *testing.T) {
	if _, err := ModuleDir(t.TempDir()); err == nil {
		t.Error("ModuleDir outside any module succeeded")
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ModuleDir(other); err == nil || !strings.Contains(err.Error(), "another Go module") {
		t.Errorf("ModuleDir in another module = %v", err)
	}
}

// The caller's GOFLAGS are kept (a user may need -mod=vendor or a proxy
// setting there); the build's own flags come after them on the command
// line, which Go applies last.
func TestBuildEnvKeepsGOFLAGS(t *testing.T) {
	env := buildEnv([]string{"HOME=/h", "GOFLAGS=-mod=vendor -buildvcs=true", "GOOS=plan9", "CGO_ENABLED=1"}, Target{"linux", "arm64"})
	want := []string{"HOME=/h", "GOFLAGS=-mod=vendor -buildvcs=true", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64"}
	if !slices.Equal(env, want) {
		t.Errorf("buildEnv = %q, want %q", env, want)
	}
	if !slices.Contains(buildFlags, "-buildvcs=false") {
		t.Errorf("buildFlags = %q: -buildvcs=false must be on the command line, where it overrides GOFLAGS", buildFlags)
	}
}

package lambdabuild

import (
	"bytes"
	"context"
	"os"
	"os/exec"
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
		t.Errorf("Makefile GOFLAGS_LAMBDA = %s, want %s (Flags: %q)", got, want, Flags)
	}
	if strings.Join(Flags, " ") != `-tags lambda.norpc -trimpath -buildvcs=false -ldflags=-s -w -buildid=` {
		t.Errorf("Flags = %q changed: update the Makefile and this test together", Flags)
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
	os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644)
	if _, err := ModuleDir(other); err == nil || !strings.Contains(err.Error(), "another Go module") {
		t.Errorf("ModuleDir in another module = %v", err)
	}
}

// git runs git in dir, as a user with no git configuration would.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// A function built from two commits and from an uncommitted edit of the
// same source is the same binary, whatever the caller's GOFLAGS (Go's
// default -buildvcs=auto stamps the commit and a "modified" flag into
// every binary, so each commit or edit would redeploy every function).
func TestBuildIgnoresVersionControl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary three times")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	// The caller's GOFLAGS, as on a user's machine: nothing about VCS.
	t.Setenv("GOFLAGS", "-mod=mod")
	t.Setenv("GOENV", "off") // this machine's go env file sets -buildvcs=false; a user's does not
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":       "module example.com/fn\n\ngo 1.22\n",
		"main.go":      "package main\n\nfunc main() { println(\"fn\") }\n",
		"README.md":    "fn\n",
		"cmd/x/x.go":   "package main\n\nfunc main() {}\n",
		"docs/note.md": "one\n",
	}
	for name, body := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "one")

	host := Target{runtime.GOOS, runtime.GOARCH}
	build := func(what string) []byte {
		t.Helper()
		paths, err := Build(context.Background(), dir, t.TempDir(), host, map[string]string{"fn": "."})
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		b, err := os.ReadFile(paths["fn"])
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	first := build("first commit")
	os.WriteFile(filepath.Join(dir, "docs/note.md"), []byte("two\n"), 0o644)
	git(t, dir, "commit", "-qam", "two")
	second := build("second commit")
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("edited, not committed\n"), 0o644)
	dirty := build("uncommitted edit")
	if !bytes.Equal(first, second) {
		t.Error("two commits of the same function source built different binaries")
	}
	if !bytes.Equal(first, dirty) {
		t.Error("an uncommitted edit outside the function built a different binary")
	}
	if bytes.Contains(first, []byte("vcs.revision")) {
		t.Error("the binary carries vcs.revision")
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
	if !slices.Contains(Flags, "-buildvcs=false") {
		t.Errorf("Flags = %q: -buildvcs=false must be on the command line, where it overrides GOFLAGS", Flags)
	}
}

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
	if _, err := ModuleDir(t.TempDir()); err == nil || !strings.Contains(err.Error(), "not inside a Go module") {
		t.Errorf("ModuleDir outside any module = %v", err)
	}
	other := t.TempDir()
	if err := os.MkdirAll(filepath.Join(other, "cmd", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/other\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := ModuleDir(filepath.Join(other, "cmd", "x")); err != nil || got != other {
		t.Errorf("ModuleDir in another module = %q, %v; want its root %q", got, err, other)
	}
}

// Issue 16: a user's own module that requires tollgate builds tollgate's
// authorizer from tollgate's source (its import path), beside the user's
// function, without a copy of cmd/authorizer. The module cache serves as
// the proxy: the test needs no network.
func TestBuildInAModuleThatRequiresTollgate(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two functions")
	}
	root, err := ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	user := t.TempDir()
	files := map[string]string{
		"go.mod": "module example.com/myapi\n\ngo 1.26\n\nrequire tollgate v0.0.0\n\nreplace tollgate => " + root + "\n",
		"functions/hello/main.go": "package main\n\nimport \"github.com/aws/aws-lambda-go/lambda\"\n\n" +
			"func main() { lambda.Start(func() (string, error) { return \"hi\", nil }) }\n",
	}
	for name, content := range files {
		path := filepath.Join(user, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cache, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("GOPROXY", "file://"+filepath.ToSlash(filepath.Join(strings.TrimSpace(string(cache)), "cache", "download")))
	t.Setenv("GOSUMDB", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	get := exec.Command("go", "get", "tollgate/cmd/authorizer", "github.com/aws/aws-lambda-go/lambda")
	get.Dir = user
	if out, err := get.CombinedOutput(); err != nil {
		t.Fatalf("go get in the user's module: %v\n%s", err, out)
	}
	dir, err := ModuleDir(filepath.Join(user, "functions", "hello"))
	if err != nil || dir != user {
		t.Fatalf("ModuleDir = %q, %v; want the user's module %q", dir, err, user)
	}
	paths, err := Build(context.Background(), dir, t.TempDir(), Target{runtime.GOOS, runtime.GOARCH},
		map[string]string{"authorizer": "tollgate/cmd/authorizer", "hello": "./functions/hello"})
	if err != nil {
		t.Fatal(err)
	}
	for name, p := range paths {
		if info, err := os.Stat(p); err != nil || info.Size() == 0 {
			t.Errorf("%s: %v", name, err)
		}
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

package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/base64"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"tollgate/api"
	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/testbin"
)

// sharedBuild is a build directory per architecture that the package's
// tests share, lasting from run to run (testbin), so that a build whose
// binaries are up to date reuses them and their zips (pack) rather than
// linking and compressing them again.
var (
	sharedBuildRoot = sync.OnceValue(func() string {
		dir, release, err := testbin.Dir("deploy")
		if err != nil {
			panic(err)
		}
		releaseSharedBuild = release
		return dir
	})
	releaseSharedBuild = func() {}
	sharedBuildMu      sync.Mutex
)

func sharedBuild(arch Arch) string { return filepath.Join(sharedBuildRoot(), string(arch)) }

func TestMain(m *testing.M) {
	code := m.Run()
	releaseSharedBuild()
	os.Exit(code)
}

func moduleDir(t *testing.T) string {
	t.Helper()
	dir, err := lambdabuild.ModuleDir(".")
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// The same source gives byte-identical archives, so an unchanged function
// shows no diff; each holds one executable bootstrap for the architecture.
func TestBuildIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles both functions twice")
	}
	def := api.Default()
	// The flags that make a build reproducible are the same for both
	// architectures (lambdabuild): the default one is built twice, the
	// other once, for its machine (a second build of it cost a quarter of
	// the warm suite's time under -race, issue 27).
	for _, tc := range []struct {
		arch    Arch
		machine elf.Machine
		twice   bool
	}{{ARM64, elf.EM_AARCH64, true}, {X86_64, elf.EM_X86_64, false}} {
		t.Run(string(tc.arch), func(t *testing.T) {
			sharedBuildMu.Lock()
			first, err := Build(context.Background(), &def, tc.arch, moduleDir(t), sharedBuild(tc.arch))
			sharedBuildMu.Unlock()
			if err != nil {
				t.Fatal(err)
			}
			second := first
			if tc.twice {
				if second, err = Build(context.Background(), &def, tc.arch, moduleDir(t), t.TempDir()); err != nil {
					t.Fatal(err)
				}
			}
			for name := range def.Functions {
				a, b := first[name], second[name]
				za, _ := os.ReadFile(a.Path)
				zb, _ := os.ReadFile(b.Path)
				if !bytes.Equal(za, zb) || a.SHA256 != b.SHA256 {
					t.Errorf("%s: two builds of the same source differ", name)
				}
				sum := sha256.Sum256(za)
				if a.SHA256 != base64.StdEncoding.EncodeToString(sum[:]) {
					t.Errorf("%s: SHA256 %s is not the archive's", name, a.SHA256)
				}
				checkBootstrap(t, za, tc.machine)
				t.Logf("%s/%s.zip: %d bytes", tc.arch, name, len(za))
			}
		})
	}
}

// checkBootstrap checks a Lambda archive: one file, bootstrap, executable,
// a static Linux binary for machine.
func checkBootstrap(t *testing.T, archive []byte, machine elf.Machine) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(archive), int64(len(archive)))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		t.Fatalf("archive holds %d files, want only bootstrap", len(zr.File))
	}
	f := zr.File[0]
	if f.Mode().Perm() != 0o755 {
		t.Errorf("bootstrap mode %v, want 0755 (the runtime executes it)", f.Mode())
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(rc)
	_ = rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	e, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		t.Fatalf("bootstrap is not an ELF binary: %v", err)
	}
	if e.Machine != machine {
		t.Errorf("bootstrap machine %v, want %v", e.Machine, machine)
	}
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap is dynamically linked; provided.al2023 needs no libc, but CGO_ENABLED=0 is the rule")
		}
	}
}

func TestZipBootstrapIsDeterministic(t *testing.T) {
	a, _ := zipBootstrap([]byte("binary"))
	b, _ := zipBootstrap([]byte("binary"))
	c, _ := zipBootstrap([]byte("binary2"))
	if !bytes.Equal(a, b) || bytes.Equal(a, c) {
		t.Error("zipBootstrap depends on something besides the binary")
	}
}

// New builds the functions itself when no archives are given, into
// BuildDir, and deploys what it built.
func TestNewBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("cross-compiles both functions")
	}
	args := testArgs(t)
	args.Archives = nil
	args.ModuleDir = moduleDir(t)
	args.BuildDir = sharedBuild(ARM64)
	sharedBuildMu.Lock()
	m, _ := mustRun(t, args)
	sharedBuildMu.Unlock()
	for _, fn := range m.Of(tFunction) {
		name := strings.TrimPrefix(fn.Name, "tollgate-dev-")
		path := filepath.Join(args.BuildDir, name+".zip")
		z, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%s: no archive in BuildDir: %v", name, err)
		}
		sum := sha256.Sum256(z)
		if fn.Str("sourceCodeHash") != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Errorf("%s sourceCodeHash is not the built archive's", name)
		}
		checkBootstrap(t, z, elf.EM_AARCH64)
	}
}

// A failed build stops New with the compiler's message before any
// resource is registered.
func TestFailedBuildCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module tollgate\n\ngo 1.26.0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "cmd", "broken"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cmd", "broken", "main.go"), []byte("package main\n\nfunc main() { undefinedThing() }\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	args := testArgs(t)
	args.Archives = nil
	args.ModuleDir = dir
	args.BuildDir = t.TempDir()
	args.Definition.Functions = map[string]api.Function{
		"authorizer": {Package: "./cmd/broken", Timeout: 5e9, MemoryMB: 128},
		"handler":    {Package: "./cmd/broken", Timeout: 5e9, MemoryMB: 128},
	}
	m, _, err := run(t, args)
	if err == nil || !strings.Contains(err.Error(), "undefined: undefinedThing") {
		t.Fatalf("New with a broken function = %v, want the compiler's message", err)
	}
	if errors.Is(err, ErrConfig) {
		t.Error("a compile error is reported as a configuration error")
	}
	if n := len(m.Resources); n != 0 {
		t.Errorf("%d resources registered after a failed build, want none", n)
	}
	if entries, _ := os.ReadDir(args.BuildDir); len(entries) > 1 {
		t.Errorf("a failed build left archives: %v", entries)
	}
}

// The Lambda functions never import the Pulumi SDK (or this package): it
// would swell the binaries and their cold start.
func TestFunctionsDoNotImportPulumi(t *testing.T) {
	def := api.Default()
	args := []string{"list", "-deps"}
	for _, f := range def.Functions {
		args = append(args, f.Package)
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleDir(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if strings.Contains(dep, "pulumi") || dep == "tollgate/deploy" {
			t.Errorf("a function depends on %s", dep)
		}
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

// A second `up` changes nothing: the archives built from two commits and
// from an uncommitted edit of the same function source are byte-identical,
// whatever the caller's GOFLAGS. (Go's default -buildvcs=auto stamps the
// commit and a "modified" flag into every binary, so every commit or edit
// anywhere in the repository redeployed every function; this failed
// before lambdabuild passed -buildvcs=false.)
func TestArchivesIgnoreVersionControl(t *testing.T) {
	if testing.Short() {
		t.Skip("builds two functions three times")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	// A user's environment: GOFLAGS of their own, nothing about VCS (this
	// machine's go env file sets -buildvcs=false; GOENV=off leaves it out).
	t.Setenv("GOENV", "off")
	t.Setenv("GOFLAGS", "-mod=mod")
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":                 "module example.com/fns\n\ngo 1.22\n",
		"cmd/authorizer/main.go": "package main\n\nfunc main() { println(\"authorizer\") }\n",
		"cmd/handler/main.go":    "package main\n\nfunc main() { println(\"handler\") }\n",
		"README.md":              "fns\n",
		"docs/note.md":           "one\n",
	}
	for name, body := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git(t, dir, "init", "-q")
	git(t, dir, "add", ".")
	git(t, dir, "commit", "-qm", "one")
	def := api.Default()
	authz := def.Functions["authorizer"]
	authz.Package = "./cmd/authorizer" // this module's stand-in for tollgate's
	def.Functions["authorizer"] = authz
	build := func(what string) map[string]Archive {
		t.Helper()
		archives, err := Build(context.Background(), &def, ARM64, dir, t.TempDir())
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return archives
	}
	first := build("first commit")
	if err := os.WriteFile(filepath.Join(dir, "docs/note.md"), []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "commit", "-qam", "two")
	second := build("second commit")
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("edited, not committed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dirty := build("uncommitted edit")
	for name := range def.Functions {
		if first[name].SHA256 != second[name].SHA256 {
			t.Errorf("%s: two commits of the same source built different archives", name)
		}
		if first[name].SHA256 != dirty[name].SHA256 {
			t.Errorf("%s: an uncommitted edit elsewhere built a different archive", name)
		}
	}
}

// BenchmarkBuild is what a preview spends building tollgate's two
// functions for Lambda (arm64) before it registers anything: with the Go
// build cache warm, as on every preview after the first. For the first,
// run it with an empty cache:
//
//	GOCACHE=$(mktemp -d) go test ./deploy -run '^$' -bench Build -benchtime 1x
func BenchmarkBuild(b *testing.B) {
	def := api.Default()
	dir, err := lambdabuild.ModuleDir(".")
	if err != nil {
		b.Fatal(err)
	}
	out := b.TempDir()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Build(context.Background(), &def, ARM64, dir, out); err != nil {
			b.Fatal(err)
		}
	}
}

// pack zips a binary once: a second build of the same binary reuses the
// zip (compressing megabytes was most of a rebuild the Go build cache
// answered), and a changed binary gets a new one.
func TestPackReusesTheZipOfTheSameBinary(t *testing.T) {
	dir := t.TempDir()
	bin, zipPath := filepath.Join(dir, "bootstrap"), filepath.Join(dir, "fn.zip")
	for _, content := range []string{"a binary", "a binary", "another binary"} {
		if err := os.WriteFile(bin, []byte(content), 0o755); err != nil {
			t.Fatal(err)
		}
		before, _ := os.Stat(zipPath)
		a, err := pack(bin, zipPath)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := zipBootstrap([]byte(content))
		got, _ := os.ReadFile(a.Path)
		sum := sha256.Sum256(want)
		if !bytes.Equal(got, want) || a.SHA256 != base64.StdEncoding.EncodeToString(sum[:]) {
			t.Fatalf("pack(%q): the archive is not the binary's zip", content)
		}
		after, _ := os.Stat(zipPath)
		if content == "a binary" && before != nil && !after.ModTime().Equal(before.ModTime()) {
			t.Error("the same binary was zipped again")
		}
	}
}

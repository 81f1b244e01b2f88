// Package lambdabuild builds tollgate's Lambda functions as bootstrap
// binaries for the provided.al2023 runtime, the one way every caller
// builds them: the local gateway (for this host), the deploy program (for
// Lambda's architecture) and the Makefile (whose flags a test holds equal
// to the ones it uses).
//
// Builds are static (CGO_ENABLED=0), use the lambda.norpc tag (the Go RPC
// entry point only the retired go1.x runtime needed), and are
// reproducible: -trimpath and an empty build id make the same source give
// the same bytes, and -buildvcs=false keeps version control out of them
// (Go's default, -buildvcs=auto, stamps the commit and whether the tree
// is modified into every binary, so every commit or edit anywhere in the
// repository would change every function; and in a checkout owned by
// another user, as in many CI containers, git refuses and the build fails
// with "error obtaining VCS status"). The caller's GOFLAGS are kept: the
// flags above come after them on the command line, and Go applies the
// command line last (go help environment).
package lambdabuild

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildFlags are the go build flags of every function.
var buildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-buildvcs=false", "-ldflags=-s -w -buildid="}

// Target is what to build for.
type Target struct {
	GOOS, GOARCH string
}

// Build compiles each package (a path like "./cmd/handler" in the module
// at moduleDir) to outDir/<name>/bootstrap, where name is the map's key.
// A failed build returns the compiler's output in its error.
func Build(ctx context.Context, moduleDir, outDir string, t Target, packages map[string]string) (map[string]string, error) {
	paths := make(map[string]string, len(packages))
	for name, pkg := range packages {
		out := filepath.Join(outDir, name, "bootstrap")
		args := append([]string{"build"}, buildFlags...)
		args = append(args, "-o", out, pkg)
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = moduleDir
		cmd.Env = buildEnv(os.Environ(), t)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			return nil, fmt.Errorf("building %s (%s) for %s/%s: %v\n%s", name, pkg, t.GOOS, t.GOARCH, err, strings.TrimSpace(stderr.String()))
		}
		paths[name] = out
	}
	return paths, nil
}

// buildEnv is environ for a build for t: the target's GOOS and GOARCH,
// cgo off, everything else (GOFLAGS, GOPROXY, GOPRIVATE…) as the caller
// has it.
func buildEnv(environ []string, t Target) []string {
	env := make([]string, 0, len(environ)+3)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "CGO_ENABLED", "GOOS", "GOARCH":
			continue
		}
		env = append(env, kv)
	}
	return append(env, "CGO_ENABLED=0", "GOOS="+t.GOOS, "GOARCH="+t.GOARCH)
}

// ModuleDir finds the root of the Go module that dir is in: the nearest
// directory upwards with a go.mod. It is tollgate's checkout, or the
// user's own module when tollgate is a dependency of it (see docs/your-own-api.md,
// "From a module of your own"): functions are built there, tollgate's
// authorizer from its import path (api.AuthorizerPackage) either way.
func ModuleDir(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("%s is not inside a Go module (no go.mod above it): run from the tollgate checkout, or from your module that requires tollgate", dir)
		}
	}
}

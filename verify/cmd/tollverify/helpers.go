package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"tollgate/internal/lambdabuild"
	"tollgate/internal/testkit/mdsection"
)

// goCmd runs the go command in root with env added to this process's
// environment, and returns its combined output.
func goCmd(ctx context.Context, root string, env []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	return cmd.CombinedOutput()
}

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(data)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n") + "\n"
}

// updateVerifyMD puts report between the markers in VERIFY.md.
func updateVerifyMD(report string) error {
	root, err := lambdabuild.ModuleDir(".")
	if err != nil {
		return err
	}
	return mdsection.Replace(filepath.Join(root, "VERIFY.md"), "<!-- tollverify -->", []byte(report))
}

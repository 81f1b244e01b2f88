package deploy

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"tollgate/api"
	"tollgate/internal/lambdabuild"
)

// Archive is one function's deployment package: a zip holding its
// bootstrap binary.
type Archive struct {
	// Path is the zip file.
	Path string
	// SHA256 is the zip's SHA-256, base64-encoded: Lambda's
	// source_code_hash, so an unchanged function shows no diff.
	SHA256 string
}

// zipTime is the modification time of every file in an archive: the
// earliest an MS-DOS timestamp can hold, so that the bytes depend only on
// the binary.
var zipTime = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)

// Build cross-compiles every function of def for Lambda on arch (see
// lambdabuild) in the module at moduleDir, and packs each binary into a
// reproducible zip, dir/<name>.zip: the same source gives the same bytes.
// A failed build returns the compiler's message and writes no archive.
func Build(ctx context.Context, def *api.Definition, arch Arch, moduleDir, dir string) (map[string]Archive, error) {
	goarch, err := arch.goarch()
	if err != nil {
		return nil, err
	}
	packages := make(map[string]string, len(def.Functions))
	for name, f := range def.Functions {
		packages[name] = f.Package
	}
	binDir := filepath.Join(dir, "bin")
	bins, err := lambdabuild.Build(ctx, moduleDir, binDir, lambdabuild.Target{GOOS: "linux", GOARCH: goarch}, packages)
	if err != nil {
		return nil, err
	}
	archives := make(map[string]Archive, len(bins))
	for _, name := range slices.Sorted(maps.Keys(bins)) {
		bin, err := os.ReadFile(bins[name])
		if err != nil {
			return nil, err
		}
		z, err := zipBootstrap(bin)
		if err != nil {
			return nil, fmt.Errorf("packing %s: %w", name, err)
		}
		path := filepath.Join(dir, name+".zip")
		if err := writeIfChanged(path, z); err != nil {
			return nil, err
		}
		sum := sha256.Sum256(z)
		archives[name] = Archive{Path: path, SHA256: base64.StdEncoding.EncodeToString(sum[:])}
	}
	return archives, nil
}

// Build builds a's functions as Build does, in a.ModuleDir (default the
// tollgate module around the working directory) into a.BuildDir (default
// ModuleDir/.tollgate/build/<arch>), and sets a.Archives.
func (a *Args) Build(ctx context.Context) error {
	arch := a.withDefaults().Arch
	moduleDir := a.ModuleDir
	if moduleDir == "" {
		var err error
		if moduleDir, err = lambdabuild.ModuleDir("."); err != nil {
			return err
		}
	}
	dir := a.BuildDir
	if dir == "" {
		dir = filepath.Join(moduleDir, ".tollgate", "build", string(arch))
	}
	archives, err := Build(ctx, &a.Definition, arch, moduleDir, dir)
	if err != nil {
		return err
	}
	a.Archives = archives
	return nil
}

// zipBootstrap is a zip holding bin as an executable file named bootstrap,
// what the provided.al2023 runtime starts.
func zipBootstrap(bin []byte) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(bin); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeIfChanged writes b to path unless the file already holds b, so an
// unchanged archive keeps its file untouched.
func writeIfChanged(path string, b []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

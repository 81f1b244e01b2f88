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
		a, err := pack(bins[name], filepath.Join(dir, name+".zip"))
		if err != nil {
			return nil, fmt.Errorf("packing %s: %w", name, err)
		}
		archives[name] = a
	}
	return archives, nil
}

// pack zips the binary at bin into path (zipBootstrap), unless path holds
// the zip of this very binary already: the zip's bytes depend on the
// binary's alone, and compressing a binary of megabytes is most of a
// build whose compile the Go build cache answered. path+".binary" records
// the SHA-256 of the binary the zip was made from.
func pack(bin, path string) (Archive, error) {
	b, err := os.ReadFile(bin)
	if err != nil {
		return Archive{}, err
	}
	binSum := sha256.Sum256(b)
	stamp := path + ".binary"
	z, err := os.ReadFile(path)
	if old, _ := os.ReadFile(stamp); err != nil || !bytes.Equal(old, binSum[:]) {
		if z, err = zipBootstrap(b); err != nil {
			return Archive{}, err
		}
		if err := writeIfChanged(path, z); err != nil {
			return Archive{}, err
		}
		if err := writeIfChanged(stamp, binSum[:]); err != nil {
			return Archive{}, err
		}
	}
	sum := sha256.Sum256(z)
	return Archive{Path: path, SHA256: base64.StdEncoding.EncodeToString(sum[:])}, nil
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

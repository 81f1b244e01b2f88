// Package mdsection replaces the generated part of a Markdown file: what
// lies between two copies of a marker comment, such as "<!-- tollbench -->".
// The commands that measure tollgate (bench/cmd/tollbench,
// verify/cmd/tollverify) keep their latest figures in the documents that
// explain them this way.
package mdsection

import (
	"fmt"
	"os"
	"strings"
)

// Replace puts content between the two copies of marker in the file at
// path, which must hold it exactly twice.
func Replace(path, marker string, content []byte) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	parts := strings.Split(string(b), marker)
	if len(parts) != 3 {
		return fmt.Errorf("%s: want the marker %s exactly twice", path, marker)
	}
	return os.WriteFile(path, []byte(parts[0]+marker+"\n"+string(content)+marker+parts[2]), 0o644)
}

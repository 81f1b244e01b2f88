package main

import (
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
)

// Issue 16: `make help` (and `make` alone) lists every target the
// Makefile declares, each with what it does.
func TestMakeHelp(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	mk, err := os.ReadFile("Makefile")
	if err != nil {
		t.Fatal(err)
	}
	phony := regexp.MustCompile(`(?m)^\.PHONY: (help .*)$`).FindSubmatch(mk)
	if phony == nil {
		t.Fatal("the Makefile declares no .PHONY line starting with help")
	}
	for _, args := range [][]string{{"help"}, {}} {
		out, err := exec.Command("make", append([]string{"--no-print-directory"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("make %v: %v\n%s", args, err, out)
		}
		for _, target := range strings.Fields(string(phony[1])) {
			line := regexp.MustCompile(`(?m)^  make ` + target + ` +\S.*$`)
			if !line.Match(out) {
				t.Errorf("make %v does not describe %s:\n%s", args, target, out)
			}
		}
	}
}

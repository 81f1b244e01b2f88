package main

import (
	"os"
	"testing"
)

func TestIsGoCommand(t *testing.T) {
	if isGoCommand(os.Getpid()) {
		t.Error("the test binary is taken for the go command")
	}
	if isGoCommand(0) || isGoCommand(1) {
		t.Error("pid 0 or 1 is taken for the go command")
	}
}

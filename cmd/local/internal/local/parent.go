package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"tollgate/internal/poll"
)

// parentPoll is how often the parent is checked for.
const parentPoll = 500 * time.Millisecond

// stopWithGoRun returns ctx, ended too when this program was started by
// `go run` and the go command has gone (killed with SIGTERM, which it
// does not pass on). Started any other way (a built binary under a
// process manager or a shell), its parent is left alone: the manager's
// own signal is what ends it.
func stopWithGoRun(ctx context.Context, out io.Writer) context.Context {
	ppid := os.Getppid()
	if !isGoCommand(ppid) {
		return ctx
	}
	ctx, cancel := context.WithCancel(ctx)
	go poll.Every(ctx, parentPoll, func() bool {
		// A process whose parent exits is given a new parent (init, or a
		// subreaper): the parent id changes.
		if os.Getppid() == ppid {
			return true
		}
		fmt.Fprintln(out, "\nThe go command that started tollgate is gone; stopping.")
		cancel()
		return false
	})
	return ctx
}

// isGoCommand reports whether process pid is the go command, by its
// executable's name: from /proc on Linux, else from ps (macOS, BSDs).
func isGoCommand(pid int) bool {
	if pid <= 1 {
		return false
	}
	name := ""
	if exe, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/exe"); err == nil {
		name = filepath.Base(exe)
	} else if out, err := exec.Command("ps", "-o", "comm=", "-p", strconv.Itoa(pid)).Output(); err == nil {
		name = filepath.Base(strings.TrimSpace(string(out)))
	}
	return name == "go" || name == "go.exe"
}

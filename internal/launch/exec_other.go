//go:build !unix

package launch

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
)

// become runs bin as a child where a process cannot replace itself,
// passing interrupts on, and exits with its status.
func become(bin string, args []string) error {
	cmd := exec.Command(bin, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	signal.Ignore(os.Interrupt) // the child, in the same console, gets it too
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err == nil {
		os.Exit(0)
	}
	return err
}

// Lock is a no-op where there is no flock: nothing is serialised there.
func Lock(string) (func(), error) { return func() {}, nil }

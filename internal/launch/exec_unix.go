//go:build unix

package launch

import (
	"os"
	"path/filepath"
	"syscall"
)

// become replaces this process with bin: the same process id, so its
// parent (the go command under go run) and its signals stay as they were.
func become(bin string, args []string) error {
	return syscall.Exec(bin, append([]string{bin}, args...), os.Environ())
}

// Lock takes dir's lock, waiting for another process that holds it, and
// returns its release: two launchers started together (a local run and
// `go run ./cmd/local mint` beside it) neither build into one file at once
// nor start a binary the other is writing; the tests' lasting build
// directories (internal/testkit/testbin) take it too. The descriptor is close-on-exec, as Go opens every
// file: a process that becomes another command releases it.
func Lock(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		_ = f.Close()
		return nil, err
	}
	return func() { _ = f.Close() }, nil
}

// Package waitfor waits in tests for something that happens on its own
// time (a process stopping, a refresh landing), bounded, so that a test
// never sleeps a guessed duration and never hangs.
package waitfor

import (
	"bytes"
	"fmt"
	"os"
	"testing"
	"time"
)

// Eventually calls f every poll until it returns nil, and fails tb with
// f's last error once limit has passed.
func Eventually(tb testing.TB, limit, poll time.Duration, f func() error) {
	tb.Helper()
	deadline := time.Now().Add(limit)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("after %v: %v", limit, err)
		}
		time.Sleep(poll)
	}
}

// ProcessState waits until process pid is in state, as the third field of
// /proc/PID/stat gives it ('T' for stopped), for at most limit. Where
// there is no /proc, the test is skipped.
func ProcessState(tb testing.TB, pid int, state byte, limit time.Duration) {
	tb.Helper()
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		tb.Skipf("no /proc: %v", err)
	}
	Eventually(tb, limit, time.Millisecond, func() error {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return err
		}
		// pid (comm) state …: the state follows the last ')'.
		if i := bytes.LastIndexByte(stat, ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == state {
			return nil
		}
		return fmt.Errorf("process %d is not in state %c", pid, state)
	})
}

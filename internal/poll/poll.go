// Package poll runs a check at an interval until a context ends: the one
// loop behind the local run's watches (the keyring file, the functions'
// sources, the go command that started it).
package poll

import (
	"context"
	"time"
)

// Every calls f every interval, the first time one interval from now,
// until ctx ends or f returns false.
func Every(ctx context.Context, interval time.Duration, f func() (again bool)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if !f() {
				return
			}
		}
	}
}

//go:build !unix

package testbin

// lock is a no-op where there is no flock.
func lock(string) (func(), error) { return func() {}, nil }

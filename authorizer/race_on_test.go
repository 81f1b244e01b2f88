//go:build race

package authorizer

// raceEnabled reports a build with the race detector, whose instrumentation
// makes every memory access many times slower.
const raceEnabled = true

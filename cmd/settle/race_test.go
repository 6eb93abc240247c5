//go:build race

package main

// raceEnabled reports whether the tests run under the race detector,
// whose shadow memory changes what the memory tests measure.
const raceEnabled = true

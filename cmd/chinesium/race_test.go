//go:build race

package main

// raceEnabled builds the tested binary with the race detector too, so races
// in real command runs fail the tests.
const raceEnabled = true

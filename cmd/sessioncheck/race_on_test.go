//go:build race

package main

// raceEnabled: the race detector slows the checks about tenfold, so the
// many-seed tests try fewer seeds under it.
const raceEnabled = true

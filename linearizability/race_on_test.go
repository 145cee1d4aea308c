//go:build race

package linearizability

// raceEnabled: the race detector slows every history about tenfold, so the
// long detection tests use fewer seeds (the full figures come from the
// default run without -race).
const raceEnabled = true

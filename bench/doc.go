// Package bench measures the reference store against the system-call floor
// and against its peers, and the checker's cost as histories grow. It holds
// no assertions about speed (machines are shared; speed is measured with Go
// benchmarks, never with timed tests): the benchmarks are in the _test
// files and run only with -bench; docs/PERFORMANCE.md has the figures and
// bench/run.sh regenerates them.
//
// What is exported here is what the benchmarks share and what a backend
// author may want to time their own store with: the floor (the bare system
// calls that any correct file store must make, see [Floor]), records of an
// exact encoded size ([RecordOfSize]), and deterministic linearizable
// histories of any size and contention ([History]) for timing the checker.
package bench

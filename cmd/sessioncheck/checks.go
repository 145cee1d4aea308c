package main

import (
	"fmt"
	"math"
	"path/filepath"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/crash"
	"github.com/sessioncheck/sessioncheck/explore"
	"github.com/sessioncheck/sessioncheck/faults"
	"github.com/sessioncheck/sessioncheck/fusecheck"
	"github.com/sessioncheck/sessioncheck/fusefs"
	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/linearizability"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
	"github.com/sessioncheck/sessioncheck/worker/builtin"
)

// checkDef is one check the command can run. A check the worker protocol
// cannot express (it needs the store's file-system seam, which another
// process does not expose) has run report a worker target skipped.
type checkDef struct {
	name, summary string
	unit          string // what the check counts in results.json's "histories"
	run           func(job) outcome
}

// registry lists the checks in table order. The names are stable: they are
// the catalogue's (impl/variants.Checks) and the JSON's.
var registry = []checkDef{
	{"proptest", "sequential model-vs-store property suite (rapid), shrunk counterexamples", "cases", runProptest},
	{"lin-goroutines", "concurrent histories from goroutines, each with its own store instance, checked with porcupine", "histories", runLinGoroutines},
	{"lin-processes", "concurrent histories from worker processes, checked with porcupine", "histories", runLinProcesses},
	{"explore", "every interleaving of small concurrent scenarios under a controlled scheduler", "schedules", runExplore},
	{"faults", "an injected error (ENOSPC, EIO, EINTR) at every file-system call of a workload", "injections", runFaults},
	{"crash", "every crash state of a simulated disk that loses what was not synced", "crash states", runCrash},
}

func checkNames() []string {
	var names []string
	for _, c := range registry {
		names = append(names, c.name)
	}
	return names
}

func lookupCheck(name string) checkDef {
	for _, c := range registry {
		if c.name == name {
			return c
		}
	}
	panic("sessioncheck: unknown check " + name) // parseFlags admits only registry names
}

// scale multiplies a default amount of work by the budget, keeping at least 1.
func scale(n int, budget float64) int {
	return max(1, int(math.Round(float64(n)*budget)))
}

func builtinOpener(s *variants.Store) proptest.Opener {
	return func(dir string, clock model.Clock) (model.Store, error) {
		return s.Open(dir, impl.Options{Clock: clock})
	}
}

// shrinkTime bounds how long proptest shrinks a counterexample. A variable
// so that the tests that run many seeds need not wait on it: shrinking
// changes the counterexample, never the verdict.
var shrinkTime = 10 * time.Second

func runProptest(j job) outcome {
	var open proptest.Opener
	if j.target.builtin != nil {
		open = builtinOpener(j.target.builtin)
	} else {
		var closeWorker func()
		open, closeWorker = workerOpener(j.target.worker, j.timeout)
		defer closeWorker()
	}
	checks := scale(100, j.budget)
	res := proptest.Check(open, proptest.Config{
		Seed:       uint64(j.seed),
		Checks:     checks,
		Dir:        j.dir,
		ShrinkTime: shrinkTime,
		Profile:    j.profile,
	})
	o := outcome{verdict: string(res.Verdict), operations: res.Steps, histories: res.Cases, detail: res.Report, work: &res.Work}
	if res.Verdict == proptest.Error && res.Work.WorkerErrors == 0 {
		o.detail = fmt.Sprint(res.Err)
	}
	return o
}

// linProcessesFloor is the fewest histories lin-processes checks. At 6
// (budget 0.2) it missed write-in-place in 1 of 40 seeded runs, the race
// between processes being up to the scheduler; if each history catches it
// with the same chance, 15 make such a miss a run in about 10⁴
// ((1/40)^(15/6)).
const linProcessesFloor = 15

// linConfig asks for histories at budget 1, scaled, and never fewer than
// floor.
func linConfig(j job, histories, floor int) linearizability.Config {
	return linearizability.Config{
		Workload:  linearizability.Workload{Seed: uint64(j.seed)},
		Histories: max(floor, scale(histories, j.budget)),
		Dir:       j.dir,
		ReportDir: j.report,
		OpTimeout: j.timeout,
	}
}

func linOutcome(res linearizability.Result, err error) outcome {
	if err != nil {
		return outcome{verdict: "error", detail: err.Error()}
	}
	o := outcome{verdict: string(res.Verdict), operations: res.Operations, histories: res.Histories, detail: res.Detail, work: &res.Work}
	if res.Visualization != "" {
		o.visualization = filepath.Base(res.Visualization)
	}
	return o
}

func runLinGoroutines(j job) outcome {
	if j.target.builtin == nil {
		return outcome{verdict: "skipped", detail: "a worker's store lives in another process: goroutine clients need it in this one"}
	}
	open, err := builtin.Open(j.target.builtin.Name)
	if err != nil {
		return outcome{verdict: "error", detail: err.Error()}
	}
	return linOutcome(linearizability.CheckGoroutines(open, linConfig(j, 60, 1)))
}

func runLinProcesses(j job) outcome {
	argv := j.target.worker
	if argv == nil {
		var err error
		if argv, err = selfWorker(j.target.builtin.Name); err != nil {
			return outcome{verdict: "error", detail: err.Error()}
		}
	}
	return linOutcome(linearizability.CheckProcesses(argv, linConfig(j, 30, linProcessesFloor)))
}

// runExplore explores a built-in store through its file-system seam, and a
// worker through the protocol's scheduling hook when its hello offers it.
// explore judges its own counted work (verdict.Judge over Result.Work), so
// a worker that declares the hook and announces no call, or a run that
// interleaved nothing, comes back as an error with the reason in detail.
func runExplore(j job) outcome {
	var res explore.Result
	if j.target.builtin != nil {
		res = explore.Check(explore.ImplOpener(j.target.builtin.Open), explore.Config{
			Seed:   j.seed,
			Budget: scale(explore.DefaultBudget, j.budget),
		})
	} else {
		if !j.target.hello.Has(explore.FeatureSchedule) {
			return outcome{verdict: "skipped", detail: "the worker does not offer the scheduling hook (feature \"schedule\" in docs/PROTOCOL.md)"}
		}
		res = explore.CheckWorker(j.target.worker, explore.Config{
			Seed:   j.seed,
			Budget: scale(explore.DefaultWorkerBudget, j.budget),
		})
	}
	o := outcome{verdict: res.Verdict, operations: res.Operations, histories: res.Schedules, detail: res.Detail, work: &res.Work}
	if res.Counterexample != nil {
		o.picture = explorePicture(res.Counterexample)
	}
	return o
}

// The fault and crash checks each run one seeded workload, and catch their
// variant only when that workload reaches the faulty step on a live
// session: some never do (seed 16 misses swallow-errors under faults even
// at faults.DefaultOperations, and write-in-place under crash at 30
// operations). So the command runs several short workloads, seeds seed,
// seed+1, ..., rather than one long one. A workload of n operations
// costs about n² under faults (one rerun per injection) and grows faster
// than n under crash, so short workloads buy more seeds for the same
// time, and memory stays that of one short workload at every budget.
// Measured over the seeds 1 to 1000, a single workload misses
// swallow-errors under faults on 8.9% of seeds at 15 operations, and
// write-in-place under crash on 5.5% at 20, never on more than 3 seeds in
// a row; with floors of 5 workloads no seed among them misses, and a miss
// at the smallest budget is about one seed in 10⁵ or rarer (0.089⁵,
// 0.055⁵).
const (
	faultsOps, faultsRounds, faultsFloor = 15, 8, 5
	crashOps, crashRounds, crashFloor    = 20, 6, 5
)

// rounds runs one(seed) for rounds seeds from j.seed on, stopping at the
// first verdict other than pass, which it reports with the seed that
// replays it through the check's package.
func rounds(j job, what string, n int, one func(seed int64) outcome) outcome {
	var total outcome
	for i := range n {
		seed := j.seed + int64(i)
		o := one(seed)
		total.operations += o.operations
		total.histories += o.histories
		if o.verdict != "pass" {
			total.verdict = o.verdict
			total.detail = fmt.Sprintf("workload %d of %d (%s seed %d): %s", i+1, n, what, seed, o.detail)
			return total
		}
	}
	total.verdict = "pass"
	return total
}

// overFUSE runs a fault or crash check on a worker, whose files it reaches
// by serving the simulated disk over FUSE, or says exactly why it cannot.
func overFUSE(j job, check func(fusecheck.Config) fusecheck.Result, ops int) outcome {
	if err := fusefs.Available(); err != nil {
		return outcome{verdict: "skipped", detail: "a worker's files are reachable only over FUSE, and " + err.Error()}
	}
	sweepOnce.Do(func() { fusefs.Sweep() }) // what a killed earlier run left mounted
	res := check(fusecheck.Config{Argv: j.target.worker, Seed: j.seed, Operations: ops})
	detail := res.Detail
	if len(res.LeftOut) > 0 {
		detail = fmt.Sprintf("%s (left out, not offered by the worker: %v)", detail, res.LeftOut)
	}
	return outcome{verdict: res.Verdict, operations: res.Operations, histories: res.Units, detail: detail, work: &res.Work}
}

var sweepOnce sync.Once

func runFaults(j job) outcome {
	if j.target.builtin == nil {
		return overFUSE(j, fusecheck.Faults, scale(8, j.budget))
	}
	return rounds(j, "faults", max(faultsFloor, scale(faultsRounds, j.budget)), func(seed int64) outcome {
		res := faults.Check(workload.ImplOpener(j.target.builtin.Open), faults.Config{Seed: seed, Operations: faultsOps})
		return outcome{verdict: res.Verdict, operations: res.Operations, histories: res.Injections, detail: res.Detail}
	})
}

func runCrash(j job) outcome {
	if j.target.builtin == nil {
		return overFUSE(j, fusecheck.Crash, scale(20, j.budget))
	}
	return rounds(j, "crash", max(crashFloor, scale(crashRounds, j.budget)), func(seed int64) outcome {
		res := crash.Check(workload.ImplOpener(j.target.builtin.Open), crash.Config{Seed: seed, Operations: crashOps})
		return outcome{verdict: res.Verdict, operations: res.Operations, histories: res.States, detail: res.Detail}
	})
}

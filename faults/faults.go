// Package faults checks that a store tells the truth when the disk fails:
// for every file-system call of a seeded workload, it runs the workload again
// with that one call failing, once per errno that call can return, and holds
// the store to the model.
//
// # What is injected
//
// The call at index i fails with an errno the real call can return:
//
//	open       EIO; ENOSPC when it creates
//	read       EIO
//	write      EIO, ENOSPC (half the buffer is written first: a short write)
//	fsync      EIO, ENOSPC (nothing becomes durable)
//	close      EIO, EINTR (the descriptor is closed all the same)
//	rename(2), renameat2(2)  EIO, ENOSPC
//	unlink     EIO
//	readdir    EIO
//	lstat      EIO
//	lock       EIO, EINTR (flock interrupted by a signal), ENOSPC (creating the lock file)
//	unlock     EIO (the lock is released all the same)
//
// A failed call is not performed, except as noted. EINTR is injected only
// where Go hands it to the caller: os retries it for open, read, write,
// fsync and rename, but not for close, and the FS seam's Lock may see it.
//
// # What is required
//
// Of the operation during which the fault happens:
//
//   - If it reports an error, the store holds the state before it or the
//     state after it, nothing in between (no partial, empty or corrupt
//     record), both as the disk is now and as a crash would leave it.
//   - If it reports success, the data landed: its result is the model's,
//     and the store holds the model's state after it, both now and after a
//     crash (memfs.Crash: only synced data survives). A store may absorb a
//     failure that did not matter — a retried EINTR, a failed close of a
//     descriptor it only read, a failed unlock after the data was durable —
//     but never one that lost the write: swallowing a failed fsync or
//     rename and reporting success is the bug this check exists for.
//     Absorbed faults are counted in Result.Absorbed.
//
// Of everything after it: each of the next [Later] operations of the
// workload succeeds with the model's answer (no lock left held, no
// temporary file mistaken for a session), and the store then holds the
// model's state.
//
// # What it needs of a store
//
// Determinism: the same workload (the same operations, the clock the
// workload gives in impl.Options.Clock, the keys it gives in
// impl.Options.NewKey) must make the same file-system calls in the same
// order on every run, because a fault is named by the index of the call it
// hits and each run starts the workload again. A store that reads the
// wall clock, draws its own randomness, keeps state between runs, or makes
// calls from background goroutines breaks that; Check then stops with the
// verdict "error" and a detail saying "the store is not deterministic" (the
// call it meant to fail did not come, or came as another call), never with
// a pass.
package faults

import (
	"fmt"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/sessioncheck/sessioncheck/memfs/hookfs"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// Later is how many operations run after the faulted one before the final
// state check: enough to touch the faulted key again, and every lock stripe
// the workload uses, without making the check quadratic in the workload.
const Later = 10

// DefaultOperations is the workload length when Config.Operations is 0. The
// check runs the workload once per injection, so its cost grows with the
// square of the length.
const DefaultOperations = 30

// Opener opens a store over dir with opts, as impl.Open and the catalogue's
// Open functions do.
type Opener = workload.Opener

// Config says what to run.
type Config struct {
	Seed       int64 // workload, values and keys
	Operations int   // workload length (0 = DefaultOperations)
}

// Result is the verdict of one run.
type Result struct {
	// Verdict is "pass", "violation" or "error" (the store could not run
	// the workload at all: Detail says why).
	Verdict    string
	Seed       int64
	Operations int // operations in the workload
	Points     int // injection points: file-system calls of the workload
	Injections int // runs, one per point and applicable errno
	Absorbed   int // injections after which the operation still succeeded, correctly
	// AbsorbedAt lists the absorbed injections (errno and call), so a
	// reader can judge each: a store that returned ErrNotFound joined with
	// a failed unlock is classified by its ErrNotFound, for example.
	AbsorbedAt []string
	Violations int     // injections after which the store broke the contract
	Detail     string  // the first violation, in full; "" on a pass
	Seconds    float64 // wall time
}

// Errnos returns the errors injected into c, in order.
func Errnos(c hookfs.Call) []syscall.Errno {
	switch c.Op {
	case "open":
		if c.Flag&syscall.O_CREAT != 0 {
			return []syscall.Errno{syscall.EIO, syscall.ENOSPC}
		}
		return []syscall.Errno{syscall.EIO}
	case "write", "fsync", "rename", "renameat2":
		return []syscall.Errno{syscall.EIO, syscall.ENOSPC}
	case "close":
		return []syscall.Errno{syscall.EIO, syscall.EINTR}
	case "lock":
		if c.Kind == seam.FileLock {
			return []syscall.Errno{syscall.EIO, syscall.EINTR, syscall.ENOSPC}
		}
		return []syscall.Errno{syscall.EIO, syscall.EINTR}
	}
	return []syscall.Errno{syscall.EIO}
}

// Check runs the fault check on the store open opens.
func Check(open Opener, cfg Config) Result {
	start := time.Now()
	if cfg.Operations <= 0 {
		cfg.Operations = DefaultOperations
	}
	res := Result{Seed: cfg.Seed, Operations: cfg.Operations}
	done := func(verdict, detail string) Result {
		res.Verdict, res.Detail = verdict, detail
		res.Seconds = time.Since(start).Seconds()
		return res
	}
	steps := workload.Generate(cfg.Seed, cfg.Operations)

	// The baseline: no fault; it numbers the calls.
	var calls []hookfs.Call
	base := run{open: open, seed: cfg.Seed, steps: steps, inject: -1,
		record: func(c hookfs.Call) { calls = append(calls, c) }}
	base.stepOf = func(int) int { return -1 }
	if v, err := base.do(); err != nil {
		return done("error", err.Error())
	} else if v != "" {
		return done("violation", fmt.Sprintf("seed %d: without any fault: %s", cfg.Seed, v))
	}
	res.Points = len(calls)
	stepOf := func(i int) int { return base.stepAt[i] }

	for i, c := range calls {
		for _, errno := range Errnos(c) {
			res.Injections++
			r := run{open: open, seed: cfg.Seed, steps: steps, inject: i, errno: errno, want: c, stepOf: stepOf}
			v, err := r.do()
			if err != nil {
				return done("error", err.Error())
			}
			if r.absorbed {
				res.Absorbed++
				res.AbsorbedAt = append(res.AbsorbedAt, fmt.Sprintf("%s at %v", errno.Error(), c))
			}
			if v == "" {
				continue
			}
			res.Violations++
			if res.Detail == "" {
				res.Detail = fmt.Sprintf("seed %d: %s %s\n%s", cfg.Seed, errno.Error(), c, v)
			}
		}
	}
	return done(verdictOf(res.Violations), res.Detail)
}

func verdictOf(violations int) string {
	if violations > 0 {
		return "violation"
	}
	return "pass"
}

// run is one execution of the workload with at most one fault.
type run struct {
	open   Opener
	seed   int64
	steps  []workload.Step
	inject int // index of the failing call; -1 for none
	errno  syscall.Errno
	want   hookfs.Call        // the call the baseline made at inject
	record func(hookfs.Call)  // sees every call (baseline only)
	stepOf func(call int) int // the operation the baseline made call in (-1: opening)
	stepAt []int              // baseline: the operation of each call

	step     int // the operation running
	fired    bool
	mismatch string
	absorbed bool
	log      []string
}

// do runs the workload and returns a description of the first violation
// ("" if none), or an error if the check itself could not run.
func (r *run) do() (string, error) {
	hooks := hookfs.Hooks{NoWait: true, Before: func(c hookfs.Call) error {
		if r.record != nil {
			r.record(c)
			r.stepAt = append(r.stepAt, r.step)
		}
		if c.Index != r.inject {
			return nil
		}
		if c.Op != r.want.Op || c.Path != r.want.Path {
			r.mismatch = fmt.Sprintf("call %d was %v in the first run and %v now", c.Index, r.want, c)
			return nil
		}
		r.fired = true
		return r.errno
	}}
	env, err := workload.NewEnv(r.open, r.seed, hooks)
	if err != nil {
		if r.fired && r.mismatch == "" {
			// Opening the store failed on the fault and said so: right.
			// Nothing was written, so there is nothing more to see.
			return "", nil
		}
		return "", err
	}
	var state model.State
	end := len(r.steps)
	for j, st := range r.steps {
		if j >= end {
			break
		}
		r.step = j
		op := env.Prepare(st)
		firedBefore, drawn0 := r.fired, len(env.Drawn)
		var durable map[string]workload.Observation
		if r.inject >= 0 && r.stepOf(r.inject) == j {
			// What a crash would leave just before the faulted operation:
			// its effect on durability is judged against this, so a store
			// that never syncs is not blamed here for earlier operations.
			if durable, err = observe(r.open, env, true); err != nil {
				return r.report(j, fmt.Sprintf("before the operation, a crash image cannot be read: %v", err)), nil
			}
		}
		got, opErr := env.Exec(op)
		r.log = append(r.log, fmt.Sprintf("  %2d. %v -> %s", j, op, describe(op, got, opErr)))
		if r.mismatch != "" {
			return "", fmt.Errorf("seed %d: the store is not deterministic: %s", r.seed, r.mismatch)
		}
		if r.fired && !firedBefore {
			// The operation the fault hit.
			r.log[j] += "   <- fault injected here"
			next, v := r.faulted(env, state, durable, op, got, env.Drawn[drawn0:])
			if v != "" {
				return r.report(j, v), nil
			}
			state = next
			end = min(end, j+1+Later)
			continue
		}
		next, err := state.Check(op, got)
		if err != nil {
			if r.fired {
				return r.report(j, fmt.Sprintf("a later operation went wrong: %v", err)), nil
			}
			return r.report(j, err.Error()), nil
		}
		state = next
	}
	if r.inject >= 0 && !r.fired {
		return "", fmt.Errorf("seed %d: call %d (%v) never came: the store is not deterministic", r.seed, r.inject, r.want)
	}
	obs, err := observe(r.open, env, false)
	if err == nil {
		_, err = workload.Window{Before: state}.Check(obs)
	}
	if err != nil {
		return r.report(end-1, fmt.Sprintf("at the end of the workload the store does not hold the model's state:\n%s", indent(err.Error()))), nil
	}
	return "", nil
}

// faulted checks the operation during which the fault happened and returns
// the state to go on from. durable is what a crash just before the operation
// would have left.
func (r *run) faulted(env *workload.Env, before model.State, durable map[string]workload.Observation,
	op model.Op, got model.Result, drawn []string) (model.State, string) {
	drawn = slices.Clone(drawn)
	durBefore, err := workload.StateOf(durable)
	if err != nil {
		return before, fmt.Sprintf("before the operation, a crash image holds a record that cannot be read: %v", err)
	}
	if got.Outcome != model.Failed {
		next, err := before.Check(op, got)
		if err != nil {
			return before, fmt.Sprintf("the operation reported %s after the fault, which the model forbids: %v", describe(op, got, nil), err)
		}
		durNext, _, err := durBefore.Apply(op, got.Key)
		if err != nil {
			durNext = next
		}
		for _, w := range []struct {
			crashed bool
			want    model.State
		}{{false, next}, {true, durNext}} {
			obs, err := observe(r.open, env, w.crashed)
			if err == nil {
				_, err = workload.Window{Before: w.want}.Check(obs)
			}
			if err != nil {
				return before, fmt.Sprintf("the operation reported success (%s), but its data did not land (%s):\n%s",
					describe(op, got, nil), where(w.crashed), indent(err.Error()))
			}
		}
		r.absorbed = true
		return next, ""
	}
	var now model.State
	for _, w := range []struct {
		crashed bool
		before  model.State
	}{{false, before}, {true, durBefore}} {
		obs, err := observe(r.open, env, w.crashed)
		var found model.State
		if err == nil {
			found, err = workload.Window{Before: w.before, InFlight: &op, Drawn: drawn}.Check(obs)
		}
		if err != nil {
			return before, fmt.Sprintf("the operation failed, as it should, but left a state that is neither before it nor after it (%s):\n%s",
				where(w.crashed), indent(err.Error()))
		}
		if !w.crashed {
			now = found
		}
	}
	return now, ""
}

func where(crashed bool) string {
	if crashed {
		return "after a crash"
	}
	return "as the disk is now"
}

// observe reads every key the run knows of through a fresh store on the
// disk as it is, or as a crash now would leave it.
func observe(open Opener, env *workload.Env, crashed bool) (map[string]workload.Observation, error) {
	var fsys seam.FS = env.Disk.NewProcess()
	if crashed {
		fsys = env.Disk.Crash()
	}
	return workload.Observe(open, fsys, env.Keys())
}

func (r *run) report(step int, v string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "operation %d: %s\nworkload (replay: faults.Check with the same seed):\n", step, v)
	b.WriteString(strings.Join(r.log[:min(step+1, len(r.log))], "\n"))
	return b.String()
}

func describe(op model.Op, got model.Result, err error) string {
	if err != nil {
		return fmt.Sprintf("%v (%v)", got.Outcome, err)
	}
	return model.Printer{}.Result(op.Kind, got)
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

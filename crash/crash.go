// Package crash checks that a store keeps what it acknowledged across a
// power loss, at every moment one could happen.
//
// [Check] runs a seeded workload on the store over memfs. After every call
// that may change the disk (an open that creates or truncates, a write, an
// fsync, a rename, an unlink, a lock that creates its file), and after every
// operation returns, it takes the crash images memfs gives for that moment
// (see memfs.CrashWith: unsynced name changes and unsynced data each lost or
// kept, four states). On each image it opens a fresh store and loads every
// key the run ever drew, and it requires:
//
//   - every acknowledged Create, Save, Touch, Delete and Cycle survives: the
//     store holds the model's state as of the last acknowledged operation;
//   - the operation in flight, if any, happened entirely or not at all (for
//     Cycle, the old key may also survive beside the new one, which nobody
//     was told about; the record is never lost);
//   - no session is corrupt or empty, and nothing appears that was never
//     written.
//
// The workload's own results are checked against the model as it runs. The
// check is deterministic: the seed replays it exactly.
package crash

import (
	"fmt"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/memfs/hookfs"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
	"github.com/sessioncheck/sessioncheck/model"
)

// DefaultOperations is the workload length when Config.Operations is 0.
const DefaultOperations = 60

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
	Operations int     // operations in the workload
	Points     int     // crash points: moments a crash was simulated
	States     int     // crash images checked (four per point)
	Distinct   int     // distinct crash images among them (each reopened once)
	Violations int     // crash images that broke the contract
	Detail     string  // the first violation, in full; "" on a pass
	Seconds    float64 // wall time
}

// image is one crash image, with the names its kind.
var kinds = []struct {
	names, data bool
	label       string
}{
	{false, false, "only synced names and data survive"},
	{true, false, "unsynced name changes survive, unsynced data does not"},
	{false, true, "unsynced data survives, unsynced name changes do not"},
	{true, true, "everything written survives"},
}

// point is one moment at which a crash is simulated.
type point struct {
	where  string // the call after which it happens, or the operation it follows
	step   int    // index of the operation in flight or just acknowledged
	window workload.Window
	images [4]*memfs.FS
}

// Check runs the crash check on the store open opens.
func Check(open Opener, cfg Config) Result {
	start := time.Now()
	if cfg.Operations <= 0 {
		cfg.Operations = DefaultOperations
	}
	res := Result{Seed: cfg.Seed, Operations: cfg.Operations}
	fail := func(verdict, detail string) Result {
		res.Verdict, res.Detail = verdict, detail
		res.Seconds = time.Since(start).Seconds()
		return res
	}

	steps := workload.Generate(cfg.Seed, cfg.Operations)
	var (
		env     *workload.Env
		points  []point
		state   model.State
		current *model.Op
		step    int
		drawn0  int // len(env.Drawn) when the current operation began
		log     []string
	)
	snapshot := func(where string, w workload.Window) {
		p := point{where: where, step: step, window: w}
		for i, k := range kinds {
			p.images[i] = env.Disk.CrashWith(k.names, k.data)
		}
		points = append(points, p)
	}
	hooks := hookfs.Hooks{
		NoWait: true,
		After: func(c hookfs.Call, err error) {
			if err != nil || !c.Mutating() || current == nil {
				return
			}
			drawn := append([]string(nil), env.Drawn[drawn0:]...)
			snapshot("after call "+c.String(), workload.Window{Before: state, InFlight: current, Drawn: drawn})
		},
	}
	env, err := workload.NewEnv(open, cfg.Seed, hooks)
	if err != nil {
		return fail("error", err.Error())
	}
	snapshot("before any operation", workload.Window{Before: state})
	for step = range steps {
		op := env.Prepare(steps[step])
		current, drawn0 = &op, len(env.Drawn)
		got, opErr := env.Exec(op)
		current = nil
		next, err := state.Check(op, got)
		log = append(log, fmt.Sprintf("  %2d. %v -> %v", step, op, describe(got, opErr)))
		if err != nil {
			return fail("violation", fmt.Sprintf("seed %d: without any crash, operation %d returned what the model forbids: %v\nworkload so far:\n%s",
				cfg.Seed, step, err, strings.Join(log, "\n")))
		}
		state = next
		snapshot(fmt.Sprintf("after operation %d returned", step), workload.Window{Before: state})
	}

	keys := env.Keys()
	res.Points = len(points)
	// Many images are alike (nothing becomes durable between two syncs):
	// what a fresh store finds depends only on the image, so read each
	// distinct image once.
	type seen struct {
		obs map[string]workload.Observation
		err error
	}
	cache := map[string]seen{}
	for _, p := range points {
		for i, img := range p.images {
			res.States++
			dump := img.Dump()
			s, ok := cache[dump]
			if !ok {
				s.obs, s.err = workload.Observe(open, img, keys)
				cache[dump] = s
			}
			err := s.err
			if err == nil {
				_, err = p.window.Check(s.obs)
			}
			if err == nil {
				continue
			}
			res.Violations++
			if res.Detail == "" {
				res.Detail = report(cfg.Seed, p, kinds[i].label, err, log)
			}
		}
	}
	res.Distinct = len(cache)
	res.Verdict = "pass"
	if res.Violations > 0 {
		res.Verdict = "violation"
	}
	res.Seconds = time.Since(start).Seconds()
	return res
}

func describe(got model.Result, err error) string {
	if err != nil {
		return fmt.Sprintf("%v (%v)", got.Outcome, err)
	}
	return got.String()
}

// report writes up one violation: where the crash happened, what was in
// flight, what the model required and what was found, and how to replay it.
func report(seed int64, p point, kind string, err error, log []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: crash %s, during operation %d; crash state: %s\n", seed, p.where, p.step, kind)
	if op := p.window.InFlight; op != nil {
		fmt.Fprintf(&b, "in flight: %v (either outcome allowed, nothing in between)\n", op)
	} else {
		fmt.Fprintf(&b, "in flight: nothing (operation %d was acknowledged)\n", p.step)
	}
	fmt.Fprintf(&b, "after reopening:\n%s\n", indent(err.Error()))
	fmt.Fprintf(&b, "workload up to the crash (replay: crash.Check with Seed %d):\n", seed)
	for _, line := range log[:min(p.step, len(log))] {
		b.WriteString(line + "\n")
	}
	if op := p.window.InFlight; op != nil {
		fmt.Fprintf(&b, "  %2d. %v -> (crashed in flight)\n", p.step, op)
	} else if p.step < len(log) {
		b.WriteString(log[p.step] + "\n")
	}
	return b.String()
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

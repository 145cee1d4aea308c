// Package crash checks that a store keeps what it acknowledged across a
// power loss, at every moment one could happen.
//
// [Check] runs a seeded workload on the store over memfs. After every call
// that may change the disk (an open that creates or truncates, a write, an
// fsync, a rename, an unlink, a lock that creates its file), and after every
// operation returns, it takes the crash images memfs gives for that moment
// (see memfs.CrashWith: unsynced name changes and unsynced data each lost or
// kept, four states). On each image it opens a fresh store and loads every
// key that can tell the image's verdict (the keys the model holds, the keys
// of the operation in flight, and every key of the run that names a file on
// the image), and it requires:
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
//
// Each crash state is made, checked and forgotten at its crash point:
// identical images (most are: until an fsync, the crash that loses
// everything unsynced finds the same disk after every call) are recognised
// by a digest of their content and read once while they are recent, so
// memory stays flat and time grows linearly with the workload (figures in
// docs/PERFORMANCE.md). The verdict is verdict.Judge's over the work
// counted in crash states: no crash state checked is no pass.
package crash

import (
	"container/list"
	"crypto/sha256"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/memfs/hookfs"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/verdict"
)

// DefaultOperations is the workload length when Config.Operations is 0.
const DefaultOperations = 60

// recentImages is how many crash images the check keeps open at once. An
// image recurs mostly at neighbouring crash points (until an fsync, losing
// everything unsynced gives the same disk after every call of an
// operation), so a few recent images catch nearly every repeat; an older
// image that comes back is opened again, which costs time, not verdicts.
const recentImages = 32

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
	// the workload at all: Detail says why), as verdict.Judge rules on Work:
	// a run that checked no crash state is not a pass.
	Verdict    string
	Seed       int64
	Operations int     // operations in the workload
	Points     int     // crash points: moments a crash was simulated
	States     int     // crash images checked (four per point)
	Distinct   int     // distinct crash images among them (by content)
	Reopened   int     // fresh stores opened on crash images (Distinct, or more when an image recurred after leaving the recent ones)
	Violations int     // crash images that broke the contract
	Detail     string  // the first violation, in full; "" on a pass
	Seconds    float64 // wall time
	// Work is what the check did, in crash states, for verdict.Judge and
	// the report.
	Work verdict.Work
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
}

// opened is a crash image with a fresh store open on it.
type opened struct {
	digest [sha256.Size]byte
	obs    *workload.Observer // nil when the store could not be reopened
	err    error              // why not
	named  []string           // keys of the run that appear in the image's file names
}

// Check runs the crash check on the store open opens.
//
// It streams: each crash image is made, checked and dropped at its crash
// point, while the workload runs, so memory holds the current disk, a few
// recent images (recentImages) and a digest per distinct image, never the
// history of images; and each image is asked only for the keys its moment
// can tell apart (those the model holds, those the operation in flight
// touches or drew, and those named by a file on the image), so the work per
// crash state does not grow with the number of keys the run has seen.
func Check(open Opener, cfg Config) Result {
	start := time.Now()
	if cfg.Operations <= 0 {
		cfg.Operations = DefaultOperations
	}
	res := Result{Seed: cfg.Seed, Operations: cfg.Operations}
	res.Work.Unit = "crash states"
	finish := func(found verdict.Verdict, detail string) Result {
		res.Work.Units = res.States
		v, why := verdict.Judge(found, res.Work)
		res.Verdict, res.Detail = string(v), detail
		if why != "" && res.Detail == "" {
			res.Detail = why
		}
		res.Seconds = time.Since(start).Seconds()
		return res
	}

	steps := workload.Generate(cfg.Seed, cfg.Operations)
	var (
		env     *workload.Env
		state   model.State
		current *model.Op
		step    int
		drawn0  int // len(env.Drawn) when the current operation began
		log     opLog
		keys    = map[string]bool{workload.NeverKey: true} // every key drawn so far
		nkeys   int                                        // len(env.Drawn) already in keys
		digests = map[[sha256.Size]byte]bool{}
		recent  = newLRU(recentImages)
	)
	examine := func(p point) {
		res.Points++
		for ; nkeys < len(env.Drawn); nkeys++ {
			keys[env.Drawn[nkeys]] = true
		}
		res.Work.Planned += len(kinds)
		for i, k := range kinds {
			d := env.Disk.CrashDigest(k.names, k.data)
			res.States++
			if !digests[d] {
				digests[d] = true
				res.Distinct++
			}
			o := recent.get(d)
			if o == nil {
				img := env.Disk.CrashWith(k.names, k.data)
				o = &opened{digest: d, named: namedKeys(img, keys)}
				o.obs, o.err = workload.NewObserver(open, img)
				res.Reopened++
				recent.put(o)
			}
			err := o.err
			if err == nil {
				_, err = p.window.Check(observe(o, p.window))
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
	hooks := hookfs.Hooks{
		NoWait: true,
		After: func(c hookfs.Call, err error) {
			if err != nil || !c.Mutating() || current == nil {
				return
			}
			drawn := append([]string(nil), env.Drawn[drawn0:]...)
			examine(point{where: "after call " + c.String(), step: step,
				window: workload.Window{Before: state, InFlight: current, Drawn: drawn}})
		},
	}
	env, err := workload.NewEnv(open, cfg.Seed, hooks)
	if err != nil {
		return finish(verdict.Error, err.Error())
	}
	examine(point{where: "before any operation", window: workload.Window{Before: state}})
	for step = range steps {
		op := env.Prepare(steps[step])
		current, drawn0 = &op, len(env.Drawn)
		got, opErr := env.Exec(op)
		current = nil
		res.Work.Operations++
		if got.Outcome == model.Failed {
			// Not found, invalid and corrupt are answers the model judges;
			// failed is an error with nothing injected.
			res.Work.Failed++
		}
		next, err := state.Check(op, got)
		log.add(fmt.Sprintf("  %2d. %v -> %v", step, op, describe(got, opErr)))
		if err != nil {
			return finish(verdict.Violation, fmt.Sprintf("seed %d: without any crash, operation %d returned what the model forbids: %v\nworkload so far:\n%s",
				cfg.Seed, step, err, strings.Join(log.upTo(step+1), "\n")))
		}
		state = next
		examine(point{where: fmt.Sprintf("after operation %d returned", step), step: step, window: workload.Window{Before: state}})
	}
	if res.Violations > 0 {
		return finish(verdict.Violation, res.Detail)
	}
	return finish(verdict.Pass, "")
}

// observe returns what the image shows under every key that can decide the
// window's verdict: the keys the model holds (each must be found as the
// model has it), the key of the operation in flight and the keys it drew
// (each may hold its outcome), the keys named on the image (a file under
// any other key, deleted or never acknowledged, must not show) and
// NeverKey. Every other key the run drew names no file on the image and
// is absent from the model, so the store can show nothing under it.
func observe(o *opened, w workload.Window) map[string]workload.Observation {
	obs := map[string]workload.Observation{}
	add := func(k string) {
		if _, ok := obs[k]; !ok {
			obs[k] = o.obs.Load(k)
		}
	}
	add(workload.NeverKey)
	for _, k := range w.Before.Keys() {
		add(k)
	}
	if w.InFlight != nil && w.InFlight.Key != "" {
		add(w.InFlight.Key)
	}
	for _, k := range w.Drawn {
		add(k)
	}
	for _, k := range o.named {
		add(k)
	}
	return obs
}

// namedKeys returns the keys in keys that appear in the name of any file
// or directory on img, in the order met. A store names a session's files
// after its key (the reference: s_<key>, t_<key>_<n>); a key in no name has
// nothing on the disk to be found under.
func namedKeys(img *memfs.FS, keys map[string]bool) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(dir string)
	walk = func(dir string) {
		names, err := img.ReadDir(dir)
		if err != nil {
			return
		}
		for _, name := range names {
			for i := 0; i+model.KeyLength <= len(name); i++ {
				if k := name[i : i+model.KeyLength]; keys[k] && !seen[k] {
					seen[k] = true
					out = append(out, k)
				}
			}
			full := path.Join(dir, name)
			if fi, err := img.Lstat(full); err == nil && fi.IsDir() {
				walk(full)
			}
		}
	}
	walk("/")
	return out
}

// lru keeps the most recently used crash images, up to a bound.
type lru struct {
	max   int
	order *list.List // of *opened, most recent first
	at    map[[sha256.Size]byte]*list.Element
}

func newLRU(max int) *lru {
	return &lru{max: max, order: list.New(), at: map[[sha256.Size]byte]*list.Element{}}
}

func (c *lru) get(d [sha256.Size]byte) *opened {
	e := c.at[d]
	if e == nil {
		return nil
	}
	c.order.MoveToFront(e)
	return e.Value.(*opened)
}

func (c *lru) put(o *opened) {
	c.at[o.digest] = c.order.PushFront(o)
	if c.order.Len() > c.max {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.at, last.Value.(*opened).digest)
	}
}

func describe(got model.Result, err error) string {
	if err != nil {
		return fmt.Sprintf("%v (%v)", got.Outcome, err)
	}
	return got.String()
}

// report writes up one violation: where the crash happened, what was in
// flight, what the model required and what was found, and how to replay it.
func report(seed int64, p point, kind string, err error, log opLog) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d: crash %s, during operation %d; crash state: %s\n", seed, p.where, p.step, kind)
	if op := p.window.InFlight; op != nil {
		fmt.Fprintf(&b, "in flight: %v (either outcome allowed, nothing in between)\n", op)
	} else {
		fmt.Fprintf(&b, "in flight: nothing (operation %d was acknowledged)\n", p.step)
	}
	fmt.Fprintf(&b, "after reopening:\n%s\n", indent(err.Error()))
	fmt.Fprintf(&b, "workload up to the crash (replay: crash.Check with Seed %d):\n", seed)
	for _, line := range log.upTo(p.step) {
		b.WriteString(line + "\n")
	}
	if op := p.window.InFlight; op != nil {
		fmt.Fprintf(&b, "  %2d. %v -> (crashed in flight)\n", p.step, op)
	} else if p.step < log.n {
		lines := log.upTo(p.step + 1)
		b.WriteString(lines[len(lines)-1] + "\n")
	}
	return b.String()
}

func indent(s string) string { return "  " + strings.ReplaceAll(s, "\n", "\n  ") }

// reportOps is how many operations before the crash a report lists; the
// seed replays the rest.
const reportOps = 40

// opLog is the workload's log, one line per operation, keeping only the
// lines a report can list: a report is written at the crash point it is
// about, so it never needs more than the last reportOps+1 lines, and the
// log does not grow with the workload.
type opLog struct {
	lines []string // lines n-len(lines) to n-1
	n     int      // lines added
}

func (l *opLog) add(line string) {
	if len(l.lines) >= 2*(reportOps+1) {
		l.lines = append(l.lines[:0], l.lines[len(l.lines)-reportOps-1:]...)
	}
	l.lines = append(l.lines, line)
	l.n++
}

// upTo returns the lines of operations max(0, n-reportOps) to n-1, headed
// by a line saying how many earlier ones it leaves out. n must not be
// below the last reportOps+1 lines added.
func (l opLog) upTo(n int) []string {
	n = min(n, l.n)
	first := l.n - len(l.lines) // operation of l.lines[0]
	from := max(0, n-reportOps, first)
	out := l.lines[from-first : n-first]
	if from == 0 {
		return out
	}
	head := fmt.Sprintf("  (operations 0 to %d left out: the seed replays them)", from-1)
	return append([]string{head}, out...)
}

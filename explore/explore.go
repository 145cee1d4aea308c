package explore

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/verdict"
)

// DefaultBudget is the most schedules explored per scenario when
// Config.Budget is zero. Every built-in scenario on the reference store has
// fewer, so by default the exploration is complete.
const DefaultBudget = 20000

// DefaultStall is how long a client may run without reaching a
// file-system call before the run is abandoned, when Config.Stall is zero.
const DefaultStall = 5 * time.Second

// Config says what to explore and how much.
type Config struct {
	// Seed seeds the random mode; the exhaustive mode needs none, since
	// its order is fixed, and reports it only.
	Seed int64
	// Budget is the most schedules explored per scenario; 0 means
	// DefaultBudget. A scenario cut short by it is reported.
	Budget int
	// Preemptions bounds the preemptions of a schedule (a switch away
	// from a client that could have gone on): 0 means no bound, every
	// interleaving; a negative value allows none.
	Preemptions int
	// Scenarios to explore; nil means Scenarios().
	Scenarios []Scenario
	// Worlds makes a fresh file system for each run; nil means
	// MemWorlds (in memory, deterministic, fast).
	// The clock it is given reads the scenario time of the client that is
	// running, for the file system's modification times.
	Worlds func(clock model.Clock) (World, error)
	// Stall is how long a client may go without a file-system call; 0
	// means DefaultStall.
	Stall time.Duration
}

func (c Config) budget() int {
	if c.Budget > 0 {
		return c.Budget
	}
	return DefaultBudget
}

func (c Config) stall() time.Duration {
	if c.Stall > 0 {
		return c.Stall
	}
	return DefaultStall
}

func (c Config) worlds() func(model.Clock) (World, error) {
	if c.Worlds != nil {
		return c.Worlds
	}
	return MemWorlds()
}

func (c Config) scenarios() []Scenario {
	if c.Scenarios != nil {
		return c.Scenarios
	}
	return Scenarios()
}

// Verdicts of a Result: package verdict's, as strings.
const (
	Pass      = string(verdict.Pass)
	Violation = string(verdict.Violation)
	// Error: the exploration could not be done, or explored nothing
	// concurrent (see Result.Work).
	Error = string(verdict.Error)
	// Unknown: the exploration did no work at all (no scenario).
	Unknown = string(verdict.Unknown)
)

// Result is what an exploration found.
type Result struct {
	Verdict string
	// Schedules is the number of distinct schedules checked, Runs the
	// number of executions (iterative deepening runs some schedules again)
	// and Operations the store operations those executions performed.
	Schedules  int
	Runs       int
	Operations int
	// Complete is true when every interleaving of every scenario explored
	// was checked: no scenario was cut short by the budget or the bound.
	Complete bool
	Seconds  float64
	// Detail is a one-paragraph summary, followed on a violation by the
	// counterexample.
	Detail string
	// Counterexample is the violating execution, if any.
	Counterexample *Execution
	// Scenarios has one line per scenario explored.
	Scenarios []string
	// Work is the work done, counted as every check counts it, and
	// judged by verdict.Judge: Units are the schedules, Announced the
	// scheduling points the operations reached in all, Silent the
	// operations that had to touch storage and reached none, and
	// Interleaved the scenarios with more than one schedule. A run with
	// a silent operation, or with no interleaved scenario, is an Error:
	// the store's file operations were not behind the scheduler, so
	// nothing concurrent was explored.
	Work verdict.Work
	// PerOp is the same count per kind of operation, in kind order.
	PerOp []OpPoints
}

// OpPoints counts the scheduling points of one kind of operation over
// every run of an exploration. A scheduling point is a file-system call
// through the seam (in process) or a call a worker announced (through
// the hook).
type OpPoints struct {
	Kind model.Kind
	// Operations of this kind that returned, Points they reached in
	// all, and Silent: those of them that had to touch storage and
	// reached none.
	Operations, Points, Silent int
	// Min and Max are the fewest and most points one operation reached.
	Min, Max int
}

// Execution is one run of a scenario under one schedule.
type Execution struct {
	Scenario Scenario
	// Schedule lists the client picked at every choice point, one digit
	// each; Replay runs it again.
	Schedule    string
	Preemptions int
	Trace       []Event
	History     []*Operation
	// Problem is nil when the run passed. Otherwise it is a *TraceError,
	// a *HistoryError, a *DeadlockError or a *StallError.
	Problem error
}

// String prints the execution: scenario, schedule, every file-system call
// in order, the history, and the problem.
func (x *Execution) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "scenario %s\n", x.Scenario)
	fmt.Fprintf(&b, "schedule %q (%d preemptions; replay with explore.Replay)\n", x.Schedule, x.Preemptions)
	b.WriteString("file-system calls in order (step, client, call, path relative to the session directory):\n")
	lastEvent := map[int]int{} // op -> index of its last event
	for i, e := range x.Trace {
		if e.Op >= 0 {
			lastEvent[e.Op] = i
		}
	}
	begun := map[int]bool{}
	prev := -1
	for i, e := range x.Trace {
		if e.Op >= 0 && e.Op != prev {
			verb := "begins"
			if begun[e.Op] {
				verb = "resumes"
			}
			begun[e.Op] = true
			fmt.Fprintf(&b, "        %s %s %s\n", clientName(e.Client), verb, fmtOp(x.History[e.Op].Op))
		}
		prev = e.Op
		b.WriteString("  " + e.String() + "\n")
		if e.Op >= 0 && lastEvent[e.Op] == i {
			fmt.Fprintf(&b, "        %s returns %s\n", clientName(e.Client), x.History[e.Op].result())
			prev = -1
		}
	}
	b.WriteString("history (logical call and return times):\n")
	for _, h := range x.History {
		b.WriteString("  " + h.String() + "\n")
	}
	if x.Problem != nil {
		b.WriteString("violation: " + x.Problem.Error() + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// errNondeterministic is returned when a replay of a schedule meets other
// choices than the first run did.
var errNondeterministic = errors.New("the store behaved differently when the same schedule was replayed: it must read time and randomness only from its Env and keep no state between runs")

// executeOnce makes a world, runs sc in it and checks the run.
func executeOnce(open Opener, sc Scenario, cfg Config, ch chooser) (*Execution, *run, error) {
	r, err := execute(open, sc, cfg.worlds(), ch, cfg.stall())
	if err != nil {
		return nil, nil, err
	}
	// Copies: a stalled client may still be running.
	events, history := r.snapshot()
	for _, e := range events {
		if e.Op >= 0 && e.Op < len(history) {
			history[e.Op].Points++
		}
	}
	x := &Execution{Scenario: sc, Trace: events, History: history}
	var de *DeadlockError
	var se *StallError
	switch {
	case errors.As(r.err, &de), errors.As(r.err, &se):
		x.Problem = r.err
	case r.err != nil:
		return x, r, r.err
	default:
		if te := checkTrace(events, history); te != nil {
			x.Problem = te
		} else if he := checkHistory(history); he != nil {
			x.Problem = he
		}
	}
	return x, r, nil
}

// Check explores every scenario of cfg exhaustively on the store open opens
// and returns the verdict: a violation as soon as one is found (with the
// fewest preemptions that show it), otherwise a pass with the counts. The
// counts are judged by verdict.Judge: an exploration in which an operation
// that must touch storage reached no scheduling point, or in which no
// scenario had more than one schedule, is an Error, since it explored
// nothing concurrent (a store that does its file operations around the
// seam, a worker that declares the hook and announces nothing).
func Check(open Opener, cfg Config) Result {
	start := time.Now()
	res := Result{Verdict: Pass, Complete: true}
	all := tally{}
	interleaved := 0
	for _, sc := range cfg.scenarios() {
		st, x, err := exploreScenario(open, sc, cfg)
		res.Schedules += st.schedules
		res.Runs += st.runs
		res.Operations += st.operations
		res.Complete = res.Complete && st.complete
		all.merge(st.ops)
		if st.schedules > 1 {
			interleaved++
		}
		line := fmt.Sprintf("%s: %d schedules (%d runs, up to %d preemptions, %d scheduling points)", sc.Name, st.schedules, st.runs, st.bound, st.ops.points())
		if !st.complete {
			line += ", cut short by the budget"
		}
		res.Scenarios = append(res.Scenarios, line)
		if err != nil {
			res.Verdict = Error
			res.Detail = fmt.Sprintf("explore: scenario %s: %v", sc.Name, err)
			if x != nil {
				res.Detail += "\n" + x.String()
			}
			break
		}
		if x != nil {
			res.Verdict, res.Counterexample = Violation, x
			res.Detail = fmt.Sprintf("scenario %s, schedule %q: %s\n%s", sc.Name, x.Schedule, firstLine(x.Problem.Error()), x)
			break
		}
	}
	res.Seconds = time.Since(start).Seconds()
	res.PerOp = all.list()
	res.Work = verdict.Work{
		Unit: "schedules",
		// The number of schedules is not known before they are
		// enumerated: the plan is every one, up to the budget, and a
		// scenario cut short by the budget is reported by Complete
		// and in its line.
		Planned:     res.Schedules,
		Units:       res.Schedules,
		Operations:  res.Operations,
		Failed:      all.failed(),
		Announced:   all.points(),
		Silent:      all.silent(),
		Interleaved: interleaved,
		Explores:    true,
	}
	found := res.Verdict
	v, why := verdict.Judge(verdict.Verdict(found), res.Work)
	res.Verdict = string(v)
	how := "every interleaving"
	if !res.Complete {
		how = "bounded exploration"
	}
	points := pointsSummary(res.PerOp)
	switch {
	case res.Verdict == found && found == Pass:
		res.Detail = fmt.Sprintf("%d schedules over %d scenarios (%s); %s; no violation:\n  %s", res.Schedules, len(res.Scenarios), how, points, strings.Join(res.Scenarios, "\n  "))
	case res.Verdict != found:
		// Not "every interleaving": the schedules counted are the
		// ones the store's scheduling points made, and too few.
		res.Detail = fmt.Sprintf("explore: %s\n%d schedules over %d scenarios; %s:\n  %s", why, res.Schedules, len(res.Scenarios), points, strings.Join(res.Scenarios, "\n  "))
	}
	return res
}

// tally counts scheduling points per kind of operation.
type tally map[model.Kind]*opTally

type opTally struct {
	OpPoints
	failed int
}

// count adds the operations of one run's history that returned.
func (t tally) count(history []*Operation) {
	for _, h := range history {
		if h.Return <= h.Call {
			continue // never returned: the run was abandoned
		}
		c := t[h.Op.Kind]
		if c == nil {
			c = &opTally{OpPoints: OpPoints{Kind: h.Op.Kind, Min: h.Points, Max: h.Points}}
			t[h.Op.Kind] = c
		}
		c.Operations++
		c.Points += h.Points
		c.Min, c.Max = min(c.Min, h.Points), max(c.Max, h.Points)
		if h.Points == 0 && mustTouch(h) {
			c.Silent++
		}
		if h.Result.Outcome == model.Failed {
			c.failed++
		}
	}
}

func (t tally) merge(o tally) {
	for k, c := range o {
		m := t[k]
		if m == nil {
			cp := *c
			t[k] = &cp
			continue
		}
		m.Operations += c.Operations
		m.Points += c.Points
		m.Silent += c.Silent
		m.failed += c.failed
		m.Min, m.Max = min(m.Min, c.Min), max(m.Max, c.Max)
	}
}

func (t tally) sum(f func(*opTally) int) int {
	n := 0
	for _, c := range t {
		n += f(c)
	}
	return n
}

func (t tally) points() int { return t.sum(func(c *opTally) int { return c.Points }) }
func (t tally) silent() int { return t.sum(func(c *opTally) int { return c.Silent }) }
func (t tally) failed() int { return t.sum(func(c *opTally) int { return c.failed }) }

// list returns the counts in kind order.
func (t tally) list() []OpPoints {
	var out []OpPoints
	for k := model.Kind(0); k <= model.OpExpire; k++ {
		if c := t[k]; c != nil {
			out = append(out, c.OpPoints)
		}
	}
	return out
}

// mustTouch reports whether h cannot have been done without touching
// storage: every store operation must, but the refusal of a bad key, which
// the contract puts before any file-system access. The observer's loads
// count too.
func mustTouch(h *Operation) bool { return h.Result.Outcome != model.Invalid }

// silentOps lists the operations of a history that returned without
// reaching a scheduling point although they had to touch storage.
func silentOps(history []*Operation) []*Operation {
	var out []*Operation
	for _, h := range history {
		if h.Return > h.Call && h.Points == 0 && mustTouch(h) {
			out = append(out, h)
		}
	}
	return out
}

// pointsSummary says how many scheduling points the operations reached,
// per kind, and which kinds had silent operations.
func pointsSummary(ops []OpPoints) string {
	total, n := 0, 0
	var per, silent []string
	for _, c := range ops {
		total += c.Points
		n += c.Operations
		r := fmt.Sprintf("%s %d", c.Kind, c.Min)
		if c.Max != c.Min {
			r = fmt.Sprintf("%s %d-%d", c.Kind, c.Min, c.Max)
		}
		per = append(per, r)
		if c.Silent > 0 {
			silent = append(silent, fmt.Sprintf("%s %d of %d", c.Kind, c.Silent, c.Operations))
		}
	}
	s := fmt.Sprintf("%d scheduling points over %d operations", total, n)
	if len(per) > 0 {
		s += " (per operation: " + strings.Join(per, ", ") + ")"
	}
	if len(silent) > 0 {
		s += "; operations that reached none: " + strings.Join(silent, ", ")
	}
	return s
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

type stats struct {
	schedules, runs, operations int
	bound                       int
	complete                    bool
	ops                         tally // over every run
}

// deepenTo is the largest preemption bound explored on its own pass. CHESS
// found every bug of its study with at most two preemptions; passes up to
// that bound make the first violation found one with the fewest
// preemptions, and a last pass with no bound covers the rest without paying
// for a pass per bound.
const deepenTo = 2

const unbounded = int(^uint(0) >> 1)

// exploreScenario enumerates the schedules of sc by depth-first search,
// with iterative deepening on the number of preemptions: pass b explores
// every schedule with at most b preemptions and checks those with exactly
// b (the others were checked by an earlier pass); after pass deepenTo, one
// unbounded pass checks those with more. When a pass meets no schedule with
// b preemptions there is none with more, and the exploration is complete.
func exploreScenario(open Opener, sc Scenario, cfg Config) (stats, *Execution, error) {
	st := stats{ops: tally{}}
	if err := sc.validate(); err != nil {
		return st, nil, err
	}
	for bound := 0; ; bound++ {
		maxP := cfg.Preemptions
		switch {
		case maxP == 0:
			maxP = unbounded
		case maxP < 0:
			maxP = 0
		}
		last := bound > deepenTo || bound >= maxP
		limit := bound
		if bound > deepenTo {
			limit = maxP
		}
		st.bound = bound
		d := &dfs{bound: limit}
		counted := 0
		for {
			x, r, err := executeOnce(open, sc, cfg, d)
			st.runs++
			if r != nil {
				st.operations += len(r.history)
			}
			if x != nil {
				st.ops.count(x.History)
			}
			if err == nil && d.err != nil {
				err = d.err
			}
			if err != nil {
				st.complete = true // not cut short: stopped by the error
				return st, x, err
			}
			if d.preemptions >= bound {
				counted++
				st.schedules++
				st.bound = max(st.bound, d.preemptions)
				if x.Problem != nil {
					x.Schedule, x.Preemptions = d.schedule(), d.preemptions
					st.complete = true // not cut short: stopped by the finding
					return st, x, nil
				}
			}
			if !d.advance() {
				break
			}
			if st.schedules >= cfg.budget() {
				return st, nil, nil
			}
		}
		if counted == 0 || limit == unbounded {
			st.complete = true
			return st, nil, nil
		}
		if last {
			return st, nil, nil
		}
	}
}

// dfs is the exhaustive chooser: it replays a prefix of choices, then takes
// the first allowed option at every further choice point, and afterwards
// moves to the next branch (replay from the start, the stateless way).
type dfs struct {
	bound       int
	prefix      []decision
	taken       []decision
	preemptions int
	err         error
}

type decision struct {
	idx, allowed int
	options      []int
}

func (d *dfs) choose(options []int, continuing bool) (int, error) {
	allowed := len(options)
	if continuing && d.preemptions >= d.bound {
		allowed = 1
	}
	idx := 0
	if pos := len(d.taken); pos < len(d.prefix) {
		p := d.prefix[pos]
		if !equalInts(p.options, options) {
			d.err = errNondeterministic
			return 0, d.err
		}
		idx = p.idx
	}
	if continuing && idx > 0 {
		d.preemptions++
	}
	d.taken = append(d.taken, decision{idx: idx, allowed: allowed, options: options})
	return options[idx], nil
}

// advance moves to the next branch; false when the tree is exhausted.
func (d *dfs) advance() bool {
	for i := len(d.taken) - 1; i >= 0; i-- {
		if t := d.taken[i]; t.idx+1 < t.allowed {
			d.prefix = append(d.taken[:i:i], decision{idx: t.idx + 1, allowed: t.allowed, options: t.options})
			d.taken, d.preemptions = nil, 0
			return true
		}
	}
	return false
}

func (d *dfs) schedule() string {
	var b strings.Builder
	for _, t := range d.taken {
		b.WriteByte(byte('0' + t.options[t.idx]))
	}
	return b.String()
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// replayer follows a schedule string.
type replayer struct {
	schedule    string
	pos         int
	preemptions int
}

func (r *replayer) choose(options []int, continuing bool) (int, error) {
	if r.pos >= len(r.schedule) {
		return 0, fmt.Errorf("explore: schedule %q is too short: choice point %d has options %v", r.schedule, r.pos+1, options)
	}
	want := int(r.schedule[r.pos]) - '0'
	r.pos++
	for i, o := range options {
		if o == want {
			if continuing && i > 0 {
				r.preemptions++
			}
			return o, nil
		}
	}
	return 0, fmt.Errorf("explore: schedule %q picks %s at choice point %d, which cannot run there (options %v)", r.schedule, clientName(want), r.pos, options)
}

// Replay runs sc once under schedule (as printed in a counterexample) and
// returns the execution, checked. The error is for a schedule that does not
// fit the run or a store that could not be opened, not for a violation:
// that is in Execution.Problem.
func Replay(open Opener, sc Scenario, schedule string, cfg Config) (*Execution, error) {
	if err := sc.validate(); err != nil {
		return nil, err
	}
	for i := 0; i < len(schedule); i++ {
		if c := schedule[i]; c < '0' || c > '9' {
			return nil, fmt.Errorf("explore: schedule %q: byte %d is %q, want a client digit", schedule, i, c)
		}
	}
	rp := &replayer{schedule: schedule}
	x, _, err := executeOnce(open, sc, cfg, rp)
	if err != nil {
		return x, err
	}
	if rp.pos != len(schedule) {
		return x, fmt.Errorf("explore: schedule %q is longer than the run: it used %d choices", schedule, rp.pos)
	}
	x.Schedule, x.Preemptions = schedule, rp.preemptions
	return x, nil
}

package proptest

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/verdict"
)

// Opener opens the store under test on dir, which is a fresh empty
// directory for every test case (and is opened again, on the same
// directory, when the suite simulates a restart). The store must read the
// time only from clock: the suite moves it. If the store implements
// io.Closer, the suite closes it before reopening and at the end of a case.
type Opener func(dir string, clock model.Clock) (model.Store, error)

// DefaultChecks is the number of test cases a run makes when neither the
// person running it (RAPID_CHECKS, -rapid.checks) nor Config chose one.
// It is twice rapid's own default: the suite's action space is wide.
const DefaultChecks = 200

// TestStore checks the store that open returns against the model: rapid
// draws sequences of operations (on a small set of sessions, with the
// clock moving, restarts, invalid keys and a session handle) and every
// result must be one the model allows. On failure it reports the shortest
// sequence it found, step by step, with what the store did and what the
// model expected, and the seed that replays it.
//
// It runs two subtests: "operations", the state machine, and
// "untouched-save", the property "save never observes its own truncation"
// on its own. Each runs DefaultChecks cases unless RAPID_CHECKS or
// -rapid.checks says otherwise; TestStore picks a seed and logs it unless
// RAPID_SEED or -rapid.seed gives one. rapid's settings are global, so TestStore holds them for its
// duration: do not run it in parallel with other rapid checks in the same
// test binary (calls of TestStore and Check wait for each other).
func TestStore(t *testing.T, open Opener) {
	t.Helper()
	dirs := &dirPool{root: t.TempDir()}
	settingsMu.Lock()
	defer settingsMu.Unlock()
	var s settings
	defer s.restore()
	if !chosen("checks") {
		if err := s.set("checks", strconv.Itoa(DefaultChecks)); err != nil {
			t.Fatal(err)
		}
	}
	if !chosen("seed") || currentUint("seed") == 0 {
		if err := s.set("seed", strconv.FormatUint(newSeed(), 10)); err != nil {
			t.Fatal(err)
		}
	}
	seed := currentUint("seed")
	t.Logf("proptest: %s cases, seed %d (replay all of them with RAPID_SEED=%d -count=1)", current("checks"), seed, seed)
	checks, _ := strconv.Atoi(current("checks"))
	planned := rapidRuns(checks)
	t.Run("operations", func(t *testing.T) {
		tl := &tally{}
		rapid.Check(t, tl.property(run(tl.opener(open), dirs, defaultSession, tl, model.Strict)))
		judgeTest(t, tl, planned)
	})
	t.Run("untouched-save", func(t *testing.T) {
		tl := &tally{}
		rapid.Check(t, tl.property(untouched(tl.opener(open), dirs, defaultSession)))
		judgeTest(t, tl, planned)
	})
}

// judgeTest fails t when the counted work is not a pass (verdict.Judge):
// rapid saw no counterexample, but a worker hung or broke the protocol, or
// fewer cases than planned ran.
func judgeTest(t *testing.T, tl *tally, planned int) {
	t.Helper()
	if t.Failed() {
		return // rapid reported the counterexample
	}
	if v, why := verdict.Judge(verdict.Pass, tl.work(planned)); v != verdict.Pass {
		t.Fatalf("proptest: %s: %s (%s)", v, why, tl.broken)
	}
}

// Config tunes a run of Check. The zero Config is a full default run.
type Config struct {
	// Seed chooses the cases; the same seed and store give the same run.
	// 0 picks one at random (reported in Result.Seed).
	Seed uint64
	// Checks is how many cases to run; 0 means DefaultChecks.
	Checks int
	// Steps is the mean number of operations in a case; 0 means rapid's
	// default, 30.
	Steps int
	// Dir is where each case's directory is made; "" means a temporary
	// directory that is removed at the end. It must exist.
	Dir string
	// ShrinkTime bounds the search for a shorter counterexample; 0 means
	// rapid's default, 30 s.
	ShrinkTime time.Duration
	// NoHandle leaves the session-handle actions out, for a store that has
	// only the store operations checked.
	NoHandle bool
	// Without leaves these store operations out of every case, for a
	// backend that has no such operation (a worker that does not declare
	// it, such as PHP's files handler without clear-expired). A left-out
	// operation is checked by nothing: say so beside the verdict.
	Without []model.Kind
	// Profile judges the store's results (model.Profile.Check); the zero
	// value is model.Strict. Under model.Observable what it accepts as a
	// difference is listed in Result.Differences, never a violation
	// turned into a pass.
	Profile model.Profile
}

// Verdict is the outcome of a run: package verdict's, whose rule
// (verdict.Judge) decides it from the counted work.
type Verdict = verdict.Verdict

// Verdicts.
const (
	// Pass: every planned case ran and agreed with the model.
	Pass = verdict.Pass
	// Violation: the store did something the model forbids, or failed
	// an operation with nothing injected.
	Violation = verdict.Violation
	// Unknown: a worker gave no answer in time (the operations that hung
	// are in Work.HungOps): the run stopped there.
	Unknown = verdict.Unknown
	// Error: the run could not be made (the store would not open on an
	// empty directory, the configuration was bad, or a worker broke the
	// protocol).
	Error = verdict.Error
)

// Result is what Check found.
type Result struct {
	Verdict Verdict
	// Seed replays this result: Config{Seed: Seed} gives the same cases,
	// and on a violation the first case is the failing one.
	Seed uint64
	// Cases is the number of cases that passed.
	Cases int
	// Steps is the length of the counterexample (0 on a pass).
	Steps int
	// Report is the text a person reads: on a violation, the numbered
	// steps of the shortest failing case, what the store did and what the
	// model expected at the step that failed, and how to replay it.
	Report string
	// Log is everything rapid reported, unedited.
	Log string
	// Err says why the verdict is Error.
	Err error
	// Differences lists what the profile accepted that the strict model
	// does not (observable only), each with how often: the store's
	// differences from the reference, apart from its violations.
	Differences []string
	// Work is what the run did, as verdict.Judge weighed it: cases
	// finished, store operations (shrinking's included), and the
	// operations that failed, hung or broke a worker's protocol.
	Work verdict.Work
}

// Check runs the suite outside `go test` (the command-line tool calls it)
// and returns the verdict instead of failing a test. Like TestStore it
// holds rapid's global settings while it runs; concurrent calls wait.
func Check(open Opener, cfg Config) Result {
	session := defaultSession
	if cfg.NoHandle {
		session = nil
	}
	return check(open, cfg, func(open Opener, dirs *dirPool, tl *tally) func(*rapid.T) {
		return run(open, dirs, session, tl, cfg.Profile, cfg.Without...)
	})
}

// CheckUntouchedSave runs only the property "save never observes its own
// truncation" (the "untouched-save" subtest of TestStore), the way Check
// runs the whole suite. Config.Steps and NoHandle do not apply.
func CheckUntouchedSave(open Opener, cfg Config) Result {
	return check(open, cfg, func(open Opener, dirs *dirPool, _ *tally) func(*rapid.T) {
		return untouched(open, dirs, defaultSession)
	})
}

func check(open Opener, cfg Config, property func(Opener, *dirPool, *tally) func(*rapid.T)) Result {
	if open == nil {
		return Result{Verdict: Error, Err: fmt.Errorf("proptest: no Opener")}
	}
	if cfg.Checks < 0 || cfg.Steps < 0 || cfg.ShrinkTime < 0 {
		return Result{Verdict: Error, Err: fmt.Errorf("proptest: negative Checks (%d), Steps (%d) or ShrinkTime (%v)", cfg.Checks, cfg.Steps, cfg.ShrinkTime)}
	}
	ensureTestingInit()
	if cfg.Checks == 0 {
		cfg.Checks = DefaultChecks
	}
	if cfg.Steps == 0 {
		cfg.Steps = 30
	}
	if cfg.ShrinkTime == 0 {
		cfg.ShrinkTime = 30 * time.Second
	}
	if cfg.Seed == 0 {
		cfg.Seed = newSeed()
	}
	root := cfg.Dir
	if root == "" {
		dir, err := os.MkdirTemp("", "proptest-")
		if err != nil {
			return Result{Verdict: Error, Seed: cfg.Seed, Err: fmt.Errorf("proptest: %w", err)}
		}
		defer os.RemoveAll(dir)
		root = dir
	} else if fi, err := os.Stat(root); err != nil || !fi.IsDir() {
		return Result{Verdict: Error, Seed: cfg.Seed, Err: fmt.Errorf("proptest: Config.Dir %q is not a directory", root)}
	}

	settingsMu.Lock()
	defer settingsMu.Unlock()
	var s settings
	defer s.restore()
	for name, v := range map[string]string{
		"checks":     strconv.Itoa(cfg.Checks),
		"steps":      strconv.Itoa(cfg.Steps),
		"seed":       strconv.FormatUint(cfg.Seed, 10),
		"shrinktime": cfg.ShrinkTime.String(),
		"failfile":   "",     // replay nothing from the caller's directory
		"nofailfile": "true", // and write nothing there: Result.Seed replays
	} {
		if err := s.set(name, v); err != nil {
			return Result{Verdict: Error, Seed: cfg.Seed, Err: err}
		}
	}

	tb := &captureTB{name: "proptest"}
	tl := &tally{}
	var cases caseCounter
	tb.run(cases.wrap(tl.property(property(tl.opener(open), &dirPool{root: root}, tl))))
	r := tb.result(cfg.Seed, cases.count())
	r.Work = tl.work(rapidRuns(cfg.Checks))
	found := r.Verdict
	if tl.aborted() {
		// rapid saw the stopped cases pass; they did not.
		found, r.Cases = Pass, tl.cases
	}
	if found == Error {
		return r
	}
	v, why := verdict.Judge(found, r.Work)
	if why != "" {
		r.Report = fmt.Sprintf("proptest: %s: %s\n", v, why)
		if tl.broken != "" {
			r.Report += "the worker, at " + tl.broken + "\n"
		}
		if v == Error {
			r.Err = errors.New(why)
		}
	}
	r.Verdict = v
	if r.Differences = tl.diffs(); len(r.Differences) > 0 {
		r.Report += fmt.Sprintf("differences (%s profile; not violations):\n  %s\n", cfg.Profile, strings.Join(r.Differences, "\n  "))
	}
	if len(r.Work.Unchecked) > 0 {
		r.Report += fmt.Sprintf("not checked: %s (the store does not declare them, so no case ran them)\n", strings.Join(r.Work.Unchecked, ", "))
	}
	return r
}

// caseCounter counts the cases that ran to the end, and agreed with the
// model, before the first that did not. rapid v1.3.0 returns nothing from
// Check and reports its count only in its log text ("[rapid] OK, passed N
// tests"), so the suite counts the runs of its own property instead: every
// run before the first failure is one of rapid's cases (shrinking only
// starts after it), and an action that skips does not end its case.
type caseCounter struct {
	mu     sync.Mutex
	passed int
	failed bool
}

func (c *caseCounter) wrap(prop func(*rapid.T)) func(*rapid.T) {
	return func(t *rapid.T) {
		completed := false
		defer func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if c.failed {
				return
			}
			if completed && !t.Failed() {
				c.passed++
			} else {
				c.failed = true
			}
		}()
		prop(t)
		completed = true
	}
}

func (c *caseCounter) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.passed
}

// rapidRuns is how many cases rapid v1.3.0 runs when asked for checks: a
// fifth of them under -short. rapid has no API that says so, and a plan of
// more cases than it runs would judge every -short run unknown.
func rapidRuns(checks int) int {
	if testing.Short() {
		return checks / 5
	}
	return checks
}

// newSeed returns a random nonzero seed.
func newSeed() uint64 {
	var b [8]byte
	for {
		_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
		if s := binary.LittleEndian.Uint64(b[:]); s != 0 {
			return s
		}
	}
}

// captureTB is the rapid.TB that Check runs rapid under: it keeps what
// rapid reports instead of printing it.
type captureTB struct {
	name string

	mu       sync.Mutex
	failed   bool
	log      []string // every line, in order
	headline string   // the first failure rapid reported
	after    []string // what was logged after it: the replay of the shrunk case
}

// abort unwinds rapid.Check when rapid calls FailNow, Fatal or Skip on the
// TB itself (it does so only after it has finished).
type abort struct{}

func (c *captureTB) run(prop func(*rapid.T)) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(abort); !ok {
				panic(r)
			}
		}
	}()
	rapid.Check(c, prop)
}

func (c *captureTB) add(line string, failure bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.log = append(c.log, line)
	switch {
	case failure && !c.failed:
		c.failed, c.headline = true, line
	case c.failed:
		c.after = append(c.after, line)
	}
	if failure {
		c.failed = true
	}
}

func (c *captureTB) Helper()                        {}
func (c *captureTB) Name() string                   { return c.name }
func (c *captureTB) Logf(format string, a ...any)   { c.add(fmt.Sprintf(format, a...), false) }
func (c *captureTB) Log(a ...any)                   { c.add(strings.TrimSuffix(fmt.Sprintln(a...), "\n"), false) }
func (c *captureTB) Errorf(format string, a ...any) { c.add(fmt.Sprintf(format, a...), true) }
func (c *captureTB) Error(a ...any)                 { c.add(strings.TrimSuffix(fmt.Sprintln(a...), "\n"), true) }
func (c *captureTB) Fatalf(format string, a ...any) { c.Errorf(format, a...); panic(abort{}) }
func (c *captureTB) Fatal(a ...any)                 { c.Error(a...); panic(abort{}) }
func (c *captureTB) Skipf(format string, a ...any)  { c.Logf(format, a...); panic(abort{}) }
func (c *captureTB) Skip(a ...any)                  { c.Log(a...); panic(abort{}) }
func (c *captureTB) SkipNow()                       { panic(abort{}) }
func (c *captureTB) FailNow()                       { c.Fail(); panic(abort{}) }
func (c *captureTB) Fail() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.failed = true
}
func (c *captureTB) Failed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.failed
}

var (
	// seedRe finds the seed of the failing case in rapid's failure
	// message: rapid v1.3.0 has no API that returns it (its per-case seeds
	// are derived from the base seed by an internal rule), and Result.Seed
	// must replay the failing case first.
	seedRe = regexp.MustCompile(`-rapid\.seed=(\d+)`)
	// The suite's own lines, logged through rapid.T: a numbered step, or
	// a detail of one. rapid.TB receives them mixed with rapid's own
	// "[rapid] " lines, and rapid offers no way to tell them apart but
	// their text.
	stepRe   = regexp.MustCompile(`^step (\d+): `)
	detailRe = regexp.MustCompile(`^step \d+ detail: `)
)

// result turns what rapid reported into a Result; cases is the number of
// cases that passed before any failed.
func (c *captureTB) result(seed uint64, cases int) Result {
	c.mu.Lock()
	defer c.mu.Unlock()
	r := Result{Verdict: Pass, Seed: seed, Cases: cases, Log: strings.Join(c.log, "\n")}
	if !c.failed {
		r.Report = fmt.Sprintf("proptest: pass: %d cases agreed with the model (seed %d)\n", r.Cases, seed)
		return r
	}
	r.Verdict = Violation
	if m := seedRe.FindStringSubmatch(c.headline); m != nil {
		r.Seed, _ = strconv.ParseUint(m[1], 10, 64)
	}
	var steps, details []string
	for _, l := range c.after {
		if strings.HasPrefix(l, "[rapid] ") {
			continue // draws: the steps say the same in words
		}
		if detailRe.MatchString(l) {
			// Logged before the failing step's message; read after it.
			details = append(details, "  "+strings.ReplaceAll(l, "\n", "\n  "))
			continue
		}
		if m := stepRe.FindStringSubmatch(l); m != nil {
			n, _ := strconv.Atoi(m[1])
			r.Steps = max(r.Steps, n)
		}
		steps = append(steps, "  "+strings.ReplaceAll(l, "\n", "\n  "))
	}
	var b strings.Builder
	if strings.Contains(c.headline, errSetup.Error()) {
		r.Verdict = Error
		r.Err = fmt.Errorf("%s", firstLine(c.headline))
		fmt.Fprintf(&b, "proptest: error: the suite could not run the store\n")
	} else {
		fmt.Fprintf(&b, "proptest: violation: the store did what the model forbids, after %d passing cases\n", r.Cases)
		fmt.Fprintf(&b, "counterexample (%s; keys s1, s2, ... are the sessions in the order the store issued them, times are from t = %s):\n",
			plural(r.Steps, "step"), epoch.Format(time.RFC3339Nano))
	}
	b.WriteString(strings.Join(append(steps, details...), "\n"))
	fmt.Fprintf(&b, "\nreplay: proptest.Config{Seed: %d} (or RAPID_SEED=%d under go test)\n", r.Seed, r.Seed)
	fmt.Fprintf(&b, "rapid: %s\n", firstLine(c.headline))
	r.Report = b.String()
	return r
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

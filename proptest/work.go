package proptest

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync"
	"time"

	"pgregory.net/rapid"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/verdict"
	"github.com/sessioncheck/sessioncheck/worker"
)

// tally counts the work of one run of the suite: the cases that ran to
// their end, the store operations, the operations that failed, and the
// operations a worker gave no answer to (hung) or answered with something
// that is not a response (a worker error).
//
// A worker that hangs or breaks the protocol is not a counterexample of
// the model: its operation's outcome is unknown, and every further one
// would cost another timeout. The first such operation ends the run: the
// case it happened in stops where it is, every later case returns at once,
// and verdict.Judge turns the count into unknown or error, never a pass.
type tally struct {
	mu           sync.Mutex
	cases        int
	ops          int
	failed       int
	hung         int
	workerErrors int
	hungOps      []string
	broken       string // the first transport failure, for the report
	// unchecked holds the operations left out because the store does
	// not declare them (model.Declarer).
	unchecked map[string]bool
	// differences counts the differences the profile accepted, by kind
	// (model.Profile.Check): listed apart from violations.
	differences map[string]int
}

// differ counts one difference the profile accepted.
func (tl *tally) differ(what string) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.differences == nil {
		tl.differences = make(map[string]int)
	}
	tl.differences[what]++
}

// diffs lists the differences accepted, each with its count, sorted.
func (tl *tally) diffs() []string {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	var out []string
	for _, k := range slices.Sorted(maps.Keys(tl.differences)) {
		out = append(out, fmt.Sprintf("%s (%d×)", k, tl.differences[k]))
	}
	return out
}

// leftOut records that kind was not run because the store does not
// declare it.
func (tl *tally) leftOut(kind string) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	if tl.unchecked == nil {
		tl.unchecked = make(map[string]bool)
	}
	tl.unchecked[kind] = true
}

// abortCase unwinds a case after a transport failure. It passes through
// the suite's own panic guard (catch) and is recovered by property.
type abortCase struct{}

func (tl *tally) aborted() bool {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return tl.broken != ""
}

// property wraps a property so that a case ended by a transport failure
// returns quietly, later cases do nothing, and finished cases are counted.
func (tl *tally) property(prop func(*rapid.T)) func(*rapid.T) {
	return func(t *rapid.T) {
		if tl.aborted() {
			return
		}
		defer func() {
			// Only a case that broke the worker recovers: any other
			// panic (rapid's own failures) must reach rapid untouched.
			if !tl.aborted() {
				return
			}
			if r := recover(); r != nil {
				if _, ok := r.(abortCase); !ok {
					panic(r)
				}
			}
		}()
		prop(t)
		tl.mu.Lock()
		tl.cases++
		tl.mu.Unlock()
	}
}

// opener wraps open so that every store it opens is counted.
func (tl *tally) opener(open Opener) Opener {
	return func(dir string, clock model.Clock) (model.Store, error) {
		st, err := open(dir, clock)
		tl.saw("open", "", err)
		if err != nil {
			return nil, err
		}
		return &counted{Store: st, tl: tl}, nil
	}
}

// saw counts one operation's outcome; a transport failure ends the run.
func (tl *tally) saw(op, key string, err error) {
	tl.mu.Lock()
	if op != "open" {
		tl.ops++
	}
	transport := errors.Is(err, worker.ErrUnknownOutcome)
	switch {
	case transport && errors.Is(err, worker.ErrHung):
		tl.hung++
		what := op
		if key != "" {
			what += "(" + shorten(key) + ")"
		}
		tl.hungOps = append(tl.hungOps, what)
	case transport:
		tl.workerErrors++
	case err != nil && op != "open" && model.OutcomeOf(err) == model.Failed:
		tl.failed++
	}
	if transport && tl.broken == "" {
		tl.broken = fmt.Sprintf("%s: %v", op, err)
	}
	tl.mu.Unlock()
	if transport {
		panic(abortCase{})
	}
}

func shorten(key string) string {
	if len(key) > 40 {
		return key[:40] + "..."
	}
	return key
}

// work is the tally as a verdict.Work.
func (tl *tally) work(planned int) verdict.Work {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	return verdict.Work{
		Unit: "cases", Planned: planned, Units: tl.cases, Operations: tl.ops,
		Failed: tl.failed, Unknown: tl.hung + tl.workerErrors, Hung: tl.hung, HungOps: append([]string(nil), tl.hungOps...),
		WorkerErrors: tl.workerErrors, Unchecked: slices.Sorted(maps.Keys(tl.unchecked)),
	}
}

// counted is a store whose every operation the tally counts.
type counted struct {
	model.Store
	tl *tally
}

func (c *counted) Close() error {
	if cl, ok := c.Store.(io.Closer); ok {
		return cl.Close()
	}
	return nil
}

// Supports passes on what the store declares (model.Declarer).
func (c *counted) Supports(kind model.Kind) bool { return model.Supports(c.Store, kind) }

// Declare passes on the store's declarations (model.ProfileDeclarer).
func (c *counted) Declare(p model.Profile) model.Profile { return p.For(c.Store) }

func (c *counted) Create(v model.Values, exp time.Time) (string, error) {
	k, err := c.Store.Create(v, exp)
	c.tl.saw("create", "", err)
	return k, err
}

func (c *counted) Load(key string) (model.Record, error) {
	r, err := c.Store.Load(key)
	c.tl.saw("load", key, err)
	return r, err
}

func (c *counted) Save(key string, v model.Values, exp time.Time) error {
	err := c.Store.Save(key, v, exp)
	c.tl.saw("save", key, err)
	return err
}

func (c *counted) Touch(key string, exp time.Time) error {
	err := c.Store.Touch(key, exp)
	c.tl.saw("touch", key, err)
	return err
}

func (c *counted) Delete(key string) error {
	err := c.Store.Delete(key)
	c.tl.saw("delete", key, err)
	return err
}

func (c *counted) Exists(key string) (bool, error) {
	ok, err := c.Store.Exists(key)
	c.tl.saw("exists", key, err)
	return ok, err
}

func (c *counted) Cycle(key string) (string, error) {
	k, err := c.Store.Cycle(key)
	c.tl.saw("cycle", key, err)
	return k, err
}

func (c *counted) ClearExpired() ([]string, error) {
	r, err := c.Store.ClearExpired()
	c.tl.saw("clear-expired", "", err)
	return r, err
}

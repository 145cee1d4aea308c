package proptest_test

import (
	"errors"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"

	"github.com/sessioncheck/sessioncheck/proptest"
)

// TestFakePasses shows the suite passes a store that is the model.
func TestFakePasses(t *testing.T) {
	proptest.TestStore(t, fakeOpener(""))
}

// TestBrokenFakesCaught shows the suite fails on bugs that are not
// variants of the reference: a save that resurrects a deleted session, a
// store that forgets everything on restart, a store that panics on an
// invalid key.
func TestBrokenFakesCaught(t *testing.T) {
	for _, fault := range []string{"resurrect", "forget-on-reopen", "panic"} {
		t.Run(fault, func(t *testing.T) {
			r := proptest.Check(fakeOpener(fault), proptest.Config{Seed: 1, Checks: 200, Dir: fastDir(t)})
			if r.Verdict != proptest.Violation {
				t.Fatalf("verdict %s, want violation:\n%s", r.Verdict, r.Report)
			}
			t.Log(r.Report)
			requireReadableReport(t, r)
		})
	}
}

var stepLine = regexp.MustCompile(`(?m)^  step (\d+): `)

func requireReadableReport(t *testing.T, r proptest.Result) {
	t.Helper()
	if r.Steps == 0 {
		t.Fatalf("no steps counted in the report:\n%s", r.Report)
	}
	for _, want := range []string{"counterexample (", "step 1: ", "store did:", "model expected:", "replay: proptest.Config{Seed: "} {
		if !strings.Contains(r.Report, want) {
			t.Fatalf("report lacks %q:\n%s", want, r.Report)
		}
	}
	if strings.Contains(r.Report, "flaky") {
		t.Fatalf("rapid could not reproduce the failure:\n%s", r.Report)
	}
	if got := len(stepLine.FindAllString(r.Report, -1)); got < r.Steps {
		t.Fatalf("report shows %d step lines for %d steps:\n%s", got, r.Steps, r.Report)
	}
}

// countingStore counts the operations that reach a store.
type countingStore struct {
	model.Store
	ops *atomic.Int64
}

func (c countingStore) Load(key string) (model.Record, error) {
	c.ops.Add(1)
	return c.Store.Load(key)
}

func (c countingStore) Create(values model.Values, expiry time.Time) (string, error) {
	c.ops.Add(1)
	return c.Store.Create(values, expiry)
}

// TestCheckRunsWhatItSays shows Check runs the cases it reports, each with
// operations that reach the store, and that a seed replays a run exactly.
func TestCheckRunsWhatItSays(t *testing.T) {
	var ops atomic.Int64
	var opens atomic.Int64
	inner := fakeOpener("")
	open := func(dir string, clock model.Clock) (model.Store, error) {
		opens.Add(1)
		st, err := inner(dir, clock)
		return countingStore{Store: st, ops: &ops}, err
	}
	r := proptest.Check(open, proptest.Config{Seed: 42, Checks: 300})
	if r.Verdict != proptest.Pass || r.Cases != 300 || r.Seed != 42 {
		t.Fatalf("got %s after %d cases with seed %d, want pass after 300 with seed 42:\n%s", r.Verdict, r.Cases, r.Seed, r.Report)
	}
	if opens.Load() < 300 || ops.Load() < 300 {
		t.Fatalf("300 cases opened the store %d times and made %d loads and creates", opens.Load(), ops.Load())
	}
	first := ops.Load()
	ops.Store(0)
	proptest.Check(open, proptest.Config{Seed: 42, Checks: 300})
	if ops.Load() != first {
		t.Fatalf("seed 42 made %d loads and creates, then %d", first, ops.Load())
	}
	t.Logf("300 cases: %d opens, %d loads and creates", opens.Load()/2, first)
}

// TestCheckRefusesBadConfig shows bad input is an Error verdict that says
// what was wrong, not a panic or a pass.
func TestCheckRefusesBadConfig(t *testing.T) {
	for name, tc := range map[string]struct {
		open proptest.Opener
		cfg  proptest.Config
		want string
	}{
		"nil opener":       {nil, proptest.Config{}, "no Opener"},
		"negative":         {fakeOpener(""), proptest.Config{Checks: -1}, "negative"},
		"missing dir":      {fakeOpener(""), proptest.Config{Dir: "/nonexistent/proptest"}, "not a directory"},
		"store won't open": {func(string, model.Clock) (model.Store, error) { return nil, errors.New("no disk") }, proptest.Config{Checks: 5}, "setup error"},
	} {
		t.Run(name, func(t *testing.T) {
			r := proptest.Check(tc.open, tc.cfg)
			if r.Verdict != proptest.Error || r.Err == nil || !strings.Contains(r.Err.Error(), tc.want) {
				t.Fatalf("got %s, err %v; want error mentioning %q\n%s", r.Verdict, r.Err, tc.want, r.Report)
			}
		})
	}
}

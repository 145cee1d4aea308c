package explore

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/stretchr/testify/require"
)

func opener(t testing.TB, name string) Opener {
	t.Helper()
	st, ok := variants.Lookup(name)
	require.True(t, ok, "no store %q in the catalogue", name)
	return ImplOpener(st.Open)
}

// mustViolate lists the stores the catalogue says explore must catch.
func mustViolate(t testing.TB) []string {
	var names []string
	for _, st := range variants.All() {
		if st.Expectation("explore") == variants.Violation {
			names = append(names, st.Name)
		}
	}
	require.True(t, len(names) >= 6, "the catalogue lists only %v for explore", names)
	return names
}

// Two explorations print the same minimal counterexample, byte for byte,
// and replaying its schedule string reproduces it byte for byte.
func TestSameMinimalScheduleAndReplay(t *testing.T) {
	for _, name := range mustViolate(t) {
		t.Run(name, func(t *testing.T) {
			open := opener(t, name)
			first := Check(open, Config{})
			second := Check(open, Config{})
			require.Equal(t, Violation, first.Verdict, first.Detail)
			require.Equal(t, first.Detail, second.Detail)
			x := first.Counterexample
			require.True(t, x.Schedule != "" || x.Preemptions == 0)
			again, err := Replay(open, x.Scenario, x.Schedule, Config{})
			require.NoError(t, err)
			require.Equal(t, x.String(), again.String())
			require.Error(t, again.Problem)
			t.Logf("%s: scenario %s, schedule %q, %d preemptions: %s", name, x.Scenario.Name, x.Schedule, x.Preemptions, firstLine(x.Problem.Error()))
		})
	}
}

// The violation found first has the fewest preemptions: no schedule with
// fewer preemptions shows a violation in that scenario.
func TestMinimalPreemptions(t *testing.T) {
	for _, name := range mustViolate(t) {
		open := opener(t, name)
		res := Check(open, Config{})
		require.Equal(t, Violation, res.Verdict)
		x := res.Counterexample
		if x.Preemptions == 0 {
			continue
		}
		fewer := x.Preemptions - 1
		if fewer == 0 {
			fewer = -1 // none at all (0 would mean no bound)
		}
		below := Check(open, Config{Scenarios: []Scenario{x.Scenario}, Preemptions: fewer})
		require.Nil(t, below.Counterexample, "%s: a violation with fewer than %d preemptions:\n%s", name, x.Preemptions, below.Detail)
		if below.Verdict != Pass {
			// With no preemption allowed, a client that ran the
			// prefix runs its step to the end before the other: one
			// schedule, no exploration of anything concurrent, and
			// the verdict says so.
			require.Negative(t, fewer, below.Detail)
			require.Equal(t, Error, below.Verdict, below.Detail)
			require.Contains(t, below.Detail, "no scenario had more than one interleaving")
		}
	}
}

func TestTruncateThenLoadIsTheTraceSignature(t *testing.T) {
	res := Check(opener(t, "truncate-then-load"), Config{})
	require.Equal(t, Violation, res.Verdict)
	var te *TraceError
	require.ErrorAs(t, res.Counterexample.Problem, &te)
	require.Contains(t, res.Detail, "#6984")
}

// An empty schedule does not fit a scenario with choice points: the replay
// says so rather than guessing.
func TestReplayEmptyScheduleIsTooShort(t *testing.T) {
	sc, err := ScenarioNamed("touch-load")
	require.NoError(t, err)
	x, err := Replay(opener(t, "reference"), sc, "", Config{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "too short")
	require.True(t, x != nil)
}

func TestReplayRejectsBadSchedules(t *testing.T) {
	open := opener(t, "reference")
	sc, err := ScenarioNamed("save-load")
	require.NoError(t, err)
	_, err = Replay(open, sc, "0x1", Config{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "want a client digit")
	_, err = Replay(open, sc, "7", Config{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "cannot run there")
	_, err = Replay(open, sc, strings.Repeat("0", 200), Config{})
	require.Error(t, err)
	require.Contains(t, err.Error(), "longer than the run")
	_, err = ScenarioNamed("no-such")
	require.Error(t, err)
	require.Contains(t, err.Error(), "save-load")
}

func TestBadScenarioIsAnError(t *testing.T) {
	bad := Scenario{Name: "bad", Clients: [][]Step{{{Kind: model.OpLoad, Key: 3}}}}
	res := Check(opener(t, "reference"), Config{Scenarios: []Scenario{bad}})
	require.Equal(t, Error, res.Verdict)
	require.Contains(t, res.Detail, "names K3 but the prefix creates 0 keys")
	res = Check(opener(t, "reference"), Config{Scenarios: []Scenario{{Name: "empty"}}})
	require.Equal(t, Error, res.Verdict)
	require.Contains(t, res.Detail, "no concurrent clients")
}

func TestOpenFailureIsAnError(t *testing.T) {
	open := func(Env) (model.Store, error) { return nil, errors.New("no such backend") }
	res := Check(open, Config{})
	require.Equal(t, Error, res.Verdict)
	require.Contains(t, res.Detail, "no such backend")
}

// A store that panics is a finding, not a crash of the checker.
func TestPanickingStoreIsAViolation(t *testing.T) {
	open := toyOpener(nil)
	panicky := func(env Env) (model.Store, error) {
		st, err := open(env)
		return panicStore{st}, err
	}
	res := Check(panicky, Config{})
	require.Equal(t, Violation, res.Verdict)
	require.Contains(t, res.Detail, "panic: boom")
}

type panicStore struct{ model.Store }

func (panicStore) Save(string, model.Values, time.Time) error { panic("boom") }

// A client that blocks outside the seam is reported, not waited for.
func TestStallIsReported(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	open := toyOpener(nil)
	stuck := func(env Env) (model.Store, error) {
		st, err := open(env)
		return blockStore{st, release}, err
	}
	res := Check(stuck, Config{Stall: 100 * time.Millisecond})
	require.Equal(t, Violation, res.Verdict)
	var se *StallError
	require.ErrorAs(t, res.Counterexample.Problem, &se)
}

type blockStore struct {
	model.Store
	release chan struct{}
}

func (b blockStore) Save(k string, v model.Values, e time.Time) error {
	<-b.release
	return b.Store.Save(k, v, e)
}

// The scheduler works over the real file system too (flock on real lock
// files, real renames), not only over memfs.
func TestOSWorld(t *testing.T) {
	sc, err := ScenarioNamed("save-load")
	require.NoError(t, err)
	cfg := Config{Scenarios: []Scenario{sc}, Worlds: OSWorlds(t.TempDir())}
	res := Check(opener(t, "reference"), cfg)
	require.Equal(t, Pass, res.Verdict, res.Detail)
	require.True(t, res.Complete)
	res = Check(opener(t, "write-in-place"), cfg)
	require.Equal(t, Violation, res.Verdict, res.Detail)
}

// The budget bounds the work and says so.
func TestBudget(t *testing.T) {
	res := Check(opener(t, "reference"), Config{Budget: 5})
	require.Equal(t, Pass, res.Verdict)
	require.True(t, !res.Complete)
	require.Contains(t, res.Detail, "bounded exploration")
	require.Contains(t, res.Detail, "cut short by the budget")
}

func TestKeyAt(t *testing.T) {
	for _, n := range []int{0, 1, 35, 36, 1 << 20} {
		k := KeyAt(n)
		require.NoError(t, model.ValidateKey(k))
		got, err := model.NewKey(&keyRand{next: n})
		require.NoError(t, err)
		require.Equal(t, k, got)
	}
}

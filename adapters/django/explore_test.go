package django

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/explore"
	"github.com/sessioncheck/sessioncheck/model"
)

// Django's file backend under explore, through the scheduling hook: every
// os/shutil/tempfile call Django's file backend makes is announced by
// worker.py and is a scheduling point of explore's scheduler, and each
// client is its own Python process. The search, the history check, the
// trace property and the schedule strings are explore's own; see
// explore.CheckWorker.

// TestDjangoW1ThroughExplore: explore over Django as shipped finds W1
// (Django ticket #37249): a save racing a logout brings the deleted
// session back. The first violation of the exhaustive search is W1 in
// scenario save-delete with one preemption; two explorations print it byte
// for byte the same, and its schedule string replays it in new processes.
func TestDjangoW1ThroughExplore(t *testing.T) {
	argv := workerArgv(t, "shipped")
	first := explore.CheckWorker(argv, explore.Config{})
	require.Equal(t, explore.Violation, first.Verdict, first.Detail)
	x := first.Counterexample
	t.Logf("explore over Django as shipped, %.1fs, %d schedules:\n%s", first.Seconds, first.Schedules, x)

	require.Equal(t, "save-delete", x.Scenario.Name)
	require.Equal(t, 1, x.Preemptions, "W1 needs exactly one preemption")
	var he *explore.HistoryError
	require.ErrorAs(t, x.Problem, &he)
	// The shape of W1: save ok, delete ok, and another process then loads
	// the save's values under the deleted key.
	save, del, load := x.History[1], x.History[2], x.History[len(x.History)-1]
	require.Equal(t, model.OpSave, save.Op.Kind)
	require.Equal(t, model.OK, save.Result.Outcome)
	require.Equal(t, model.OpDelete, del.Op.Kind)
	require.Equal(t, model.OK, del.Result.Outcome)
	require.Equal(t, model.OpLoad, load.Op.Kind)
	require.Equal(t, model.OK, load.Result.Outcome, "the deleted session is back")
	require.Equal(t, save.Op.Values, load.Result.Record.Values, "holding the save's data")
	// And in the trace: the delete's unlink falls between the save's
	// existence probe and its rename over the name.
	probe, unlink, rename := -1, -1, -1
	for _, e := range x.Trace {
		switch {
		case e.Op == 1 && e.Call == explore.CallOpen && probe < 0: // the save's first call
			probe = e.Step
		case e.Op == 2 && e.Call == explore.CallRemove:
			unlink = e.Step
		case e.Op == 1 && e.Call == explore.CallRename:
			rename = e.Step
		}
	}
	require.True(t, probe > 0 && probe < unlink && unlink < rename, "probe %d, unlink %d, rename %d", probe, unlink, rename)

	second := explore.CheckWorker(argv, explore.Config{})
	require.Equal(t, first.Detail, second.Detail, "two explorations print the same")

	again, err := explore.ReplayWorker(argv, x.Scenario, x.Schedule, explore.Config{})
	require.NoError(t, err)
	require.Equal(t, x.String(), again.String(), "the schedule string replays it byte for byte")
	writeArtifact(t, "w1-schedule.txt", x.String()+"\n")
}

// TestDjango2007ThroughExplore: the pre-#6984 order is caught by explore
// too. The announcements carry open's flags, so the trace property sees
// it directly: an untouched save (touch) opens the session file with
// O_TRUNC and then reads that same file to load the session it is about
// to write — with no concurrency at all (0 preemptions).
func TestDjango2007ThroughExplore(t *testing.T) {
	argv := workerArgv(t, "2007")
	res := explore.CheckWorker(argv, explore.Config{})
	require.Equal(t, explore.Violation, res.Verdict, res.Detail)
	t.Logf("explore over Django's 2007 order: scenario %s, schedule %q: %s", res.Counterexample.Scenario.Name, res.Counterexample.Schedule, res.Counterexample.Problem)

	sc, err := explore.ScenarioNamed("touch-load")
	require.NoError(t, err)
	res = explore.CheckWorker(argv, explore.Config{Scenarios: []explore.Scenario{sc}})
	require.Equal(t, explore.Violation, res.Verdict, res.Detail)
	x := res.Counterexample
	t.Logf("%s", x)
	var te *explore.TraceError
	require.ErrorAs(t, x.Problem, &te, "the #6984 signature")
	require.Equal(t, 0, x.Preemptions)
	require.Contains(t, te.Op, "touch(")
}

// TestDjangoExploreScenarios explores every built-in scenario on Django as
// shipped, one at a time on one set of processes, and reports each verdict
// (FINDINGS.md has the table). Those that FINDINGS.md reports as bugs must
// be found; none may fail to run.
func TestDjangoExploreScenarios(t *testing.T) {
	argv := workerArgv(t, "shipped")
	w, err := explore.StartWorkers(argv, 4)
	require.NoError(t, err)
	defer func() { require.NoError(t, w.Close()) }()
	mustFind := map[string]string{
		"save-delete":      "W1: a save resurrects a concurrently deleted session",
		"touch-delete":     "W1 through an untouched save",
		"save-delete-load": "W1 with a third reader",
		"save-sweep":       "W1 through clear_expired: a save resurrects the session the sweep removed",
		"touch-sweep":      "the same through an untouched save",
		"cycle-save":       "W9: cycle_key racing a save loses the save",
	}
	for _, sc := range explore.Scenarios() {
		res := explore.Check(w.Opener(), explore.WorkerConfig(explore.Config{Scenarios: []explore.Scenario{sc}}))
		line := res.Scenarios[0]
		if res.Verdict == explore.Violation {
			x := res.Counterexample
			line += ": " + res.Verdict + ", schedule " + x.Schedule + ": " + firstLine(x.Problem.Error())
			writeArtifact(t, "explore-"+sc.Name+".txt", x.String()+"\n")
		} else {
			line += ": " + res.Verdict
		}
		t.Log(line)
		require.NotEqual(t, explore.Error, res.Verdict, res.Detail)
		if why, ok := mustFind[sc.Name]; ok {
			require.Equal(t, explore.Violation, res.Verdict, "%s: %s", sc.Name, why)
		}
	}
}

// TestDjangoW2ThroughExplore replays W2 (clear_expired deleting a session
// saved after it looked) through explore: the sweep (c1, whose clock is 20 s
// later, so the session has expired for it) lists the directory, reads the
// session and decides it is expired; the save (c0, for which the session
// is live) then runs to completion; then the sweep unlinks by name. Two
// preemptions, so explore's search reports the one-preemption resurrection
// in the same scenario first (TestDjangoExploreScenarios); this is that
// scenario under the W2 schedule, checked by explore.
func TestDjangoW2ThroughExplore(t *testing.T) {
	argv := workerArgv(t, "shipped")
	sc, err := explore.ScenarioNamed("save-sweep")
	require.NoError(t, err)
	// c1 listdir, open, read (three picks of c1), then c0's open probe,
	// mkstemp, write and rename (four picks of c0); c1's unlink is then the
	// only move left.
	const w2 = "1110000"
	x, err := explore.ReplayWorker(argv, sc, w2, explore.Config{})
	require.NoError(t, err)
	t.Logf("%s", x)
	require.Equal(t, 2, x.Preemptions)
	var he *explore.HistoryError
	require.ErrorAs(t, x.Problem, &he, "the fresh save is lost: not linearizable")
	save, sweep, load := x.History[1], x.History[2], x.History[3]
	require.Equal(t, model.OK, save.Result.Outcome, "the save answered ok")
	require.Equal(t, []string{save.Op.Key}, sweep.Result.Removed, "the sweep removed the session it had read")
	require.True(t, errors.Is(load.Err, model.ErrNotFound), "and the save's data is gone: %v", load.Err)
	writeArtifact(t, "w2-schedule.txt", x.String()+"\n")
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

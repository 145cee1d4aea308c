package explore

import (
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/model"
)

// These tests drive the Go hook worker of hookworker_test.go: the test
// binary re-executed as a worker process, serving a built-in store with
// every file-system call announced. Each client is its own process.

// workerBudget bounds the reference's exploration over a worker in the
// default run to 150 schedules per scenario: a step there is a pipe round
// trip, and the complete exploration (some 3,000 schedules) takes 10 s or
// more, several times that under the race detector. EXPLORE_WORKER_FULL=1
// explores everything, as the in-process exploration does by default.
func workerBudget() int {
	if os.Getenv("EXPLORE_WORKER_FULL") != "" {
		return DefaultBudget
	}
	return 150
}

// The reference served by a worker passes: no schedule of any scenario
// breaks the model or the trace property, every operation announced its
// calls, and every scenario had more than one schedule.
func TestWorkerReferencePasses(t *testing.T) {
	res := CheckWorker(hookWorkerArgv("reference"), Config{Budget: workerBudget()})
	t.Logf("%s in %.1fs, %d schedules, %d runs\n%s", res.Verdict, res.Seconds, res.Schedules, res.Runs, res.Detail)
	require.Equal(t, Pass, res.Verdict, res.Detail)
	require.Greater(t, res.Schedules, 200)
	require.Len(t, res.Scenarios, len(Scenarios()), "every scenario runs: the Go worker declares every op")
	requireCounted(t, res, len(Scenarios()))
	for _, c := range res.PerOp {
		t.Logf("  %s: %d operations, %d announced calls, %d-%d each", c.Kind, c.Operations, c.Points, c.Min, c.Max)
	}
	if workerBudget() == DefaultBudget {
		require.True(t, res.Complete)
	}
}

// workerMustViolate is what explore must catch through a worker: every
// variant the catalogue says explore catches, but create-without-excl.
// Through a worker every operation gets a fresh key of its own (a worker
// draws keys from its pool at random, so a pool of two would make the runs
// differ), so two creates never collide and the create race cannot be
// reached; in-process exploration catches it.
func workerMustViolate(t *testing.T) []string {
	return slices.DeleteFunc(mustViolate(t), func(s string) bool { return s == "create-without-excl" })
}

// Each is caught through the worker in the scenario in which the
// in-process exploration catches it (only that scenario is explored, to
// keep the race-detector run short: the worker processes are the
// instrumented test binary), with as few preemptions.
func TestWorkerCatchesVariants(t *testing.T) {
	for _, name := range workerMustViolate(t) {
		t.Run(name, func(t *testing.T) {
			in := Check(opener(t, name), Config{})
			require.Equal(t, Violation, in.Verdict)
			sc := in.Counterexample.Scenario
			res := CheckWorker(hookWorkerArgv(name), Config{Scenarios: []Scenario{sc}})
			require.Equal(t, Violation, res.Verdict, res.Detail)
			x := res.Counterexample
			t.Logf("%s: scenario %s, schedule %q, %d preemptions, %.1fs: %s", name, x.Scenario.Name, x.Schedule, x.Preemptions, res.Seconds, firstLine(x.Problem.Error()))
			require.LessOrEqual(t, x.Preemptions, in.Counterexample.Preemptions)
			if name == "truncate-then-load" {
				var te *TraceError
				require.ErrorAs(t, x.Problem, &te, "the #6984 trace property, from the announced calls")
			}
		})
	}
}

// Two explorations of a worker print the same counterexample byte for
// byte, and its schedule string replays it byte for byte in new processes.
// (Django's worker shows the same over every scenario, in
// adapters/django.)
func TestWorkerSameScheduleAndReplay(t *testing.T) {
	argv := hookWorkerArgv("check-then-rename")
	sc, err := ScenarioNamed("save-delete")
	require.NoError(t, err)
	cfg := Config{Scenarios: []Scenario{sc}}
	first := CheckWorker(argv, cfg)
	second := CheckWorker(argv, cfg)
	require.Equal(t, Violation, first.Verdict, first.Detail)
	require.Equal(t, first.Detail, second.Detail)
	x := first.Counterexample
	require.Equal(t, 1, x.Preemptions)
	again, err := ReplayWorker(argv, x.Scenario, x.Schedule, Config{})
	require.NoError(t, err)
	require.Equal(t, x.String(), again.String())
	require.Error(t, again.Problem)

	// The same schedule on the reference is a pass.
	ref, err := ReplayWorker(hookWorkerArgv("reference"), x.Scenario, x.Schedule, Config{})
	if err == nil {
		require.NoError(t, ref.Problem)
	} else {
		// The reference makes other calls, so the schedule may not fit.
		require.Contains(t, err.Error(), "schedule")
	}
}

// The workers are reused across the runs and across Check and Replay.
func TestWorkersReusedAcrossCheckAndReplay(t *testing.T) {
	w, err := StartWorkers(hookWorkerArgv("write-in-place"), 3)
	require.NoError(t, err)
	defer func() { require.NoError(t, w.Close()) }()
	require.Equal(t, "go-hook/write-in-place", w.Name())
	sc, err := ScenarioNamed("save-load")
	require.NoError(t, err)
	require.NoError(t, w.Supports(sc))
	pids := w.pids()
	res := Check(w.Opener(), WorkerConfig(Config{Scenarios: []Scenario{sc}}))
	require.Equal(t, Violation, res.Verdict, res.Detail)
	x := res.Counterexample
	again, err := Replay(w.Opener(), sc, x.Schedule, WorkerConfig(Config{}))
	require.NoError(t, err)
	require.Equal(t, x.String(), again.String())
	require.Equal(t, pids, w.pids(), "no worker was restarted")
}

func (w *Workers) pids() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []int
	for _, p := range w.procs {
		out = append(out, p.c.Pid())
	}
	return out
}

// A worker that blocks in the OS on a lock it did not announce cannot be
// scheduled around: the driver waits for an announcement that does not
// come, and reports the stall instead of hanging.
func TestWorkerBlockedInTheOSIsAStall(t *testing.T) {
	sc, err := ScenarioNamed("save-save")
	require.NoError(t, err)
	start := time.Now()
	res := CheckWorker(hookWorkerArgv("reference,hide-locks"), Config{Scenarios: []Scenario{sc}, Stall: 500 * time.Millisecond})
	require.Equal(t, Violation, res.Verdict, res.Detail)
	var se *StallError
	require.ErrorAs(t, res.Counterexample.Problem, &se)
	require.Equal(t, 1, se.Client, "c1 blocks in flock while c0, holding the lock, waits for its go-ahead")
	require.Contains(t, res.Detail, "announce every call that can block")
	t.Logf("reported in %v:\n%s", time.Since(start).Round(time.Millisecond), res.Detail)
}

// Announced locks are scheduled: a client waiting for a lock another holds
// is not run, so the same store with its locks announced passes.
func TestWorkerAnnouncedLocksAreScheduled(t *testing.T) {
	sc, err := ScenarioNamed("save-save")
	require.NoError(t, err)
	res := CheckWorker(hookWorkerArgv("reference"), Config{Scenarios: []Scenario{sc}})
	require.Equal(t, Pass, res.Verdict, res.Detail)
	require.True(t, res.Complete)
	require.Equal(t, 2, res.Schedules, "the lock leaves two orders of the two saves")
}

// A worker that does not speak the hook, or cannot be started, is an
// error naming the reason, not a verdict about a store.
func TestWorkerBadUse(t *testing.T) {
	for _, c := range []struct {
		name string
		argv []string
		want string
	}{
		{"no hook", hookWorkerArgv("reference,v1"), `does not declare the "schedule" feature`},
		{"no such command", []string{"/nonexistent/worker"}, "/nonexistent/worker"},
		{"empty command", nil, "empty worker command"},
		{"exits at once", []string{"/bin/false"}, "hello"},
		{"unknown store", hookWorkerArgv("no-such-store"), "unknown store"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := CheckWorker(c.argv, Config{})
			require.Equal(t, Error, res.Verdict, res.Detail)
			require.Contains(t, res.Detail, c.want)
		})
	}
	t.Run("in-memory world", func(t *testing.T) {
		w, err := StartWorkers(hookWorkerArgv("reference"), 3)
		require.NoError(t, err)
		defer w.Close()
		res := Check(w.Opener(), Config{Scenarios: Scenarios()[:1]})
		require.Equal(t, Error, res.Verdict)
		require.Contains(t, res.Detail, "OSWorlds")
	})
	t.Run("scenario the worker cannot run", func(t *testing.T) {
		w, err := StartWorkers(hookWorkerArgv("reference"), 1)
		require.NoError(t, err)
		defer w.Close()
		w.hello.Ops = []string{"create", "load", "delete"}
		sc, err := ScenarioNamed("save-delete")
		require.NoError(t, err)
		require.ErrorContains(t, w.Supports(sc), "does not declare save")
	})
}

// A worker that breaks the protocol in the middle of a run ends the
// exploration with an error, not with a finding about the store.
func TestWorkerProtocolBreakIsAnError(t *testing.T) {
	w, err := StartWorkers(hookWorkerArgv("reference"), 3)
	require.NoError(t, err)
	defer w.Close()
	// Kill c1's process behind the driver's back after the stores open.
	open := w.Opener()
	killed := false
	res := Check(func(env Env) (st model.Store, err error) {
		st, err = open(env)
		if env.Process == 1 && !killed {
			killed = true
			p, _ := w.proc(1)
			_ = syscall.Kill(p.c.Pid(), syscall.SIGKILL)
			<-p.c.Exited()
		}
		return st, err
	}, WorkerConfig(Config{Scenarios: Scenarios()[:1]}))
	require.Equal(t, Error, res.Verdict, res.Detail)
	require.Contains(t, res.Detail, "exited")
	require.True(t, strings.Contains(res.Detail, "(c1)"), res.Detail)
	require.NotContains(t, res.Detail, "not linearizable")
}

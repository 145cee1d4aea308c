package explore

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// buildSilentHook builds the hostile worker of
// testdata/hostile/silent-hook: a worker that declares the scheduling hook
// and never announces a call.
func buildSilentHook(t *testing.T) string {
	t.Helper()
	gocmd, err := exec.LookPath("go")
	require.NoError(t, err, "building the hostile worker needs the go command")
	bin := filepath.Join(t.TempDir(), "silent-hook")
	cmd := exec.Command(gocmd, "build", "-o", bin, "./testdata/hostile/silent-hook")
	cmd.Dir = ".."
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "go build: %s", out)
	return bin
}

// A worker that declares the hook but announces nothing runs every
// operation in one step: each scenario has one schedule, and check-then-
// rename, which explore catches in process, would pass. That is an error
// that says why, never a pass.
func TestSilentHookWorkerIsAnError(t *testing.T) {
	bin := buildSilentHook(t)
	res := CheckWorker([]string{bin, "check-then-rename"}, Config{})
	t.Logf("%s in %.1fs: %s", res.Verdict, res.Seconds, res.Detail)
	require.Equal(t, Error, res.Verdict, res.Detail)
	require.Contains(t, res.Detail, "worker silent-hook/check-then-rename: explore: ")
	require.Contains(t, res.Detail, "announced no scheduling point")
	require.Contains(t, res.Detail, "operations that reached none: create")
	w := res.Work
	require.Zero(t, w.Announced)
	require.Zero(t, w.Interleaved)
	require.Positive(t, w.Silent)
	require.Equal(t, w.Operations, w.Silent, "every operation was silent")
	require.Equal(t, len(Scenarios()), res.Schedules, "one schedule per scenario")
	for _, c := range res.PerOp {
		require.Equal(t, c.Operations, c.Silent, "%s", c.Kind)
	}
}

// In process the rule is the same: a store that does its file operations
// around the seam (here, on the OS directly) reaches no scheduling point,
// and the exploration is an error, not a pass.
func TestSilentStoreInProcessIsAnError(t *testing.T) {
	ref := opener(t, "reference")
	bypass := func(env Env) (model.Store, error) {
		env.FS = seam.OS
		return ref(env)
	}
	res := Check(bypass, Config{Worlds: OSWorlds(t.TempDir())})
	require.Equal(t, Error, res.Verdict, res.Detail)
	require.Contains(t, res.Detail, "announced no scheduling point")
	require.Zero(t, res.Work.Announced)
	require.Zero(t, res.Work.Interleaved)
	require.Equal(t, res.Work.Operations, res.Work.Silent)

	// The random mode (Property) fails such a run with silentOps: a
	// replay of the one schedule there is finds every operation silent.
	sc, err := ScenarioNamed("save-delete")
	require.NoError(t, err)
	x, err := Replay(bypass, sc, "", Config{Worlds: OSWorlds(t.TempDir())})
	require.NoError(t, err)
	require.NoError(t, x.Problem)
	require.Len(t, silentOps(x.History), len(x.History))
	y, err := Replay(ref, sc, "0", Config{})
	require.NoError(t, err)
	require.Empty(t, silentOps(y.History))
}

// Scheduling points on some operations are not enough: every scenario
// with one schedule only is "nothing concurrent was explored".
func TestNothingInterleavedIsAnError(t *testing.T) {
	sc := Scenario{Name: "alone", Prefix: []Step{create(0)}, Clients: [][]Step{{on(model.OpLoad, 0)}}}
	res := Check(opener(t, "reference"), Config{Scenarios: []Scenario{sc}})
	require.Equal(t, Error, res.Verdict, res.Detail)
	require.Contains(t, res.Detail, "no scenario had more than one interleaving")
	require.Positive(t, res.Work.Announced)
	require.Zero(t, res.Work.Silent)
}

// requireCounted checks the counts of a passing exploration: every kind of
// operation reached a scheduling point every time, and every scenario had
// more than one schedule.
func requireCounted(t *testing.T, res Result, scenarios int) {
	t.Helper()
	w := res.Work
	require.Equal(t, "schedules", w.Unit)
	require.Equal(t, res.Schedules, w.Units)
	require.Equal(t, res.Operations, w.Operations)
	require.Positive(t, w.Announced)
	require.Zero(t, w.Silent)
	require.Equal(t, scenarios, w.Interleaved, "every scenario had more than one schedule")
	total := 0
	for _, c := range res.PerOp {
		require.Positive(t, c.Min, "every %s reached a scheduling point", c.Kind)
		total += c.Points
	}
	require.Equal(t, w.Announced, total)
	require.Contains(t, res.Detail, "scheduling points over")
}

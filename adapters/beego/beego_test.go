package beego

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/linearizability"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
	"github.com/sessioncheck/sessioncheck/worker"
)

// writesMix is what the provider's mutex is about: whole-session writes and
// reads of live sessions, no logouts, logins or expiry.
var writesMix = linearizability.Mix{Create: 2, Load: 6, Save: 6, Exists: 2}

func linConfig(t *testing.T, seed uint64, mix linearizability.Mix, histories int) linearizability.Config {
	return linearizability.Config{
		// Large values make the in-place rewrite (Truncate, then Write)
		// last long enough for another process to read it half done.
		Workload:  linearizability.Workload{Clients: 4, Keys: 2, Operations: 20, Mix: mix, ValueSize: 4000, Seed: seed, PastPercent: -1},
		Histories: histories,
		Budget:    25 * time.Second,
		ReportDir: t.TempDir(),
	}
}

func openStore(cfg worker.Config) (model.Store, error) {
	now := cfg.Now
	return Open(cfg.Dir, func() time.Time { return now })
}

func logResult(t *testing.T, res linearizability.Result) {
	t.Helper()
	t.Logf("%s %s: %s, %d histories, %d operations (%d unknown, %d failed) in %.1fs, seed %d\n%s\nvisualization: %s",
		res.Mode, res.Store, res.Verdict, res.Histories, res.Operations, res.UnknownOps, res.FailedOps, res.Seconds, res.Seed, res.Detail, res.Visualization)
}

// The sequential contract (clear-expired left out): one request at a
// time, beego's provider does what the model says.
func TestBeegoProptest(t *testing.T) {
	open := func(dir string, clock model.Clock) (model.Store, error) { return Open(dir, clock) }
	res := proptest.Check(open, proptest.Config{Seed: 1, Checks: 100, ShrinkTime: 10 * time.Second, Without: []model.Kind{model.OpClearExpired}})
	t.Logf("proptest: %s after %d passing cases\n%s", res.Verdict, res.Cases, res.Report)
	require.Equal(t, proptest.Pass, res.Verdict, "%s\n%v", res.Report, res.Err)
	require.Equal(t, 100, res.Cases)
}

// Across processes the mutex excludes nothing: SessionRead reads a file
// another process's SessionRelease has truncated and not yet rewritten, and
// takes the empty file for an empty session (a live session is not found)
// or fails to decode half of it.
func TestBeegoTornInProcesses(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "beego-worker")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/beego-worker").CombinedOutput()
	require.NoError(t, err, "building the worker: %s", out)
	res, err := linearizability.CheckProcesses([]string{bin}, linConfig(t, 1, writesMix, 40))
	require.NoError(t, err)
	logResult(t, res)
	require.Equal(t, linearizability.Violation, res.Verdict, res.Detail)
	require.FileExists(t, res.Visualization)
	// Without logouts, logins or expiry, a session once created always has
	// a file: only a torn read can make a load miss it.
	require.True(t, strings.Contains(res.Detail, ") → not-found") || strings.Contains(res.Detail, "exists=false") || res.FailedOps > 0,
		"the counterexample must show a torn read (a live session not found, or a failed decode):\n%s", res.Detail)
}

// Even in one process, a request is not atomic: it reads its session, and
// its end writes back what it read. A logout (or login) between the two is
// undone by the write-back, and a concurrent save is lost.
func TestBeegoRequestWriteBackInGoroutines(t *testing.T) {
	mix := linearizability.Mix{Create: 2, Load: 6, Save: 6, Touch: 2, Delete: 2, Exists: 2, Cycle: 1}
	res, err := linearizability.CheckGoroutines(openStore, linConfig(t, 1, mix, 40))
	require.NoError(t, err)
	logResult(t, res)
	require.Equal(t, linearizability.Violation, res.Verdict, res.Detail)
}

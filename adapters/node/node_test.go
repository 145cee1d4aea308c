// Package node holds the checks of express-session 1.19.0 over
// session-file-store 1.5.0, run through the worker in worker.js (see
// README.md). They need Debian's nodejs and the npm packages that
// `npm ci` installs here from package-lock.json; under CI=true a missing
// one is a failure naming it, elsewhere a skip.
package node

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/adapters/adaptertest"

	"github.com/sessioncheck/sessioncheck/linearizability"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workerstore"
)

func argv(t *testing.T) []string {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		adaptertest.Missing(t, "node is not installed: apt-get install -y nodejs npm")
	}
	for _, m := range []string{"express-session", "session-file-store"} {
		if _, err := os.Stat(filepath.Join("node_modules", m, "package.json")); err != nil {
			adaptertest.Missing(t, "npm package "+m+" is not installed: run `npm ci` in adapters/node")
		}
	}
	script, err := filepath.Abs("worker.js")
	require.NoError(t, err)
	return []string{node, script}
}

// The sequential contract with clear-expired left out (the reaper reports
// nothing). express-session's own semantics differ from the model's in
// ways a single request shows: the suite must find one and say which.
func TestNodeFileStoreProptest(t *testing.T) {
	p := workerstore.New(argv(t), worker.Options{Timeout: 20 * time.Second})
	t.Cleanup(func() { p.Close() })
	res := proptest.Check(p.Open, proptest.Config{Seed: 1, Checks: 40, ShrinkTime: 15 * time.Second, Without: []model.Kind{model.OpClearExpired}})
	t.Logf("proptest: %s after %d passing cases\n%s", res.Verdict, res.Cases, res.Report)
	require.NotEqual(t, proptest.Error, res.Verdict, "the suite could not run: %v", res.Err)
	require.Equal(t, proptest.Violation, res.Verdict)
}

// Concurrent requests, one process each: express-session's touch at the
// end of every request that did not change its session is
// session-file-store's get then set, and its regenerate is a destroy then a
// new id; neither holds anything across its steps.
func TestNodeFileStoreLinProcesses(t *testing.T) {
	mix := linearizability.DefaultMix
	mix.ClearExpired = 0
	res, err := linearizability.CheckProcesses(argv(t), linearizability.Config{
		Workload:  linearizability.Workload{Clients: 4, Keys: 2, Operations: 10, Mix: mix, Seed: 1, PastPercent: -1},
		Histories: 10,
		Budget:    40 * time.Second,
		ReportDir: t.TempDir(),
		OpTimeout: 20 * time.Second,
	})
	require.NoError(t, err)
	t.Logf("lin-processes %s: %s, %d histories, %d operations (%d unknown, %d failed) in %.1fs, seed %d\n%s\nvisualization: %s",
		res.Store, res.Verdict, res.Histories, res.Operations, res.UnknownOps, res.FailedOps, res.Seconds, res.Seed, res.Detail, res.Visualization)
	require.Equal(t, linearizability.Violation, res.Verdict, res.Detail)
	require.FileExists(t, res.Visualization)
}

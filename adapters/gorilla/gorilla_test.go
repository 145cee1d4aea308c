package gorilla

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/linearizability"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
)

// writesMix isolates what the mutex protects: whole-record writes and reads
// of live sessions. Delete, Touch, Cycle and expired writes are left out
// because the adapter must build them from a load followed by a save
// (gorilla's Save is an unconditional upsert), a check-then-act window that
// no in-process lock covers (gorilla/sessions #10); fullMix keeps them.
var writesMix = linearizability.Mix{Create: 2, Load: 6, Save: 6, Exists: 2}

// fullMix is the default mix without ClearExpired, which gorilla's
// FilesystemStore does not have.
var fullMix = func() linearizability.Mix {
	m := linearizability.DefaultMix
	m.ClearExpired = 0
	return m
}()

func linConfig(t *testing.T, seed uint64, histories int) linearizability.Config {
	return linearizability.Config{
		// Large values make the in-place rewrite (O_TRUNC, then write)
		// take long enough for another process to read it half-done.
		Workload:  linearizability.Workload{Clients: 4, Keys: 2, Operations: 20, Mix: writesMix, ValueSize: 2000, Seed: seed, PastPercent: -1},
		Histories: histories,
		Budget:    40 * time.Second,
		ReportDir: t.TempDir(),
	}
}

func openStore(cfg worker.Config) (model.Store, error) {
	now := cfg.Now
	return Open(cfg.Dir, cfg.Secret, func() time.Time { return now })
}

// Goroutine clients, each with its own FilesystemStore on one directory:
// gorilla's package-level RWMutex serializes every file operation of the
// process, so no reader sees a half-written file.
func TestGorillaPassesGoroutineMode(t *testing.T) {
	res, err := linearizability.CheckGoroutines(openStore, linConfig(t, 1, 50))
	require.NoError(t, err)
	t.Logf("lin-goroutines: %s, %d histories, %d operations in %.1fs\n%s %s", res.Verdict, res.Histories, res.Operations, res.Seconds, res.Detail, res.Visualization)
	require.Equal(t, linearizability.Pass, res.Verdict, res.Detail)
}

// Process clients, each a gorilla-worker: the mutex excludes nothing across
// processes, and a reader sees the file truncated by another's in-place
// rewrite.
func TestGorillaCaughtInProcessMode(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "gorilla-worker")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/gorilla-worker").CombinedOutput()
	require.NoError(t, err, "building the worker: %s", out)
	res, err := linearizability.CheckProcesses([]string{bin}, linConfig(t, 1, 50))
	require.NoError(t, err)
	t.Logf("lin-processes: %s, %d histories, %d operations in %.1fs\n%s\nvisualization: %s", res.Verdict, res.Histories, res.Operations, res.Seconds, res.Detail, res.Visualization)
	require.Equal(t, linearizability.Violation, res.Verdict, res.Detail)
	require.FileExists(t, res.Visualization)
}

// With deletes, touches and expired writes, goroutine mode catches gorilla
// too: a request that loaded its session saves it after a concurrent
// logout (or a concurrent expiry) and brings it back (gorilla/sessions #10).
func TestGorillaLoadThenSaveCaughtInGoroutineMode(t *testing.T) {
	cfg := linConfig(t, 1, 50)
	cfg.Mix, cfg.PastPercent = fullMix, 0
	res, err := linearizability.CheckGoroutines(openStore, cfg)
	require.NoError(t, err)
	t.Logf("lin-goroutines (full mix): %s, %d histories, %d operations in %.1fs\n%s", res.Verdict, res.Histories, res.Operations, res.Seconds, res.Visualization)
	require.Equal(t, linearizability.Violation, res.Verdict, res.Detail)
}

package gorilla_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/fusecheck"
	"github.com/sessioncheck/sessioncheck/fusefs"
	"github.com/sessioncheck/sessioncheck/model"
)

// gorillaWorker builds cmd/gorilla-worker for the test.
func gorillaWorker(t *testing.T) []string {
	t.Helper()
	if err := fusefs.Available(); err != nil {
		t.Skip(err.Error())
	}
	bin := filepath.Join(t.TempDir(), "gorilla-worker")
	out, err := exec.Command("go", "build", "-o", bin, "./cmd/gorilla-worker").CombinedOutput()
	require.NoError(t, err, "%s", out)
	return []string{bin}
}

// FilesystemStore truncates and rewrites its file in place without fsync:
// over FUSE, the crash check sees a power loss take an acknowledged save.
func TestGorillaCrashOverFUSE(t *testing.T) {
	r := fusecheck.Crash(fusecheck.Config{Argv: gorillaWorker(t), Seed: 3, Operations: 12, LeaveOut: noClear})
	t.Logf("crash: %s, %d points, %d images, %d violations, left out %v, %.1fs\n%s", r.Verdict, r.Points, r.Units, r.Violations, r.LeftOut, r.Seconds, r.Detail)
	require.Equal(t, "violation", r.Verdict, r.Detail)
}

// An injected error in the middle of its in-place rewrite leaves a
// truncated file: the faults check sees the old data gone.
func TestGorillaFaultsOverFUSE(t *testing.T) {
	r := fusecheck.Faults(fusecheck.Config{Argv: gorillaWorker(t), Seed: 3, Operations: 5, LeaveOut: noClear})
	t.Logf("faults: %s, %d points, %d injections, %d absorbed, %d violations, left out %v, %.1fs\n%s", r.Verdict, r.Points, r.Units, r.Absorbed, r.Violations, r.LeftOut, r.Seconds, r.Detail)
	require.Equal(t, "violation", r.Verdict, r.Detail)
}

func TestMain(m *testing.M) {
	fusefs.Sweep()
	os.Exit(m.Run())
}

// noClear leaves out what FilesystemStore does not have.
var noClear = []model.Kind{model.OpClearExpired}

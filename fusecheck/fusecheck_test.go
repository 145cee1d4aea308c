package fusecheck_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/fusecheck"
	"github.com/sessioncheck/sessioncheck/fusefs"
)

var workerBin string

func TestMain(m *testing.M) {
	fusefs.Sweep()
	dir, err := os.MkdirTemp("", "fusecheck-worker-")
	if err != nil {
		panic(err)
	}
	workerBin = filepath.Join(dir, "sessioncheck")
	out, err := exec.Command("go", "build", "-o", workerBin, "github.com/sessioncheck/sessioncheck/cmd/sessioncheck").CombinedOutput()
	if err != nil {
		println(string(out))
		os.RemoveAll(dir)
		os.Exit(2)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func need(t *testing.T) {
	t.Helper()
	if err := fusefs.Available(); err != nil {
		t.Skip(err.Error())
	}
}

func cfg(store string, ops int) fusecheck.Config {
	return fusecheck.Config{Argv: []string{workerBin, "worker", "-store", store}, Seed: 3, Operations: ops}
}

func TestCrashReference(t *testing.T) {
	need(t)
	r := fusecheck.Crash(cfg("reference", 8))
	require.Equal(t, "pass", r.Verdict, r.Detail)
	require.Positive(t, r.Units)
	t.Logf("reference: %d crash points, %d distinct images, %.1fs", r.Points, r.Units, r.Seconds)
}

func TestCrashCatchesNoFsync(t *testing.T) {
	need(t)
	r := fusecheck.Crash(cfg("no-fsync", 8))
	require.Equal(t, "violation", r.Verdict, r.Detail)
	t.Logf("no-fsync: %d of %d images violate; first: %s", r.Violations, r.Units, r.Detail)
}

func TestFaultsReference(t *testing.T) {
	need(t)
	r := fusecheck.Faults(cfg("reference", 4))
	require.Equal(t, "pass", r.Verdict, r.Detail)
	require.Positive(t, r.Units)
	t.Logf("reference: %d points, %d injections (%d absorbed), %.1fs", r.Points, r.Units, r.Absorbed, r.Seconds)
}

func TestFaultsCatchesSwallowErrors(t *testing.T) {
	need(t)
	r := fusecheck.Faults(cfg("swallow-errors", 4))
	require.Equal(t, "violation", r.Verdict, r.Detail)
	t.Logf("swallow-errors: %d of %d injections violate; first: %s", r.Violations, r.Units, r.Detail)
}

package django

import (
	"testing"

	"github.com/sessioncheck/sessioncheck/fusecheck"
	"github.com/sessioncheck/sessioncheck/fusefs"
)

func needFUSE(t *testing.T) {
	t.Helper()
	if err := fusefs.Available(); err != nil {
		t.Skip(err.Error())
	}
}

// Django's file backend, as shipped and with its Python hook off, on the
// simulated disk over FUSE: a crash check with no change to the adapter.
func TestDjangoCrashOverFUSE(t *testing.T) {
	needFUSE(t)
	r := fusecheck.Crash(fusecheck.Config{Argv: workerArgv(t, "shipped"), Seed: 3, Operations: 10})
	t.Logf("crash: %s, %d points, %d images, %d violations, %.1fs\n%s", r.Verdict, r.Points, r.Units, r.Violations, r.Seconds, r.Detail)
	if r.Verdict != "violation" {
		t.Fatalf("crash over FUSE: %s, want violation (Django never fsyncs): %s", r.Verdict, r.Detail)
	}
}

// The faults check over FUSE, with the same worker.
func TestDjangoFaultsOverFUSE(t *testing.T) {
	needFUSE(t)
	r := fusecheck.Faults(fusecheck.Config{Argv: workerArgv(t, "shipped"), Seed: 3, Operations: 3})
	t.Logf("faults: %s, %d points, %d injections, %d absorbed, %d violations, %.1fs\n%s", r.Verdict, r.Points, r.Units, r.Absorbed, r.Violations, r.Seconds, r.Detail)
	if r.Verdict != "violation" {
		t.Fatalf("faults over FUSE: %s, want violation: %s", r.Verdict, r.Detail)
	}
}

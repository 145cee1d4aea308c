package proptest_test

import (
	"strings"
	"testing"

	"github.com/sessioncheck/sessioncheck/proptest"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workerstore"
	"github.com/sessioncheck/sessioncheck/worker/workertest"
)

// TestUndeclaredOpNotRun: a worker that leaves clear-expired out of its
// hello (and refuses it) passes on the reference, since the suite never
// runs the operation, and the result names it as not checked; the same
// worker with a real bug in a declared operation is still caught.
func TestUndeclaredOpNotRun(t *testing.T) {
	hostile := workertest.BuildHostile(t)
	run := func(mode string) proptest.Result {
		pool := workerstore.New(hostile(mode), worker.Options{})
		defer pool.Close()
		return proptest.Check(pool.Open, proptest.Config{Seed: 7, Checks: 30})
	}
	r := run(workertest.HostileNoSweep)
	if r.Verdict != proptest.Pass || r.Work.Operations == 0 {
		t.Fatalf("no-sweep: %s after %d operations, want pass:\n%s", r.Verdict, r.Work.Operations, r.Report)
	}
	if len(r.Work.Unchecked) != 1 || r.Work.Unchecked[0] != "clear-expired" || !strings.Contains(r.Report, "not checked: clear-expired") {
		t.Errorf("no-sweep: unchecked %v, report:\n%s", r.Work.Unchecked, r.Report)
	}
	r = run(workertest.HostileNoSweepUndelete)
	if r.Verdict != proptest.Violation {
		t.Fatalf("no-sweep-undelete: %s, want violation:\n%s", r.Verdict, r.Report)
	}
	if !strings.Contains(r.Report, "not checked: clear-expired") {
		t.Errorf("no-sweep-undelete: the report does not name the unchecked operation:\n%s", r.Report)
	}
}

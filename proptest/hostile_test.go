package proptest_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/proptest"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workerstore"
	"github.com/sessioncheck/sessioncheck/worker/workertest"
)

// TestHostileWorkers: through a worker, proptest.Check never passes a
// store that fails every operation, answers with garbage or hangs, and
// stops at the first hang instead of paying a timeout per operation; a
// worker whose only flaw needs two processes (crossed locks) passes this
// sequential suite.
func TestHostileWorkers(t *testing.T) {
	hostile := workertest.BuildHostile(t)
	cases := []struct {
		mode string
		want proptest.Verdict
		ok   func(proptest.Result) bool
		says string
	}{
		{workertest.HostileFailed, proptest.Violation, func(r proptest.Result) bool { return r.Work.Failed > 0 }, "store did:      failed"},
		{workertest.HostileGarbage, proptest.Error, func(r proptest.Result) bool { return r.Work.WorkerErrors == 1 }, "broke the protocol"},
		{workertest.HostileHang, proptest.Unknown, func(r proptest.Result) bool { return r.Work.Hung == 1 && len(r.Work.HungOps) == 1 }, "operations hung"},
		{workertest.HostileDeadlock, proptest.Pass, func(r proptest.Result) bool { return r.Work.Units >= 20 && r.Work.Operations > 0 }, "pass"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			pool := workerstore.New(hostile(c.mode), worker.Options{Timeout: 300 * time.Millisecond})
			defer pool.Close()
			res := proptest.Check(pool.Open, proptest.Config{Seed: 1, Checks: 20, Dir: t.TempDir(), ShrinkTime: 2 * time.Second})
			t.Logf("%s: %s: %s\n%s", c.mode, res.Verdict, res.Work.Summary(), res.Report)
			if res.Verdict != c.want || !c.ok(res) || !strings.Contains(res.Report, c.says) {
				t.Fatalf("%s: %s (%s), want %s saying %q\n%s", c.mode, res.Verdict, res.Work.Summary(), c.want, c.says, res.Report)
			}
		})
	}
}

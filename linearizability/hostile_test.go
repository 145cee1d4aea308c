package linearizability

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/worker/workertest"
)

// hostileConfig keeps per-operation timeouts short: a hostile worker
// costs a timeout per operation that hangs.
func hostileConfig(t *testing.T, histories int) Config {
	return Config{Histories: histories, OpTimeout: 300 * time.Millisecond, Dir: fastDir(t), ReportDir: t.TempDir(),
		Workload: Workload{Seed: 1}}
}

// TestHostileWorkers: a worker that fails every operation, answers with
// garbage, hangs, or deadlocks across processes never passes, and the
// result counts and names what went wrong.
func TestHostileWorkers(t *testing.T) {
	hostile := workertest.BuildHostile(t)
	cases := []struct {
		mode      string
		histories int
		want      Verdict
		ok        func(Result) bool
		says      string
	}{
		{workertest.HostileFailed, 5, Violation, func(r Result) bool { return r.Work.Failed > 0 && r.Work.Failed == r.Work.Operations }, "failed with nothing injected"},
		{workertest.HostileGarbage, 5, Error, func(r Result) bool { return r.Work.WorkerErrors > 0 && r.Work.Restarts > 0 }, "broke the protocol"},
		{workertest.HostileRefuse, 5, Error, func(r Result) bool { return r.Work.WorkerErrors > 0 && r.Work.Restarts > 0 }, "broke the protocol"},
		{workertest.HostileHang, 5, Unknown, func(r Result) bool { return r.Work.Hung > 0 && len(r.Work.HungOps) > 0 }, "operations hung"},
		// Save and delete must meet in two processes: up to 20 histories.
		{workertest.HostileDeadlock, 20, Unknown, func(r Result) bool {
			ops := strings.Join(r.Work.HungOps, " ")
			return r.Work.Hung > 0 && (strings.Contains(ops, "save(") || strings.Contains(ops, "delete("))
		}, "operations hung"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			res, err := CheckProcesses(hostile(c.mode), hostileConfig(t, c.histories))
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s in %.1fs: %s\n%s", c.mode, res.Verdict, res.Seconds, res.Work.Summary(), firstLines(res.Detail, 3))
			if res.Verdict != c.want || !c.ok(res) || !strings.Contains(res.Detail, c.says) {
				t.Fatalf("%s: %s (%s), want %s saying %q\n%s", c.mode, res.Verdict, res.Work.Summary(), c.want, c.says, res.Detail)
			}
		})
	}
}

// TestChildHoldingPipes: a worker that leaves a child holding its stdout
// and stderr (sh -c 'sleep & exec worker') neither hangs the check nor
// leaves the child behind, and the reference behind it still passes.
func TestChildHoldingPipes(t *testing.T) {
	exe, env := workerArgv(t, "reference", "")
	marker := fmt.Sprintf("3599.%d", os.Getpid())
	argv := []string{"sh", "-c", `sleep ` + marker + ` & exec "$0"`, exe[0]}
	done := make(chan struct{})
	var res Result
	var err error
	go func() {
		defer close(done)
		cfg := hostileConfig(t, 3)
		cfg.OpTimeout, cfg.Env = 5*time.Second, env
		res, err = CheckProcesses(argv, cfg)
	}()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatalf("the check hangs on a worker whose child holds its pipes (%d processes with %s alive)", len(workertest.ProcessesWith(marker)), marker)
	}
	if err != nil || res.Verdict != Pass {
		t.Fatalf("reference behind sh -c 'sleep & exec': %s, %v\n%s", res.Verdict, err, res.Detail)
	}
	if left := workertest.Survivors(marker); len(left) > 0 {
		t.Fatalf("%d child processes of workers survived the check: %v", len(left), left)
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// TestUndeclaredOpNotRun: lin-processes on a worker that leaves
// clear-expired out of its hello passes on the reference and names the
// operation as not checked; a real bug in a declared operation is still a
// violation.
func TestUndeclaredOpNotRun(t *testing.T) {
	hostile := workertest.BuildHostile(t)
	res, err := CheckProcesses(hostile(workertest.HostileNoSweep), hostileConfig(t, 5))
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Pass || res.Work.Operations == 0 {
		t.Fatalf("no-sweep: %s after %d operations, want pass:\n%s", res.Verdict, res.Work.Operations, res.Detail)
	}
	if len(res.Work.Unchecked) != 1 || res.Work.Unchecked[0] != "clear-expired" || !strings.Contains(res.Detail, "not checked: clear-expired") {
		t.Errorf("no-sweep: unchecked %v, detail:\n%s", res.Work.Unchecked, res.Detail)
	}
	cfg := hostileConfig(t, 20)
	cfg.OpTimeout = 5 * time.Second
	res, err = CheckProcesses(hostile(workertest.HostileNoSweepUndelete), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Violation {
		t.Fatalf("no-sweep-undelete: %s, want violation:\n%s", res.Verdict, res.Detail)
	}
}

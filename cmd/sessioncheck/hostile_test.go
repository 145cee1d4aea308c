package main

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/sessioncheck/sessioncheck/worker/workertest"
)

// TestHostileWorkers runs the command on each hostile worker: none may
// pass, each gets the verdict it deserves with its work counted in the
// cell and in results.json, and the command exits 1 (an expectation not
// met). Per-operation timeouts are short (-timeout), so that a hang costs
// a fraction of a second.
func TestHostileWorkers(t *testing.T) {
	hostile := workertest.BuildHostile(t)
	cases := []struct {
		mode        string
		prop, lin   string // verdicts of proptest and lin-processes
		cell, count string // what lin-processes's cell says, what its work counts
	}{
		{workertest.HostileFailed, "violation", "violation", "failed", "failed"},
		{workertest.HostileGarbage, "error", "error", "worker errors", "worker_errors"},
		{workertest.HostileHang, "unknown", "unknown", "hung", "hung"},
		{workertest.HostileDeadlock, "pass", "unknown", "hung", "hung"},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			argv := strings.Join(hostile(c.mode), " ")
			r := sessioncheck(t, "-worker", argv, "-check", "proptest,lin-processes", "-timeout", "300ms", "-budget", "0.3", "-seed", "1", "-json", "-out", t.TempDir())
			res := decode(t, r.stdout)
			if r.code != 1 || len(res) != 2 {
				t.Fatalf("%s: exit %d with %d results, want 1 with 2\n%s", c.mode, r.code, len(res), r.stderr)
			}
			prop, lin := res[0], res[1]
			if prop.Verdict != c.prop || lin.Verdict != c.lin {
				t.Fatalf("%s: proptest %s, lin-processes %s; want %s and %s\n%s\n%s", c.mode, prop.Verdict, lin.Verdict, c.prop, c.lin, prop.Detail, lin.Detail)
			}
			if lin.Work == nil || prop.Work == nil {
				t.Fatalf("%s: results.json lacks the work object", c.mode)
			}
			counted := map[string]int{"failed": lin.Work.Failed, "worker_errors": lin.Work.WorkerErrors, "hung": lin.Work.Hung}[c.count]
			if counted == 0 {
				t.Fatalf("%s: lin-processes counts no %s operations: %+v", c.mode, c.count, *lin.Work)
			}
			if c.count == "hung" && (len(lin.Work.HungOps) == 0 || !strings.Contains(lin.Detail, "operations hung")) {
				t.Fatalf("%s: the hung operations are not named: %+v\n%s", c.mode, *lin.Work, lin.Detail)
			}
			// The table cell shows the count too.
			r = sessioncheck(t, "-worker", argv, "-check", "lin-processes", "-timeout", "300ms", "-budget", "0.3", "-seed", "1", "-out", t.TempDir())
			if r.code != 1 || !strings.Contains(r.stdout, c.cell) {
				t.Fatalf("%s: exit %d, the table does not say %q:\n%s", c.mode, r.code, c.cell, r.stdout)
			}
		})
	}
}

// TestWorkerChildHoldingPipes: a worker whose child keeps its stdout and
// stderr open (sh -c 'sleep & exec worker') neither hangs the command nor
// survives it; the reference behind it passes.
func TestWorkerChildHoldingPipes(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	marker := fmt.Sprintf("3599.%d", os.Getpid())
	argv := fmt.Sprintf(`sh -c 'sleep %s & exec "$0" worker -store reference' %s`, marker, exe)
	r := sessioncheck(t, "-worker", argv, "-check", "proptest,lin-processes", "-budget", "0.3", "-json", "-out", t.TempDir())
	res := decode(t, r.stdout)
	if r.code != 0 || len(res) != 2 || res[0].Verdict != "pass" || res[1].Verdict != "pass" {
		t.Fatalf("exit %d, %+v\n%s", r.code, res, r.stderr)
	}
	if left := workertest.Survivors(marker); len(left) > 0 {
		t.Fatalf("%d child processes of workers survived the command: %v", len(left), left)
	}
}

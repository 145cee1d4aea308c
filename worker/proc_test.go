package worker_test

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workertest"
)

// behindShell runs the hostile worker in mode behind sh, with a sleep of
// its own started first as the given prefix says ("" or "setsid"), its
// command line marked.
func behindShell(t *testing.T, hostile func(string) []string, mode, prefix string) ([]string, string) {
	marker := fmt.Sprintf("3599.%d%d", os.Getpid(), time.Now().UnixNano()%1000)
	argv := hostile(mode)
	return []string{"sh", "-c", prefix + " sleep " + marker + ` & exec "$0" "$1"`, argv[0], argv[1]}, marker
}

// within fails t if f takes more than a minute: the driver must not hang.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%s hangs", what)
	}
}

// killTakesTheGroup: a worker killed for a hang takes the child it
// started with it, and the error says it hung.
func killTakesTheGroup(t *testing.T, hostile func(string) []string) {
	argv, marker := behindShell(t, hostile, workertest.HostileHang, "")
	c, err := worker.Start(argv, worker.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Open(worker.Config{Dir: t.TempDir(), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var opErr error
	within(t, "an operation on a hung worker", func() { _, opErr = c.Store().Load("abcdefgh") })
	if !errors.Is(opErr, worker.ErrUnknownOutcome) || !errors.Is(opErr, worker.ErrHung) {
		t.Fatalf("a load that got no answer: %v, want ErrUnknownOutcome and ErrHung", opErr)
	}
	within(t, "Close after Kill", func() { _ = c.Close() })
	if left := workertest.Survivors(marker); len(left) > 0 {
		t.Fatalf("the worker's child survived its kill: %v", left)
	}
}

// closeTakesTheGroup: a worker that exits when its stdin closes takes
// its children with it.
func closeTakesTheGroup(t *testing.T, hostile func(string) []string) {
	argv, marker := behindShell(t, hostile, workertest.HostileDeadlock, "")
	c, err := worker.Start(argv, worker.Options{})
	if err != nil {
		t.Fatal(err)
	}
	within(t, "Close", func() {
		if err := c.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	if left := workertest.Survivors(marker); len(left) > 0 {
		t.Fatalf("the worker's child survived it: %v", left)
	}
}

// readingStopsAfterGrace: a child that left the worker's process group
// (setsid) cannot be killed with it, but holding the pipes does not make
// Close wait for it. The test kills it itself.
func readingStopsAfterGrace(t *testing.T, hostile func(string) []string) {
	argv, marker := behindShell(t, hostile, workertest.HostileHang, "setsid")
	c, err := worker.Start(argv, worker.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, pid := range workertest.ProcessesWith(marker) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	within(t, "Kill with a child outside the group holding the pipes", c.Kill)
	within(t, "Close with a child outside the group holding the pipes", func() { _ = c.Close() })
	select {
	case <-c.Exited():
	default:
		t.Fatal("Kill returned before the worker was reaped")
	}
}

// garbageIsNotAHang: a line that is not a response is an unknown
// outcome from a worker that broke the protocol, not a hang.
func garbageIsNotAHang(t *testing.T, hostile func(string) []string) {
	c, err := worker.Start(hostile(workertest.HostileGarbage), worker.Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Open(worker.Config{Dir: t.TempDir(), Now: time.Now()}); err != nil {
		t.Fatal(err)
	}
	_, err = c.Store().Load("abcdefgh")
	if !errors.Is(err, worker.ErrUnknownOutcome) || errors.Is(err, worker.ErrHung) {
		t.Fatalf("garbage answer: %v, want ErrUnknownOutcome without ErrHung", err)
	}
}

// TestWorkerProcesses: how the client treats a worker's processes and
// pipes (one build of the hostile worker for all of them).
func TestWorkerProcesses(t *testing.T) {
	hostile := workertest.BuildHostile(t)
	for name, f := range map[string]func(*testing.T, func(string) []string){
		"kill takes the group":      killTakesTheGroup,
		"close takes the group":     closeTakesTheGroup,
		"reading stops after grace": readingStopsAfterGrace,
		"garbage is not a hang":     garbageIsNotAHang,
	} {
		t.Run(name, func(t *testing.T) { f(t, hostile) })
	}
}

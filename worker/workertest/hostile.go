package workertest

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// The modes of the hostile worker (worker/testdata/hostile), each a way to
// break the driver's assumptions.
const (
	HostileFailed   = "failed"   // answers "failed" to every store operation
	HostileGarbage  = "garbage"  // answers every store operation with a line that is not JSON
	HostileRefuse   = "refuse"   // answers every store operation with an error response
	HostileHang     = "hang"     // never answers a store operation
	HostileDeadlock = "deadlock" // save and delete take two flocks in opposite orders
	// HostileNoSweep is the reference store declaring every operation but
	// clear-expired (and refusing it).
	HostileNoSweep = "no-sweep"
	// HostileNoSweepUndelete is HostileNoSweep whose delete removes
	// nothing: a real bug in a declared operation.
	HostileNoSweepUndelete = "no-sweep-undelete"
)

// BuildHostile builds the hostile worker into a directory of t's and
// returns a function giving the command for each mode.
func BuildHostile(t testing.TB) func(mode string) []string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "hostile")
	gotool := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gotool); err != nil {
		gotool = "go"
	}
	cmd := exec.Command(gotool, "build", "-o", bin, "github.com/sessioncheck/sessioncheck/worker/testdata/hostile")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the hostile worker: %v\n%s", err, out)
	}
	return func(mode string) []string { return []string{bin, mode} }
}

// Survivors waits until no live process has marker as a word of its
// command line, for at most a minute (a killed process takes a moment to
// die on a loaded machine), and returns those still alive then.
func Survivors(marker string) []int {
	deadline := time.Now().Add(time.Minute)
	for {
		pids := ProcessesWith(marker)
		if len(pids) == 0 || time.Now().After(deadline) {
			return pids
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ProcessesWith returns the ids of the live processes whose command line
// holds marker as one of its words: how a test counts what a check left
// behind. Zombies are not counted (they hold nothing but their pid).
func ProcessesWith(marker string) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		for _, word := range bytes.Split(cmdline, []byte{0}) {
			if string(word) == marker {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

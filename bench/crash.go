package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/crash"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
)

// CrashChildEnv, when set in a process's environment to a budget, makes
// [ServeCrashChild] run one crash check at that budget and print a
// [CrashRun] as JSON. The peak resident set of a process only grows, so a
// figure per budget needs a process per budget: the benchmark and
// bench/crashrss start their own binary again with this variable set.
const CrashChildEnv = "SESSIONCHECK_BENCH_CRASH_BUDGET"

// crashStoreEnv names the catalogue store the child checks (default
// reference).
const crashStoreEnv = "SESSIONCHECK_BENCH_CRASH_STORE"

// CrashRun is one crash check measured in a process of its own.
type CrashRun struct {
	Store      string  `json:"store"`
	Budget     float64 `json:"budget"`
	Seed       int64   `json:"seed"`
	Verdict    string  `json:"verdict"`
	Operations int     `json:"operations"`
	States     int     `json:"states"`
	Distinct   int     `json:"distinct"`
	Reopened   int     `json:"reopened"`
	Seconds    float64 `json:"seconds"`      // the check's own wall time
	CPUSeconds float64 `json:"cpu_seconds"`  // the child's user and system time, set by MeasureCrash
	PeakRSSKiB int64   `json:"peak_rss_kib"` // VmHWM of the whole process
}

// CrashOperations is the workload length the command gives the crash check
// at budget (cmd/sessioncheck scales crash.DefaultOperations the same way).
func CrashOperations(budget float64) int {
	return max(1, int(math.Round(float64(crash.DefaultOperations)*budget)))
}

// PeakRSSKiB returns this process's peak resident set size (VmHWM in
// /proc/self/status), in KiB. Linux only.
func PeakRSSKiB() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmHWM in /proc/self/status")
}

// ServeCrashChild does nothing and returns false unless CrashChildEnv is
// set; then it runs the crash check it asks for, prints the CrashRun as one
// JSON line on stdout and returns true (with the error, if any), and the
// caller should exit.
func ServeCrashChild() (bool, error) {
	b := os.Getenv(CrashChildEnv)
	if b == "" {
		return false, nil
	}
	budget, err := strconv.ParseFloat(b, 64)
	if err != nil || budget <= 0 || math.IsInf(budget, 0) {
		return true, fmt.Errorf("%s=%q: want a positive budget", CrashChildEnv, b)
	}
	name := os.Getenv(crashStoreEnv)
	if name == "" {
		name = "reference"
	}
	st, ok := variants.Lookup(name)
	if !ok {
		return true, fmt.Errorf("%s=%q: no such store in the catalogue", crashStoreEnv, name)
	}
	res := crash.Check(workload.ImplOpener(st.Open), crash.Config{Seed: 1, Operations: CrashOperations(budget)})
	peak, err := PeakRSSKiB()
	if err != nil {
		return true, err
	}
	run := CrashRun{Store: name, Budget: budget, Seed: res.Seed, Verdict: res.Verdict, Operations: res.Operations,
		States: res.States, Distinct: res.Distinct, Reopened: res.Reopened, Seconds: res.Seconds, PeakRSSKiB: peak}
	return true, json.NewEncoder(os.Stdout).Encode(run)
}

// MeasureCrash runs exe (a binary whose main or TestMain calls
// ServeCrashChild first) with args, asking it for one crash check of store
// at budget, and returns what it measured. The child is killed after
// timeout.
func MeasureCrash(exe string, args []string, store string, budget float64, timeout time.Duration) (CrashRun, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, args...)
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%g", CrashChildEnv, budget), crashStoreEnv+"="+store)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return CrashRun{}, fmt.Errorf("crash check at budget %g: killed after %v", budget, timeout)
		}
		return CrashRun{}, fmt.Errorf("crash check at budget %g: %v: %s", budget, err, strings.TrimSpace(stderr.String()))
	}
	var run CrashRun
	if err := json.Unmarshal(stdout.Bytes(), &run); err != nil {
		return CrashRun{}, fmt.Errorf("crash check at budget %g: cannot read its report %q: %v", budget, stdout.String(), err)
	}
	// CPU time rather than wall time is the steadier measure on a shared
	// machine: it leaves out the time spent waiting for a core.
	run.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return run, nil
}

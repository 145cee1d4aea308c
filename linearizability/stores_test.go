package linearizability

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/worker/builtin"
)

func open(t testing.TB, name string) OpenFunc {
	t.Helper()
	o, err := builtin.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// referenceConfig is the default test workload: many small histories.
func referenceConfig(t testing.TB, seed uint64) Config {
	return Config{Histories: 200, Dir: fastDir(t), ReportDir: t.TempDir(), Workload: Workload{Seed: seed}}
}

func requireClean(t *testing.T, res Result) {
	t.Helper()
	if res.Verdict != Pass || res.UnknownOps != 0 || res.FailedOps != 0 || res.Histories < 200 {
		t.Fatalf("reference: %s, %d histories, %d unknown and %d failed operations\n%s",
			res.Verdict, res.Histories, res.UnknownOps, res.FailedOps, res.Detail)
	}
}

func TestReferenceGoroutines(t *testing.T) {
	res := CheckStore(t, open(t, "reference"), referenceConfig(t, 100))
	requireClean(t, res)
}

func TestReferenceProcesses(t *testing.T) {
	argv, env := workerArgv(t, "reference", "")
	cfg := referenceConfig(t, 200)
	cfg.Env = env
	res := CheckWorker(t, argv, cfg)
	requireClean(t, res)
}

// TestReferenceKeyPool runs the reference with fresh keys drawn from a tiny
// pool, so creates collide: it must still never overwrite.
func TestReferenceKeyPool(t *testing.T) {
	cfg := referenceConfig(t, 300)
	cfg.Histories = 100
	cfg.KeySpace = 24
	cfg.Mix = Mix{Create: 4, Load: 3, Save: 3, Delete: 3, ClearExpired: 1}
	res := CheckStore(t, open(t, "reference"), cfg)
	if res.FailedOps != 0 || res.UnknownOps != 0 {
		t.Fatalf("%d failed, %d unknown", res.FailedOps, res.UnknownOps)
	}
}

// hotConfig is a workload aimed at torn reads: few keys, big values, mostly
// saves and loads.
func hotConfig(t testing.TB, seed uint64, budget time.Duration) Config {
	return Config{Histories: 1000, Budget: budget, Dir: fastDir(t), ReportDir: t.TempDir(),
		Workload: Workload{Seed: seed, Clients: 4, Keys: 1, Operations: 25, ValueSize: 64 << 10,
			Mix: Mix{Create: 1, Load: 6, Save: 6, Touch: 1, Exists: 1}}}
}

// caught runs a check under seeds and returns how many were caught.
func caught(t *testing.T, seeds int, check func(seed uint64) Result) int {
	n := 0
	for s := range seeds {
		res := check(uint64(s+1) * 1_000_003)
		if res.Verdict == Violation {
			n++
		}
		t.Logf("seed %d: %s after %d histories, %.2fs", uint64(s+1)*1_000_003, res.Verdict, res.Histories, res.Seconds)
	}
	return n
}

func TestWriteInPlaceCaughtInProcesses(t *testing.T) {
	argv, env := workerArgv(t, "write-in-place", "")
	seeds := 20
	if testing.Short() || raceEnabled {
		seeds = 3
	}
	var vis string
	n := caught(t, seeds, func(seed uint64) Result {
		cfg := hotConfig(t, seed, 10*time.Second)
		cfg.Env = env
		res, err := CheckProcesses(argv, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict == Violation && vis == "" {
			vis = res.Visualization
			t.Logf("first counterexample:\n%s", res.Detail)
		}
		return res
	})
	want := seeds - seeds/20 // 19 of 20
	if seeds < 20 {
		// The race detector slows histories so that fewer fit in each
		// seed's budget, and a seed may end before the race shows: here
		// one catch shows the check works; CI's 20-seed step without the
		// race detector holds it to 19 of 20.
		want = 1
	}
	if n < want {
		t.Fatalf("write-in-place caught under %d of %d seeds, want at least %d", n, seeds, want)
	}
	requireSelfContained(t, vis)
}

// requireSelfContained checks that the visualization loads nothing from
// elsewhere: no src or href attribute, no url() other than data:.
func requireSelfContained(t *testing.T, path string) {
	t.Helper()
	if path == "" {
		t.Fatal("no visualization written")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	html := string(b)
	if !strings.Contains(html, "<html") || !strings.Contains(html, "<script") {
		t.Fatalf("%s does not look like porcupine's page", path)
	}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`(?i)\s(src|href)\s*=\s*["']?[a-z/]`),
		regexp.MustCompile(`(?i)@import`),
		regexp.MustCompile(`(?i)url\(\s*["']?(https?:|//)`),
	} {
		if m := re.FindString(html); m != "" {
			t.Fatalf("%s loads something from outside: %q", path, m)
		}
	}
	t.Logf("self-contained visualization: %s (%d bytes)", path, len(b))
}

func TestMutexInPlace(t *testing.T) {
	t.Run("goroutines pass", func(t *testing.T) {
		cfg := hotConfig(t, 42, 0)
		cfg.Histories, cfg.ValueSize = 100, 4<<10
		res := CheckStore(t, open(t, "mutex-in-place"), cfg)
		if res.UnknownOps != 0 {
			t.Fatalf("%d unknown operations", res.UnknownOps)
		}
	})
	t.Run("processes caught", func(t *testing.T) {
		argv, env := workerArgv(t, "mutex-in-place", "")
		cfg := hotConfig(t, 43, 10*time.Second)
		cfg.Env = env
		res, err := CheckProcesses(argv, cfg)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != Violation {
			t.Fatalf("mutex-in-place not caught in process mode: %s after %d histories", res.Verdict, res.Histories)
		}
		t.Logf("caught after %d histories (%.2fs):\n%s", res.Histories, res.Seconds, res.Detail)
	})
}

func TestTruncateThenLoadCaught(t *testing.T) {
	cfg := func(t *testing.T, seed uint64) Config {
		c := hotConfig(t, seed, 10*time.Second)
		c.ValueSize = 16
		c.Mix = Mix{Create: 1, Load: 3, Save: 2, Touch: 3}
		return c
	}
	t.Run("goroutines", func(t *testing.T) {
		res, err := CheckGoroutines(open(t, "truncate-then-load"), cfg(t, 5))
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != Violation {
			t.Fatalf("not caught: %s after %d histories", res.Verdict, res.Histories)
		}
		t.Logf("caught after %d histories:\n%s", res.Histories, res.Detail)
	})
	t.Run("processes", func(t *testing.T) {
		argv, env := workerArgv(t, "truncate-then-load", "")
		c := cfg(t, 6)
		c.Env = env
		res, err := CheckProcesses(argv, c)
		if err != nil {
			t.Fatal(err)
		}
		if res.Verdict != Violation {
			t.Fatalf("not caught: %s after %d histories", res.Verdict, res.Histories)
		}
	})
}

// TestExpectationsTable keeps this package honest against the one table of
// what each check must catch: every store whose lin-goroutines or
// lin-processes expectation is decided is exercised by a test above.
func TestExpectationsTable(t *testing.T) {
	tested := map[string]map[string]string{
		"reference":          {"lin-goroutines": "pass", "lin-processes": "pass"},
		"write-in-place":     {"lin-processes": "violation"},
		"mutex-in-place":     {"lin-goroutines": "pass", "lin-processes": "violation"},
		"truncate-then-load": {"lin-goroutines": "violation", "lin-processes": "violation"},
	}
	for _, s := range variants.All() {
		for _, check := range []string{"lin-goroutines", "lin-processes"} {
			want := string(s.Expectation(check))
			if want == "any" {
				continue
			}
			if tested[s.Name][check] != want {
				t.Errorf("%s must be %s under %s, but no test here shows it", s.Name, want, check)
			}
		}
	}
}

package linearizability

import (
	"os"
	"testing"
	"time"
)

// TestDetectionRates logs how often random concurrent histories catch the
// variants whose windows are narrow (the explore check catches them every
// time). It asserts nothing about the rates, which depend on the machine;
// it runs only with SESSIONCHECK_RATES=1 because it takes about a minute.
func TestDetectionRates(t *testing.T) {
	if os.Getenv("SESSIONCHECK_RATES") == "" {
		t.Skip("set SESSIONCHECK_RATES=1 to measure detection rates (about a minute)")
	}
	budget := time.Second
	cases := []struct {
		store string
		cfg   func(seed uint64) Config
	}{
		{"check-then-rename", func(seed uint64) Config {
			return Config{Histories: 1000, Budget: budget, Dir: fastDir(t), ReportDir: t.TempDir(),
				Workload: Workload{Seed: seed, Clients: 4, Keys: 1, Operations: 20,
					Mix: Mix{Create: 1, Load: 3, Save: 4, Delete: 3, Exists: 1}}}
		}},
		{"unlocked-sweep", func(seed uint64) Config {
			return Config{Histories: 1000, Budget: budget, Dir: fastDir(t), ReportDir: t.TempDir(),
				Workload: Workload{Seed: seed, Clients: 4, Keys: 4, Operations: 20, KeySpace: 4, PastPercent: 50,
					Mix: Mix{Create: 4, Load: 2, Save: 2, Delete: 3, ClearExpired: 3}}}
		}},
		{"create-without-excl", func(seed uint64) Config {
			return Config{Histories: 1000, Budget: budget, Dir: fastDir(t), ReportDir: t.TempDir(),
				Workload: Workload{Seed: seed, Clients: 4, Keys: 4, Operations: 20, KeySpace: 4,
					Mix: Mix{Create: 6, Load: 2, Delete: 4}}}
		}},
	}
	for _, c := range cases {
		// The same workload on the reference: no false alarm.
		ref, err := CheckGoroutines(open(t, "reference"), c.cfg(1))
		if err != nil || ref.Verdict != Pass {
			t.Fatalf("reference under the %s workload: %s %v\n%s", c.store, ref.Verdict, err, ref.Detail)
		}
		t.Logf("reference under the %s workload: %s over %d histories (%d failed operations)", c.store, ref.Verdict, ref.Histories, ref.FailedOps)
		for _, mode := range []Mode{Goroutines, Processes} {
			n := caught(t, 20, func(seed uint64) Result {
				var res Result
				var err error
				if mode == Goroutines {
					res, err = CheckGoroutines(open(t, c.store), c.cfg(seed))
				} else {
					argv, env := workerArgv(t, c.store, "")
					cfg := c.cfg(seed)
					cfg.Env = env
					res, err = CheckProcesses(argv, cfg)
				}
				if err != nil {
					t.Fatal(err)
				}
				return res
			})
			t.Logf("RATE %s lin-%s: caught under %d of 20 seeds (budget %v each)", c.store, mode, n, budget)
		}
	}
}

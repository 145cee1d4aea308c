package linearizability

import (
	"os"
	"path/filepath"
	"testing"
)

// CheckStore checks the store that open opens with goroutine clients, each
// with its own instance over one shared directory, and fails t unless the
// verdict is Pass. On a violation the message holds the plain-text
// counterexample, the seed that replays it and the path of the
// visualization (kept in a directory named after the test under
// os.TempDir). It returns the Result for further assertions.
//
// A backend author's test is one call:
//
//	func TestLinearizable(t *testing.T) {
//		linearizability.CheckStore(t, func(cfg worker.Config) (model.Store, error) {
//			return mystore.Open(cfg.Dir, mystore.WithClock(func() time.Time { return cfg.Now }))
//		}, linearizability.Config{Histories: 50})
//	}
func CheckStore(t testing.TB, open OpenFunc, cfg Config) Result {
	t.Helper()
	cfg = testConfig(t, cfg)
	res, err := CheckGoroutines(open, cfg)
	report(t, res, err)
	return res
}

// CheckWorker is CheckStore for a store behind a worker command speaking
// the worker protocol (docs/PROTOCOL.md), one process per client.
func CheckWorker(t testing.TB, argv []string, cfg Config) Result {
	t.Helper()
	cfg = testConfig(t, cfg)
	res, err := CheckProcesses(argv, cfg)
	report(t, res, err)
	return res
}

func testConfig(t testing.TB, cfg Config) Config {
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	if cfg.ReportDir == "" {
		// Outlives the test, so the picture can be opened afterwards.
		cfg.ReportDir = filepath.Join(os.TempDir(), "sessioncheck-"+safeName(t.Name()))
	}
	return cfg
}

func report(t testing.TB, res Result, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("linearizability check (%s) could not run: %v", res.Mode, err)
	}
	t.Logf("linearizability (%s) %s: %s over %s in %.2fs", res.Mode, res.Store, res.Verdict, res.Work.Summary(), res.Seconds)
	// The verdict is verdict.Judge's: failed, hung or too many unknown
	// operations, and worker errors, are never a pass.
	if res.Verdict != Pass {
		msg := res.Detail
		if res.Visualization != "" {
			msg += "\nvisualization: " + res.Visualization
		}
		t.Fatalf("linearizability (%s): %s (seed %d)\n%s", res.Mode, res.Verdict, res.Seed, msg)
	}
}

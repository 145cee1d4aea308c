package explore

import "testing"

// TestStore is the one call a backend author makes from a Go test: it
// explores every interleaving of every built-in scenario on the store open
// opens and fails t with the counterexample — the exact schedule and the
// violation — if there is one. It logs how many schedules it checked.
//
//	func TestExplore(t *testing.T) {
//		explore.TestStore(t, explore.ImplOpener(mystore.Open))
//	}
func TestStore(t testing.TB, open Opener) {
	t.Helper()
	res := Check(open, Config{})
	switch res.Verdict {
	case Pass:
		t.Logf("explore: %s", res.Detail)
	default:
		t.Fatalf("explore: %s in %.2fs after %d schedules: %s", res.Verdict, res.Seconds, res.Schedules, res.Detail)
	}
}

// TestWorker is TestStore for a store in another process: it explores the
// built-in scenarios on the worker command argv through the scheduling
// hook (see CheckWorker) and fails t with the counterexample if there is
// one, or if the worker cannot be driven.
//
//	func TestExploreMyBackend(t *testing.T) {
//		explore.TestWorker(t, []string{"python3", "my_worker.py"})
//	}
func TestWorker(t testing.TB, argv []string) {
	t.Helper()
	res := CheckWorker(argv, Config{})
	switch res.Verdict {
	case Pass:
		t.Logf("explore: %s", res.Detail)
	default:
		t.Fatalf("explore: %s in %.2fs after %d schedules: %s", res.Verdict, res.Seconds, res.Schedules, res.Detail)
	}
}

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

package crash_test

import (
	"strings"
	"testing"

	"github.com/sessioncheck/sessioncheck/crash"
	"github.com/sessioncheck/sessioncheck/impl/variants"
)

// TestCatalogue runs the check on every store in the catalogue and holds it
// to the catalogue's expectation for "crash": the reference must pass, the
// variants the table names must be caught.
func TestCatalogue(t *testing.T) {
	for _, st := range variants.All() {
		want := st.Expectation("crash")
		t.Run(st.Name, func(t *testing.T) {
			t.Parallel()
			// The reference gets more seeds than the variants: a false alarm
			// is the costlier mistake, and each run costs a second or two
			// under the race detector.
			seeds := []int64{1}
			if want == "pass" {
				seeds = []int64{1, 2, 3}
			}
			for _, seed := range seeds {
				res := crash.Check(st.Open, crash.Config{Seed: seed})
				t.Logf("seed %d: %s, %d points, %d states, %d violations, %.2fs",
					seed, res.Verdict, res.Points, res.States, res.Violations, res.Seconds)
				switch {
				case res.Verdict == "error":
					t.Fatalf("seed %d: the check could not run: %s", seed, res.Detail)
				case want.Miss(res.Verdict) != "":
					t.Fatalf("seed %d: %s (%s, expected %s):\n%s", seed, want.Miss(res.Verdict), res.Verdict, want, res.Detail)
				case res.Verdict == "violation" && res.Detail == "":
					t.Fatalf("seed %d: a violation without a report", seed)
				}
				if res.Verdict == "violation" && seed == 1 {
					t.Logf("report:\n%s", res.Detail)
				}
			}
		})
	}
}

// TestReportNamesEverything holds a violation report to what a reader needs
// to act on it: the seed, the crash point, the operation in flight, what the
// model required and what was found.
func TestReportNamesEverything(t *testing.T) {
	st, ok := variants.Lookup("no-fsync")
	if !ok {
		t.Fatal("no-fsync is not in the catalogue")
	}
	res := crash.Check(st.Open, crash.Config{Seed: 4, Operations: 10})
	if res.Verdict != "violation" {
		t.Fatalf("no-fsync: %s, want a violation", res.Verdict)
	}
	for _, want := range []string{"seed 4", "crash after call #", "in flight:", "the model requires", "found", "replay"} {
		if !strings.Contains(res.Detail, want) {
			t.Errorf("report lacks %q:\n%s", want, res.Detail)
		}
	}
}

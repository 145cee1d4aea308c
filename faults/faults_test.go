package faults_test

import (
	"testing"

	"github.com/sessioncheck/sessioncheck/faults"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
)

// TestCatalogue runs the check on every store in the catalogue and holds it
// to the catalogue's expectation for "faults": the reference must pass, the
// variants the table names must be caught.
func TestCatalogue(t *testing.T) {
	for _, st := range variants.All() {
		want := st.Expectation("faults")
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
				res := faults.Check(workload.ImplOpener(st.Open), faults.Config{Seed: seed})
				t.Logf("seed %d: %s, %d points, %d injections, %d absorbed, %d violations, %.2fs",
					seed, res.Verdict, res.Points, res.Injections, res.Absorbed, res.Violations, res.Seconds)
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

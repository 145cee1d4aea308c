package proptest_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/sessioncheck/sessioncheck/proptest"
)

// TestFakePasses shows the suite passes a store that is the model.
func TestFakePasses(t *testing.T) {
	proptest.TestStore(t, fakeOpener(""))
}

// TestBrokenFakesCaught shows the suite fails on bugs that are not
// variants of the reference: a save that resurrects a deleted session, a
// store that forgets everything on restart.
func TestBrokenFakesCaught(t *testing.T) {
	for _, fault := range []string{"resurrect", "forget-on-reopen"} {
		t.Run(fault, func(t *testing.T) {
			r := proptest.Check(fakeOpener(fault), proptest.Config{Seed: 1, Checks: 200})
			if r.Verdict != proptest.Violation {
				t.Fatalf("verdict %s, want violation:\n%s", r.Verdict, r.Report)
			}
			t.Log(r.Report)
			requireReadableReport(t, r)
		})
	}
}

var stepLine = regexp.MustCompile(`(?m)^  step (\d+): `)

func requireReadableReport(t *testing.T, r proptest.Result) {
	t.Helper()
	if r.Steps == 0 {
		t.Fatalf("no steps counted in the report:\n%s", r.Report)
	}
	for _, want := range []string{"counterexample (", "step 1: ", "store did:", "model expected:", "replay: proptest.Config{Seed: "} {
		if !strings.Contains(r.Report, want) {
			t.Fatalf("report lacks %q:\n%s", want, r.Report)
		}
	}
	if strings.Contains(r.Report, "flaky") {
		t.Fatalf("rapid could not reproduce the failure:\n%s", r.Report)
	}
	if got := len(stepLine.FindAllString(r.Report, -1)); got < r.Steps {
		t.Fatalf("report shows %d step lines for %d steps:\n%s", got, r.Steps, r.Report)
	}
}

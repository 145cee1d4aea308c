package proptest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
)

// opener adapts a catalogue store to the suite.
func opener(v variants.Store) proptest.Opener {
	return func(dir string, clock model.Clock) (model.Store, error) {
		return v.Open(dir, impl.Options{Clock: clock, Secret: []byte("proptest")})
	}
}

// fastDir returns a directory for cases on tmpfs when the machine has one:
// the meta-tests run the suite, and rapid's shrinker the store, thousands
// of times, and on a journalled disk every case's mkdir, fsync and rmdir
// would cost more than the rest. The store still runs on the real OS.
func fastDir(t *testing.T) string {
	t.Helper()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		if dir, err := os.MkdirTemp("/dev/shm", "proptest-"); err == nil {
			t.Cleanup(func() { _ = os.RemoveAll(dir) })
			return dir
		}
	}
	return t.TempDir()
}

// TestCatalogue runs the suite on every built-in store and holds each to
// the catalogue's expectation for the "proptest" check: the stores whose
// bugs need concurrency or a crash pass this sequential suite, the others
// are caught. The table lives in impl/variants, not here.
func TestCatalogue(t *testing.T) {
	for _, v := range variants.All() {
		t.Run(v.Name, func(t *testing.T) {
			want := v.Expectation("proptest")
			r := proptest.Check(opener(v), proptest.Config{Dir: fastDir(t)})
			t.Logf("%s: expected %s, got %s (seed %d, %d cases)", v.Name, want, r.Verdict, r.Seed, r.Cases)
			switch want {
			case variants.Pass:
				if r.Verdict != proptest.Pass {
					t.Fatalf("%s must pass the suite:\n%s", v.Name, r.Report)
				}
				if r.Cases != proptest.DefaultChecks {
					t.Fatalf("%s passed %d cases, want %d", v.Name, r.Cases, proptest.DefaultChecks)
				}
			case variants.Violation:
				if r.Verdict != proptest.Violation {
					t.Fatalf("%s must be caught, got %s:\n%s", v.Name, r.Verdict, r.Report)
				}
				requireReadableReport(t, r)
			default:
				if r.Verdict == proptest.Error {
					t.Fatalf("%s: the suite could not run: %v\n%s", v.Name, r.Err, r.Report)
				}
			}
		})
	}
}

// TestTruncateThenLoadEverySeed is the meta-test of the issue: under 20
// seeds the suite catches Django #6984's order, shrinks it to at most four
// steps, and the report shows the steps, what the store did and what the
// model expected.
func TestTruncateThenLoadEverySeed(t *testing.T) {
	v, ok := variants.Lookup("truncate-then-load")
	if !ok {
		t.Fatal("the catalogue has no truncate-then-load")
	}
	dir := fastDir(t)
	for seed := uint64(1); seed <= 20; seed++ {
		r := proptest.Check(opener(v), proptest.Config{Seed: seed, Dir: dir})
		if r.Verdict != proptest.Violation {
			t.Fatalf("seed %d: verdict %s, want violation:\n%s", seed, r.Verdict, r.Report)
		}
		requireReadableReport(t, r)
		if r.Steps > 4 {
			t.Fatalf("seed %d: counterexample has %d steps, want at most 4:\n%s", seed, r.Steps, r.Report)
		}
		if seed == 1 {
			t.Logf("seed 1:\n%s", r.Report)
		}
	}
}

// TestUntouchedSaveProperty shows the dedicated property on its own: the
// reference keeps an untouched session's values and key, Django #6984's
// order loses them.
func TestUntouchedSaveProperty(t *testing.T) {
	ref, _ := variants.Lookup("reference")
	r := proptest.CheckUntouchedSave(opener(ref), proptest.Config{Dir: fastDir(t)})
	if r.Verdict != proptest.Pass || r.Cases != proptest.DefaultChecks {
		t.Fatalf("reference: %s after %d cases:\n%s", r.Verdict, r.Cases, r.Report)
	}
	bad, ok := variants.Lookup("truncate-then-load")
	if !ok {
		t.Fatal("the catalogue has no truncate-then-load")
	}
	r = proptest.CheckUntouchedSave(opener(bad), proptest.Config{Dir: fastDir(t)})
	if r.Verdict != proptest.Violation || !strings.Contains(r.Report, "Django #6984") {
		t.Fatalf("truncate-then-load: %s, want a violation naming Django #6984:\n%s", r.Verdict, r.Report)
	}
	t.Logf("truncate-then-load (seed %d):\n%s", r.Seed, r.Report)
}

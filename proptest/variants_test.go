package proptest_test

import (
	"sync"
	"testing"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
)

// opener adapts a catalogue store to the suite.
func opener(v variants.Store) proptest.Opener {
	return func(dir string, clock model.Clock) (model.Store, error) {
		return v.Open(dir, impl.Options{Clock: clock, Secret: []byte("proptest")})
	}
}

// inMemory adapts a catalogue store to the suite on an in-memory file
// system (one per case directory, kept across reopens): the same store
// code without the disk, for tests that run the suite many times over.
func inMemory(v variants.Store) proptest.Opener {
	var mu sync.Mutex
	disks := map[string]*memfs.FS{}
	return func(dir string, clock model.Clock) (model.Store, error) {
		mu.Lock()
		fsys := disks[dir]
		if fsys == nil {
			fsys = memfs.New(clock)
			if err := fsys.MkdirAll(dir, 0o700); err != nil {
				mu.Unlock()
				return nil, err
			}
			disks[dir] = fsys
		}
		mu.Unlock()
		return v.Open(dir, impl.Options{FS: fsys, Clock: clock, Secret: []byte("proptest")})
	}
}

// TestCatalogue runs the suite on every built-in store and holds each to
// the catalogue's expectation for the "proptest" check: the stores whose
// bugs need concurrency or a crash pass this sequential suite, the others
// are caught. The table lives in impl/variants, not here.
func TestCatalogue(t *testing.T) {
	for _, v := range variants.All() {
		t.Run(v.Name, func(t *testing.T) {
			want := v.Expectation("proptest")
			r := proptest.Check(opener(v), proptest.Config{})
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
	for seed := uint64(1); seed <= 20; seed++ {
		r := proptest.Check(inMemory(v), proptest.Config{Seed: seed})
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

package proptest_test

import (
	"fmt"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
)

// Check runs the suite outside `go test` and returns the verdict, the seed
// that replays it and, on a violation, the shortest counterexample found.
func ExampleCheck() {
	open := func(dir string, clock model.Clock) (model.Store, error) {
		return impl.Open(dir, impl.Options{Clock: clock})
	}
	r := proptest.Check(open, proptest.Config{Seed: 1, Checks: 50})
	fmt.Println("reference:", r.Verdict)

	// Django's 2007 order: the file is truncated before the session it is
	// about to rewrite is loaded.
	v, _ := variants.Lookup("truncate-then-load")
	open = func(dir string, clock model.Clock) (model.Store, error) {
		return v.Open(dir, impl.Options{Clock: clock})
	}
	// Shrinking reruns the store thousands of times; ShrinkTime bounds it.
	r = proptest.Check(open, proptest.Config{Seed: 1, Checks: 50, ShrinkTime: time.Second})
	fmt.Println("truncate-then-load:", r.Verdict)
	// r.Report holds the numbered steps, what the store did and what the
	// model expected; Config{Seed: r.Seed} replays it.

	// Output:
	// reference: pass
	// truncate-then-load: violation
}

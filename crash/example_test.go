package crash_test

import (
	"fmt"
	"testing"

	"github.com/sessioncheck/sessioncheck/crash"
	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
)

// Check a store the way a backend author would: one call with the store's
// Open function.
func ExampleCheck() {
	res := crash.Check(workload.ImplOpener(impl.Open), crash.Config{Seed: 1})
	fmt.Println(res.Verdict, res.Points > 0, res.Violations)
	// Output: pass true 0
}

// BenchmarkCheck times the default crash check of the reference store.
func BenchmarkCheck(b *testing.B) {
	for b.Loop() {
		if res := crash.Check(workload.ImplOpener(impl.Open), crash.Config{Seed: 1}); res.Verdict != "pass" {
			b.Fatal(res.Detail)
		}
	}
}

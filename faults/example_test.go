package faults_test

import (
	"fmt"
	"testing"

	"github.com/sessioncheck/sessioncheck/faults"
	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
)

// Check a store the way a backend author would: one call with the store's
// Open function.
func ExampleCheck() {
	res := faults.Check(workload.ImplOpener(impl.Open), faults.Config{Seed: 1})
	fmt.Println(res.Verdict, res.Injections > 0, res.Violations)
	// Output: pass true 0
}

// BenchmarkCheck times the default fault check of the reference store.
func BenchmarkCheck(b *testing.B) {
	for b.Loop() {
		if res := faults.Check(workload.ImplOpener(impl.Open), faults.Config{Seed: 1}); res.Verdict != "pass" {
			b.Fatal(res.Detail)
		}
	}
}

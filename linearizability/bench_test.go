package linearizability

import (
	"fmt"
	"testing"

	"github.com/sessioncheck/sessioncheck/worker/workertest"
)

// buildHistory records one history of n operations from 16 goroutine
// clients over 1,000 keys on a correct in-memory store.
func buildHistory(b *testing.B, n int) []Entry {
	b.Helper()
	cfg := Config{Workload: Workload{Clients: 16, Keys: 1000, Operations: n / 16, Seed: 1}}.withDefaults()
	hist, _, err := recordHistory(goroutineConns{memOpen(workertest.Correct)}, cfg, b.TempDir(), 1)
	if err != nil {
		b.Fatal(err)
	}
	return hist
}

// BenchmarkCheck measures porcupine's check of one history of 10,000 and
// of 100,000 operations (16 clients, 1,000 keys); the history is built
// outside the timer.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			hist := buildHistory(b, n)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				v, detail, _, err := CheckHistory(hist, 0, "", "")
				if err != nil || v != Pass {
					b.Fatalf("%s: %v\n%s", v, err, detail)
				}
			}
			b.ReportMetric(float64(len(hist)), "ops/history")
		})
	}
}

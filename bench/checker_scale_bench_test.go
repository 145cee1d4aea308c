package bench

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkCheckScale times the check of generated linearizable histories
// of 100k and 1M operations at 16 clients and 10,000 keys: the issue's
// scale goal (1M in at most 2 s and at most 12× the 100k time). Beside
// B/op (bytes allocated per check) it reports peak-MB, the Go heap's
// high-water mark over the check as the runtime saw it (HeapSys after the
// check, which the runtime does not give back within a run), so that the
// memory a 1M check needs is on the record, not only what it churns.
func BenchmarkCheckScale(b *testing.B) {
	for _, n := range []int{100_000, 1_000_000} {
		b.Run(fmt.Sprintf("ops=%dk", n/1000), func(b *testing.B) {
			shape := HistoryShape{Operations: n, Clients: 16, Keys: 10_000, Seed: 1}
			cachedHistory(b, shape)
			runtime.GC()
			benchCheck(b, shape)
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(ms.HeapSys)/1e6, "peak-MB")
		})
	}
}

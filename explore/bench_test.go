package explore

import (
	"testing"
)

// BenchmarkExploreReference explores every built-in scenario on the
// reference store, completely, per iteration, and reports schedules (and
// runs: executions including iterative deepening's re-runs) per second.
func BenchmarkExploreReference(b *testing.B) {
	open := opener(b, "reference")
	var schedules, runs int
	for b.Loop() {
		res := Check(open, Config{})
		if res.Verdict != Pass {
			b.Fatal(res.Detail)
		}
		schedules += res.Schedules
		runs += res.Runs
	}
	b.ReportMetric(float64(schedules)/b.Elapsed().Seconds(), "schedules/s")
	b.ReportMetric(float64(runs)/b.Elapsed().Seconds(), "runs/s")
	b.ReportMetric(float64(schedules)/float64(b.N), "schedules/op")
}

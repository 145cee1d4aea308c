package bench

import (
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/explore"
	"github.com/sessioncheck/sessioncheck/impl/variants"
)

// BenchmarkExplore times the explore check on the reference: every
// interleaving of every built-in scenario, each run on a fresh in-memory
// file system (explore's default) and checked against the model. It reports
// schedules/s (distinct schedules checked per second), runs/s (executions,
// which iterative deepening repeats) and the totals of one exploration.
func BenchmarkExplore(b *testing.B) {
	ref, _ := variants.Lookup("reference")
	open := explore.ImplOpener(ref.Open)
	b.ReportAllocs()
	var schedules, runs int
	start := time.Now()
	for range b.N {
		res := explore.Check(open, explore.Config{})
		if res.Verdict != explore.Pass || !res.Complete {
			b.Fatalf("explore on the reference: %s (complete %v)\n%s", res.Verdict, res.Complete, res.Detail)
		}
		schedules += res.Schedules
		runs += res.Runs
	}
	sec := time.Since(start).Seconds()
	b.ReportMetric(float64(schedules)/sec, "schedules/s")
	b.ReportMetric(float64(runs)/sec, "runs/s")
	b.ReportMetric(float64(schedules)/float64(b.N), "schedules")
}

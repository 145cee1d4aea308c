package bench

import (
	"fmt"
	"os"
	"testing"
	"time"
)

// BenchmarkCrashFootprint runs the crash check of the reference store at
// the budgets the issue names, each in a fresh process (this test binary,
// started again with CrashChildEnv set), and reports the process's peak
// resident set and CPU time beside the work done. A process's peak only
// grows, so measuring several budgets in one process would report the
// largest for all.
//
//	go test -run '^$' -bench CrashFootprint -benchtime 1x ./bench
func BenchmarkCrashFootprint(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for _, budget := range []float64{1, 20, 50, 200} {
		b.Run(fmt.Sprintf("budget=%g", budget), func(b *testing.B) {
			var last CrashRun
			var cpu float64
			for b.Loop() {
				run, err := MeasureCrash(exe, []string{"-test.run", "^$"}, "reference", budget, 30*time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				if run.Verdict != "pass" {
					b.Fatalf("reference at budget %g: %s", budget, run.Verdict)
				}
				last, cpu = run, cpu+run.CPUSeconds
			}
			b.ReportMetric(float64(last.PeakRSSKiB)/1024, "peak-MiB")
			b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(last.States), "states")
			b.ReportMetric(float64(last.Operations), "operations")
		})
	}
}

// TestCrashChildReports: the child mode the benchmark and bench/crashrss
// rely on runs a check and reports a peak that is a real figure.
func TestCrashChildReports(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run, err := MeasureCrash(exe, []string{"-test.run", "^$"}, "no-fsync", 0.1, 5*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if run.Store != "no-fsync" || run.Operations != CrashOperations(0.1) || run.States == 0 || run.PeakRSSKiB <= 0 || run.Verdict != "violation" {
		t.Errorf("child reported %+v", run)
	}
}

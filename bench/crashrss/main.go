// Command crashrss measures the crash check's peak memory and time at
// several budgets, each in a process of its own (a process's peak resident
// set only grows, so one process per budget is the only honest figure).
//
// Usage:
//
//	go run ./bench/crashrss                       # budgets 1, 20, 50, 200
//	go run ./bench/crashrss -budgets 5,1000 -store no-fsync
//
// It prints one Markdown table row per budget: the workload length, the
// crash states checked, how many were distinct and how many times a fresh
// store was opened on one, the check's wall time, the process's CPU time
// (the steadier figure on a shared machine) and its peak resident set
// (VmHWM).
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/bench"
)

func main() {
	if child, err := bench.ServeCrashChild(); child {
		if err != nil {
			fmt.Fprintln(os.Stderr, "crashrss:", err)
			os.Exit(1)
		}
		return
	}
	budgets := flag.String("budgets", "1,20,50,200", "comma-separated budgets, as sessioncheck -budget takes them")
	store := flag.String("store", "reference", "the catalogue store to check")
	timeout := flag.Duration("timeout", 10*time.Minute, "kill a check that runs longer than this")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "crashrss: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	var list []float64
	for _, s := range strings.Split(*budgets, ",") {
		b, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil || b <= 0 {
			fmt.Fprintf(os.Stderr, "crashrss: -budgets: %q is not a positive number\n", s)
			os.Exit(2)
		}
		list = append(list, b)
	}
	exe, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "crashrss:", err)
		os.Exit(1)
	}
	fmt.Println("| store | budget | operations | crash states | distinct | reopened | verdict | wall time | CPU time | peak RSS |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
	failed := false
	for _, b := range list {
		r, err := bench.MeasureCrash(exe, nil, *store, b, *timeout)
		if err != nil {
			fmt.Fprintln(os.Stderr, "crashrss:", err)
			failed = true
			continue
		}
		fmt.Printf("| %s | %g | %d | %d | %d | %d | %s | %.1f s | %.1f s | %.0f MiB |\n", r.Store, r.Budget, r.Operations, r.States,
			r.Distinct, r.Reopened, r.Verdict, r.Seconds, r.CPUSeconds, float64(r.PeakRSSKiB)/1024)
	}
	if failed {
		os.Exit(1)
	}
}

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// budgetSeeds is the environment variable that sets how many seeds
// TestSmallestBudgetMeetsTheCatalogue tries; .ci/run sets it to 20.
const budgetSeeds = "SESSIONCHECK_BUDGET_SEEDS"

// TestSmallestBudgetMeetsTheCatalogue runs the whole catalogue at the
// smallest budget the command accepts and requires every expectation met
// under every seed: the reference passes everything and every variant is
// caught by every check that must catch it. Only proptest's shrinking is
// cut short, which changes a counterexample's length, never a verdict.
func TestSmallestBudgetMeetsTheCatalogue(t *testing.T) {
	if testing.Short() {
		// rapid runs a fifth of its cases under -short, which proptest's
		// verdict rightly calls unknown: there is no budget to measure.
		t.Skip("-short: rapid cuts proptest's cases, so no budget is what it says")
	}
	seeds := 1 // the race run; .ci/run asks for 20
	if !raceEnabled {
		seeds = 2
	}
	if v := os.Getenv(budgetSeeds); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", budgetSeeds, v)
		}
		seeds = n
	}
	t.Setenv(asCommand, "1") // lin-processes re-executes this binary as a worker
	defer func(d time.Duration) { shrinkTime = d }(shrinkTime)
	shrinkTime = 100 * time.Millisecond

	start := time.Now()
	met := 0
	for seed := int64(1); seed <= int64(seeds); seed++ {
		var misses []string
		cfg := config{stores: storeNames(), checks: checkNames(), seed: seed, budget: minBudget,
			out: filepath.Join(t.TempDir(), "report")}
		results, _, err := runAll(cfg, &progress{})
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range results {
			if !r.met() {
				misses = append(misses, r.Store+"/"+r.Check+" "+r.Status+": "+firstLine(r.Detail))
			}
		}
		if len(misses) == 0 {
			met++
		} else {
			t.Errorf("budget %v, seed %d: %d expectation(s) not met:\n  %s", minBudget, seed, len(misses), strings.Join(misses, "\n  "))
		}
	}
	t.Logf("budget %v: every expectation met under %d of %d seeds (1 to %d), %.0f s", minBudget, met, seeds, seeds, time.Since(start).Seconds())
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

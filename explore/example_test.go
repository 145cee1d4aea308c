package explore_test

import (
	"fmt"

	"github.com/sessioncheck/sessioncheck/explore"
	"github.com/sessioncheck/sessioncheck/impl/variants"
)

// Explore every interleaving of the built-in scenarios on a store that
// rewrites session files in place (Django #8616), and replay the minimal
// counterexample from its schedule string.
func Example() {
	st, _ := variants.Lookup("write-in-place")
	open := explore.ImplOpener(st.Open)
	res := explore.Check(open, explore.Config{})
	x := res.Counterexample
	fmt.Println(res.Verdict, x.Scenario.Name, x.Schedule, x.Preemptions)

	again, err := explore.Replay(open, x.Scenario, x.Schedule, explore.Config{})
	fmt.Println(err, again.String() == x.String())
	// Output:
	// violation save-load 0000011 1
	// <nil> true
}

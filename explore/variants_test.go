package explore

import (
	"github.com/stretchr/testify/require"
	"testing"

	"github.com/sessioncheck/sessioncheck/impl/variants"
)

// TestCatalogue runs explore on every built-in store and requires what the
// catalogue's table says explore must conclude about it; a pass must also
// have counted its work: every operation reached a scheduling point, and
// every scenario had more than one schedule.
func TestCatalogue(t *testing.T) {
	for _, st := range variants.All() {
		want := st.Expectation("explore")
		if want == variants.Any {
			continue
		}
		t.Run(st.Name, func(t *testing.T) {
			res := Check(ImplOpener(st.Open), Config{})
			t.Logf("%s: %s in %.2fs, %d schedules, %d runs\n%s", st.Name, res.Verdict, res.Seconds, res.Schedules, res.Runs, res.Detail)
			require.Equal(t, string(want), res.Verdict)
			if want == variants.Pass {
				require.True(t, res.Complete, "the reference must be explored completely by default")
				requireCounted(t, res, len(Scenarios()))
				for _, c := range res.PerOp {
					t.Logf("  %s: %d operations, %d scheduling points, %d-%d each", c.Kind, c.Operations, c.Points, c.Min, c.Max)
				}
			}
		})
	}
}

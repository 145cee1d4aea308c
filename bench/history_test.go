package bench

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/linearizability"
	"github.com/sessioncheck/sessioncheck/model"
)

// The generated histories must be what the checker benchmarks claim: the
// requested size, linearizable (the checker passes them), and not
// trivially so — a history whose results are tampered with is caught, so
// the check being timed is a real search, not a no-op.
func TestHistoryIsLinearizableAndCheckable(t *testing.T) {
	for _, keys := range []int{10, 1000} {
		h, st, err := History(HistoryShape{Operations: 2000, Clients: 16, Keys: keys, Seed: 1})
		require.NoError(t, err)
		require.Len(t, h, 2000)
		require.Greater(t, st.GlobalOverlap, 10.0, "16 clients keep about 15 others in flight")
		v, detail, _, err := linearizability.CheckHistory(h, 30*time.Second, "", "gen")
		require.NoError(t, err)
		require.Equal(t, linearizability.Pass, v, detail)

		// Tamper: the first ok load of a stored record now reports
		// values nobody wrote.
		bad := append([]linearizability.Entry(nil), h...)
		found := false
		for i, e := range bad {
			if e.Op.Kind == model.OpLoad && e.Result.Outcome == model.OK {
				bad[i].Result.Record.Values = model.NewValues(map[string]string{"w": "never written"})
				found = true
				break
			}
		}
		require.True(t, found, "the history has an ok load")
		v, _, _, err = linearizability.CheckHistory(bad, 30*time.Second, "", "gen-bad")
		require.NoError(t, err)
		require.Equal(t, linearizability.Violation, v)
	}
}

// Fewer keys at the same number of clients mean more per-key overlap: the
// knob the scaling table turns.
func TestHistoryOverlapGrowsAsKeysShrink(t *testing.T) {
	prev := -1.0
	for _, keys := range []int{1000, 100, 10, 1} {
		_, st, err := History(HistoryShape{Operations: 5000, Clients: 16, Keys: keys, Seed: 2})
		require.NoError(t, err)
		require.Greater(t, st.Overlap, prev, "keys=%d", keys)
		prev = st.Overlap
	}
}

func TestHistoryDeterministic(t *testing.T) {
	a, _, err := History(HistoryShape{Operations: 500, Clients: 4, Keys: 5, Seed: 9})
	require.NoError(t, err)
	b, _, err := History(HistoryShape{Operations: 500, Clients: 4, Keys: 5, Seed: 9})
	require.NoError(t, err)
	require.Equal(t, a, b)
}

func TestHistoryRefusesBadShape(t *testing.T) {
	_, _, err := History(HistoryShape{Operations: 10, Clients: 0, Keys: 1})
	require.ErrorContains(t, err, "positive")
}

package explore

import (
	"errors"
	"github.com/stretchr/testify/require"
	"testing"
)

func TestToyCorrectPasses(t *testing.T) {
	res := Check(toyOpener(nil), Config{})
	t.Log(res.Detail)
	require.Equal(t, Pass, res.Verdict, res.Detail)
	require.True(t, res.Complete)
}

func TestToyBugsCaught(t *testing.T) {
	for name, set := range map[string]func(*toy){
		"in-place":   func(t *toy) { t.inPlace = true },
		"no-excl":    func(t *toy) { t.noExcl = true },
		"trunc-load": func(t *toy) { t.truncThenLoad = true },
		"deadlock":   func(t *toy) { t.deadlock = true },
	} {
		t.Run(name, func(t *testing.T) {
			res := Check(toyOpener(set), Config{})
			t.Log(res.Detail)
			require.Equal(t, Violation, res.Verdict, res.Detail)
			if name == "deadlock" {
				var de *DeadlockError
				require.True(t, errors.As(res.Counterexample.Problem, &de))
			}
		})
	}
}

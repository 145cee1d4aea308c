package crash_test

import (
	"testing"

	"github.com/sessioncheck/sessioncheck/check"
	"github.com/sessioncheck/sessioncheck/crash"
	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
	"github.com/sessioncheck/sessioncheck/model"
)

// wrapped is a store that is not *impl.Store: it embeds the reference
// behind the model.Store interface, as a backend adding a layer would.
type wrapped struct{ model.Store }

// A store that is only a model.Store, doing its I/O through Env.FS, can be
// crash-checked: the check takes a check.Opener, not *impl.Store.
func TestWrappedStore(t *testing.T) {
	ref := workload.ImplOpener(impl.Open)
	open := func(e check.Env) (model.Store, error) {
		st, err := ref(e)
		if err != nil {
			return nil, err
		}
		return wrapped{st}, nil
	}
	res := crash.Check(open, crash.Config{Seed: 1, Operations: 10})
	if res.Verdict != "pass" {
		t.Fatalf("verdict %s: %s", res.Verdict, res.Detail)
	}
}

package crash_test

import (
	"testing"

	"github.com/sessioncheck/sessioncheck/check"
	"github.com/sessioncheck/sessioncheck/crash"
	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/memfs/workload"
	"github.com/sessioncheck/sessioncheck/model"
)

// wrapped is a store that is not *impl.Store: it embeds the reference
// behind the model.Store interface, as a backend adding a layer would.
type wrapped struct{ model.Store }

// A store that is only a model.Store, doing its I/O through Env.FS, can be
// crash-checked: the check takes a check.Opener, not *impl.Store.
func TestWrappedStore(t *testing.T) {
	res := crash.Check(wrap(workload.ImplOpener(impl.Open)), crash.Config{Seed: 1, Operations: 10})
	if res.Verdict != "pass" {
		t.Fatalf("verdict %s: %s", res.Verdict, res.Detail)
	}
}

// The same layer over no-fsync, which crash must catch, is caught: the
// wrapper hides no bug. One seeded workload may not reach the faulty step,
// so up to five seeds are tried, as the command's rounds do.
func TestWrappedVariantCaught(t *testing.T) {
	v, ok := variants.Lookup("no-fsync")
	if !ok {
		t.Fatal("no variant no-fsync")
	}
	for seed := int64(1); seed <= 5; seed++ {
		res := crash.Check(wrap(workload.ImplOpener(v.Open)), crash.Config{Seed: seed, Operations: 20})
		if res.Verdict == "violation" {
			return
		}
		t.Logf("seed %d: %s", seed, res.Verdict)
	}
	t.Fatal("no-fsync behind a wrapper was not caught under seeds 1 to 5")
}

// wrap returns an opener of the store open gives, hidden behind wrapped.
func wrap(open check.Opener) check.Opener {
	return func(e check.Env) (model.Store, error) {
		st, err := open(e)
		if err != nil {
			return nil, err
		}
		return wrapped{st}, nil
	}
}

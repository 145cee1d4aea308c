package linearizability

import (
	"bytes"
	"io"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/workertest"
)

// memOpen opens instances of an in-memory store, all sharing one backing
// state per directory (as file stores share a directory).
func memOpen(bug workertest.Bug) OpenFunc {
	mems := map[string]*workertest.Mem{}
	var mu = make(chan struct{}, 1)
	return func(cfg worker.Config) (model.Store, error) {
		mu <- struct{}{}
		m := mems[cfg.Dir]
		if m == nil {
			m = workertest.NewMem()
			mems[cfg.Dir] = m
		}
		<-mu
		var r io.Reader
		if len(cfg.Keys) > 0 {
			r = poolReader(cfg.Keys)
		}
		now := cfg.Now
		return m.NewStore(func() time.Time { return now }, r, bug), nil
	}
}

// poolReader yields random bytes that model.NewKey turns into keys of the
// pool (each Read call one key).
func poolReader(keys []string) io.Reader {
	return readerFunc(func(p []byte) (int, error) {
		k := keys[rand.IntN(len(keys))]
		for i := range p {
			p[i] = 255 // rejected by NewKey's sampling
			if i < len(k) {
				p[i] = byte(bytes.IndexByte([]byte(model.KeyAlphabet), k[i]))
			}
		}
		return len(p), nil
	})
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestMemCorrectPasses(t *testing.T) {
	res := CheckStore(t, memOpen(workertest.Correct), Config{Histories: 50, Workload: Workload{Seed: 1}})
	if res.Histories != 50 || res.Operations < 50*40 {
		t.Fatalf("ran %d histories, %d operations", res.Histories, res.Operations)
	}
}

func TestMemSplitSaveCaught(t *testing.T) {
	res, err := CheckGoroutines(memOpen(workertest.SplitSave), Config{Histories: 200, Workload: Workload{Seed: 7, Keys: 1, Mix: Mix{Create: 1, Load: 4, Save: 4}}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Verdict != Violation {
		t.Fatalf("verdict %s after %d histories, want violation", res.Verdict, res.Histories)
	}
	t.Logf("caught after %d histories:\n%s\n%s", res.Histories, res.Detail, res.Visualization)
}

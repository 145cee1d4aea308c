package bench

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/linearizability"
)

// checkTimeout bounds one check in the benchmarks; running into it fails
// the benchmark (an unknown verdict is not a time).
const checkTimeout = 60 * time.Second

var historyCache sync.Map // HistoryShape → generated

type generated struct {
	h  []linearizability.Entry
	st HistoryStats
}

func cachedHistory(b *testing.B, shape HistoryShape) generated {
	b.Helper()
	if g, ok := historyCache.Load(shape); ok {
		return g.(generated)
	}
	h, st, err := History(shape)
	if err != nil {
		b.Fatal(err)
	}
	g := generated{h, st}
	historyCache.Store(shape, g)
	return g
}

func benchCheck(b *testing.B, shape HistoryShape) {
	g := cachedHistory(b, shape)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		v, detail, _, err := linearizability.CheckHistory(g.h, checkTimeout, "", "bench")
		if err != nil {
			b.Fatal(err)
		}
		if v != linearizability.Pass {
			b.Fatalf("%s on a linearizable history of %+v: %s", v, shape, detail)
		}
	}
	b.ReportMetric(g.st.Overlap, "key-overlap")
	b.ReportMetric(float64(len(g.h)), "ops")
}

// BenchmarkCheck times the linearizability check (history to porcupine
// operations, partition by key, search) of generated linearizable histories
// of 1k, 10k and 100k operations at 16 clients and 1,000 keys.
func BenchmarkCheck(b *testing.B) {
	for _, n := range []int{1_000, 10_000, 100_000} {
		b.Run(fmt.Sprintf("ops=%dk", n/1000), func(b *testing.B) {
			benchCheck(b, HistoryShape{Operations: n, Clients: 16, Keys: 1000, Seed: 1})
		})
	}
}

// BenchmarkCheckContention times the check of 10k operations at 16 clients
// as the keys they share shrink, so that more operations are in flight on
// each key at once (key-overlap is the mean number of other operations on
// the same key overlapping each operation).
func BenchmarkCheckContention(b *testing.B) {
	for _, keys := range contentionKeys {
		b.Run(fmt.Sprintf("keys=%d", keys), func(b *testing.B) {
			benchCheck(b, HistoryShape{Operations: 10_000, Clients: 16, Keys: keys, Seed: 1})
		})
	}
}

var contentionKeys = []int{1000, 100, 30, 10, 5}

package bench

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
)

// The store benchmarks. Every case is a pair run back to back in the same
// process on the same file system: .../floor (the bare system calls, see
// Floor) and .../reference (the store). Names:
//
//	BenchmarkStore/<op>-<durable|nondurable>/<size>/<clients>/<floor|reference>
//
// clients is c1 (one client), c8-keys (8 concurrent clients, each with its
// own store instance and its own key, the keys on distinct lock stripes) or
// c8-same (8 clients on one key). ns/op is wall time divided by the
// operations of all clients together, so for c8 it is the inverse of
// throughput.
//
// The non-durable store is the no-fsync variant: the reference has no option
// to skip fsync (its zero Options are production-ready and a store that may
// lose acknowledged saves is not an option a reference should offer), and
// the variant is the reference with exactly its Sync step replaced by
// nothing, which is what "non-durable" means.

// secret keys every store and record of the benchmarks.
var secret = []byte("sessioncheck-bench")

// benchDir returns a fresh directory for one benchmark under
// $SESSIONCHECK_BENCH_DIR (default: the system's temporary directory, which
// must be on a real disk for the durable figures to mean anything; run.sh
// checks and prints the file system type).
func benchDir(b *testing.B) string {
	b.Helper()
	return tempDir(b, os.Getenv("SESSIONCHECK_BENCH_DIR"), "sessioncheck-bench-*")
}

// tempDir makes a fresh directory under root ("" = the system's temporary
// directory), removed when the benchmark ends.
func tempDir(b *testing.B, root, pattern string) string {
	b.Helper()
	dir, err := os.MkdirTemp(root, pattern)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := os.RemoveAll(dir); err != nil {
			b.Errorf("removing %s: %v", dir, err)
		}
	})
	return dir
}

// stripedKeys returns n deterministic keys whose lock stripes differ, so
// that 8 clients on distinct keys measure the store's design rather than the
// luck of the hash (8 random keys share one of 64 stripes with probability
// 0.37; then those two clients wait for each other).
func stripedKeys(b *testing.B, st *impl.Store, n int) []string {
	b.Helper()
	r := rand.New(rand.NewPCG(7, 7))
	seen := map[string]bool{}
	var keys []string
	for len(keys) < n {
		k := make([]byte, model.KeyLength)
		for i := range k {
			k[i] = model.KeyAlphabet[r.IntN(len(model.KeyAlphabet))]
		}
		if lp := st.LockPath(string(k)); !seen[lp] {
			seen[lp] = true
			keys = append(keys, string(k))
		}
	}
	return keys
}

// openStore opens the reference (durable) or the no-fsync variant.
func openStore(b *testing.B, dir string, durable bool) *impl.Store {
	b.Helper()
	name := "reference"
	if !durable {
		name = "no-fsync"
	}
	v, ok := variants.Lookup(name)
	if !ok {
		b.Fatalf("no built-in store %q", name)
	}
	st, err := v.Open(dir, impl.Options{Secret: secret})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// pair is one benchmark case: the same work done by the floor and by the
// store. Each func gets the client's index and the iteration's index (unique
// among the iterations of its side).
type pair struct {
	floor, store func(c, i int) error
}

// sideTimes accumulates the time and allocations of one side of a pair.
type sideTimes struct {
	ns, cpu, allocs, bytes int64
}

// threadCPU returns the CPU time (user and system) the calling thread has
// used, in nanoseconds.
func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return 0
	}
	return ts.Nano()
}

var allocSamples = []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}

func readAllocs() (objects, bytes int64) {
	metrics.Read(allocSamples)
	return int64(allocSamples[0].Value.Uint64()), int64(allocSamples[1].Value.Uint64())
}

// runPair runs b.N iterations of each side of p, interleaved so that both
// sides see the same disk: with one client the sides alternate operation by
// operation (the order swapped every iteration); with several, the clients
// run block iterations each of one side, then of the other, the order
// swapped every round. It reports, besides the usual figures of the pair
// together, floor-ns/op, store-ns/op, their ratio x-floor, and the store's
// own allocations (store-allocs/op, store-B/op). With one client it also
// reports the CPU time (user and system) of each side and its ratio
// (floor-cpu-ns/op, store-cpu-ns/op, x-floor-cpu): on a loaded machine wall
// time includes waiting for a core, CPU time does not, and for an operation
// that never waits for the disk (a load from the page cache) it is the
// steadier measure of the work done.
//
// The disk of a shared machine drifts by a factor of 5 within seconds
// (other tenants' fsyncs); two benchmarks run one after the other would
// measure that drift, not the store. Interleaving makes the ratio a
// same-moment comparison.
func runPair(b *testing.B, clients, block int, p pair) {
	b.Helper()
	var fl, st sideTimes
	timed := func(t *sideTimes, fn func() error) {
		o0, b0 := readAllocs()
		c0 := threadCPU()
		t0 := time.Now()
		err := fn()
		t.ns += int64(time.Since(t0))
		t.cpu += threadCPU() - c0
		o1, b1 := readAllocs()
		t.allocs += o1 - o0
		t.bytes += b1 - b0
		if err != nil {
			b.Fatal(err)
		}
	}
	if clients == 1 {
		// One thread runs both sides, so its CPU clock measures them too.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for i := range b.N {
			f := func() error { return p.floor(0, i) }
			s := func() error { return p.store(0, i) }
			if i%2 == 0 {
				timed(&fl, f)
				timed(&st, s)
			} else {
				timed(&st, s)
				timed(&fl, f)
			}
		}
	} else {
		var nextF, nextS atomic.Int64
		phase := func(next *atomic.Int64, fn func(c, i int) error) error {
			var wg sync.WaitGroup
			errs := make([]error, clients)
			for c := range clients {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range block {
						i := int(next.Add(1) - 1)
						if i >= b.N {
							return
						}
						if err := fn(c, i); err != nil {
							errs[c] = err
							return
						}
					}
				}()
			}
			wg.Wait()
			return errors.Join(errs...)
		}
		for round := 0; nextF.Load() < int64(b.N) || nextS.Load() < int64(b.N); round++ {
			f := func() error { return phase(&nextF, p.floor) }
			s := func() error { return phase(&nextS, p.store) }
			if round%2 == 0 {
				timed(&fl, f)
				timed(&st, s)
			} else {
				timed(&st, s)
				timed(&fl, f)
			}
		}
	}
	n := float64(b.N)
	b.ReportMetric(float64(fl.ns)/n, "floor-ns/op")
	b.ReportMetric(float64(st.ns)/n, "store-ns/op")
	b.ReportMetric(float64(st.ns)/float64(fl.ns), "x-floor")
	if clients == 1 {
		b.ReportMetric(float64(fl.cpu)/n, "floor-cpu-ns/op")
		b.ReportMetric(float64(st.cpu)/n, "store-cpu-ns/op")
		b.ReportMetric(float64(st.cpu)/float64(fl.cpu), "x-floor-cpu")
	}
	b.ReportMetric(float64(st.allocs)/n, "store-allocs/op")
	b.ReportMetric(float64(st.bytes)/n, "store-B/op")
}

// shape is one concurrency shape of the store benchmarks.
type shape struct {
	name    string
	clients int
	sameKey bool
}

var shapes = []shape{{"c1", 1, false}, {"c8-keys", 8, false}, {"c8-same", 8, true}}

// fixture is what one benchmark case works on: per client a store instance,
// a key, its session file's path and a read buffer.
type fixture struct {
	dir     string
	floor   *Floor
	stores  []*impl.Store
	keys    []string
	paths   []string
	bufs    [][]byte
	rec     model.Record
	data    [][]byte // the encoded record per client (under its key)
	expiry  time.Time
	setup   *impl.Store // a non-durable store for preparing files fast
	clients int
}

func newFixture(b *testing.B, size int, sh shape, durable bool) *fixture {
	b.Helper()
	fx := &fixture{dir: benchDir(b), clients: sh.clients, expiry: time.Now().Add(24 * time.Hour)}
	fx.floor = &Floor{Dir: fx.dir, Durable: durable}
	fx.setup = openStore(b, fx.dir, false)
	keys := stripedKeys(b, fx.setup, sh.clients)
	var err error
	if fx.rec, err = RecordOfSize(keys[0], size, fx.expiry, secret); err != nil {
		b.Fatal(err)
	}
	for c := range sh.clients {
		k := keys[c]
		if sh.sameKey {
			k = keys[0]
		}
		fx.stores = append(fx.stores, openStore(b, fx.dir, durable))
		fx.keys = append(fx.keys, k)
		fx.paths = append(fx.paths, fx.setup.Path(k))
		fx.bufs = append(fx.bufs, make([]byte, size+4096))
		data, err := fx.setup.Encode(k, fx.rec)
		if err != nil {
			b.Fatal(err)
		}
		fx.data = append(fx.data, data)
	}
	return fx
}

// seed stores the record under every client's key, durably, so that the
// measured operations start from files that are on the disk.
func (fx *fixture) seed(b *testing.B) {
	b.Helper()
	f := &Floor{Dir: fx.dir, Durable: true}
	for c := range fx.clients {
		if err := f.Replace(fx.paths[c], fx.data[c]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStore times Load, Save, Touch, Create and Delete of the reference
// store and of the floor, for every size, durability and shape.
func BenchmarkStore(b *testing.B) {
	for _, op := range []string{"load", "save", "touch", "create", "delete"} {
		for _, durable := range []bool{true, false} {
			if op == "load" && !durable {
				continue // a load writes nothing
			}
			dname := op + "-durable"
			if !durable {
				dname = op + "-nondurable"
			}
			if op == "load" {
				dname = "load"
			}
			b.Run(dname, func(b *testing.B) {
				for _, size := range Sizes {
					b.Run(SizeName(size), func(b *testing.B) {
						for _, sh := range shapes {
							if sh.sameKey && (op == "create" || op == "delete") {
								continue // a create has no key to share; a delete of a shared key deletes nothing 7 times in 8
							}
							b.Run(sh.name, func(b *testing.B) {
								b.ReportAllocs()
								benchOp(b, op, size, sh, durable)
							})
						}
					})
				}
			})
		}
	}
}

func benchOp(b *testing.B, op string, size int, sh shape, durable bool) {
	fx := newFixture(b, size, sh, durable)
	var p pair
	switch op {
	case "load":
		fx.seed(b)
		p.floor = func(c, _ int) error {
			n, err := fx.floor.Read(fx.paths[c], fx.bufs[c])
			if err == nil && n != size {
				err = fmt.Errorf("read %d bytes, want %d", n, size)
			}
			return err
		}
		p.store = func(c, _ int) error {
			_, err := fx.stores[c].Load(fx.keys[c])
			return err
		}
	case "save":
		fx.seed(b)
		p.floor = func(c, _ int) error { return fx.floor.Replace(fx.paths[c], fx.data[c]) }
		p.store = func(c, _ int) error { return fx.stores[c].Save(fx.keys[c], fx.rec.Values, fx.expiry) }
	case "touch":
		fx.seed(b)
		// Touch must read the values it keeps: its floor is a read and a
		// replace.
		p.floor = func(c, _ int) error {
			if _, err := fx.floor.Read(fx.paths[c], fx.bufs[c]); err != nil {
				return err
			}
			return fx.floor.Replace(fx.paths[c], fx.data[c])
		}
		p.store = func(c, _ int) error { return fx.stores[c].Touch(fx.keys[c], fx.expiry) }
	case "create":
		p.floor = func(c, i int) error {
			return fx.floor.Publish(filepath.Join(fx.dir, "s_floor"+strconv.Itoa(i)), fx.data[c])
		}
		p.store = func(c, _ int) error {
			_, err := fx.stores[c].Create(fx.rec.Values, fx.expiry)
			return err
		}
	case "delete":
		// One file per iteration and side, made before the timer starts.
		paths := make([]string, b.N)
		keys := make([]string, b.N)
		prep := &Floor{Dir: fx.dir}
		for i := range b.N {
			paths[i] = filepath.Join(fx.dir, "s_floor"+strconv.Itoa(i))
			if err := prep.Publish(paths[i], fx.data[0]); err != nil {
				b.Fatal(err)
			}
			k, err := fx.setup.Create(fx.rec.Values, fx.expiry)
			if err != nil {
				b.Fatal(err)
			}
			keys[i] = k
		}
		if err := (&Floor{Dir: fx.dir, Durable: true}).syncDir(); err != nil {
			b.Fatal(err)
		}
		p.floor = func(_, i int) error { return fx.floor.Remove(paths[i]) }
		p.store = func(c, i int) error { return fx.stores[c].Delete(keys[i]) }
	default:
		b.Fatalf("unknown op %q", op)
	}
	// Blocks short enough that both sides see the same disk, long enough
	// that starting the clients of a phase is small beside the work.
	block := 32
	if durable && op != "load" {
		block = 2
	}
	b.ResetTimer()
	runPair(b, sh.clients, block, p)
}

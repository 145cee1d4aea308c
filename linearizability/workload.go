package linearizability

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// Mix weighs the operations of a workload: each operation is drawn with
// probability proportional to its weight. A zero Mix means DefaultMix.
type Mix struct {
	Create, Load, Save, Touch, Delete, Exists, Cycle, ClearExpired int
}

// DefaultMix exercises every operation, reads and writes about evenly.
var DefaultMix = Mix{Create: 3, Load: 6, Save: 6, Touch: 2, Delete: 2, Exists: 2, Cycle: 1, ClearExpired: 1}

func (m Mix) weights() []struct {
	kind model.Kind
	w    int
} {
	return []struct {
		kind model.Kind
		w    int
	}{
		{model.OpCreate, m.Create}, {model.OpLoad, m.Load}, {model.OpSave, m.Save}, {model.OpTouch, m.Touch},
		{model.OpDelete, m.Delete}, {model.OpExists, m.Exists}, {model.OpCycle, m.Cycle}, {model.OpClearExpired, m.ClearExpired},
	}
}

// Workload is the shape of one concurrent history. Its fields are knobs; the
// zero value of each means the default given.
type Workload struct {
	// Clients is the number of concurrent sequential clients (default 4).
	Clients int
	// Keys bounds the pool of keys clients choose from: created and cycled
	// keys join it, the oldest leaves when it is full (default 3). Fewer
	// keys mean more contention on each.
	Keys int
	// Mix weighs the operations (default DefaultMix).
	Mix Mix
	// ValueSize is the size in bytes of the padding value every write
	// carries beside its unique tag (default 16).
	ValueSize int
	// Operations is the number of operations per client in one history,
	// not counting the load that follows every cycle (default 10).
	Operations int
	// Seed fixes every random choice of the workload (which operation,
	// which key, which values and expiry); it does not fix the schedule.
	// History i of a check uses Seed+i.
	Seed uint64
	// KeySpace, if positive, makes the store draw fresh keys from a pool of
	// KeySpace fixed keys instead of at random, so that two creates can
	// collide: the only way to see a create that overwrites. Cycle is left
	// out of such a workload (the record it moves could not be attributed).
	KeySpace int
	// PastPercent is the share of writes, in percent, whose expiry lies in
	// the past, so that ClearExpired has something to remove (default 15;
	// negative means none).
	PastPercent int
}

func (w Workload) withDefaults() Workload {
	if w.Clients <= 0 {
		w.Clients = 4
	}
	if w.Keys <= 0 {
		w.Keys = 3
	}
	if w.Mix == (Mix{}) {
		w.Mix = DefaultMix
	}
	if w.KeySpace > 0 {
		w.Mix.Cycle = 0
	}
	if w.ValueSize <= 0 {
		w.ValueSize = 16
	}
	if w.Operations <= 0 {
		w.Operations = 10
	}
	if w.PastPercent == 0 {
		w.PastPercent = 15
	}
	// A negative PastPercent stays negative (no draw is below it), so
	// that withDefaults, which a check applies more than once, keeps it.
	return w
}

// KeyPool returns the fixed keys a KeySpace workload draws fresh keys from.
func KeyPool(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, 0x6b657973)) // "keys"
	keys := make([]string, n)
	for i := range keys {
		var b strings.Builder
		for range model.KeyLength {
			b.WriteByte(model.KeyAlphabet[r.IntN(len(model.KeyAlphabet))])
		}
		keys[i] = b.String()
	}
	return keys
}

// pool is the set of keys the clients of one history know.
type pool struct {
	mu   sync.Mutex
	keys []string
	max  int
}

func (p *pool) add(k string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, o := range p.keys {
		if o == k {
			return
		}
	}
	p.keys = append(p.keys, k)
	if len(p.keys) > p.max {
		p.keys = p.keys[1:]
	}
}

// pick returns a known key, or false if none is known yet.
func (p *pool) pick(r *rand.Rand) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.keys) == 0 {
		return "", false
	}
	return p.keys[r.IntN(len(p.keys))], true
}

// gen draws one client's operations.
type gen struct {
	w      Workload
	r      *rand.Rand
	client int // index of the client in the workload (not its recorder id)
	seq    int
	now    time.Time
}

func newGen(w Workload, seed uint64, client int, now time.Time) *gen {
	return &gen{w: w, r: rand.New(rand.NewPCG(seed, uint64(client)+1)), client: client, now: now}
}

// next draws an operation. Keys come from p; an operation that needs a key
// when none is known becomes a create.
func (g *gen) next(p *pool) model.Op {
	total := 0
	ws := g.w.Mix.weights()
	for _, x := range ws {
		total += max(x.w, 0)
	}
	kind := model.OpLoad
	if total > 0 {
		n := g.r.IntN(total)
		for _, x := range ws {
			if n < max(x.w, 0) {
				kind = x.kind
				break
			}
			n -= max(x.w, 0)
		}
	}
	op := model.Op{Kind: kind, Now: g.now}
	if kind != model.OpCreate && kind != model.OpClearExpired {
		k, ok := p.pick(g.r)
		if !ok {
			kind, op.Kind = model.OpCreate, model.OpCreate
		}
		op.Key = k
	}
	if kind == model.OpCreate || kind == model.OpSave {
		g.seq++
		op.Values = model.NewValues(map[string]string{
			"w":   fmt.Sprintf("c%d-%d", g.client, g.seq), // unique per write
			"pad": g.pad(),
		})
	}
	if kind == model.OpCreate || kind == model.OpSave || kind == model.OpTouch {
		op.Expiry = g.expiry()
	}
	return op
}

func (g *gen) pad() string {
	b := make([]byte, g.w.ValueSize)
	for i := range b {
		b[i] = "abcdefghijklmnopqrstuvwxyz"[g.r.IntN(26)]
	}
	return string(b)
}

// expiry draws a whole-second expiry: some in the past, most in the future.
func (g *gen) expiry() time.Time {
	if g.r.IntN(100) < g.w.PastPercent {
		return g.now.Add(-time.Duration(1+g.r.IntN(3600)) * time.Second)
	}
	return g.now.Add(time.Duration(60+g.r.IntN(7200)) * time.Second)
}

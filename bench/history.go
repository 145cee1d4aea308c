package bench

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/linearizability"
	"github.com/sessioncheck/sessioncheck/model"
)

// historyNow is the fixed store clock of every generated history.
var historyNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// HistoryShape is the shape of a generated history.
type HistoryShape struct {
	// Operations is the number of operations in the history.
	Operations int
	// Clients is the number of concurrent sequential clients.
	Clients int
	// Keys is the number of distinct session keys the operations act on.
	// Fewer keys at the same number of clients means more operations in
	// flight on each key at once: the cost driver of the search.
	Keys int
	// Seed fixes every choice.
	Seed uint64
}

// HistoryStats describes a generated history.
type HistoryStats struct {
	// Overlap is the mean, over operations, of the number of other
	// operations on the same key whose interval overlaps it: the per-key
	// concurrency the checker must untangle.
	Overlap float64
	// GlobalOverlap is the same over all keys.
	GlobalOverlap float64
}

// History returns a linearizable history of the given shape, made without
// any store and without real time, so that it is the same on every machine
// and every run: a simulation in which each client issues operations one
// after another (durations uniform in 20-200 µs, gaps in 0-50 µs of
// simulated time), each operation takes effect at a point drawn uniformly
// inside its interval, and its result is what model.StepSlot gives at that
// point. The mix is the checker's default without cycle and clear-expired
// (3 create, 6 load, 6 save, 2 touch, 2 delete, 2 exists); a create takes a
// key that is absent at its effect point; every save carries a unique value,
// as the workloads do. A fifth of the writes have an expiry in the past.
//
// Because every result is the model's, the checker must find the history
// linearizable; timing the check times the search, not a bug.
func History(shape HistoryShape) ([]linearizability.Entry, HistoryStats, error) {
	if shape.Operations <= 0 || shape.Clients <= 0 || shape.Keys <= 0 {
		return nil, HistoryStats{}, fmt.Errorf("bench: history shape needs positive operations, clients and keys: %+v", shape)
	}
	r := rand.New(rand.NewPCG(shape.Seed, 0x68697374)) // "hist"
	now := historyNow
	keys := make([]string, shape.Keys)
	for i := range keys {
		keys[i] = fmt.Sprintf("k%07d%s", i, strings.Repeat("0", model.KeyLength-8))
	}
	kinds := []model.Kind{model.OpCreate, model.OpLoad, model.OpSave, model.OpTouch, model.OpDelete, model.OpExists}
	weights := []int{3, 6, 6, 2, 2, 2}
	total := 0
	for _, w := range weights {
		total += w
	}
	draw := func() model.Kind {
		n := r.IntN(total)
		for i, w := range weights {
			if n < w {
				return kinds[i]
			}
			n -= w
		}
		panic("unreachable")
	}
	expiry := func() time.Time {
		if r.IntN(5) == 0 {
			return now.Add(-time.Duration(1+r.IntN(3600)) * time.Second)
		}
		return now.Add(time.Duration(60+r.IntN(7200)) * time.Second)
	}

	// Lay out every client's operations in simulated time.
	entries := make([]linearizability.Entry, 0, shape.Operations)
	points := make([]int64, 0, shape.Operations) // effect point of each entry
	clock := make([]int64, shape.Clients)
	seq := 0
	for c := range clock {
		clock[c] = int64(r.IntN(50_000))
	}
	q := &clientQueue{}
	for c := range clock {
		heap.Push(q, clientAt{c, clock[c]})
	}
	for len(entries) < shape.Operations {
		next := heap.Pop(q).(clientAt) // the client whose next call is earliest
		c := next.client
		call := clock[c]
		ret := call + int64(20_000+r.IntN(180_000))
		op := model.Op{Kind: draw(), Now: now}
		if op.Kind != model.OpCreate {
			op.Key = keys[r.IntN(len(keys))]
		}
		if op.Kind == model.OpCreate || op.Kind == model.OpSave {
			seq++
			op.Values = model.NewValues(map[string]string{"w": fmt.Sprintf("c%d-%d", c, seq)})
		}
		if op.Kind == model.OpCreate || op.Kind == model.OpSave || op.Kind == model.OpTouch {
			op.Expiry = expiry()
		}
		entries = append(entries, linearizability.Entry{Client: c, Op: op, Call: call, Return: ret})
		points = append(points, call+r.Int64N(ret-call+1))
		clock[c] = ret + int64(r.IntN(50_000))
		heap.Push(q, clientAt{c, clock[c]})
	}

	// Apply them in effect-point order to per-key slots.
	order := make([]int, len(entries))
	for i := range order {
		order[i] = i
	}
	sortByPoint(order, points)
	slots := make(map[string]model.Slot, len(keys))
	var absent []string // keys absent now, for creates; rebuilt lazily
	for _, i := range order {
		e := &entries[i]
		if e.Op.Kind == model.OpCreate {
			absent = absent[:0]
			for _, k := range keys {
				if !slots[k].Stored {
					absent = append(absent, k)
				}
			}
			if len(absent) == 0 {
				// Every key is stored: this create becomes a load of a
				// random key (it keeps the history's size and shape).
				e.Op = model.Op{Kind: model.OpLoad, Key: keys[r.IntN(len(keys))], Now: now}
			} else {
				e.Op.Key = absent[r.IntN(len(absent))]
			}
		}
		slotOp := model.SlotOp{Kind: e.Op.Kind, Values: e.Op.Values, Expiry: e.Op.Expiry, Now: now}
		next, res, legal := model.StepSlot(slots[e.Op.Key], slotOp)
		if !legal {
			return nil, HistoryStats{}, fmt.Errorf("bench: generated an illegal %v on %s (generator bug)", e.Op.Kind, e.Op.Key)
		}
		slots[e.Op.Key] = next
		e.Result = model.Result{Outcome: res.Outcome, Record: res.Record, Exists: res.Exists}
		if e.Op.Kind == model.OpCreate {
			e.Result = model.Result{Key: e.Op.Key}
			e.Op.Key = ""
		}
	}
	return entries, stats(entries), nil
}

// stats computes the overlaps with a sweep over each key's intervals.
func stats(h []linearizability.Entry) HistoryStats {
	keyOf := func(e linearizability.Entry) string {
		if e.Op.Kind == model.OpCreate {
			return e.Result.Key
		}
		return e.Op.Key
	}
	byKey := map[string][]int{}
	all := make([]int, len(h))
	for i, e := range h {
		byKey[keyOf(e)] = append(byKey[keyOf(e)], i)
		all[i] = i
	}
	count := func(idx []int) int {
		// For each operation, the others whose interval intersects it.
		n := 0
		calls := make([]int64, len(idx))
		rets := make([]int64, len(idx))
		for j, i := range idx {
			calls[j], rets[j] = h[i].Call, h[i].Return
		}
		sortInt64(calls)
		sortInt64(rets)
		for _, i := range idx {
			// started before i returns, minus ended before i calls, minus i.
			n += upper(calls, h[i].Return) - lower(rets, h[i].Call) - 1
		}
		return n
	}
	var per int
	for _, idx := range byKey {
		per += count(idx)
	}
	return HistoryStats{
		Overlap:       float64(per) / float64(len(h)),
		GlobalOverlap: float64(count(all)) / float64(len(h)),
	}
}

type clientAt struct {
	client int
	at     int64
}

type clientQueue []clientAt

func (q clientQueue) Len() int { return len(q) }
func (q clientQueue) Less(i, j int) bool {
	return q[i].at < q[j].at || q[i].at == q[j].at && q[i].client < q[j].client
}
func (q clientQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *clientQueue) Push(x any)   { *q = append(*q, x.(clientAt)) }
func (q *clientQueue) Pop() any {
	old := *q
	x := old[len(old)-1]
	*q = old[:len(old)-1]
	return x
}

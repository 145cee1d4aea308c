package linearizability

import (
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/sessioncheck/sessioncheck/model"
)

// Entry is one whole-store operation of a history.
type Entry struct {
	// Client is the dense id of the sequential client that ran it. A
	// client whose operation ends with an unknown outcome continues under
	// a new id, so the operations of one id never overlap.
	Client int
	// Op is the operation; Op.Now is the store's fixed clock.
	Op model.Op
	// Result is what the store returned (meaningless when Unknown).
	Result model.Result
	// Unknown marks an operation whose outcome is unknown: a timeout, a
	// dead worker, or a failure (an I/O error may leave an operation half
	// done). Return is then math.MaxInt64.
	Unknown bool
	// Message is the error text of a failed or unknown operation.
	Message string
	// Call and Return are nanoseconds since the recorder's base, on one
	// monotonic clock.
	Call, Return int64
}

func (e Entry) String() string {
	ret := "∞"
	if e.Return != math.MaxInt64 {
		ret = fmt.Sprintf("%.1fµs", float64(e.Return)/1e3)
	}
	res := model.Printer{}.Result(e.Op.Kind, e.Result)
	if e.Unknown {
		res = "unknown"
		if e.Message != "" {
			res += " (" + e.Message + ")"
		}
	}
	return fmt.Sprintf("[%.1fµs, %s] c%d %s → %s", float64(e.Call)/1e3, ret, e.Client, describeWholeOp(e.Op), res)
}

func describeWholeOp(op model.Op) string {
	s := op.Kind.String() + "("
	var args []string
	if op.Kind != model.OpCreate && op.Kind != model.OpClearExpired {
		args = append(args, op.Key)
	}
	if op.Kind == model.OpCreate || op.Kind == model.OpSave {
		args = append(args, describeValues(op.Values))
	}
	if op.Kind == model.OpCreate || op.Kind == model.OpSave || op.Kind == model.OpTouch {
		args = append(args, "expiry "+describeRel(op.Expiry, op.Now))
	}
	for i, a := range args {
		if i > 0 {
			s += ", "
		}
		s += a
	}
	return s + ")"
}

// Recorder records a history. It stamps the call and the return of every
// operation on one monotonic clock (time.Since one base), and refuses its
// own bad input: a second call for a client with an operation in flight, a
// return without a call, an unknown client id. It is safe for concurrent use
// by the clients of a history.
type Recorder struct {
	base     time.Time
	mu       sync.Mutex
	entries  []Entry
	inflight map[int]int // client id → index of its operation in flight
	clients  int
}

// NewRecorder returns an empty recorder whose clock starts now.
func NewRecorder() *Recorder {
	return &Recorder{base: time.Now(), inflight: make(map[int]int)}
}

func (r *Recorder) now() int64 { return time.Since(r.base).Nanoseconds() }

// NewClient returns a fresh dense client id.
func (r *Recorder) NewClient() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients++
	return r.clients - 1
}

// Begin records the call of op by client, stamped now. Call it right before
// the operation starts.
func (r *Recorder) Begin(client int, op model.Op) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if client < 0 || client >= r.clients {
		return fmt.Errorf("recorder: unknown client %d (have %d)", client, r.clients)
	}
	if i, busy := r.inflight[client]; busy {
		return fmt.Errorf("recorder: client %d calls %v while %v is in flight", client, op.Kind, r.entries[i].Op.Kind)
	}
	r.inflight[client] = len(r.entries)
	r.entries = append(r.entries, Entry{Client: client, Op: op, Call: r.now(), Return: math.MaxInt64})
	return nil
}

// End records the return of client's operation in flight, stamped now. Call
// it right after the operation returns. A result with outcome Failed is
// recorded as an unknown outcome (the store may have done part of it), and
// the client continues under a new id: End returns the id to use next.
func (r *Recorder) End(client int, res model.Result, err error) (int, error) {
	ret := r.now() // before the lock: the return stamp must not be early
	r.mu.Lock()
	defer r.mu.Unlock()
	i, busy := r.inflight[client]
	if !busy {
		return client, fmt.Errorf("recorder: client %d returns with no operation in flight", client)
	}
	delete(r.inflight, client)
	e := &r.entries[i]
	if ret < e.Call {
		return client, fmt.Errorf("recorder: client %d returns at %d before its call at %d", client, ret, e.Call)
	}
	e.Result, e.Return = res, ret
	if err != nil {
		e.Message = err.Error()
	}
	if res.Outcome == model.Failed {
		e.Unknown, e.Return = true, math.MaxInt64
		r.clients++
		return r.clients - 1, nil
	}
	return client, nil
}

// Abandon gives client's operation in flight an unknown outcome (return
// time math.MaxInt64) and returns the new client id under which the client
// continues, so that the operations of one id never overlap.
func (r *Recorder) Abandon(client int, why string) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	i, busy := r.inflight[client]
	if !busy {
		return client, fmt.Errorf("recorder: client %d abandons no operation", client)
	}
	delete(r.inflight, client)
	r.entries[i].Unknown, r.entries[i].Return, r.entries[i].Message = true, math.MaxInt64, why
	r.clients++
	return r.clients - 1, nil
}

// Add appends an operation timed elsewhere (an imported history). It refuses
// a return before the call, an unknown client, and an operation that
// overlaps another of the same client.
func (r *Recorder) Add(e Entry) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Return < e.Call {
		return fmt.Errorf("recorder: %v returns before its call", e.Op.Kind)
	}
	if e.Client < 0 {
		return fmt.Errorf("recorder: negative client id %d", e.Client)
	}
	if _, busy := r.inflight[e.Client]; busy {
		return fmt.Errorf("recorder: client %d has an operation in flight", e.Client)
	}
	for _, o := range r.entries {
		if o.Client == e.Client && o.Call <= e.Return && e.Call <= o.Return {
			return fmt.Errorf("recorder: client %d: %v at [%d,%d] overlaps %v at [%d,%d]",
				e.Client, e.Op.Kind, e.Call, e.Return, o.Op.Kind, o.Call, o.Return)
		}
	}
	if e.Unknown {
		e.Return = math.MaxInt64
	}
	r.entries = append(r.entries, e)
	r.clients = max(r.clients, e.Client+1)
	return nil
}

// Finish gives every operation still in flight an unknown outcome and
// returns the history, in call order.
func (r *Recorder) Finish(why string) []Entry {
	r.mu.Lock()
	defer r.mu.Unlock()
	for c, i := range r.inflight {
		r.entries[i].Unknown, r.entries[i].Return, r.entries[i].Message = true, math.MaxInt64, why
		delete(r.inflight, c)
	}
	out := slices.Clone(r.entries)
	slices.SortStableFunc(out, func(a, b Entry) int { return compareInt64(a.Call, b.Call) })
	return out
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Operations splits a history into porcupine operations, one per key an
// operation touches. An operation with a known outcome becomes its parts
// (model.Split):
//   - Create becomes a create on the key it returned.
//   - Cycle becomes a cycle-out on the old key and a cycle-in on the new key,
//     in their own partitions, so each takes effect at its own instant. The
//     record moved is not returned by Cycle; the workload loads the new
//     key right after a cycle, before any other client knows the key, and
//     that load's record is the record moved. Without such a load the
//     cycle-out accepts any record.
//   - ClearExpired becomes an expire on each key it reported.
//   - A result the model never allows for any state (model.Split's error:
//     a create or clear-expired that is not ok, a bad new key) becomes an
//     operation that no state accepts, on a key of its own.
//
// An operation of unknown outcome becomes what may have happened on the
// keys one can name (model.SplitUnknown), each of unknown outcome: nothing
// for a create (no one can know its key, so no other operation can observe
// it), a cycle-out on a cycle's old key, an expire on every key of the
// history for a clear-expired, and the operation itself for the others.
func Operations(h []Entry) []porcupine.Operation {
	// Most entries give one operation; growing a slice of 1M operations
	// by appending was the largest cost of converting a long history.
	ops := make([]porcupine.Operation, 0, len(h))
	keys := map[string]bool{}
	unknownCreates := false
	for _, e := range h {
		switch e.Op.Kind {
		case model.OpCreate, model.OpCycle:
			if e.Unknown {
				unknownCreates = true
			} else if e.Result.Outcome == model.OK {
				keys[e.Result.Key] = true
			}
		case model.OpClearExpired:
		default:
			keys[e.Op.Key] = true
		}
		if e.Op.Kind == model.OpCycle {
			keys[e.Op.Key] = true
		}
	}
	// touching indexes, per key, the operations that may act on it.
	touching := map[string][]int{}
	for i, e := range h {
		switch e.Op.Kind {
		case model.OpCreate:
			touching[e.Result.Key] = append(touching[e.Result.Key], i)
		case model.OpCycle:
			touching[e.Op.Key] = append(touching[e.Op.Key], i)
			touching[e.Result.Key] = append(touching[e.Result.Key], i)
		case model.OpClearExpired:
			for _, k := range e.Result.Removed {
				touching[k] = append(touching[k], i)
			}
		default:
			touching[e.Op.Key] = append(touching[e.Op.Key], i)
		}
	}
	add := func(i int, e Entry, key string, op model.SlotOp, out Output) {
		op.Now = e.Op.Now
		ops = append(ops, porcupine.Operation{
			ClientId: e.Client,
			Input:    Input{Key: key, Op: op, Client: e.Client, Entry: i},
			Call:     e.Call,
			Output:   out,
			Return:   e.Return,
		})
	}
	for i, e := range h {
		if e.Unknown {
			for _, p := range model.SplitUnknown(e.Op, nil, slices.Sorted(mapKeys(keys))) {
				add(i, e, p.Key, p.Op, Output{Unknown: true})
			}
			continue
		}
		parts, err := model.Split(e.Op, e.Result)
		if err != nil {
			// A whole-store kind is no slot operation: StepSlot finds
			// it impossible from every state.
			add(i, e, fmt.Sprintf("(%s #%d)", e.Op.Kind, i), model.SlotOp{Kind: e.Op.Kind, Values: e.Op.Values, Expiry: e.Op.Expiry}, Output{Impossible: err.Error()})
			continue
		}
		var moved model.Record
		var sure bool
		if e.Op.Kind == model.OpCycle && e.Result.Outcome == model.OK {
			var seen bool
			moved, seen, sure = movedRecord(h, i, touching)
			if !seen {
				// A stand-in nobody wrote: any later load of the new key
				// that is not of unknown outcome will not match it.
				moved = model.Record{
					Values: model.NewValues(map[string]string{"?": "record moved from " + e.Op.Key + " (not observed)"}),
					Expiry: e.Op.Now.Add(1000 * time.Hour),
				}
			}
		}
		for _, p := range parts {
			out := Output{Result: p.Result}
			if p.Moves() {
				p = p.Moving(moved)
				out = Output{Result: p.Result, AnyRecord: p.Op.Kind == model.OpCycleOut && !sure}
			}
			if p.Op.Kind == model.OpExpire && !keys[p.Key] && unknownCreates {
				continue // perhaps created by an operation of unknown outcome
			}
			add(i, e, p.Key, p.Op, out)
		}
	}
	return ops
}

// movedRecord finds the load of the new key that the same client ran right
// after the cycle at index i. It returns that load's record if it was ok,
// and whether the record is surely the one the cycle moved: no other
// operation that may change the new key overlaps the cycle and the load.
// Clear-expired operations do not count: with the fixed clock the moved
// record is live and stays so until some other write, which would count.
// When another write may have come between, the load's record is still the
// right start for the new key's history (a save or touch in between ends in
// the record the load saw), but it says nothing about the old key.
func movedRecord(h []Entry, i int, touching map[string][]int) (rec model.Record, ok, sure bool) {
	c := h[i]
	for j := i + 1; j < len(h); j++ {
		e := h[j]
		if e.Client != c.Client {
			continue
		}
		if e.Op.Kind != model.OpLoad || e.Op.Key != c.Result.Key || e.Unknown || e.Result.Outcome != model.OK {
			return model.Record{}, false, false
		}
		for _, k := range touching[c.Result.Key] {
			if k != i && k != j && h[k].Op.Kind != model.OpClearExpired && h[k].Call <= e.Return && h[k].Return >= c.Call {
				return e.Result.Record, true, false
			}
		}
		return e.Result.Record, true, true
	}
	return model.Record{}, false, false
}

func mapKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

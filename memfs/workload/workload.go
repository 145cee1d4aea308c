// Package workload drives a store over memfs with a seeded sequence of
// operations, one at a time, and reads a store's state back after the fact.
// The crash and fault checks share it: both run a workload, disturb the file
// system at one call, and ask whether what the store holds afterwards is a
// state the model allows.
//
// Everything is a function of the seed: the operations, the values (unique
// per write, so every record found is attributable to the write that made
// it), the clock and the keys the store draws (through check.Env.NewKey).
package workload

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/check"
	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/memfs/hookfs"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// Dir is the session directory on the simulated disk.
const Dir = "/sessions"

// Start is the store's clock at the first operation; the clock advances one
// second per operation. Every expiry lies after it.
var Start = memfs.Epoch.Add(24 * time.Hour)

const secret = "sessioncheck workload secret"

// NeverKey is a valid key no store is ever given to create: operations on
// it exercise the not-found paths.
const NeverKey = "never0created0000000000000000000"

// Opener opens a store in an environment the workload decides; any
// model.Store that does its I/O through Env.FS will do (see check.Env for
// the determinism it needs).
type Opener = check.Opener

// ImplOpener adapts an opener of the reference's shape (impl.Open, the
// variants' Open) to an Opener.
func ImplOpener(open func(dir string, opts impl.Options) (*impl.Store, error)) Opener {
	return func(e check.Env) (model.Store, error) {
		return open(e.Dir, impl.Options{FS: e.FS, Clock: e.Clock, NewKey: e.NewKey, Secret: e.Secret})
	}
}

// Step is one generated operation. Keys are chosen when it runs, because
// only then is it known which keys exist.
type Step struct {
	Kind   model.Kind
	Ref    int           // which known key, counting back from the newest (mod 5); -1 = NeverKey
	Values model.Values  // Create, Save
	TTL    time.Duration // Create, Save, Touch: expiry = now + TTL
}

// Generate returns n operations drawn from seed. A third are Create or
// Cycle, so there are keys to work on; most work on one of the five newest
// keys, so they find it live; TTLs (3 to 42 operations) are short enough
// that records expire during the run and ClearExpired has work.
func Generate(seed int64, n int) []Step {
	r := rand.New(rand.NewPCG(uint64(seed), 0x5e55))
	steps := make([]Step, 0, n)
	for i := range n {
		st := Step{Ref: r.IntN(1 << 20), TTL: time.Duration(3+r.IntN(40)) * time.Second}
		if r.IntN(12) == 0 {
			st.Ref = -1
		}
		switch p := r.IntN(100); {
		case i == 0 || p < 22:
			st.Kind = model.OpCreate
		case p < 44:
			st.Kind = model.OpSave
		case p < 54:
			st.Kind = model.OpTouch
		case p < 64:
			st.Kind = model.OpDelete
		case p < 74:
			st.Kind = model.OpCycle
		case p < 86:
			st.Kind = model.OpLoad
		case p < 92:
			st.Kind = model.OpExists
		default:
			st.Kind = model.OpClearExpired
		}
		if st.Kind == model.OpCreate || st.Kind == model.OpSave {
			st.Values = model.NewValues(map[string]string{"write": fmt.Sprint(i), "user": fmt.Sprintf("u%d", r.IntN(100))})
		}
		steps = append(steps, st)
	}
	return steps
}

// Env is one run: a simulated disk, the hooked view the store works
// through, the store, and what the run has learnt about keys.
type Env struct {
	Disk  *memfs.FS
	FS    *hookfs.FS
	Store model.Store
	Now   time.Time // the store's clock
	Known []string  // keys Create and Cycle returned, in order
	Drawn []string  // every key the store drew, in order
	keys  *rand.Rand
	known map[string]bool // the keys in Known
}

// NewEnv makes an empty disk holding Dir and opens a store on it through
// hooks. The keys the store draws come from seed.
func NewEnv(open Opener, seed int64, hooks hookfs.Hooks) (*Env, error) {
	e := &Env{Now: Start, keys: rand.New(rand.NewPCG(uint64(seed), 0x6b657973))}
	e.Disk = memfs.New(func() time.Time { return e.Now })
	if err := e.Disk.MkdirAll(Dir, 0o700); err != nil {
		return nil, err
	}
	e.FS = hookfs.New(e.Disk, hooks)
	st, err := open(check.Env{Dir: Dir, FS: e.FS, Clock: func() time.Time { return e.Now }, NewKey: e.newKey,
		Secret: []byte(secret)})
	if err != nil {
		return nil, fmt.Errorf("open store on an empty directory: %w", err)
	}
	e.Store = st
	return e, nil
}

func (e *Env) newKey() (string, error) {
	b := make([]byte, model.KeyLength)
	for i := range b {
		b[i] = model.KeyAlphabet[e.keys.IntN(len(model.KeyAlphabet))]
	}
	e.Drawn = append(e.Drawn, string(b))
	return string(b), nil
}

// Prepare advances the clock and turns st into an operation on a concrete
// key, without running it.
func (e *Env) Prepare(st Step) model.Op {
	e.Now = e.Now.Add(time.Second)
	op := model.Op{Kind: st.Kind, Values: st.Values, Now: e.Now}
	switch st.Kind {
	case model.OpCreate, model.OpSave, model.OpTouch:
		op.Expiry = e.Now.Add(st.TTL)
	}
	if st.Kind != model.OpCreate && st.Kind != model.OpClearExpired {
		op.Key = NeverKey
		if st.Ref >= 0 && len(e.Known) > 0 {
			// Recent keys are the likeliest to be live, so most
			// operations find a session to work on.
			op.Key = e.Known[len(e.Known)-1-st.Ref%min(len(e.Known), 5)]
		}
	}
	return op
}

// Exec runs op on the store and returns what it returned and its error.
// A key that Create or Cycle returns becomes known.
func (e *Env) Exec(op model.Op) (model.Result, error) {
	res, err := model.Do(e.Store, op)
	if res.Key != "" && !e.known[res.Key] {
		if e.known == nil {
			e.known = map[string]bool{}
		}
		e.known[res.Key] = true
		e.Known = append(e.Known, res.Key)
	}
	return res, err
}

// Keys returns every key the run knows of or drew, and NeverKey, sorted.
func (e *Env) Keys() []string {
	keys := append(append([]string{NeverKey}, e.Known...), e.Drawn...)
	slices.Sort(keys)
	return slices.Compact(keys)
}

// Observation is what a fresh store finds under one key.
type Observation struct {
	Slot model.Slot
	Err  error // the load failed: corrupt, or an I/O error
}

func (o Observation) String() string {
	if o.Err != nil {
		return "error: " + o.Err.Error()
	}
	return o.Slot.String()
}

// Observe opens a fresh store on fsys, with its clock before every expiry
// so that every stored record is live and shows, and loads each key.
func Observe(open Opener, fsys seam.FS, keys []string) (map[string]Observation, error) {
	o, err := NewObserver(open, fsys)
	if err != nil {
		return nil, err
	}
	obs := make(map[string]Observation, len(keys))
	for _, k := range keys {
		obs[k] = o.Load(k)
	}
	return obs, nil
}

// Observer is a fresh store opened on a disk after the fact, loading keys
// as a checker asks for them; it remembers what each key showed, so asking
// again costs nothing. A checker that meets the same disk at many moments
// keeps one Observer for it and asks each moment only for the keys that
// moment needs.
type Observer struct {
	store model.Store
	seen  map[string]Observation
}

// NewObserver opens a fresh store on fsys, with its clock before every
// expiry so that every stored record is live and shows.
func NewObserver(open Opener, fsys seam.FS) (*Observer, error) {
	st, err := open(check.Env{Dir: Dir, FS: fsys, Clock: func() time.Time { return memfs.Epoch },
		Secret: []byte(secret)})
	if err != nil {
		return nil, fmt.Errorf("reopen the store: %w", err)
	}
	return &Observer{store: st, seen: map[string]Observation{}}, nil
}

// Load returns what the store finds under key.
func (o *Observer) Load(key string) Observation {
	if ob, ok := o.seen[key]; ok {
		return ob
	}
	var ob Observation
	rec, err := o.store.Load(key)
	switch {
	case err == nil:
		ob = Observation{Slot: model.Slot{Stored: true, Record: rec}}
	case errors.Is(err, model.ErrNotFound):
	default:
		ob = Observation{Err: err}
	}
	o.seen[key] = ob
	return ob
}

// Window is what the store may hold at some moment: the state after the
// last acknowledged operation, and, if one was running, that operation and
// the keys it has drawn so far — its outcome is unknown, so the state
// before it and the state after it are both allowed, and nothing in
// between.
type Window struct {
	Before   model.State
	InFlight *model.Op // nil: no operation was running
	Drawn    []string  // keys the in-flight operation drew so far
}

// allowed returns the slots key may hold.
func (w Window) allowed(key string) []model.Slot {
	before := w.Before.Slot(key)
	out := []model.Slot{before}
	op := w.InFlight
	if op == nil {
		return out
	}
	add := func(s model.Slot) {
		if !slices.ContainsFunc(out, s.Equal) {
			out = append(out, s)
		}
	}
	// What the operation may have done to key: its parts on key
	// (model.SplitUnknown), from the state before it. A part that cannot
	// happen from there (a create on a key in use, an expire of a live
	// record) did not; a cycle moves only a live record.
	old := w.Before.Slot(op.Key)
	for _, p := range model.SplitUnknown(*op, w.Drawn, []string{key}) {
		if p.Key != key {
			continue
		}
		if p.Op.Kind == model.OpCycleIn {
			if _, out, _ := model.StepSlot(old, model.SlotOp{Kind: model.OpCycleOut, Now: op.Now}); out.Outcome != model.OK {
				continue
			}
			p = p.Moving(old.Record)
		}
		if next, _, legal := model.StepSlot(before, p.Op); legal {
			add(next)
		}
	}
	return out
}

// Check decides whether the observed state is allowed and returns it as a
// model state. The error names the key, what was found and what the model
// allowed.
func (w Window) Check(obs map[string]Observation) (model.State, error) {
	var problems []string
	found := w.Before
	storedDrawn := 0
	for _, k := range slices.Sorted(maps.Keys(obs)) {
		o := obs[k]
		allowed := w.allowed(k)
		if o.Err != nil {
			problems = append(problems, fmt.Sprintf("key %s: found a record that cannot be loaded (%v); the model requires %s", k, o.Err, slotsString(allowed)))
			continue
		}
		if !slices.ContainsFunc(allowed, o.Slot.Equal) {
			problems = append(problems, fmt.Sprintf("key %s: found %v; the model requires %s", k, o.Slot, slotsString(allowed)))
			continue
		}
		if o.Slot.Stored && slices.Contains(w.Drawn, k) && !w.Before.Slot(k).Stored {
			storedDrawn++
		}
		found = setSlot(found, k, o.Slot)
	}
	if op := w.InFlight; op != nil && len(problems) == 0 {
		if storedDrawn > 1 {
			problems = append(problems, fmt.Sprintf("%d new keys hold the record of one %v", storedDrawn, op.Kind))
		}
		if old := w.Before.Slot(op.Key); op.Kind == model.OpCycle && old.Stored && old.Record.LiveAt(op.Now) &&
			!obs[op.Key].Slot.Stored && storedDrawn == 0 {
			problems = append(problems, fmt.Sprintf("cycle of %s lost the record: neither the old key nor a new one holds %v", op.Key, old.Record))
		}
	}
	if len(problems) > 0 {
		return w.Before, errors.New(strings.Join(problems, "\n"))
	}
	return found, nil
}

// setSlot returns s with key holding slot, built through the model's own
// operations (State has no setter: it is only ever changed by operations).
func setSlot(s model.State, key string, slot model.Slot) model.State {
	if s.Slot(key).Equal(slot) {
		return s
	}
	s, _, _ = s.Apply(model.Op{Kind: model.OpDelete, Key: key}, "")
	if slot.Stored {
		s, _, _ = s.Apply(model.Op{Kind: model.OpCreate, Values: slot.Record.Values, Expiry: slot.Record.Expiry}, key)
	}
	return s
}

func slotsString(slots []model.Slot) string {
	parts := make([]string, len(slots))
	for i, s := range slots {
		parts[i] = s.String()
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "one of: " + strings.Join(parts, " | ")
}

// StateOf returns the observed state as a model state, or an error naming
// the first key that could not be read.
func StateOf(obs map[string]Observation) (model.State, error) {
	var s model.State
	for _, k := range slices.Sorted(maps.Keys(obs)) {
		if err := obs[k].Err; err != nil {
			return s, fmt.Errorf("key %s: %w", k, err)
		}
		s = setSlot(s, k, obs[k].Slot)
	}
	return s, nil
}

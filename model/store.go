package model

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
)

// Store is the contract of a session store. Every operation is atomic
// (linearizable) in a correct store. The current time comes from a clock the
// store is given when it is opened, never from the operation's caller.
type Store interface {
	// Create stores a new record under a fresh key and returns the key. It
	// never overwrites a stored record, live or expired.
	Create(values Values, expiry time.Time) (key string, err error)
	// Load returns the record of a live session, or ErrNotFound.
	Load(key string) (Record, error)
	// Save replaces the record of a live session, or returns ErrNotFound:
	// it never brings back a session that was deleted or has expired.
	Save(key string, values Values, expiry time.Time) error
	// Touch sets a new expiry on a live session and leaves its values alone,
	// or returns ErrNotFound.
	Touch(key string, expiry time.Time) error
	// Delete removes the session if it is stored; removing nothing is no error.
	Delete(key string) error
	// Exists reports whether the session is stored and live.
	Exists(key string) (bool, error)
	// Cycle moves a live session's record to a fresh key and removes the old
	// key, returning the new key, or returns ErrNotFound.
	Cycle(key string) (newKey string, err error)
	// ClearExpired removes every expired record and nothing else, and returns
	// the keys it removed.
	ClearExpired() (removed []string, err error)
}

// Declarer is a store that supports only some operations: a worker
// declares its operations in its hello (docs/PROTOCOL.md). A check never
// runs an operation its store does not support, and says so in its report,
// rather than scoring the refusal as the store's failure.
type Declarer interface {
	// Supports reports whether the store carries out operations of kind.
	Supports(kind Kind) bool
}

// Supports reports whether st carries out operations of kind: every
// operation, unless st is a [Declarer] that leaves kind out.
func Supports(st Store, kind Kind) bool {
	if d, ok := st.(Declarer); ok {
		return d.Supports(kind)
	}
	return true
}

// Clock returns the current time. Stores read time only through one.
type Clock func() time.Time

// OutcomeOf classifies an error returned by a Store.
func OutcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return OK
	case errors.Is(err, ErrNotFound):
		return NotFound
	case errors.Is(err, ErrInvalidKey):
		return Invalid
	case errors.Is(err, ErrCorrupt):
		return Corrupt
	}
	return Failed
}

// Op is one whole-store operation with its inputs.
type Op struct {
	Kind   Kind
	Key    string    // every operation but Create and ClearExpired
	Values Values    // Create, Save
	Expiry time.Time // Create, Save, Touch
	Now    time.Time // the store's clock when the operation ran
}

// String shows op with the zero [Printer].
func (op Op) String() string { return Printer{}.Op(op) }

// Result is what a whole-store operation returned.
type Result struct {
	Outcome Outcome
	Key     string   // Create and Cycle: the new key
	Record  Record   // Load
	Exists  bool     // Exists
	Removed []string // ClearExpired: the keys removed, sorted
}

// String shows r without knowing its operation, from the fields that are
// set; [Printer.Result] and [Format], which know the operation, are what
// reports use (a Save's result is "ok", not "ok exists=false").
func (r Result) String() string {
	var k Kind
	switch {
	case r.Outcome != OK:
	case r.Key != "":
		k = OpCreate
	case r.Removed != nil:
		k = OpClearExpired
	case r.Record != Record{}:
		k = OpLoad
	case r.Exists:
		k = OpExists
	}
	return Printer{}.Result(k, r)
}

// State is the whole store: a slot per key that holds a record. It is
// immutable; every operation returns a new State. The zero State is empty.
type State struct {
	slots map[string]Slot // only stored slots
}

// Slot returns what the state holds under key.
func (s State) Slot(key string) Slot { return s.slots[key] }

// Keys returns the stored keys, live or expired, sorted.
func (s State) Keys() []string { return slices.Sorted(maps.Keys(s.slots)) }

// LiveKeys returns the keys of the sessions live at now, sorted.
func (s State) LiveKeys(now time.Time) []string {
	var keys []string
	for _, k := range s.Keys() {
		if s.slots[k].liveAt(now) {
			keys = append(keys, k)
		}
	}
	return keys
}

func (s State) with(key string, slot Slot) State {
	m := maps.Clone(s.slots)
	if m == nil {
		m = make(map[string]Slot)
	}
	if slot.Stored {
		m[key] = slot
	} else {
		delete(m, key)
	}
	return State{slots: m}
}

func (s State) step(p Part) (State, error) {
	next, err := CheckSlot(s.Slot(p.Key), p.Op, p.Result)
	if err != nil {
		return s, fmt.Errorf("key %s: %w", p.Key, err)
	}
	return s.with(p.Key, next), nil
}

// Check decides whether got is an allowed result of op in state s and
// returns the state after it. The error says what the model expected.
// Create and Cycle choose a fresh key; the key the store chose is taken from
// got and must be valid and not in use.
//
// It takes op's parts ([Split]) in order, each through [CheckSlot]; a
// cycle moves the record its old key held. ClearExpired must also have
// removed every expired record, which no single key can tell.
func (s State) Check(op Op, got Result) (State, error) {
	parts, err := Split(op, got)
	if err != nil {
		return s, fmt.Errorf("%v: %w", op, err)
	}
	moved := s.Slot(op.Key).Record
	next := s
	for _, p := range parts {
		if next, err = next.step(p.Moving(moved)); err != nil {
			return s, fmt.Errorf("%v: %w", op, err)
		}
	}
	if op.Kind == OpClearExpired {
		if left := next.expiredKeys(op.Now); len(left) > 0 {
			return s, fmt.Errorf("%v: want ok removed=%v, got %s (left %v)", op, s.expiredKeys(op.Now), Printer{}.Result(op.Kind, got), left)
		}
	}
	return next, nil
}

// expiredKeys returns the stored keys whose records are expired at now,
// sorted.
func (s State) expiredKeys(now time.Time) []string {
	var keys []string
	for _, k := range s.Keys() {
		if !s.slots[k].Record.LiveAt(now) {
			keys = append(keys, k)
		}
	}
	return keys
}

// Do performs op on st and returns what st returned as a Result: Outcome
// classified from the error (which is returned too; a failed operation's
// Result holds nothing else), ClearExpired's keys sorted and never nil. It is
// how every checker turns an Op into a call, so that all of them compare the
// same thing with the model.
func Do(st Store, op Op) (Result, error) {
	var res Result
	var err error
	switch op.Kind {
	case OpCreate:
		res.Key, err = st.Create(op.Values, op.Expiry)
	case OpLoad:
		res.Record, err = st.Load(op.Key)
	case OpSave:
		err = st.Save(op.Key, op.Values, op.Expiry)
	case OpTouch:
		err = st.Touch(op.Key, op.Expiry)
	case OpDelete:
		err = st.Delete(op.Key)
	case OpExists:
		res.Exists, err = st.Exists(op.Key)
	case OpCycle:
		res.Key, err = st.Cycle(op.Key)
	case OpClearExpired:
		res.Removed, err = st.ClearExpired()
		slices.Sort(res.Removed)
		if res.Removed == nil {
			res.Removed = []string{}
		}
	default:
		return res, fmt.Errorf("unknown operation %v", op.Kind)
	}
	if err != nil {
		return Result{Outcome: OutcomeOf(err)}, err
	}
	return res, nil
}

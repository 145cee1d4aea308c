package model

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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

func (op Op) String() string {
	var b strings.Builder
	b.WriteString(op.Kind.String())
	b.WriteByte('(')
	var args []string
	if op.Kind != OpCreate && op.Kind != OpClearExpired {
		args = append(args, op.Key)
	}
	if op.Kind == OpCreate || op.Kind == OpSave {
		args = append(args, op.Values.String())
	}
	if op.Kind == OpCreate || op.Kind == OpSave || op.Kind == OpTouch {
		args = append(args, "expiry="+op.Expiry.UTC().Format(time.RFC3339Nano))
	}
	b.WriteString(strings.Join(args, ", "))
	b.WriteString(") at " + op.Now.UTC().Format(time.RFC3339Nano))
	return b.String()
}

// Result is what a whole-store operation returned.
type Result struct {
	Outcome Outcome
	Key     string   // Create and Cycle: the new key
	Record  Record   // Load
	Exists  bool     // Exists
	Removed []string // ClearExpired: the keys removed, sorted
}

func (r Result) String() string {
	switch {
	case r.Outcome != OK:
		return r.Outcome.String()
	case r.Key != "":
		return "ok key=" + r.Key
	case r.Removed != nil:
		return fmt.Sprintf("ok removed=%v", r.Removed)
	case r.Record != Record{}:
		return "ok " + r.Record.String()
	}
	return fmt.Sprintf("ok exists=%v", r.Exists)
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

func (s State) step(key string, op SlotOp, got SlotResult) (State, error) {
	next, err := CheckSlot(s.Slot(key), op, got)
	if err != nil {
		return s, fmt.Errorf("key %s: %w", key, err)
	}
	return s.with(key, next), nil
}

// Check decides whether got is an allowed result of op in state s and
// returns the state after it. The error says what the model expected.
// Create and Cycle choose a fresh key; the key the store chose is taken from
// got and must be valid and not in use.
func (s State) Check(op Op, got Result) (State, error) {
	if op.Kind != OpCreate && op.Kind != OpClearExpired {
		if ValidateKey(op.Key) != nil {
			if got.Outcome != Invalid {
				return s, fmt.Errorf("%v: want invalid-key before any access, got %v", op, got)
			}
			return s, nil
		}
	}
	if got.Outcome == Failed {
		return s, fmt.Errorf("%v failed: a store must not fail on a healthy file system", op)
	}
	slotOp := SlotOp{Kind: op.Kind, Values: op.Values, Expiry: op.Expiry, Now: op.Now}
	switch op.Kind {
	case OpCreate:
		if got.Outcome != OK {
			return s, fmt.Errorf("%v: want a new key, got %v", op, got)
		}
		if err := ValidateKey(got.Key); err != nil {
			return s, fmt.Errorf("%v returned a bad key: %w", op, err)
		}
		return s.step(got.Key, slotOp, SlotResult{})
	case OpCycle:
		slotOp.Kind = OpCycleOut
		moved := SlotResult{Outcome: got.Outcome}
		if got.Outcome == OK {
			moved.Record = s.Slot(op.Key).Record
		}
		after, err := s.step(op.Key, slotOp, moved)
		if err != nil || got.Outcome != OK {
			return after, err
		}
		if err := ValidateKey(got.Key); err != nil {
			return s, fmt.Errorf("%v returned a bad key: %w", op, err)
		}
		if got.Key == op.Key {
			return s, fmt.Errorf("%v returned the old key: a cycle must move the record to a new key", op)
		}
		in := SlotOp{Kind: OpCycleIn, Values: moved.Record.Values, Expiry: moved.Record.Expiry}
		return after.step(got.Key, in, SlotResult{})
	case OpClearExpired:
		var want []string
		next := s
		for _, k := range s.Keys() {
			if !s.slots[k].Record.LiveAt(op.Now) {
				want = append(want, k)
				next = next.with(k, Slot{})
			}
		}
		gotKeys := slices.Sorted(slices.Values(got.Removed))
		if got.Outcome != OK || !slices.Equal(want, gotKeys) {
			return s, fmt.Errorf("%v: want ok removed=%v, got %v removed=%v", op, want, got.Outcome, gotKeys)
		}
		return next, nil
	}
	return s.step(op.Key, slotOp, SlotResult{Outcome: got.Outcome, Record: got.Record, Exists: got.Exists})
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

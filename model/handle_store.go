package model

import (
	"errors"
	"fmt"
)

// ErrKeyInUse is returned by [State.Apply] when the fresh key a caller
// supplies for Create or Cycle is already stored (live or expired): a store
// that chose it would overwrite a record, which Create and Cycle never do.
var ErrKeyInUse = errors.New("session key already in use")

// Apply performs op on s, as a correct store would, and returns the state
// after it and the result the store returns. It is the executable form of
// the store table in docs/SPEC.md, built from [StepSlot] like [State.Check],
// so the two cannot disagree.
//
// A store chooses the key of Create and Cycle; the model cannot, so the
// caller supplies it as fresh (the key a real store returned, or one from
// [NewKey]); it is ignored by the other operations. A fresh key that is
// invalid, in use, or (for Cycle) the old key itself is the caller's mistake,
// not a store result, and is returned as the error with s unchanged; the
// error wraps ErrInvalidKey or ErrKeyInUse.
func (s State) Apply(op Op, fresh string) (State, Result, error) {
	if op.Kind != OpCreate && op.Kind != OpClearExpired {
		if ValidateKey(op.Key) != nil {
			return s, Result{Outcome: Invalid}, nil
		}
	}
	slotOp := SlotOp{Kind: op.Kind, Values: op.Values, Expiry: op.Expiry, Now: op.Now}
	switch op.Kind {
	case OpCreate:
		if err := s.checkFresh(fresh, ""); err != nil {
			return s, Result{}, fmt.Errorf("%v: %w", op, err)
		}
		next, _ := s.applySlot(fresh, slotOp)
		return next, Result{Key: fresh}, nil
	case OpCycle:
		slotOp.Kind = OpCycleOut
		after, out := s.applySlot(op.Key, slotOp)
		if out.Outcome != OK {
			return s, Result{Outcome: out.Outcome}, nil
		}
		if err := s.checkFresh(fresh, op.Key); err != nil {
			return s, Result{}, fmt.Errorf("%v: %w", op, err)
		}
		in := SlotOp{Kind: OpCycleIn, Values: out.Record.Values, Expiry: out.Record.Expiry, Now: op.Now}
		next, _ := after.applySlot(fresh, in)
		return next, Result{Key: fresh}, nil
	case OpClearExpired:
		removed := []string{}
		next := s
		for _, k := range s.Keys() {
			if n, _, legal := StepSlot(s.Slot(k), SlotOp{Kind: OpExpire, Now: op.Now}); legal {
				removed = append(removed, k)
				next = next.with(k, n)
			}
		}
		return next, Result{Removed: removed}, nil
	case OpLoad, OpSave, OpTouch, OpDelete, OpExists:
		next, r := s.applySlot(op.Key, slotOp)
		return next, Result{Outcome: r.Outcome, Record: r.Record, Exists: r.Exists}, nil
	}
	return s, Result{}, fmt.Errorf("apply: %v is not a whole-store operation", op.Kind)
}

// checkFresh reports why fresh cannot be the key of a new record.
func (s State) checkFresh(fresh, old string) error {
	if err := ValidateKey(fresh); err != nil {
		return fmt.Errorf("fresh key: %w", err)
	}
	if fresh == old || s.Slot(fresh).Stored {
		return fmt.Errorf("fresh key %s: %w", fresh, ErrKeyInUse)
	}
	return nil
}

// applySlot steps one key. The callers only pass operations that are legal
// from any slot, or have checked legality (checkFresh), so legal is not
// consulted here.
func (s State) applySlot(key string, op SlotOp) (State, SlotResult) {
	next, r, _ := StepSlot(s.Slot(key), op)
	return s.with(key, next), r
}

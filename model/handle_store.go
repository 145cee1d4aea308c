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
	want, err := s.want(op, fresh)
	if err != nil {
		return s, Result{}, fmt.Errorf("%v: %w", op, err)
	}
	next, err := s.Check(op, want)
	if err != nil {
		// want is the model's own answer, so Check accepting it is an
		// invariant of the model, not a property of a store.
		return s, Result{}, fmt.Errorf("apply: the model refuses its own result: %w", err)
	}
	return next, want, nil
}

// want is the result a correct store returns for op from s, fresh being
// the key it chose for Create and Cycle.
func (s State) want(op Op, fresh string) (Result, error) {
	if op.Kind.HasKey() && ValidateKey(op.Key) != nil {
		return Result{Outcome: Invalid}, nil
	}
	so := op.SlotOp()
	switch op.Kind {
	case OpCreate:
		return Result{Key: fresh}, s.checkFresh(fresh, "")
	case OpCycle:
		so.Kind = OpCycleOut
		if _, out, _ := StepSlot(s.Slot(op.Key), so); out.Outcome != OK {
			return Result{Outcome: out.Outcome}, nil
		}
		return Result{Key: fresh}, s.checkFresh(fresh, op.Key)
	case OpClearExpired:
		return Result{Removed: append([]string{}, s.expiredKeys(op.Now)...)}, nil
	case OpLoad, OpSave, OpTouch, OpDelete, OpExists:
		_, r, _ := StepSlot(s.Slot(op.Key), so)
		return Result{Outcome: r.Outcome, Record: r.Record, Exists: r.Exists}, nil
	}
	return Result{}, fmt.Errorf("apply: %v is not a whole-store operation", op.Kind)
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
// from any slot, or have checked legality, so legal is not consulted here.
func (s State) applySlot(key string, op SlotOp) (State, SlotResult) {
	next, r, _ := StepSlot(s.Slot(key), op)
	return s.with(key, next), r
}

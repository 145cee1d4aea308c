package model

import (
	"errors"
	"fmt"
	"slices"
)

// Part is one key's share of a whole-store operation: the operation as the
// key sees it and the result as the key sees it. Every check judges a
// store through parts and [CheckSlot], so that the model's own Check and
// Apply, the linearizability checker, explore's history check and the
// fault and crash workload all mean the same thing by each operation.
type Part struct {
	Key    string
	Op     SlotOp
	Result SlotResult
}

// SlotOp is op as its own key sees it (for Create, the key it returns).
// Cycle and ClearExpired are not one slot operation each; see [Split].
func (op Op) SlotOp() SlotOp {
	return SlotOp{Kind: op.Kind, Values: op.Values, Expiry: op.Expiry, Now: op.Now}
}

// Split decomposes op, which returned got, into its parts, in the order a
// store takes them. Its error says why no state allows got; it does not
// repeat op. It is the one decomposition of the model:
//
//   - An operation on an invalid key has no parts: the store must refuse it
//     (Invalid) before any file-system access; any other result is an error.
//   - A failure (Outcome Failed) is an error: a store must not fail on a
//     healthy file system. A check that injects failures, or that cannot
//     see an outcome, must treat the operation as of unknown outcome instead.
//   - Create is a create on the key it returned; anything but ok with a
//     valid key is an error.
//   - Cycle is a cycle-out on the old key and, when that succeeded, a
//     cycle-in on the new key, which must be valid and not the old key. The
//     two are separate steps: each takes effect at its own instant within
//     the operation, the cycle-out first in every sequential order (see
//     docs/SPEC.md §3). Cycle does not return the record it moved, so the
//     cycle-out's Result.Record and the cycle-in's Values and Expiry are
//     left for the caller to fill with [Part.Moving].
//   - ClearExpired is an expire on each key it reported removing, in
//     sorted order; anything but ok is an error. That it removed every
//     expired key is a property of the whole state, which only
//     [State.Check] can judge.
//   - Load, Save, Touch, Delete and Exists are the same operation on their
//     key, with the result's Record and Exists.
func Split(op Op, got Result) ([]Part, error) {
	if op.Kind.HasKey() && ValidateKey(op.Key) != nil {
		if got.Outcome != Invalid {
			return nil, fmt.Errorf("want invalid-key before any access, got %s", Printer{}.Result(op.Kind, got))
		}
		return nil, nil
	}
	if got.Outcome == Failed {
		return nil, errors.New("failed: a store must not fail on a healthy file system")
	}
	so := op.SlotOp()
	switch op.Kind {
	case OpCreate:
		if got.Outcome != OK {
			return nil, fmt.Errorf("want a new key, got %s", Printer{}.Result(op.Kind, got))
		}
		if err := ValidateKey(got.Key); err != nil {
			return nil, fmt.Errorf("returned a bad key: %w", err)
		}
		return []Part{{Key: got.Key, Op: so}}, nil
	case OpCycle:
		so.Kind = OpCycleOut
		out := Part{Key: op.Key, Op: so, Result: SlotResult{Outcome: got.Outcome}}
		if got.Outcome != OK {
			return []Part{out}, nil
		}
		if err := ValidateKey(got.Key); err != nil {
			return nil, fmt.Errorf("returned a bad key: %w", err)
		}
		if got.Key == op.Key {
			return nil, errors.New("returned the old key: a cycle must move the record to a new key")
		}
		return []Part{out, {Key: got.Key, Op: SlotOp{Kind: OpCycleIn, Now: op.Now}}}, nil
	case OpClearExpired:
		if got.Outcome != OK {
			return nil, fmt.Errorf("want ok, got %s", got.Outcome)
		}
		removed := slices.Sorted(slices.Values(got.Removed))
		if d := duplicate(removed); d != "" {
			return nil, fmt.Errorf("reported removing %s twice", d)
		}
		parts := make([]Part, len(removed))
		for i, k := range removed {
			parts[i] = Part{Key: k, Op: SlotOp{Kind: OpExpire, Now: op.Now}}
		}
		return parts, nil
	case OpLoad, OpSave, OpTouch, OpDelete, OpExists:
		return []Part{{Key: op.Key, Op: so, Result: SlotResult{Outcome: got.Outcome, Record: got.Record, Exists: got.Exists}}}, nil
	}
	return nil, fmt.Errorf("%v is not a whole-store operation", op.Kind)
}

// duplicate returns a key that appears twice in sorted keys, or "".
func duplicate(sorted []string) string {
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return sorted[i]
		}
	}
	return ""
}

// Moving returns p with rec as the record a cycle moved: the record an ok
// cycle-out took, or the record a cycle-in brought. Other parts are
// returned unchanged.
func (p Part) Moving(rec Record) Part {
	switch {
	case p.Op.Kind == OpCycleOut && p.Result.Outcome == OK:
		p.Result.Record = rec
	case p.Op.Kind == OpCycleIn:
		p.Op.Values, p.Op.Expiry = rec.Values, rec.Expiry
	}
	return p
}

// Moves reports whether p is a part of a cycle, whose record [Part.Moving]
// supplies.
func (p Part) Moves() bool {
	return p.Op.Kind == OpCycleIn || (p.Op.Kind == OpCycleOut && p.Result.Outcome == OK)
}

// SplitUnknown returns the parts an operation whose outcome is unknown (it
// timed out, its process died, it failed half done) may have taken, on the
// keys a check can name; their results are unknown and left zero. It is
// [Split] for an operation that may or may not have happened:
//
//   - Create may have stored its record under one of fresh, the keys it may
//     have chosen (a check that cannot know them passes none): a create on
//     each, of which at most one took effect.
//   - Cycle may have taken the cycle-out on its old key, and the cycle-in on
//     one of fresh (the record moved is for the caller to fill with
//     [Part.Moving]).
//   - ClearExpired may have removed any of keys: an expire on each.
//   - Any other operation is itself, on its key.
//
// An operation on an invalid key has no parts: it must have been refused.
func SplitUnknown(op Op, fresh, keys []string) []Part {
	if op.Kind.HasKey() && ValidateKey(op.Key) != nil {
		return nil
	}
	so := op.SlotOp()
	var parts []Part
	switch op.Kind {
	case OpCreate:
		for _, k := range fresh {
			parts = append(parts, Part{Key: k, Op: so})
		}
	case OpCycle:
		so.Kind = OpCycleOut
		parts = append(parts, Part{Key: op.Key, Op: so})
		for _, k := range fresh {
			if k != op.Key {
				parts = append(parts, Part{Key: k, Op: SlotOp{Kind: OpCycleIn, Now: op.Now}})
			}
		}
	case OpClearExpired:
		for _, k := range keys {
			parts = append(parts, Part{Key: k, Op: SlotOp{Kind: OpExpire, Now: op.Now}})
		}
	default:
		parts = append(parts, Part{Key: op.Key, Op: so})
	}
	return parts
}

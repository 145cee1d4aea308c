package model

import (
	"fmt"
	"time"
)

// Slot is what a store holds under one key: nothing, or a record (which may
// have expired but not yet been removed).
type Slot struct {
	Stored bool
	Record Record
}

// Equal reports whether two slots hold the same thing.
func (s Slot) Equal(o Slot) bool {
	return s.Stored == o.Stored && (!s.Stored || s.Record.Equal(o.Record))
}

func (s Slot) String() string {
	if !s.Stored {
		return "absent"
	}
	return s.Record.String()
}

func (s Slot) liveAt(now time.Time) bool { return s.Stored && s.Record.LiveAt(now) }

// Kind names an operation.
type Kind uint8

// The store operations, and the two halves of Cycle and the per-key part of
// ClearExpired that the per-key view splits them into.
const (
	OpCreate Kind = iota + 1
	OpLoad
	OpSave
	OpTouch
	OpDelete
	OpExists
	OpCycle
	OpClearExpired

	// OpCycleOut is Cycle as seen from the old key: the record leaves.
	OpCycleOut
	// OpCycleIn is Cycle as seen from the new key: the record arrives.
	OpCycleIn
	// OpExpire is ClearExpired as seen from one key it reported removing.
	OpExpire
)

var kindNames = [...]string{
	OpCreate: "create", OpLoad: "load", OpSave: "save", OpTouch: "touch",
	OpDelete: "delete", OpExists: "exists", OpCycle: "cycle",
	OpClearExpired: "clear-expired", OpCycleOut: "cycle-out",
	OpCycleIn: "cycle-in", OpExpire: "expire",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) && kindNames[k] != "" {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Outcome classifies how an operation ended, so results compare with ==.
type Outcome uint8

// Outcomes.
const (
	OK Outcome = iota
	NotFound
	Invalid // ErrInvalidKey
	Corrupt // ErrCorrupt
	Failed  // any other error
)

var outcomeNames = [...]string{OK: "ok", NotFound: "not-found", Invalid: "invalid-key", Corrupt: "corrupt", Failed: "failed"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("Outcome(%d)", o)
}

// SlotOp is one operation as seen from one key.
type SlotOp struct {
	Kind   Kind
	Values Values    // Create, Save, CycleIn
	Expiry time.Time // Create, Save, Touch, CycleIn
	Now    time.Time // the store's clock when the operation ran
}

// SlotResult is what an operation returned, as seen from one key.
type SlotResult struct {
	Outcome Outcome
	Record  Record // Load and CycleOut: the record read or moved
	Exists  bool   // Exists
}

// Equal reports whether two results are the same.
func (r SlotResult) Equal(o SlotResult) bool {
	return r.Outcome == o.Outcome && r.Exists == o.Exists && r.Record.Equal(o.Record)
}

// String shows r without knowing its operation; [Printer.SlotResult],
// which knows it, is what messages use.
func (r SlotResult) String() string {
	var k Kind
	switch {
	case r.Outcome != OK:
	case r.Record != Record{}:
		k = OpLoad
	case r.Exists:
		k = OpExists
	}
	return Printer{}.SlotResult(k, r)
}

// StepSlot is the specification of one key: the slot after op and the result
// op must return. It is pure. legal is false when op cannot happen at all
// from s whatever it returns: a Create or CycleIn on a key already in use,
// or an Expire of a key that is absent or still live.
func StepSlot(s Slot, op SlotOp) (next Slot, want SlotResult, legal bool) {
	switch op.Kind {
	case OpCreate, OpCycleIn:
		if s.Stored {
			return s, SlotResult{}, false
		}
		return Slot{Stored: true, Record: Record{Values: op.Values, Expiry: op.Expiry}}, SlotResult{}, true
	case OpLoad:
		if !s.liveAt(op.Now) {
			return s, SlotResult{Outcome: NotFound}, true
		}
		return s, SlotResult{Record: s.Record}, true
	case OpSave:
		if !s.liveAt(op.Now) {
			return s, SlotResult{Outcome: NotFound}, true
		}
		return Slot{Stored: true, Record: Record{Values: op.Values, Expiry: op.Expiry}}, SlotResult{}, true
	case OpTouch:
		if !s.liveAt(op.Now) {
			return s, SlotResult{Outcome: NotFound}, true
		}
		return Slot{Stored: true, Record: Record{Values: s.Record.Values, Expiry: op.Expiry}}, SlotResult{}, true
	case OpDelete:
		return Slot{}, SlotResult{}, true
	case OpExists:
		return s, SlotResult{Exists: s.liveAt(op.Now)}, true
	case OpCycleOut:
		if !s.liveAt(op.Now) {
			return s, SlotResult{Outcome: NotFound}, true
		}
		return Slot{}, SlotResult{Record: s.Record}, true
	case OpExpire:
		if !s.Stored || s.Record.LiveAt(op.Now) {
			return s, SlotResult{}, false
		}
		return Slot{}, SlotResult{}, true
	}
	return s, SlotResult{}, false
}

// CheckSlot decides whether got is an allowed result of op from s, and if so
// returns the next slot. The error says what was expected and what happened.
// A result with Outcome Failed is never allowed: an operation that failed
// with an I/O error must be recorded as having an unknown outcome instead.
func CheckSlot(s Slot, op SlotOp, got SlotResult) (Slot, error) {
	next, want, legal := StepSlot(s, op)
	if !legal {
		return s, fmt.Errorf("%s is impossible when the key holds %v", op.Kind, s)
	}
	if !want.Equal(got) {
		var p Printer
		return s, fmt.Errorf("%s on %v: want %s, got %s", op.Kind, s, p.SlotResult(op.Kind, want), p.SlotResult(op.Kind, got))
	}
	return next, nil
}

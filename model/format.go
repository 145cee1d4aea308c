package model

import (
	"fmt"
	"strings"
	"time"
)

// Printer formats operations, results and records: the one way every
// check writes them, so that a result reads the same in every report. Its
// zero value shows keys as they are and instants in RFC 3339 (UTC); a check
// may name keys (proptest calls them s1, s2, … so that messages are the
// same on every replay) and show instants relative to an epoch.
type Printer struct {
	Key  func(key string) string  // nil: the key itself
	Time func(t time.Time) string // nil: RFC 3339 with nanoseconds, UTC
	// KeyList shows a list of keys (nil: Key of each, in the order given);
	// a check whose keys are random may want an order that is not theirs.
	KeyList func(keys []string) string
}

func (p Printer) key(k string) string {
	if p.Key == nil {
		return k
	}
	return p.Key(k)
}

func (p Printer) time(t time.Time) string {
	if p.Time == nil {
		return t.UTC().Format(time.RFC3339Nano)
	}
	return p.Time(t)
}

// Keys shows a list of keys.
func (p Printer) Keys(keys []string) string {
	if p.KeyList != nil {
		return p.KeyList(keys)
	}
	shown := make([]string, len(keys))
	for i, k := range keys {
		shown[i] = p.key(k)
	}
	return "[" + strings.Join(shown, " ") + "]"
}

// Record shows a record: its values and its expiry.
func (p Printer) Record(r Record) string { return r.Values.String() + " until " + p.time(r.Expiry) }

// Op shows an operation with its inputs and the store's clock.
func (p Printer) Op(op Op) string {
	var args []string
	if op.Kind.HasKey() {
		args = append(args, p.key(op.Key))
	}
	if op.Kind == OpCreate || op.Kind == OpSave {
		args = append(args, op.Values.String())
	}
	if op.Kind == OpCreate || op.Kind == OpSave || op.Kind == OpTouch {
		args = append(args, "expiry="+p.time(op.Expiry))
	}
	return op.Kind.String() + "(" + strings.Join(args, ", ") + ") at " + p.time(op.Now)
}

// Result shows what an operation of kind k returned: only the part of
// Result that k fills ("ok" alone for Save, Touch and Delete).
func (p Printer) Result(k Kind, r Result) string {
	if r.Outcome != OK {
		return r.Outcome.String()
	}
	switch k {
	case OpCreate, OpCycle:
		return "ok key=" + p.key(r.Key)
	case OpLoad:
		return "ok " + p.Record(r.Record)
	case OpExists:
		return fmt.Sprintf("ok exists=%v", r.Exists)
	case OpClearExpired:
		return "ok removed=" + p.Keys(r.Removed)
	}
	return "ok"
}

// SlotResult shows what an operation of kind k returned as one key sees
// it: the record of a load or a cycle-out, whether an exists found the
// session, and "ok" alone for the rest.
func (p Printer) SlotResult(k Kind, r SlotResult) string {
	switch {
	case r.Outcome != OK:
		return r.Outcome.String()
	case k == OpLoad || k == OpCycleOut:
		return "ok " + p.Record(r.Record)
	case k == OpExists:
		return fmt.Sprintf("ok exists=%v", r.Exists)
	}
	return "ok"
}

// Format shows op and what it returned, as "op → result".
func Format(op Op, got Result) string {
	var p Printer
	return p.Op(op) + " → " + p.Result(op.Kind, got)
}

// HasKey reports whether an operation of kind k names a key: every
// whole-store operation but Create and ClearExpired.
func (k Kind) HasKey() bool { return k != OpCreate && k != OpClearExpired }

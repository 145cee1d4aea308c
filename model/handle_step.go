package model

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// HandleKind names a handle operation.
type HandleKind uint8

// The handle operations, one per method of [Handle] (and of session.Session).
const (
	HandleGet HandleKind = iota + 1
	HandleSet
	HandlePop
	HandleSetDefault
	HandleUpdate
	HandleClear
	HandleKeys
	HandleItems
	HandleFlush
	HandleCycleKey
	HandleSetExpiryAt
	HandleSetExpiryAge
	HandleClearExpiry
	HandleExpiryDate
	HandleSave
)

var handleKindNames = [...]string{
	HandleGet: "get", HandleSet: "set", HandlePop: "pop", HandleSetDefault: "setdefault",
	HandleUpdate: "update", HandleClear: "clear", HandleKeys: "keys", HandleItems: "items",
	HandleFlush: "flush", HandleCycleKey: "cycle_key", HandleSetExpiryAt: "set_expiry_at",
	HandleSetExpiryAge: "set_expiry_age", HandleClearExpiry: "clear_expiry",
	HandleExpiryDate: "expiry_date", HandleSave: "save",
}

func (k HandleKind) String() string {
	if int(k) < len(handleKindNames) && handleKindNames[k] != "" {
		return handleKindNames[k]
	}
	return fmt.Sprintf("HandleKind(%d)", k)
}

// HandleKinds lists every handle operation, in declaration order.
func HandleKinds() []HandleKind {
	out := make([]HandleKind, 0, len(handleKindNames)-1)
	for k := HandleGet; k <= HandleSave; k++ {
		out = append(out, k)
	}
	return out
}

// HandleOp is one handle operation with its inputs, for driving a model
// handle and a real one step by step with the same operations.
type HandleOp struct {
	Kind   HandleKind
	Name   string        // Get, Set, Pop, SetDefault
	Value  string        // Set, SetDefault
	Values Values        // Update
	At     time.Time     // SetExpiryAt
	Age    time.Duration // SetExpiryAge
}

func (op HandleOp) String() string {
	var arg string
	switch op.Kind {
	case HandleGet, HandlePop:
		arg = fmt.Sprintf("%q", op.Name)
	case HandleSet, HandleSetDefault:
		arg = fmt.Sprintf("%q, %q", op.Name, op.Value)
	case HandleUpdate:
		arg = op.Values.String()
	case HandleSetExpiryAt:
		arg = ExpiryAt(op.At)
	case HandleSetExpiryAge:
		arg = op.Age.String()
	}
	return op.Kind.String() + "(" + arg + ")"
}

// HandleResult is what a handle operation returned, together with the
// handle's key and flags after it, so that comparing results step by step
// also compares the key and the flags.
type HandleResult struct {
	Outcome Outcome  // OutcomeOf the error; ErrInvalidExpiry is Failed
	Err     error    // the error itself, for messages; not compared
	Value   string   // Get, Pop, SetDefault
	Found   bool     // Get, Pop
	Names   []string // Keys (sorted, never nil)
	Values  Values   // Items
	Expiry  time.Time
	// Key, Accessed and Modified describe the handle after the operation.
	Key      string
	Accessed bool
	Modified bool
}

// Equal reports whether two results are the same. Errors compare by outcome,
// and a Failed outcome also by whether it is ErrInvalidExpiry.
func (r HandleResult) Equal(o HandleResult) bool {
	return r.Outcome == o.Outcome &&
		errors.Is(r.Err, ErrInvalidExpiry) == errors.Is(o.Err, ErrInvalidExpiry) &&
		r.Value == o.Value && r.Found == o.Found && slices.Equal(r.Names, o.Names) &&
		r.Values == o.Values && r.Expiry.Equal(o.Expiry) &&
		r.Key == o.Key && r.Accessed == o.Accessed && r.Modified == o.Modified
}

func (r HandleResult) String() string {
	var b strings.Builder
	b.WriteString(r.Outcome.String())
	if r.Err != nil {
		fmt.Fprintf(&b, " (%v)", r.Err)
	}
	if r.Value != "" || r.Found {
		fmt.Fprintf(&b, " value=%q found=%v", r.Value, r.Found)
	}
	if r.Names != nil {
		fmt.Fprintf(&b, " keys=%q", r.Names)
	}
	if r.Values != (Values{}) {
		fmt.Fprintf(&b, " items=%v", r.Values)
	}
	if !r.Expiry.IsZero() {
		fmt.Fprintf(&b, " expiry=%s", r.Expiry.UTC().Format(time.RFC3339Nano))
	}
	fmt.Fprintf(&b, " key=%q accessed=%v modified=%v", r.Key, r.Accessed, r.Modified)
	return b.String()
}

// Step performs op on h at now against the store state s and returns the
// handle and state after it and the result. fresh is the key the store
// chose if op creates one (Save of a handle without a key, CycleKey); a
// driver comparing with a real handle runs the real one first and passes its
// new key. Step is pure.
func (h Handle) Step(s State, now time.Time, op HandleOp, fresh string) (Handle, State, HandleResult) {
	var r HandleResult
	var err error
	switch op.Kind {
	case HandleGet:
		h, r.Value, r.Found, err = h.Get(s, now, op.Name)
	case HandleSet:
		h, err = h.Set(s, now, op.Name, op.Value)
	case HandlePop:
		h, r.Value, r.Found, err = h.Pop(s, now, op.Name)
	case HandleSetDefault:
		h, r.Value, err = h.SetDefault(s, now, op.Name, op.Value)
	case HandleUpdate:
		h, err = h.Update(s, now, op.Values)
	case HandleClear:
		h = h.Clear()
	case HandleKeys:
		h, r.Names, err = h.Keys(s, now)
	case HandleItems:
		h, r.Values, err = h.Items(s, now)
	case HandleFlush:
		h, s, err = h.Flush(s, now)
	case HandleCycleKey:
		h, s, err = h.CycleKey(s, now, fresh)
	case HandleSetExpiryAt:
		h, err = h.SetExpiryAt(s, now, op.At)
	case HandleSetExpiryAge:
		h, err = h.SetExpiryAge(s, now, op.Age)
	case HandleClearExpiry:
		h, err = h.ClearExpiry(s, now)
	case HandleExpiryDate:
		h, r.Expiry, err = h.ExpiryDate(s, now)
	case HandleSave:
		h, s, err = h.Save(s, now, fresh)
	default:
		err = fmt.Errorf("step: unknown handle operation %v", op.Kind)
	}
	r.Outcome, r.Err = OutcomeOf(err), err
	r.Key, r.Accessed, r.Modified = h.key, h.accessed, h.modified
	return h, s, r
}

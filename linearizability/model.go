package linearizability

import (
	"fmt"
	"html"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/sessioncheck/sessioncheck/model"
)

// Input is one operation as porcupine sees it: one key's view of a store
// operation. Cycle becomes a cycle-out on the old key and a cycle-in on the
// new one, and ClearExpired an expire on each key it reported removing; the
// parts share their operation's call and return times.
type Input struct {
	Key    string
	Op     model.SlotOp
	Client int
	Entry  int // index of the whole operation in the history
}

// Output is what the operation returned, as seen from the key.
type Output struct {
	Result model.SlotResult
	// Unknown means the outcome is unknown (the operation timed out, its
	// worker died, or it failed): it may have taken effect or not, and any
	// result is accepted. Its return time is math.MaxInt64.
	Unknown bool
	// AnyRecord accepts whatever record the model says an ok result
	// carries: a cycle-out whose moved record was not observed.
	AnyRecord bool
	// Impossible, when set, says why no state allows the result
	// (model.Split's error): the operation is refused from every state.
	Impossible string
}

// Model is the porcupine model of a session store, derived from
// model.StepSlot and model.CheckSlot (no second copy of the semantics):
// partitioned by key, with a model.Slot as the per-key state. Step never
// mutates its arguments: Slot is a value.
var Model = porcupine.Model{
	Partition: partition,
	Init:      func() any { return model.Slot{} },
	Step:      step,
	Equal:     func(a, b any) bool { return a.(model.Slot).Equal(b.(model.Slot)) },
	// DescribeOperation is drawn with textContent by the visualizer, so it
	// is plain text; DescribeState goes through innerHTML, so it is escaped.
	DescribeOperation: func(in, out any) string { return describeOp(in.(Input), out.(Output)) },
	DescribeState: func(st any) string {
		return html.EscapeString(describeSlot(st.(model.Slot), time.Time{}))
	},
}

func step(state, input, output any) (bool, any) {
	s, in, out := state.(model.Slot), input.(Input), output.(Output)
	if out.Impossible != "" {
		return false, s
	}
	next, want, legal := model.StepSlot(s, in.Op)
	if out.Unknown {
		// It may have happened or not; if it cannot happen from here,
		// it did not happen here.
		if !legal {
			return true, s
		}
		return true, next
	}
	got := out.Result
	if out.AnyRecord && got.Outcome == model.OK {
		got.Record = want.Record
	}
	n, err := model.CheckSlot(s, in.Op, got)
	return err == nil, n
}

// partition groups operations by key, in sorted key order so that every call
// sees the same partitions in the same order.
func partition(ops []porcupine.Operation) [][]porcupine.Operation {
	byKey := make(map[string][]porcupine.Operation)
	for _, op := range ops {
		k := op.Input.(Input).Key
		byKey[k] = append(byKey[k], op)
	}
	var out [][]porcupine.Operation
	for _, k := range slices.Sorted(maps.Keys(byKey)) {
		out = append(out, byKey[k])
	}
	return out
}

// ShortKey abbreviates a key for display.
func ShortKey(k string) string {
	if len(k) > 10 {
		return k[:8] + "…"
	}
	return k
}

func describeRel(t, now time.Time) string {
	if now.IsZero() {
		return t.UTC().Format(time.RFC3339)
	}
	d := t.Sub(now)
	if d >= 0 {
		return "now+" + d.String()
	}
	return "now-" + (-d).String()
}

func describeRecord(r model.Record, now time.Time) string {
	return describeValues(r.Values) + " until " + describeRel(r.Expiry, now)
}

// describeValues shows values with long ones cut short: the unique tag
// identifies a write, the padding only needs its length.
func describeValues(v model.Values) string {
	m := v.Map()
	short := make(map[string]string, len(m))
	for k, val := range m {
		if len(val) > 24 {
			val = fmt.Sprintf("%s…(%d bytes)", val[:12], len(val))
		}
		short[k] = val
	}
	return model.NewValues(short).String()
}

func describeSlot(s model.Slot, now time.Time) string {
	if !s.Stored {
		return "absent"
	}
	return describeRecord(s.Record, now)
}

func describeResult(r model.SlotResult, k model.Kind, now time.Time) string {
	switch {
	case r.Outcome != model.OK:
		return r.Outcome.String()
	case k == model.OpLoad || k == model.OpCycleOut:
		return "ok " + describeRecord(r.Record, now)
	case k == model.OpExists:
		return fmt.Sprintf("ok exists=%v", r.Exists)
	}
	return "ok"
}

func describeSlotOp(key string, op model.SlotOp) string {
	var b strings.Builder
	b.WriteString(op.Kind.String())
	b.WriteString("(" + ShortKey(key))
	switch op.Kind {
	case model.OpCreate, model.OpSave, model.OpCycleIn:
		b.WriteString(", " + describeValues(op.Values) + ", expiry " + describeRel(op.Expiry, op.Now))
	case model.OpTouch:
		b.WriteString(", expiry " + describeRel(op.Expiry, op.Now))
	}
	b.WriteString(")")
	return b.String()
}

func describeOp(in Input, out Output) string {
	s := fmt.Sprintf("c%d %s → ", in.Client, describeSlotOp(in.Key, in.Op))
	switch {
	case out.Unknown:
		return s + "unknown"
	case out.Impossible != "":
		return s + "impossible: " + out.Impossible
	case out.AnyRecord && out.Result.Outcome == model.OK:
		return s + "ok (record not observed)"
	}
	return s + describeResult(out.Result, in.Op.Kind, in.Op.Now)
}

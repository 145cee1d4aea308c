package explore

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/sessioncheck/sessioncheck/model"
)

// The history check: is there an order of the operations, consistent with
// their call and return times, in which model.CheckSlot accepts every
// result? Histories here are tiny (a prefix, two or three concurrent
// operations, a few observations), so a depth-first search over the orders
// with memoisation is instant; the semantics come only from model.CheckSlot.
//
// The per-key view is model.Split's, as in the linearizability package:
// Create acts on the key it returned, Cycle is a cycle-out on the old key
// and a cycle-in on the new one, each placed at its own point within the
// cycle's call and return (the cycle-out first: the record it takes is the
// record the cycle-in brings), and ClearExpired is one Expire per key it
// reported removing, each placed independently within the sweep's call and
// return.

// slots is the state of the keys a history touches. It is never mutated:
// a step returns a new map.
type slots map[string]model.Slot

func (s slots) with(key string, v model.Slot) slots {
	m := maps.Clone(s)
	if m == nil {
		m = slots{}
	}
	if v.Stored {
		m[key] = v
	} else {
		delete(m, key)
	}
	return m
}

func (s slots) String() string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(s)) {
		parts = append(parts, k+": "+s[k].String())
	}
	if len(parts) == 0 {
		return "{}"
	}
	return "{" + strings.Join(parts, "; ") + "}"
}

// unit is one indivisible step of the per-key view.
type unit struct {
	op        int // index in the history
	call, ret int
	after     int // the unit that must be placed first (a cycle-in's cycle-out), or -1
	what      string
	step      func(slots) (slots, error)
}

// movedKey is where a cycle's record waits between its cycle-out and its
// cycle-in: a name no session key can have, so it is part of the state
// (and of the memo) without being a key any operation names.
func movedKey(op int) string { return fmt.Sprintf("(moving, op %d)", op) }

// units splits the history; an operation no model step can explain (a
// failure on a healthy file system, a bad key) is an error at once.
func units(history []*Operation) ([]unit, error) {
	var us []unit
	for i, h := range history {
		op, got := h.Op, h.Result
		what := clientName(h.Client) + " " + fmtOp(op)
		parts, err := model.Split(op, got)
		if err != nil {
			if h.Err != nil {
				return nil, fmt.Errorf("%s: %v (the store's error: %v)", what, err, h.Err)
			}
			return nil, fmt.Errorf("%s: %v", what, err)
		}
		for _, p := range parts {
			u := unit{op: i, call: h.Call, ret: h.Return, after: -1, what: what}
			switch p.Op.Kind {
			case model.OpCycleOut:
				u.what += " (cycle-out)"
			case model.OpCycleIn:
				u.what += " (cycle-in)"
				u.after = len(us) - 1
			case model.OpExpire:
				u.what = fmt.Sprintf("%s (removing %s)", what, p.Key)
			}
			u.step = partStep(p, movedKey(i))
			us = append(us, u)
		}
	}
	if len(us) > 62 {
		return nil, fmt.Errorf("explore: a history of %d steps is too long to check", len(us))
	}
	return us, nil
}

// partStep checks one part against the state. An ok cycle-out moves
// whatever the old key held at that point (CheckSlot decides whether it
// could move) to moving; the cycle-in takes it from there.
func partStep(p model.Part, moving string) func(slots) (slots, error) {
	switch {
	case p.Op.Kind == model.OpCycleOut && p.Moves():
		return func(s slots) (slots, error) {
			moved := s[p.Key].Record
			next, err := checkOn(s, p.Key, p.Moving(moved).Op, p.Moving(moved).Result)
			if err != nil {
				return s, err
			}
			return next.with(moving, model.Slot{Stored: true, Record: moved}), nil
		}
	case p.Op.Kind == model.OpCycleIn:
		return func(s slots) (slots, error) {
			in := p.Moving(s[moving].Record)
			return checkOn(s.with(moving, model.Slot{}), in.Key, in.Op, in.Result)
		}
	}
	return func(s slots) (slots, error) { return checkOn(s, p.Key, p.Op, p.Result) }
}

func checkOn(s slots, key string, op model.SlotOp, got model.SlotResult) (slots, error) {
	next, err := model.CheckSlot(s[key], op, got)
	if err != nil {
		return s, fmt.Errorf("key %s: %w", key, err)
	}
	return s.with(key, next), nil
}

// HistoryError says that no order of a history's operations satisfies the
// model, and shows how far the best attempt got.
type HistoryError struct {
	History []*Operation
	// Linearized is the longest order found in which every step was
	// accepted, and State the state it ends in.
	Linearized []string
	State      string
	// Refused says, for every operation that could come next, why the
	// model refused it.
	Refused []string
	// Problem is set instead when an operation alone is impossible.
	Problem string
}

func (e *HistoryError) Error() string {
	var b strings.Builder
	if e.Problem != "" {
		b.WriteString(e.Problem)
		return b.String()
	}
	b.WriteString("the history is not linearizable: no order of its operations is allowed by the model\n")
	b.WriteString("longest accepted order:\n")
	for _, s := range e.Linearized {
		b.WriteString("  " + s + "\n")
	}
	b.WriteString("state then: " + e.State + "\n")
	b.WriteString("every operation that could come next is refused:\n")
	for _, s := range e.Refused {
		b.WriteString("  " + s + "\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// checkHistory returns nil when the history is linearizable.
func checkHistory(history []*Operation) *HistoryError {
	us, err := units(history)
	if err != nil {
		return &HistoryError{History: history, Problem: err.Error()}
	}
	all := uint64(1)<<len(us) - 1
	failed := map[string]bool{}
	var best []int
	var bestState slots
	var refused []string
	var dfs func(done uint64, s slots, order []int) bool
	dfs = func(done uint64, s slots, order []int) bool {
		if done == all {
			return true
		}
		memo := fmt.Sprintf("%x|%v", done, s)
		if failed[memo] {
			return false
		}
		var why []string
		for i, u := range us {
			if done&(1<<i) != 0 || !minimal(us, done, u) || (u.after >= 0 && done&(1<<u.after) == 0) {
				continue
			}
			next, err := u.step(s)
			if err != nil {
				why = append(why, u.what+": "+err.Error())
				continue
			}
			if dfs(done|1<<i, next, append(order, i)) {
				return true
			}
		}
		if best == nil || len(order) > len(best) {
			best, bestState, refused = slices.Clone(order), s, why
		}
		failed[memo] = true
		return false
	}
	if dfs(0, nil, nil) {
		return nil
	}
	e := &HistoryError{History: history, State: bestState.String(), Refused: refused}
	for _, i := range best {
		e.Linearized = append(e.Linearized, us[i].what)
	}
	if len(refused) == 0 {
		e.Refused = []string{"(every remaining operation had to wait for one that had not been placed)"}
	}
	return e
}

// minimal reports whether no unplaced operation returned before u was
// called: only then may u come next.
func minimal(us []unit, done uint64, u unit) bool {
	for j, v := range us {
		if done&(1<<j) == 0 && v.ret < u.call {
			return false
		}
	}
	return true
}

// TraceError is the #6984 signature: an operation read a file after it had
// truncated that same file itself, so it read its own empty file.
type TraceError struct {
	Client int
	Op     string // the operation, as in the history
	Path   string
	Open   int // step of the truncating open
	Read   int // step of the read
}

func (e *TraceError) Error() string {
	return fmt.Sprintf("%s %s read %s at step %d after truncating it itself at step %d (the #6984 signature: a save that observes its own truncation)",
		clientName(e.Client), e.Op, e.Path, e.Read, e.Open)
}

// checkTrace finds the first read of a file by an operation that truncated
// that file earlier in the same operation.
func checkTrace(events []Event, history []*Operation) *TraceError {
	type mark struct{ client, op int }
	truncated := map[mark]map[string]int{}
	for _, e := range events {
		if e.failed || e.Op < 0 {
			continue
		}
		m := mark{e.Client, e.Op}
		switch e.Call {
		case CallOpen:
			// Linux truncates even with O_RDONLY, so the access mode
			// does not matter.
			if e.Flag&os.O_TRUNC != 0 {
				if truncated[m] == nil {
					truncated[m] = map[string]int{}
				}
				if _, ok := truncated[m][e.Path]; !ok {
					truncated[m][e.Path] = e.Step
				}
			}
		case CallRead:
			if at, ok := truncated[m][e.Path]; ok {
				return &TraceError{Client: e.Client, Op: fmtOp(history[e.Op].Op), Path: e.Path, Open: at, Read: e.Step}
			}
		}
	}
	return nil
}

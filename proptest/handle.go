package proptest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/sessioncheck/sessioncheck/model"
)

// handleMaxAge is the inactivity age the suite opens handles with
// (Django's SESSION_COOKIE_AGE). Ten minutes against clock steps of a
// second to an hour lets sessions expire under a handle.
const handleMaxAge = 10 * time.Minute

// realHandle is the session handle the suite drives beside model.Handle,
// with the store behind it instead of a State. session.Session implements
// it. It is unexported because the suite drives one handle only, package
// session's: no caller can pass another.
type realHandle interface {
	// Key is the session key, "" when the handle has no stored session.
	Key() string
	// Save writes the session back (see model.Handle.Save).
	Save() error
	// Do performs one handle operation and reports its result, the key
	// and the flags after it, as model.Handle.Step does.
	Do(op model.HandleOp) model.HandleResult
}

// handleOpener opens a handle on key over store, as a web request does:
// without touching the store.
type handleOpener func(store model.Store, key string, clock model.Clock, maxAge time.Duration) realHandle

// handleState is the open handle of a case: the real one and the model's.
type handleState struct {
	real  realHandle
	model model.Handle
}

// The handle operations a "read" or "write" step draws from: every one
// that only changes the handle (and may load it).
var (
	readKinds = []model.HandleKind{
		model.HandleGet, model.HandleKeys, model.HandleItems, model.HandleExpiryDate,
	}
	writeKinds = []model.HandleKind{
		model.HandleSet, model.HandlePop, model.HandleSetDefault, model.HandleUpdate,
		model.HandleClear, model.HandleSetExpiryAt, model.HandleSetExpiryAge, model.HandleClearExpiry,
	}
)

// Values a handle writes under model.ExpiryName besides well-formed ones:
// ages in seconds (0 is maxAge, negative ends the session) and text that
// is no expiry at all, which the handle must refuse.
var expiryTexts = []string{"60", "0", "-60", "soon", "1.5"}

// Ages for set_expiry_age; 1.5 s is not a whole number of seconds.
var expiryAges = []time.Duration{time.Minute, 0, time.Second, -time.Minute, 1500 * time.Millisecond}

func (m *machine) handleActions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"handle-open":    m.handleOpen,
		"handle-read":    func(t *rapid.T) { m.handleAccess(t, readKinds) },
		"handle-write":   func(t *rapid.T) { m.handleAccess(t, writeKinds) },
		"handle-save":    m.handleSave,
		"handle-end":     m.handleEnd,
		"untouched-save": m.untouchedSave,
	}
}

// handleOpen opens a handle on a key drawn like any other, replacing the
// handle the case had (a new request).
func (m *machine) handleOpen(t *rapid.T) {
	key := m.drawKey(t)
	m.h = &handleState{
		real:  m.openSession(m.store, key, m.clock, handleMaxAge),
		model: model.OpenHandle(key, handleMaxAge),
	}
	m.step++
	t.Logf("step %d: open a handle on %s (max age %v)", m.step, m.name(key), handleMaxAge)
}

// handleAccess reads or writes through the open handle.
func (m *machine) handleAccess(t *rapid.T, kinds []model.HandleKind) {
	if m.h == nil {
		t.Skip("no handle open")
	}
	kind := rapid.SampledFrom(kinds).Draw(t, "handle-op")
	op := model.HandleOp{Kind: kind}
	switch kind {
	case model.HandleGet, model.HandlePop:
		op.Name = drawName(t)
	case model.HandleSet, model.HandleSetDefault:
		op.Name = drawName(t)
		if op.Name == model.ExpiryName {
			op.Value = m.drawExpiryText(t)
		} else {
			op.Value = valueGen.Draw(t, "value")
		}
	case model.HandleUpdate:
		op.Values = drawValues(t)
	case model.HandleSetExpiryAt:
		op.At = m.drawExpiry(t)
	case model.HandleSetExpiryAge:
		op.Age = rapid.SampledFrom(expiryAges).Draw(t, "age")
	}
	m.handleStep(t, op)
}

func (m *machine) handleSave(t *rapid.T) {
	if m.h == nil {
		t.Skip("no handle open")
	}
	m.handleStep(t, model.HandleOp{Kind: model.HandleSave})
}

// handleEnd ends the handle's session (flush, as at logout) or moves it to
// a new key (cycle_key, as at login).
func (m *machine) handleEnd(t *rapid.T) {
	if m.h == nil {
		t.Skip("no handle open")
	}
	kind := rapid.SampledFrom([]model.HandleKind{model.HandleCycleKey, model.HandleFlush}).Draw(t, "handle-op")
	m.handleStep(t, model.HandleOp{Kind: kind})
}

// untouchedSave is the targeted property "save never observes its own
// truncation" as one action: open a handle on a live session, save it
// without accessing it, and load the session through the store. The
// handle must keep its key, the values must be the ones stored before,
// and every step must agree with the model.
func (m *machine) untouchedSave(t *rapid.T) {
	var live []string
	for _, k := range m.keys { // in the order issued, so draws replay
		if s := m.state.Slot(k); s.Stored && s.Record.LiveAt(m.now) {
			live = append(live, k)
		}
	}
	if len(live) == 0 {
		t.Skip("no live session")
	}
	key := live[rapid.IntRange(0, len(live)-1).Draw(t, "session")]
	before := m.state.Slot(key).Record.Values
	m.h = &handleState{
		real:  m.openSession(m.store, key, m.clock, handleMaxAge),
		model: model.OpenHandle(key, handleMaxAge),
	}
	m.step++
	t.Logf("step %d: open a handle on live session %s and save it without accessing it", m.step, m.name(key))
	m.handleStep(t, model.HandleOp{Kind: model.HandleSave})
	rec := m.do(t, model.Op{Kind: model.OpLoad, Key: key, Now: m.now}).Record
	// The model agreed with every step, so this holds; it is stated here
	// in the words of the property in case the model ever stops saying it.
	if m.h.real.Key() != key || rec.Values != before {
		t.Fatalf("step %d: save observed its own truncation: the untouched handle's key is now %s and the values %v, were %s and %v",
			m.step, m.name(m.h.real.Key()), rec.Values, m.name(key), before)
	}
}

// handleStep runs op on the real handle and on the model's, and compares
// the results (the value returned, the key and the flags after it).
func (m *machine) handleStep(t *rapid.T, op model.HandleOp) {
	desc := fmt.Sprintf("handle %s at %s", m.fmtHandleOp(op), m.at(m.now))
	var got model.HandleResult
	m.guard(t, desc, func() { got = runSession(m.h.real, op) }, func() string { return "no panic" })
	fresh := ""
	if got.Key != m.h.model.Key() {
		fresh = got.Key // the key the store chose, if the op made one
	}
	m.learn(got.Key)
	next, state, want := m.h.model.Step(m.state, m.now, op, fresh)
	m.step++
	if !want.Equal(got) {
		if got.Err != nil {
			t.Logf("step %d detail: the handle's error: %s", m.step, m.sanitize(got.Err.Error()))
		}
		if want.Err != nil {
			t.Logf("step %d detail: the model's error: %s", m.step, m.sanitize(want.Err.Error()))
		}
		t.Fatalf("step %d: %s\n    store did:      %s\n    model expected: %s",
			m.step, desc, m.fmtHandleResult(op.Kind, got), m.fmtHandleResult(op.Kind, want))
	}
	m.h.model, m.state = next, state
	t.Logf("step %d: %s → %s", m.step, desc, m.fmtHandleResult(op.Kind, got))
}

// runSession performs op on a real handle.
func runSession(s realHandle, op model.HandleOp) model.HandleResult {
	r := s.Do(op)
	if r.Outcome != model.OK {
		// A result beside an error means nothing.
		r = model.HandleResult{Outcome: r.Outcome, Err: r.Err, Key: r.Key, Accessed: r.Accessed, Modified: r.Modified}
	}
	return r
}

func drawName(t *rapid.T) string {
	return rapid.SampledFrom(append(slices.Clip(valueNames), model.ExpiryName)).Draw(t, "name")
}

// drawExpiryText draws a value for model.ExpiryName: an age, an absolute
// time around now, or text that is not an expiry.
func (m *machine) drawExpiryText(t *rapid.T) string {
	if rapid.Bool().Draw(t, "absolute") {
		return model.ExpiryAt(m.drawExpiry(t))
	}
	return rapid.SampledFrom(expiryTexts).Draw(t, "expiry")
}

func (m *machine) fmtHandleOp(op model.HandleOp) string {
	var arg string
	switch op.Kind {
	case model.HandleGet, model.HandlePop:
		arg = strconv.Quote(op.Name)
	case model.HandleSet, model.HandleSetDefault:
		arg = strconv.Quote(op.Name) + ", " + strconv.Quote(op.Value)
	case model.HandleUpdate:
		arg = op.Values.String()
	case model.HandleSetExpiryAt:
		arg = m.at(op.At)
	case model.HandleSetExpiryAge:
		arg = op.Age.String()
	}
	return op.Kind.String() + "(" + arg + ")"
}

// fmtHandleResult shows a handle result with keys by name and times from
// the epoch (errors by outcome only: their text is logged separately).
func (m *machine) fmtHandleResult(kind model.HandleKind, r model.HandleResult) string {
	var b strings.Builder
	b.WriteString(r.Outcome.String())
	if r.Outcome == model.Failed && r.Err != nil && strings.Contains(r.Err.Error(), model.ErrInvalidExpiry.Error()) {
		b.WriteString(" (invalid expiry)")
	}
	if r.Outcome == model.OK {
		switch kind {
		case model.HandleGet, model.HandlePop:
			fmt.Fprintf(&b, " value=%q found=%v", r.Value, r.Found)
		case model.HandleSetDefault:
			fmt.Fprintf(&b, " value=%q", r.Value)
		case model.HandleKeys:
			fmt.Fprintf(&b, " keys=%q", r.Names)
		case model.HandleItems:
			fmt.Fprintf(&b, " items=%v", r.Values)
		case model.HandleExpiryDate:
			fmt.Fprintf(&b, " expiry=%s", m.at(r.Expiry))
		}
	}
	key := "none"
	if r.Key != "" {
		key = m.name(r.Key)
	}
	fmt.Fprintf(&b, "; handle key=%s accessed=%v modified=%v", key, r.Accessed, r.Modified)
	return b.String()
}

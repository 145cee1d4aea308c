package proptest

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"

	"github.com/sessioncheck/sessioncheck/model"
)

// epoch is where every case's clock starts. Its nonzero nanoseconds catch a
// store that rounds the expiry it stores.
var epoch = time.Date(2026, 1, 1, 0, 0, 0, 123456789, time.UTC)

// oddKeys are the keys an operation may name besides those the store
// issued: valid keys no store ever issued (a 32-character key is generated
// with probability 36^-32), and invalid ones, each a way to escape the
// directory or break the key rules. Listed in a fixed order so that a seed
// always draws the same key.
var oddKeys = []string{
	"neverissuedneverissuedneverissue", // valid, 32 characters
	"zzzzzzzz",                         // valid, the shortest
	strings.Repeat("9", model.MaxKeyLength),
	"../x",
	"a/b",
	`a\b`,
	"",
	"abcdefg", // 7 characters
	strings.Repeat("a", model.MaxKeyLength+1),
	"ABCDEFGHIJ",
	"abcd\x00efgh",
}

// Names and texts that drawn values are made of: a handful of names so that
// writes collide, texts with the characters that break naive encodings.
var (
	valueNames = []string{"a", "b", "user_id", "_auth"}
	valueTexts = []string{"1", "", "x", "two words", "ünï©ødé", "a=b;c\n\"q\"\\", "{}"}
)

// Expiry offsets from now, and clock advances. The first entry of each is
// where shrinking goes: a session that stays live, a one-second step.
var (
	expiryOffsets = []time.Duration{10 * time.Minute, time.Minute, time.Second, 0, -time.Second, -time.Minute, time.Hour}
	advances      = []time.Duration{time.Second, time.Minute, 10 * time.Minute, 59 * time.Second, time.Hour}
)

// machine is one test case: a store under test, the model state it must
// agree with, and the clock both read.
type machine struct {
	open  Opener
	dir   string
	now   time.Time
	store model.Store
	state model.State

	// keys holds every key the store issued, in the order issued: actions
	// draw from it by index, so a seed draws the same sessions whatever
	// random keys the store chose.
	keys []string
	// names maps each issued key to s1, s2, ... Messages name sessions this
	// way: rapid only shrinks a failure whose message is the same on every
	// replay, and the keys themselves change on every replay.
	names map[string]string
	step  int
	// openSession opens real handles (nil: no handle actions); h is the
	// open handle, if any (see handle.go).
	openSession handleOpener
	h           *handleState
	// profile judges each result (model.Profile.Check); tl counts the
	// differences it accepted.
	profile model.Profile
	tl      *tally
}

func (m *machine) clock() time.Time { return m.now }

// actions returns the store actions rapid chooses from.
func (m *machine) actions() map[string]func(*rapid.T) {
	return map[string]func(*rapid.T){
		"create":        m.create,
		"load":          m.load,
		"save":          m.save,
		"touch":         m.touch,
		"delete":        m.delete,
		"exists":        m.exists,
		"cycle":         m.cycle,
		"clear-expired": m.clearExpired,
		"advance-clock": m.advance,
		"reopen":        m.reopen,
	}
}

func (m *machine) create(t *rapid.T) {
	m.do(t, model.Op{Kind: model.OpCreate, Values: drawValues(t), Expiry: m.drawExpiry(t), Now: m.now})
}

func (m *machine) load(t *rapid.T) {
	m.do(t, model.Op{Kind: model.OpLoad, Key: m.drawKey(t), Now: m.now})
}

func (m *machine) save(t *rapid.T) {
	m.do(t, model.Op{Kind: model.OpSave, Key: m.drawKey(t), Values: drawValues(t), Expiry: m.drawExpiry(t), Now: m.now})
}

func (m *machine) touch(t *rapid.T) {
	m.do(t, model.Op{Kind: model.OpTouch, Key: m.drawKey(t), Expiry: m.drawExpiry(t), Now: m.now})
}

func (m *machine) delete(t *rapid.T) {
	m.do(t, model.Op{Kind: model.OpDelete, Key: m.drawKey(t), Now: m.now})
}

func (m *machine) exists(t *rapid.T) {
	m.do(t, model.Op{Kind: model.OpExists, Key: m.drawKey(t), Now: m.now})
}

func (m *machine) cycle(t *rapid.T) {
	m.do(t, model.Op{Kind: model.OpCycle, Key: m.drawKey(t), Now: m.now})
}

func (m *machine) clearExpired(t *rapid.T) {
	m.do(t, model.Op{Kind: model.OpClearExpired, Now: m.now})
}

// do runs op on the store through model.Do, as every check does, learns
// a key it issued, and has the model judge the result.
func (m *machine) do(t *rapid.T, op model.Op) model.Result {
	var res model.Result
	var err error
	m.guard(t, m.fmtOp(op), func() { res, err = model.Do(m.store, op) }, func() string { return m.expected(op) })
	m.learn(res.Key)
	m.check(t, op, res, err)
	return res
}

// advance moves the clock forward. Time never goes back: a store may
// assume its clock is monotonic.
func (m *machine) advance(t *rapid.T) {
	d := rapid.SampledFrom(advances).Draw(t, "advance")
	m.now = m.now.Add(d)
	m.step++
	t.Logf("step %d: advance the clock by %v to %s", m.step, d, m.at(m.now))
}

// reopen closes the store and opens a new one on the same directory, as a
// restarted server would: the files must be the whole state.
func (m *machine) reopen(t *rapid.T) {
	var err error
	m.guard(t, "reopen: close the store", func() { err = closeStore(m.store) }, func() string { return "it closes" })
	if err != nil {
		m.step++
		t.Logf("step %d detail: the store's error: %s", m.step, m.sanitize(err.Error()))
		t.Fatalf("step %d: reopen: closing the store failed", m.step)
	}
	m.store = nil
	var st model.Store
	m.guard(t, "reopen: open the store on its directory", func() { st, err = m.open(m.dir, m.clock) }, func() string { return "it opens" })
	if err != nil {
		m.step++
		t.Logf("step %d detail: the store's error: %s", m.step, m.sanitize(err.Error()))
		t.Fatalf("step %d: reopen: opening the store again on its own directory failed", m.step)
	}
	m.store = st
	m.step++
	t.Logf("step %d: reopen the store on the same directory", m.step)
}

// storeKinds are the store operations, each an action of the suite under
// its wire name.
var storeKinds = []model.Kind{
	model.OpCreate, model.OpLoad, model.OpSave, model.OpTouch,
	model.OpDelete, model.OpExists, model.OpCycle, model.OpClearExpired,
}

// handleKinds are the store operations a session handle calls; the
// handle's actions run only on a store that declares all of them.
var handleKinds = []model.Kind{
	model.OpCreate, model.OpLoad, model.OpSave, model.OpTouch, model.OpDelete, model.OpCycle,
}

func handleSupported(st model.Store) bool {
	for _, k := range handleKinds {
		if !model.Supports(st, k) {
			return false
		}
	}
	return true
}

// closeStore closes st if it can be closed.
func closeStore(st model.Store) error {
	if c, ok := st.(io.Closer); ok && st != nil {
		return c.Close()
	}
	return nil
}

// guard runs call, a call into the store, and turns a panic in it into a
// failed step: no panic may reach a user of the store, and a panic shown as
// a step reads better than a stack trace. what describes the step, expected
// what the model wanted instead.
func (m *machine) guard(t *rapid.T, what string, call func(), expected func() string) {
	p := catch(call)
	if p == nil {
		return
	}
	m.step++
	t.Logf("step %d detail: the store panicked: %s", m.step, m.sanitize(fmt.Sprint(p)))
	t.Fatalf("step %d: %s\n    store did:      panic\n    model expected: %s", m.step, what, expected())
}

// catch runs f and returns what it panicked with, if it did. The
// unwinding of a case after a transport failure (abortCase) goes on.
func catch(f func()) (p any) {
	defer func() {
		p = recover()
		if _, ok := p.(abortCase); ok {
			panic(p)
		}
	}()
	f()
	return nil
}

// check compares what the store did with the model. The model decides;
// the suite only reports. On a mismatch the message names the step, the
// operation, what the store did and what the model expected, and nothing
// that differs between replays of one case (so rapid can shrink it).
func (m *machine) check(t *rapid.T, op model.Op, got model.Result, err error) {
	m.step++
	next, diff, cerr := m.profile.Check(m.state, op, got)
	if cerr == nil {
		m.state = next
		if diff != "" {
			// Accepted by the profile, and listed apart: never silent.
			m.tl.differ(op.Kind.String() + ": " + diff)
			t.Logf("step %d: %s → %s (difference: %s)", m.step, m.fmtOp(op), m.fmtResult(op.Kind, got), diff)
			return
		}
		t.Logf("step %d: %s → %s", m.step, m.fmtOp(op), m.fmtResult(op.Kind, got))
		return
	}
	// Text from outside the suite (the store's error, the model's own
	// words, which list keys in their random order) goes to the log; the
	// failure message is built from the case alone.
	if err != nil {
		t.Logf("step %d detail: the store's error: %s", m.step, m.sanitize(err.Error()))
	}
	t.Logf("step %d detail: the model says: %s", m.step, m.sanitize(cerr.Error()))
	t.Fatalf("step %d: %s\n    store did:      %s\n    model expected: %s",
		m.step, m.fmtOp(op), m.fmtResult(op.Kind, got), m.expected(op))
}

// placeholderKey stands for the fresh key a Create or Cycle chooses when
// the model is asked what it expects; no store draws it (it is not random).
const placeholderKey = "0placeholder0fresh0key0000000000"

// expected says what the model allows for op in the current state: the
// model's own result (model.State.Apply), with the fresh key of a Create
// or Cycle described rather than named.
func (m *machine) expected(op model.Op) string {
	_, want, err := m.state.Apply(op, placeholderKey)
	switch {
	case err != nil:
		return "(the model cannot say: " + m.sanitize(err.Error()) + ")"
	case want.Outcome == model.Invalid:
		return model.Invalid.String() + " (before any file is touched)"
	case want.Outcome != model.OK:
		return m.fmtResult(op.Kind, want)
	case op.Kind == model.OpCreate:
		return "ok with a fresh valid key that is not in use"
	case op.Kind == model.OpCycle:
		return "ok with a fresh valid key holding " + m.fmtRecord(m.state.Slot(op.Key).Record) + ", and " + m.name(op.Key) + " gone"
	}
	return m.fmtResult(op.Kind, want)
}

// learn records a key the store issued.
func (m *machine) learn(key string) {
	if key == "" || m.names[key] != "" || slices.Contains(oddKeys, key) {
		return
	}
	m.keys = append(m.keys, key)
	m.names[key] = "s" + strconv.Itoa(len(m.keys))
}

// drawKey draws the key an operation names: mostly one the store issued
// (live, expired or deleted), sometimes one it never issued or an invalid
// one. Shrinking goes towards the first issued key.
func (m *machine) drawKey(t *rapid.T) string {
	if len(m.keys) > 0 && rapid.IntRange(0, 9).Draw(t, "issued-key") < 8 {
		return m.keys[rapid.IntRange(0, len(m.keys)-1).Draw(t, "session")]
	}
	return rapid.SampledFrom(oddKeys).Draw(t, "odd-key")
}

func (m *machine) drawExpiry(t *rapid.T) time.Time {
	return m.now.Add(rapid.SampledFrom(expiryOffsets).Draw(t, "expires-in"))
}

// valueGen draws one value text: mostly from the fixed list, sometimes any
// short string.
var valueGen = rapid.OneOf(rapid.SampledFrom(valueTexts), rapid.StringN(0, 6, -1))

func drawValues(t *rapid.T) model.Values {
	n := rapid.IntRange(0, 3).Draw(t, "pairs")
	pairs := make(map[string]string, n)
	for range n {
		pairs[rapid.SampledFrom(valueNames).Draw(t, "name")] = valueGen.Draw(t, "value")
	}
	return model.NewValues(pairs)
}

// name is how messages show a key.
func (m *machine) name(key string) string {
	if n := m.names[key]; n != "" {
		return n
	}
	return strconv.Quote(key)
}

// fmtKeys shows a set of keys: issued ones by name in the order issued,
// then any others.
func (m *machine) fmtKeys(keys []string) string {
	var names, others []string
	for _, k := range m.keys {
		if slices.Contains(keys, k) {
			names = append(names, m.names[k])
		}
	}
	for _, k := range keys {
		if m.names[k] == "" {
			others = append(others, strconv.Quote(k))
		}
	}
	slices.Sort(others)
	return "[" + strings.Join(append(names, others...), " ") + "]"
}

func (m *machine) at(when time.Time) string { return at(when) }

// at shows an instant relative to the epoch.
func at(when time.Time) string {
	d := when.Sub(epoch)
	if d < 0 {
		return "t" + d.String()
	}
	return "t+" + d.String()
}

// printer shows operations and results the model's way, with issued keys
// by name and instants relative to the epoch, so that a message is the
// same on every replay of a case.
func (m *machine) printer() model.Printer {
	return model.Printer{Key: m.name, Time: at, KeyList: m.fmtKeys}
}

func (m *machine) fmtRecord(r model.Record) string { return m.printer().Record(r) }

func (m *machine) fmtOp(op model.Op) string { return m.printer().Op(op) }

func (m *machine) fmtResult(kind model.Kind, r model.Result) string {
	return m.printer().Result(kind, r)
}

// sanitize makes text from a store or the model stable across replays:
// issued keys become their names, the case's directory becomes <dir>.
func (m *machine) sanitize(s string) string {
	if m.dir != "" {
		s = strings.ReplaceAll(s, m.dir, "<dir>")
	}
	for _, k := range m.keys {
		s = strings.ReplaceAll(s, k, m.names[k])
	}
	return s
}

// errSetup marks a failure to start a case at all: the store could not be
// opened on a fresh empty directory. It is an error of the setup, not a
// violation of the model.
var errSetup = errors.New("proptest: setup error")

// forCase makes a fresh directory for one case, removed when the case ends.
func (p *dirPool) forCase(t *rapid.T) string {
	dir, err := p.make()
	if err != nil {
		t.Logf("%v", err)
		t.Fatalf("%v: cannot make a directory for the case", errSetup)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// run is the property: one case, from a fresh directory to a sequence of
// actions rapid draws.
func run(open Opener, dirs *dirPool, session handleOpener, tl *tally, profile model.Profile, without ...model.Kind) func(*rapid.T) {
	return func(t *rapid.T) {
		dir := dirs.forCase(t)
		m := &machine{open: open, dir: dir, now: epoch, names: make(map[string]string), openSession: session, profile: profile, tl: tl}
		st, err := open(dir, m.clock)
		if err != nil {
			t.Logf("%s", m.sanitize(err.Error()))
			t.Fatalf("%v: cannot open the store on a fresh empty directory", errSetup)
		}
		m.store = st
		m.profile = profile.For(st)
		t.Cleanup(func() { _ = closeStore(m.store) })
		actions := m.actions()
		for _, k := range without {
			delete(actions, k.String())
		}
		// An operation the store does not declare is never run: its
		// refusal would be scored as a failure of a store that never
		// claimed it (a worker's hello, model.Declarer).
		for _, k := range storeKinds {
			if !model.Supports(st, k) {
				delete(actions, k.String())
				tl.leftOut(k.String())
			}
		}
		if session != nil && handleSupported(st) {
			for name, a := range m.handleActions() {
				actions[name] = a
			}
		}
		t.Repeat(actions)
	}
}

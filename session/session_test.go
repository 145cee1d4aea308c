package session_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/session"
)

// sessFake is a model.Store that is the model itself: model.State stepped
// with State.Apply, keys drawn from a seeded source. It can fail chosen
// operations (fail) and can carry one deliberate bug (bug) so that the
// comparison test shows it catches a store that breaks the contract.
type sessFake struct {
	state model.State
	clock model.Clock
	rng   *rand.ChaCha8
	calls []model.Kind
	fail  map[model.Kind]error
	bug   string // "", "upsert" (Save resurrects), "touch-clears" (Touch empties the values)
}

func newSessFake(clock model.Clock, seed uint64) *sessFake {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return &sessFake{clock: clock, rng: rand.NewChaCha8(s), fail: map[model.Kind]error{}}
}

func (f *sessFake) do(op model.Op) (model.Result, error) {
	f.calls = append(f.calls, op.Kind)
	if err := f.fail[op.Kind]; err != nil {
		return model.Result{}, err
	}
	op.Now = f.clock()
	fresh := ""
	if op.Kind == model.OpCreate || op.Kind == model.OpCycle {
		for fresh == "" || f.state.Slot(fresh).Stored {
			k, err := model.NewKey(f.rng)
			if err != nil {
				return model.Result{}, err
			}
			fresh = k
		}
	}
	switch {
	case f.bug == "upsert" && op.Kind == model.OpSave && model.ValidateKey(op.Key) == nil:
		// An upsert: whatever was there, the record is now op's.
		gone, _, _ := f.state.Apply(model.Op{Kind: model.OpDelete, Key: op.Key, Now: op.Now}, "")
		next, _, err := gone.Apply(model.Op{Kind: model.OpCreate, Values: op.Values, Expiry: op.Expiry, Now: op.Now}, op.Key)
		f.state = next
		return model.Result{}, err
	case f.bug == "touch-clears" && op.Kind == model.OpTouch:
		op.Kind, op.Values = model.OpSave, model.Values{}
	}
	next, r, err := f.state.Apply(op, fresh)
	if err != nil {
		return r, err
	}
	f.state = next
	switch r.Outcome {
	case model.NotFound:
		return r, fmt.Errorf("session %s: %w", op.Key, model.ErrNotFound)
	case model.Invalid:
		return r, model.ValidateKey(op.Key)
	}
	return r, nil
}

func (f *sessFake) Create(v model.Values, exp time.Time) (string, error) {
	r, err := f.do(model.Op{Kind: model.OpCreate, Values: v, Expiry: exp})
	return r.Key, err
}
func (f *sessFake) Load(key string) (model.Record, error) {
	r, err := f.do(model.Op{Kind: model.OpLoad, Key: key})
	return r.Record, err
}
func (f *sessFake) Save(key string, v model.Values, exp time.Time) error {
	_, err := f.do(model.Op{Kind: model.OpSave, Key: key, Values: v, Expiry: exp})
	return err
}
func (f *sessFake) Touch(key string, exp time.Time) error {
	_, err := f.do(model.Op{Kind: model.OpTouch, Key: key, Expiry: exp})
	return err
}
func (f *sessFake) Delete(key string) error {
	_, err := f.do(model.Op{Kind: model.OpDelete, Key: key})
	return err
}
func (f *sessFake) Exists(key string) (bool, error) {
	r, err := f.do(model.Op{Kind: model.OpExists, Key: key})
	return r.Exists, err
}
func (f *sessFake) Cycle(key string) (string, error) {
	r, err := f.do(model.Op{Kind: model.OpCycle, Key: key})
	return r.Key, err
}
func (f *sessFake) ClearExpired() ([]string, error) {
	r, err := f.do(model.Op{Kind: model.OpClearExpired})
	return r.Removed, err
}

// sessClock is a clock the test moves by hand.
type sessClock struct{ now time.Time }

func (c *sessClock) read() time.Time { return c.now }

var sessT0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

const sessMaxAge = time.Hour

// sessRows test the rows of docs/SPEC.md that only a real handle can show
// (a store that fails), and repeat the opening rows against session.Session
// with the store's calls counted.
var sessRows = []struct {
	name string
	test func(t *testing.T)
}{
	{"open/no-access", func(t *testing.T) {
		c := &sessClock{now: sessT0}
		f := newSessFake(c.read, 1)
		s := session.Open(f, "abcdefgh", c.read, sessMaxAge)
		if len(f.calls) != 0 || s.Key() != "abcdefgh" || s.Accessed() || s.Modified() {
			t.Fatalf("open: calls %v, key %q, flags %v %v", f.calls, s.Key(), s.Accessed(), s.Modified())
		}
		s.Clear() // no load either
		if len(f.calls) != 0 {
			t.Fatalf("clear called the store: %v", f.calls)
		}
	}},
	{"open/invalid-key", func(t *testing.T) {
		c := &sessClock{now: sessT0}
		f := newSessFake(c.read, 1)
		for _, k := range []string{"../x", "a/b", `a\b`, "", "abcdefg", strings.Repeat("a", 65), "ABCDEFGH", "abcd\x00efgh"} {
			s := session.Open(f, k, c.read, sessMaxAge)
			if _, ok, err := s.Get("x"); ok || err != nil || s.Key() != "" {
				t.Fatalf("%q: %v %v key %q", k, ok, err, s.Key())
			}
		}
		if len(f.calls) != 0 {
			t.Fatalf("an invalid key reached the store: %v", f.calls)
		}
	}},
	{"error/corrupt", func(t *testing.T) {
		c := &sessClock{now: sessT0}
		f := newSessFake(c.read, 1)
		key, err := f.Create(model.NewValues(map[string]string{"user": "alice"}), sessT0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		f.fail[model.OpLoad] = &model.CorruptError{Key: key, Reason: "bad tag"}
		s := session.Open(f, key, c.read, sessMaxAge)
		for name, op := range map[string]func() error{
			"get":   func() error { _, _, err := s.Get("user"); return err },
			"set":   func() error { return s.Set("user", "x") },
			"keys":  func() error { _, err := s.Keys(); return err },
			"cycle": s.CycleKey,
		} {
			err := op()
			var ce *model.CorruptError
			if !errors.Is(err, model.ErrCorrupt) || !errors.As(err, &ce) || ce.Key != key {
				t.Fatalf("%s: %v, want a CorruptError naming %s", name, err, key)
			}
			if s.Key() != key || s.Accessed() || s.Modified() {
				t.Fatalf("%s changed the handle: key %q flags %v %v", name, s.Key(), s.Accessed(), s.Modified())
			}
		}
		// An untouched save does not load, so it does not see the corruption.
		if err := s.Save(); err != nil {
			t.Fatalf("untouched save: %v", err)
		}
		// Once the store reads it again, the values are there.
		delete(f.fail, model.OpLoad)
		if v, ok, err := s.Get("user"); err != nil || !ok || v != "alice" {
			t.Fatalf("after: %q %v %v", v, ok, err)
		}
	}},
	{"error/io", func(t *testing.T) {
		c := &sessClock{now: sessT0}
		f := newSessFake(c.read, 1)
		key, err := f.Create(model.NewValues(map[string]string{"user": "alice"}), sessT0.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		before := f.state
		s := session.Open(f, key, c.read, sessMaxAge)
		for _, k := range []model.Kind{model.OpSave, model.OpDelete, model.OpCycle, model.OpCreate} {
			f.fail[k] = syscall.EIO
		}
		if err := s.Set("user", "bob"); err != nil {
			t.Fatal(err)
		}
		for name, op := range map[string]func() error{"save": s.Save, "flush": s.Flush, "cycle": s.CycleKey} {
			if err := op(); !errors.Is(err, syscall.EIO) {
				t.Fatalf("%s: %v, want EIO", name, err)
			}
			if s.Key() != key || !s.Modified() {
				t.Fatalf("%s changed the handle: key %q", name, s.Key())
			}
			if v, _, _ := s.Get("user"); v != "bob" {
				t.Fatalf("%s lost the handle's values: %q", name, v)
			}
		}
		if !sessSameState(f.state, before) {
			t.Fatal("a failed operation changed the store")
		}
		// A failed load (not ErrNotFound) is an error too, never an empty session.
		f.fail[model.OpLoad] = syscall.EIO
		s2 := session.Open(f, key, c.read, sessMaxAge)
		if _, _, err := s2.Get("user"); !errors.Is(err, syscall.EIO) || s2.Key() != key || s2.Accessed() {
			t.Fatalf("load: %v key %q", err, s2.Key())
		}
	}},
}

func TestSessionSpecRows(t *testing.T) {
	for _, r := range sessRows {
		t.Run(r.name, r.test)
	}
}

func sessSameState(a, b model.State) bool {
	ak, bk := a.Keys(), b.Keys()
	if len(ak) != len(bk) {
		return false
	}
	for i, k := range ak {
		if bk[i] != k || !a.Slot(k).Equal(b.Slot(k)) {
			return false
		}
	}
	return true
}

// sessPair is one request: the real handle and the model handle it must
// behave like.
type sessPair struct {
	real  *session.Session
	model model.Handle
}

// sessCompare drives session.Session over store and model.Handle over a
// model.State through the same random sequence of operations: two requests
// at a time, each replaced now and then by a new one on a known, missing or
// invalid key; store-level deletes, cycles and sweeps between them; and a
// clock that moves. It compares every handle result (values, key, flags,
// outcome) and, after every step, what the store holds for every key the
// model knows. It returns a description of the first difference, or "".
func sessCompare(seed uint64, steps int, newStore func(model.Clock) (model.Store, error)) string {
	rng := rand.New(rand.NewPCG(seed, 1))
	c := &sessClock{now: sessT0}
	store, err := newStore(c.read)
	if err != nil {
		return err.Error()
	}
	var st model.State
	var known []string // every key the store has returned
	var log []string
	fail := func(format string, args ...any) string {
		return fmt.Sprintf("seed %d, after\n  %s\n", seed, strings.Join(log, "\n  ")) + fmt.Sprintf(format, args...)
	}
	pickKey := func() string {
		switch n := rng.IntN(10); {
		case n < 6 && len(known) > 0:
			return known[rng.IntN(len(known))]
		case n < 8:
			return "missing0"
		case n < 9:
			return "../BAD"
		}
		return ""
	}
	names := []string{"a", "b", "c", model.ExpiryName}
	pickValue := func(name string) string {
		if name == model.ExpiryName {
			return []string{"30", "-5", "0", "7200", model.ExpiryAt(c.now.Add(10 * time.Minute)), "never"}[rng.IntN(6)]
		}
		return fmt.Sprint(rng.IntN(100))
	}
	reqs := make([]sessPair, 2)
	openReq := func(i int) {
		k := pickKey()
		reqs[i] = sessPair{session.Open(store, k, c.read, sessMaxAge), model.OpenHandle(k, sessMaxAge)}
		log = append(log, fmt.Sprintf("req%d = open(%q)", i, k))
	}
	openReq(0)
	openReq(1)
	for step := 0; step < steps; step++ {
		now := c.now
		switch n := rng.IntN(100); {
		case n < 8:
			openReq(rng.IntN(2))
			continue
		case n < 14:
			c.now = c.now.Add(time.Duration(rng.IntN(3000)) * time.Second)
			log = append(log, fmt.Sprintf("clock +%v", c.now.Sub(now)))
			continue
		case n < 20: // another request's store operation
			op := model.Op{Kind: []model.Kind{model.OpDelete, model.OpCycle, model.OpClearExpired}[rng.IntN(3)], Key: pickKey(), Now: now}
			var got model.Result
			var err error
			switch op.Kind {
			case model.OpDelete:
				err = store.Delete(op.Key)
			case model.OpCycle:
				got.Key, err = store.Cycle(op.Key)
			case model.OpClearExpired:
				got.Removed, err = store.ClearExpired()
			}
			got.Outcome = model.OutcomeOf(err)
			log = append(log, fmt.Sprintf("store %v -> %v", op, got))
			next, err := st.Check(op, got)
			if err != nil {
				return fail("store: %v", err)
			}
			st = next
			if got.Key != "" {
				known = append(known, got.Key)
			}
		default:
			i := rng.IntN(2)
			name := names[rng.IntN(len(names))]
			kind := model.HandleKinds()[rng.IntN(len(model.HandleKinds()))]
			if rng.IntN(4) == 0 {
				// Saves end every request; weight them so that untouched
				// saves (a Touch) and saves after a store change are common.
				kind = model.HandleSave
			}
			op := model.HandleOp{
				Kind:   kind,
				Name:   name,
				Value:  pickValue(name),
				Values: model.NewValues(map[string]string{names[rng.IntN(3)]: pickValue("a")}),
				At:     now.Add(time.Duration(rng.IntN(7200)-1800) * time.Second),
				Age:    []time.Duration{-time.Minute, 0, 30 * time.Second, 2 * time.Hour, 1500 * time.Millisecond}[rng.IntN(5)],
			}
			got := reqs[i].real.Do(op)
			h, next, want := reqs[i].model.Step(st, now, op, got.Key)
			log = append(log, fmt.Sprintf("req%d.%v -> %v", i, op, got))
			if !got.Equal(want) {
				return fail("req%d.%v: model wants %v", i, op, want)
			}
			reqs[i].model, st = h, next
			if got.Key != "" {
				known = append(known, got.Key)
			}
		}
		// The store must hold what the model holds, for every key.
		for _, k := range append(st.Keys(), known...) {
			rec, err := store.Load(k)
			_, want, _ := st.Apply(model.Op{Kind: model.OpLoad, Key: k, Now: c.now}, "")
			if model.OutcomeOf(err) != want.Outcome || !rec.Equal(want.Record) {
				return fail("store holds %v, %v under %s; model wants %v", rec, err, k, want)
			}
		}
	}
	return ""
}

// TestSessionMatchesModel compares session.Session with model.Handle over the
// model-built fake and over the reference store, and shows the comparison
// catches stores that resurrect on save or lose values on touch.
func TestSessionMatchesModel(t *testing.T) {
	base := sessSeed(t)
	const runs, steps = 40, 150
	fake := func(bug string) func(model.Clock) (model.Store, error) {
		return func(c model.Clock) (model.Store, error) {
			f := newSessFake(c, base)
			f.bug = bug
			return f, nil
		}
	}
	t.Run("fake", func(t *testing.T) {
		for i := uint64(0); i < runs; i++ {
			if p := sessCompare(base+i, steps, fake("")); p != "" {
				t.Fatal(p)
			}
		}
	})
	t.Run("reference", func(t *testing.T) {
		for i := uint64(0); i < runs/4; i++ {
			dir := privateDir(t)
			p := sessCompare(base+i, steps, func(c model.Clock) (model.Store, error) {
				return impl.Open(dir, impl.Options{Clock: c})
			})
			if p != "" {
				t.Fatal(p)
			}
		}
	})
	for _, bug := range []string{"upsert", "touch-clears"} {
		t.Run("catches-"+bug, func(t *testing.T) {
			// Each run stops at its first difference, so many are cheap.
			for i := uint64(0); i < 5*runs; i++ {
				if p := sessCompare(base+i, steps, fake(bug)); p != "" {
					t.Logf("caught under seed %d: %s", base+i, p[strings.LastIndex(p, "\n")+1:])
					return
				}
			}
			t.Fatalf("a store with the %s bug passed %d comparisons", bug, 5*runs)
		})
	}
}

// sessSeed is the seed of a randomized test: SESSIONCHECK_SEED if set (to
// replay a failure), else the time. It is always logged.
func sessSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SESSIONCHECK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SESSIONCHECK_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("seed %d (replay with SESSIONCHECK_SEED=%d; runs use seed+i)", seed, seed)
	return seed
}

// privateDir is a fresh directory only its owner can reach, as impl.Open
// requires (t.TempDir makes it 0755).
func privateDir(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

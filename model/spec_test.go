package model_test

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// t0 is the fixed "now" of the table tests; hour is their unit of time.
var (
	t0   = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	hour = time.Hour
)

// Keys used by the table tests.
const (
	kLive    = "live0000"
	kExpired = "expired0"
	kAbsent  = "absent00"
	kFresh   = "fresh000"
	kFresh2  = "fresh111"
)

var (
	vA = model.NewValues(map[string]string{"user": "alice"})
	vB = model.NewValues(map[string]string{"user": "bob", "cart": "3"})
)

// fixture is a store holding a live session kLive (values vA, expiring in an
// hour) and an expired one kExpired (values vB, expired an hour ago).
func fixture(t *testing.T) model.State {
	t.Helper()
	return build(t, map[string]model.Record{
		kLive:    {Values: vA, Expiry: t0.Add(hour)},
		kExpired: {Values: vB, Expiry: t0.Add(-hour)},
	})
}

// build stores each record under its key with Create.
func build(t *testing.T, recs map[string]model.Record) model.State {
	t.Helper()
	var s model.State
	for k, r := range recs {
		var err error
		s, _, err = s.Apply(model.Op{Kind: model.OpCreate, Values: r.Values, Expiry: r.Expiry, Now: t0}, k)
		if err != nil {
			t.Fatalf("build: %v", err)
		}
	}
	return s
}

// apply runs op with Apply, then requires Check to accept the result with
// the same next state, and to reject a result that differs in its outcome:
// every row thereby tests Apply and Check and shows Check can fail.
func apply(t *testing.T, s model.State, op model.Op, fresh string) (model.State, model.Result) {
	t.Helper()
	next, got, err := s.Apply(op, fresh)
	if err != nil {
		t.Fatalf("Apply(%v): %v", op, err)
	}
	checked, err := s.Check(op, got)
	if err != nil {
		t.Fatalf("Check rejects Apply's own result %v of %v: %v", got, op, err)
	}
	if !sameState(checked, next) {
		t.Fatalf("Check and Apply disagree after %v: %v vs %v", op, dump(checked), dump(next))
	}
	wrong := got
	if got.Outcome == model.OK {
		wrong.Outcome = model.NotFound
	} else {
		wrong.Outcome = model.OK
	}
	if _, err := s.Check(op, wrong); err == nil {
		t.Fatalf("Check accepts %v as well as %v for %v", wrong, got, op)
	}
	return next, got
}

func sameState(a, b model.State) bool {
	if !slices.Equal(a.Keys(), b.Keys()) {
		return false
	}
	for _, k := range a.Keys() {
		if !a.Slot(k).Equal(b.Slot(k)) {
			return false
		}
	}
	return true
}

func dump(s model.State) string {
	var parts []string
	for _, k := range s.Keys() {
		parts = append(parts, k+": "+s.Slot(k).String())
	}
	return "{" + strings.Join(parts, "; ") + "}"
}

func requireSlot(t *testing.T, s model.State, key string, want model.Slot) {
	t.Helper()
	if got := s.Slot(key); !got.Equal(want) {
		t.Fatalf("slot %s: got %v, want %v", key, got, want)
	}
}

func requireOutcome(t *testing.T, got model.Result, want model.Outcome) {
	t.Helper()
	if got.Outcome != want {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func stored(v model.Values, exp time.Time) model.Slot {
	return model.Slot{Stored: true, Record: model.Record{Values: v, Expiry: exp}}
}

// specRow is one row of a table of docs/SPEC.md and its test.
type specRow struct {
	name string
	test func(t *testing.T)
}

// storeRows test sections 1 to 3.1 of docs/SPEC.md, row by row.
var storeRows = []specRow{
	{"key/valid", func(t *testing.T) {
		for _, k := range []string{"abcdefgh", strings.Repeat("z9", 32), "0123456789"} {
			if err := model.ValidateKey(k); err != nil {
				t.Fatalf("ValidateKey(%q) = %v", k, err)
			}
		}
	}},
	{"key/invalid", func(t *testing.T) {
		s := fixture(t)
		bad := []string{"../x", "a/b", `a\b`, "", "abcdefg", strings.Repeat("a", 65), "ABCDEFGH", "abcdefg\x00"}
		kinds := []model.Kind{model.OpLoad, model.OpSave, model.OpTouch, model.OpDelete, model.OpExists, model.OpCycle}
		for _, k := range bad {
			if err := model.ValidateKey(k); !errors.Is(err, model.ErrInvalidKey) {
				t.Fatalf("ValidateKey(%q) = %v, want ErrInvalidKey", k, err)
			}
			for _, kind := range kinds {
				op := model.Op{Kind: kind, Key: k, Values: vA, Expiry: t0.Add(hour), Now: t0}
				next, got := apply(t, s, op, kFresh)
				requireOutcome(t, got, model.Invalid)
				if !sameState(next, s) {
					t.Fatalf("%v changed the store", op)
				}
			}
		}
	}},
	{"key/new", func(t *testing.T) {
		k, err := model.NewKey(nil)
		if err != nil || len(k) != model.KeyLength || model.ValidateKey(k) != nil {
			t.Fatalf("NewKey = %q, %v", k, err)
		}
	}},
	{"record/live", func(t *testing.T) {
		r := model.Record{Values: vA, Expiry: t0}
		if !r.LiveAt(t0.Add(-time.Nanosecond)) {
			t.Fatal("a record is not live just before its expiry")
		}
	}},
	{"record/expired", func(t *testing.T) {
		s := build(t, map[string]model.Record{kLive: {Values: vA, Expiry: t0}})
		if (model.Record{Expiry: t0}).LiveAt(t0) {
			t.Fatal("a record is live at its expiry")
		}
		_, got := apply(t, s, model.Op{Kind: model.OpLoad, Key: kLive, Now: t0}, "")
		requireOutcome(t, got, model.NotFound)
	}},
	{"create/fresh", func(t *testing.T) {
		s := fixture(t)
		next, got := apply(t, s, model.Op{Kind: model.OpCreate, Values: vB, Expiry: t0.Add(hour), Now: t0}, kFresh)
		if got.Outcome != model.OK || got.Key != kFresh {
			t.Fatalf("got %v", got)
		}
		requireSlot(t, next, kFresh, stored(vB, t0.Add(hour)))
		requireSlot(t, next, kLive, stored(vA, t0.Add(hour)))
	}},
	{"create/never-overwrites", func(t *testing.T) {
		s := fixture(t)
		for _, k := range []string{kLive, kExpired} {
			op := model.Op{Kind: model.OpCreate, Values: vB, Expiry: t0.Add(hour), Now: t0}
			next, _, err := s.Apply(op, k)
			if !errors.Is(err, model.ErrKeyInUse) || !sameState(next, s) {
				t.Fatalf("Apply create onto %s: err %v, state %v", k, err, dump(next))
			}
			if _, err := s.Check(op, model.Result{Key: k}); err == nil {
				t.Fatalf("Check accepts a create that returned the stored key %s", k)
			}
		}
	}},
	{"load/live", func(t *testing.T) {
		s := fixture(t)
		next, got := apply(t, s, model.Op{Kind: model.OpLoad, Key: kLive, Now: t0}, "")
		if got.Outcome != model.OK || !got.Record.Equal(model.Record{Values: vA, Expiry: t0.Add(hour)}) {
			t.Fatalf("got %v", got)
		}
		if !sameState(next, s) {
			t.Fatal("load changed the store")
		}
	}},
	{"load/absent", func(t *testing.T) {
		_, got := apply(t, fixture(t), model.Op{Kind: model.OpLoad, Key: kAbsent, Now: t0}, "")
		requireOutcome(t, got, model.NotFound)
	}},
	{"load/expired", func(t *testing.T) {
		_, got := apply(t, fixture(t), model.Op{Kind: model.OpLoad, Key: kExpired, Now: t0}, "")
		requireOutcome(t, got, model.NotFound)
	}},
	{"save/live", func(t *testing.T) {
		next, got := apply(t, fixture(t), model.Op{Kind: model.OpSave, Key: kLive, Values: vB, Expiry: t0.Add(2 * hour), Now: t0}, "")
		requireOutcome(t, got, model.OK)
		requireSlot(t, next, kLive, stored(vB, t0.Add(2*hour)))
	}},
	{"save/absent", func(t *testing.T) {
		next, got := apply(t, fixture(t), model.Op{Kind: model.OpSave, Key: kAbsent, Values: vB, Expiry: t0.Add(hour), Now: t0}, "")
		requireOutcome(t, got, model.NotFound)
		requireSlot(t, next, kAbsent, model.Slot{})
	}},
	{"save/expired", func(t *testing.T) {
		next, got := apply(t, fixture(t), model.Op{Kind: model.OpSave, Key: kExpired, Values: vA, Expiry: t0.Add(hour), Now: t0}, "")
		requireOutcome(t, got, model.NotFound)
		requireSlot(t, next, kExpired, stored(vB, t0.Add(-hour)))
	}},
	{"touch/live", func(t *testing.T) {
		next, got := apply(t, fixture(t), model.Op{Kind: model.OpTouch, Key: kLive, Expiry: t0.Add(3 * hour), Now: t0}, "")
		requireOutcome(t, got, model.OK)
		requireSlot(t, next, kLive, stored(vA, t0.Add(3*hour)))
	}},
	{"touch/absent", func(t *testing.T) {
		next, got := apply(t, fixture(t), model.Op{Kind: model.OpTouch, Key: kAbsent, Expiry: t0.Add(hour), Now: t0}, "")
		requireOutcome(t, got, model.NotFound)
		requireSlot(t, next, kAbsent, model.Slot{})
	}},
	{"touch/expired", func(t *testing.T) {
		next, got := apply(t, fixture(t), model.Op{Kind: model.OpTouch, Key: kExpired, Expiry: t0.Add(hour), Now: t0}, "")
		requireOutcome(t, got, model.NotFound)
		requireSlot(t, next, kExpired, stored(vB, t0.Add(-hour)))
	}},
	{"delete/live", func(t *testing.T) {
		next, got := apply(t, fixture(t), model.Op{Kind: model.OpDelete, Key: kLive, Now: t0}, "")
		requireOutcome(t, got, model.OK)
		requireSlot(t, next, kLive, model.Slot{})
	}},
	{"delete/expired", func(t *testing.T) {
		next, got := apply(t, fixture(t), model.Op{Kind: model.OpDelete, Key: kExpired, Now: t0}, "")
		requireOutcome(t, got, model.OK)
		requireSlot(t, next, kExpired, model.Slot{})
	}},
	{"delete/absent", func(t *testing.T) {
		s := fixture(t)
		next, got := apply(t, s, model.Op{Kind: model.OpDelete, Key: kAbsent, Now: t0}, "")
		requireOutcome(t, got, model.OK)
		if !sameState(next, s) {
			t.Fatal("deleting nothing changed the store")
		}
	}},
	{"exists/live", func(t *testing.T) {
		_, got := apply(t, fixture(t), model.Op{Kind: model.OpExists, Key: kLive, Now: t0}, "")
		if got.Outcome != model.OK || !got.Exists {
			t.Fatalf("got %v", got)
		}
		// Check must also reject the opposite answer.
		if _, err := fixture(t).Check(model.Op{Kind: model.OpExists, Key: kLive, Now: t0}, model.Result{}); err == nil {
			t.Fatal("Check accepts exists=false for a live key")
		}
	}},
	{"exists/absent", func(t *testing.T) {
		_, got := apply(t, fixture(t), model.Op{Kind: model.OpExists, Key: kAbsent, Now: t0}, "")
		if got.Outcome != model.OK || got.Exists {
			t.Fatalf("got %v", got)
		}
	}},
	{"exists/expired", func(t *testing.T) {
		s := fixture(t)
		_, got := apply(t, s, model.Op{Kind: model.OpExists, Key: kExpired, Now: t0}, "")
		if got.Outcome != model.OK || got.Exists {
			t.Fatalf("got %v", got)
		}
		if _, err := s.Check(model.Op{Kind: model.OpExists, Key: kExpired, Now: t0}, model.Result{Exists: true}); err == nil {
			t.Fatal("Check accepts exists=true for an expired key")
		}
	}},
	{"cycle/live", func(t *testing.T) {
		next, got := apply(t, fixture(t), model.Op{Kind: model.OpCycle, Key: kLive, Now: t0}, kFresh)
		if got.Outcome != model.OK || got.Key != kFresh {
			t.Fatalf("got %v", got)
		}
		requireSlot(t, next, kLive, model.Slot{})
		requireSlot(t, next, kFresh, stored(vA, t0.Add(hour)))
	}},
	{"cycle/absent", func(t *testing.T) {
		s := fixture(t)
		next, got := apply(t, s, model.Op{Kind: model.OpCycle, Key: kAbsent, Now: t0}, kFresh)
		requireOutcome(t, got, model.NotFound)
		if !sameState(next, s) {
			t.Fatal("a failed cycle changed the store")
		}
	}},
	{"cycle/expired", func(t *testing.T) {
		s := fixture(t)
		next, got := apply(t, s, model.Op{Kind: model.OpCycle, Key: kExpired, Now: t0}, kFresh)
		requireOutcome(t, got, model.NotFound)
		if !sameState(next, s) {
			t.Fatal("a failed cycle changed the store")
		}
	}},
	{"cycle/new-key", func(t *testing.T) {
		s := fixture(t)
		op := model.Op{Kind: model.OpCycle, Key: kLive, Now: t0}
		for _, k := range []string{kLive, kExpired} {
			if _, _, err := s.Apply(op, k); !errors.Is(err, model.ErrKeyInUse) {
				t.Fatalf("Apply cycle to %s: %v, want ErrKeyInUse", k, err)
			}
			if _, err := s.Check(op, model.Result{Key: k}); err == nil {
				t.Fatalf("Check accepts a cycle of %s that returned %s", kLive, k)
			}
		}
		if _, _, err := s.Apply(op, "BAD"); !errors.Is(err, model.ErrInvalidKey) {
			t.Fatalf("Apply cycle to an invalid key: %v", err)
		}
	}},
	{"clear-expired/removes", func(t *testing.T) {
		s := build(t, map[string]model.Record{
			kLive:    {Values: vA, Expiry: t0.Add(hour)},
			kExpired: {Values: vB, Expiry: t0.Add(-hour)},
			kFresh:   {Values: vB, Expiry: t0}, // expires exactly now
		})
		next, got := apply(t, s, model.Op{Kind: model.OpClearExpired, Now: t0}, "")
		if !slices.Equal(got.Removed, []string{kExpired, kFresh}) {
			t.Fatalf("removed %v", got.Removed)
		}
		requireSlot(t, next, kExpired, model.Slot{})
		requireSlot(t, next, kFresh, model.Slot{})
		if _, err := s.Check(model.Op{Kind: model.OpClearExpired, Now: t0}, model.Result{Removed: []string{kExpired}}); err == nil {
			t.Fatal("Check accepts a sweep that left an expired record")
		}
	}},
	{"clear-expired/keeps-live", func(t *testing.T) {
		s := fixture(t)
		next, _ := apply(t, s, model.Op{Kind: model.OpClearExpired, Now: t0}, "")
		requireSlot(t, next, kLive, stored(vA, t0.Add(hour)))
		if _, err := s.Check(model.Op{Kind: model.OpClearExpired, Now: t0}, model.Result{Removed: []string{kExpired, kLive}}); err == nil {
			t.Fatal("Check accepts a sweep that removed a live record")
		}
	}},
	{"cycle-out/live", func(t *testing.T) {
		live := stored(vA, t0.Add(hour))
		next, want, legal := model.StepSlot(live, model.SlotOp{Kind: model.OpCycleOut, Now: t0})
		if !legal || next.Stored || want.Outcome != model.OK || !want.Record.Equal(live.Record) {
			t.Fatalf("got %v %v %v", next, want, legal)
		}
	}},
	{"cycle-out/not-live", func(t *testing.T) {
		for _, sl := range []model.Slot{{}, stored(vA, t0)} {
			next, want, legal := model.StepSlot(sl, model.SlotOp{Kind: model.OpCycleOut, Now: t0})
			if !legal || !next.Equal(sl) || want.Outcome != model.NotFound {
				t.Fatalf("from %v: got %v %v %v", sl, next, want, legal)
			}
		}
	}},
	{"cycle-in/absent", func(t *testing.T) {
		next, _, legal := model.StepSlot(model.Slot{}, model.SlotOp{Kind: model.OpCycleIn, Values: vA, Expiry: t0.Add(hour), Now: t0})
		if !legal || !next.Equal(stored(vA, t0.Add(hour))) {
			t.Fatalf("got %v %v", next, legal)
		}
	}},
	{"cycle-in/stored", func(t *testing.T) {
		for _, sl := range []model.Slot{stored(vB, t0.Add(hour)), stored(vB, t0)} {
			if _, _, legal := model.StepSlot(sl, model.SlotOp{Kind: model.OpCycleIn, Values: vA, Expiry: t0.Add(hour), Now: t0}); legal {
				t.Fatalf("cycle-in onto %v is legal", sl)
			}
			if _, err := model.CheckSlot(sl, model.SlotOp{Kind: model.OpCycleIn, Now: t0}, model.SlotResult{}); err == nil {
				t.Fatalf("CheckSlot accepts cycle-in onto %v", sl)
			}
		}
	}},
	{"expire/expired", func(t *testing.T) {
		next, _, legal := model.StepSlot(stored(vA, t0), model.SlotOp{Kind: model.OpExpire, Now: t0})
		if !legal || next.Stored {
			t.Fatalf("got %v %v", next, legal)
		}
	}},
	{"expire/not-expired", func(t *testing.T) {
		for _, sl := range []model.Slot{{}, stored(vA, t0.Add(time.Nanosecond))} {
			if _, _, legal := model.StepSlot(sl, model.SlotOp{Kind: model.OpExpire, Now: t0}); legal {
				t.Fatalf("expire of %v is legal", sl)
			}
		}
	}},
	{"step/failed", func(t *testing.T) {
		for _, k := range []model.Kind{model.OpLoad, model.OpSave, model.OpTouch, model.OpDelete, model.OpExists, model.OpCycleOut} {
			if _, err := model.CheckSlot(stored(vA, t0.Add(hour)), model.SlotOp{Kind: k, Now: t0}, model.SlotResult{Outcome: model.Failed}); err == nil {
				t.Fatalf("CheckSlot accepts a failed %v", k)
			}
		}
		if _, err := fixture(t).Check(model.Op{Kind: model.OpLoad, Key: kLive, Now: t0}, model.Result{Outcome: model.Failed}); err == nil {
			t.Fatal("Check accepts a failed load")
		}
	}},
}

// TestStoreSpec runs one subtest per row of SPEC.md sections 1-3.1.
func TestStoreSpec(t *testing.T) {
	for _, r := range storeRows {
		t.Run(r.name, r.test)
	}
}

// specRowName matches the row name in the first cell of a SPEC.md table row.
var specRowName = regexp.MustCompile("(?m)^\\| `([a-z0-9/-]+)` \\|")

// specRowNames reads the row names of every table in docs/SPEC.md.
func specRowNames(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../docs/SPEC.md")
	if err != nil {
		t.Fatalf("read SPEC: %v", err)
	}
	var names []string
	for _, m := range specRowName.FindAllStringSubmatch(string(b), -1) {
		names = append(names, m[1])
	}
	if len(names) < 50 {
		t.Fatalf("found only %d row names in docs/SPEC.md: has its table format changed?", len(names))
	}
	return names
}

// TestSpecRowsHaveTests keeps docs/SPEC.md and the tests from drifting apart:
// every row of SPEC.md must be a row of a test table here or (for the rows
// only the real handle can show, such as a corrupt load) be named as a row
// in session/session_test.go; every row of a test table here must be in SPEC.md;
// and no row name may appear twice in SPEC.md.
func TestSpecRowsHaveTests(t *testing.T) {
	spec := specRowNames(t)
	inSpec := map[string]bool{}
	for _, n := range spec {
		if inSpec[n] {
			t.Errorf("SPEC.md has the row %q twice", n)
		}
		inSpec[n] = true
	}
	tested := map[string]bool{}
	for _, table := range [][]specRow{storeRows, handleRows, profileRows} {
		for _, r := range table {
			if !inSpec[r.name] {
				t.Errorf("test row %q is not a row of docs/SPEC.md", r.name)
			}
			if tested[r.name] {
				t.Errorf("test row %q appears twice", r.name)
			}
			tested[r.name] = true
		}
	}
	implTests, err := os.ReadFile("../session/session_test.go")
	if err != nil {
		t.Fatalf("read impl tests: %v", err)
	}
	for _, n := range spec {
		if !tested[n] && !strings.Contains(string(implTests), `{"`+n+`",`) {
			t.Errorf("SPEC.md row %q has no test (add it to a row table in model or session/session_test.go)", n)
		}
	}
}

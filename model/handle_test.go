package model_test

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// maxAge is the handle's default age in these tests.
const maxAge = 24 * time.Hour

// open opens a handle on key in the tests' configuration.
func open(key string) model.Handle { return model.OpenHandle(key, maxAge) }

// flags requires the handle's key and flags.
func flags(t *testing.T, h model.Handle, key string, accessed, modified bool) {
	t.Helper()
	if h.Key() != key || h.Accessed() != accessed || h.Modified() != modified {
		t.Fatalf("%v: want key=%q accessed=%v modified=%v", h, key, accessed, modified)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantValue(t *testing.T, got string, ok bool, want string, wantOK bool) {
	t.Helper()
	if got != want || ok != wantOK {
		t.Fatalf("got %q, %v; want %q, %v", got, ok, want, wantOK)
	}
}

// items returns the handle's values (accessing it).
func items(t *testing.T, h model.Handle, s model.State) model.Values {
	t.Helper()
	_, v, err := h.Items(s, t0)
	noErr(t, err)
	return v
}

// withAlice returns a store where kLive holds vA and also {"n": "1"}.
func withExtra(t *testing.T) model.State {
	return build(t, map[string]model.Record{
		kLive:    {Values: vA.With("n", "1"), Expiry: t0.Add(hour)},
		kExpired: {Values: vB, Expiry: t0.Add(-hour)},
	})
}

// handleRows test section 4 of docs/SPEC.md, row by row.
var handleRows = []specRow{
	{"open/no-access", func(t *testing.T) {
		h := open(kLive)
		flags(t, h, kLive, false, false)
		if h.Loaded() {
			t.Fatal("a fresh handle is loaded")
		}
		// The handle reads the store at its first access, not at open: a
		// save between the two is seen.
		s, _ := apply(t, fixture(t), model.Op{Kind: model.OpSave, Key: kLive, Values: vB, Expiry: t0.Add(hour), Now: t0}, "")
		_, v, ok, err := h.Get(s, t0, "cart")
		noErr(t, err)
		wantValue(t, v, ok, "3", true)
	}},
	{"open/invalid-key", func(t *testing.T) {
		for _, k := range []string{"../x", "a/b", "abc", "ABCDEFGH", ""} {
			h := open(k)
			flags(t, h, "", false, false)
			h, s, err := h.Save(fixture(t), t0, kFresh)
			noErr(t, err)
			flags(t, h, kFresh, false, false)
			requireSlot(t, s, kFresh, stored(model.Values{}, t0.Add(maxAge)))
		}
	}},
	{"lazy/live", func(t *testing.T) {
		h, v, ok, err := open(kLive).Get(fixture(t), t0, "user")
		noErr(t, err)
		wantValue(t, v, ok, "alice", true)
		flags(t, h, kLive, true, false)
		if !h.Loaded() {
			t.Fatal("not loaded after a get")
		}
	}},
	{"lazy/missing", func(t *testing.T) {
		h, v, ok, err := open(kAbsent).Get(fixture(t), t0, "user")
		noErr(t, err)
		wantValue(t, v, ok, "", false)
		flags(t, h, "", true, false)
	}},
	{"lazy/expired", func(t *testing.T) {
		h, v, ok, err := open(kExpired).Get(fixture(t), t0, "user")
		noErr(t, err)
		wantValue(t, v, ok, "", false)
		flags(t, h, "", true, false)
	}},
	{"lazy/once", func(t *testing.T) {
		s := fixture(t)
		h, _, _, err := open(kLive).Get(s, t0, "user")
		noErr(t, err)
		s2, _ := apply(t, s, model.Op{Kind: model.OpDelete, Key: kLive, Now: t0}, "")
		h, v, ok, err := h.Get(s2, t0, "user")
		noErr(t, err)
		wantValue(t, v, ok, "alice", true)
		flags(t, h, kLive, true, false)
	}},
	{"lazy/no-key", func(t *testing.T) {
		h, names, err := open("").Keys(fixture(t), t0)
		noErr(t, err)
		if names == nil || len(names) != 0 || !h.Loaded() {
			t.Fatalf("keys %v, %v", names, h)
		}
	}},
	{"get", func(t *testing.T) {
		h, v, ok, err := open(kLive).Get(fixture(t), t0, "nope")
		noErr(t, err)
		wantValue(t, v, ok, "", false)
		flags(t, h, kLive, true, false)
	}},
	{"set", func(t *testing.T) {
		s := fixture(t)
		h, err := open(kLive).Set(s, t0, "user", "carol")
		noErr(t, err)
		flags(t, h, kLive, true, true)
		if got := items(t, h, s); got != model.NewValues(map[string]string{"user": "carol"}) {
			t.Fatalf("items %v", got)
		}
		requireSlot(t, s, kLive, stored(vA, t0.Add(hour))) // not written until Save
	}},
	{"pop/hit", func(t *testing.T) {
		s := withExtra(t)
		h, v, ok, err := open(kLive).Pop(s, t0, "n")
		noErr(t, err)
		wantValue(t, v, ok, "1", true)
		flags(t, h, kLive, true, true)
		if got := items(t, h, s); got != vA {
			t.Fatalf("items %v", got)
		}
	}},
	{"pop/miss", func(t *testing.T) {
		h, v, ok, err := open(kLive).Pop(fixture(t), t0, "n")
		noErr(t, err)
		wantValue(t, v, ok, "", false)
		flags(t, h, kLive, true, false)
	}},
	{"setdefault/hit", func(t *testing.T) {
		h, v, err := open(kLive).SetDefault(fixture(t), t0, "user", "dave")
		noErr(t, err)
		wantValue(t, v, true, "alice", true)
		flags(t, h, kLive, true, false)
	}},
	{"setdefault/miss", func(t *testing.T) {
		s := fixture(t)
		h, v, err := open(kLive).SetDefault(s, t0, "n", "7")
		noErr(t, err)
		wantValue(t, v, true, "7", true)
		flags(t, h, kLive, true, true)
		if got := items(t, h, s); got != vA.With("n", "7") {
			t.Fatalf("items %v", got)
		}
	}},
	{"update", func(t *testing.T) {
		s := fixture(t)
		h, err := open(kLive).Update(s, t0, model.Values{})
		noErr(t, err)
		flags(t, h, kLive, true, true)
		h, err = h.Update(s, t0, vB)
		noErr(t, err)
		if got := items(t, h, s); got != vB {
			t.Fatalf("items %v", got)
		}
	}},
	{"clear", func(t *testing.T) {
		h := open(kLive).Clear()
		flags(t, h, kLive, true, true)
		// No load happened: even a store where the key is gone leaves the
		// key in place (a load would have dropped it).
		h, names, err := h.Keys(model.State{}, t0)
		noErr(t, err)
		if len(names) != 0 {
			t.Fatalf("keys %v", names)
		}
		flags(t, h, kLive, true, true)
		_, s, err := h.Save(fixture(t), t0, "")
		noErr(t, err)
		requireSlot(t, s, kLive, stored(model.Values{}, t0.Add(maxAge)))
	}},
	{"keys", func(t *testing.T) {
		h, names, err := open(kLive).Keys(withExtra(t), t0)
		noErr(t, err)
		if !slices.Equal(names, []string{"n", "user"}) {
			t.Fatalf("keys %v", names)
		}
		flags(t, h, kLive, true, false)
	}},
	{"items", func(t *testing.T) {
		h, v, err := open(kLive).Items(fixture(t), t0)
		noErr(t, err)
		if v != vA {
			t.Fatalf("items %v", v)
		}
		flags(t, h, kLive, true, false)
	}},
	{"set-expiry", func(t *testing.T) {
		s := fixture(t)
		at := t0.Add(5 * hour)
		h, err := open(kLive).SetExpiryAt(s, t0, at)
		noErr(t, err)
		flags(t, h, kLive, true, true)
		if v, _ := items(t, h, s).Get(model.ExpiryName); v != model.ExpiryAt(at) {
			t.Fatalf("stored %q", v)
		}
		h, err = open(kLive).SetExpiryAge(s, t0, 90*time.Second)
		noErr(t, err)
		flags(t, h, kLive, true, true)
		if v, _ := items(t, h, s).Get(model.ExpiryName); v != "90" {
			t.Fatalf("stored %q", v)
		}
	}},
	{"clear-expiry/set", func(t *testing.T) {
		s := build(t, map[string]model.Record{kLive: {Values: vA.With(model.ExpiryName, "60"), Expiry: t0.Add(hour)}})
		h, err := open(kLive).ClearExpiry(s, t0)
		noErr(t, err)
		flags(t, h, kLive, true, true)
		if got := items(t, h, s); got != vA {
			t.Fatalf("items %v", got)
		}
	}},
	{"clear-expiry/unset", func(t *testing.T) {
		h, err := open(kLive).ClearExpiry(fixture(t), t0)
		noErr(t, err)
		flags(t, h, kLive, true, false)
	}},
	{"expiry-date", func(t *testing.T) {
		h, exp, err := open(kLive).ExpiryDate(fixture(t), t0)
		noErr(t, err)
		if !exp.Equal(t0.Add(maxAge)) {
			t.Fatalf("expiry %v", exp)
		}
		flags(t, h, kLive, true, false)
	}},
	{"flush", func(t *testing.T) {
		h, s, err := open(kLive).Flush(fixture(t), t0)
		noErr(t, err)
		flags(t, h, "", true, true)
		requireSlot(t, s, kLive, model.Slot{})
		requireSlot(t, s, kExpired, stored(vB, t0.Add(-hour)))
		if got := items(t, h, s); got != (model.Values{}) {
			t.Fatalf("items %v", got)
		}
	}},
	{"cycle-key/live", func(t *testing.T) {
		h, s, err := open(kLive).CycleKey(fixture(t), t0, kFresh)
		noErr(t, err)
		flags(t, h, kFresh, true, true)
		requireSlot(t, s, kLive, model.Slot{})
		requireSlot(t, s, kFresh, stored(vA, t0.Add(hour)))
	}},
	{"cycle-key/no-key", func(t *testing.T) {
		s := fixture(t)
		h, err := open("").Set(s, t0, "x", "1")
		noErr(t, err)
		h, s, err = h.CycleKey(s, t0, kFresh)
		noErr(t, err)
		flags(t, h, kFresh, true, true)
		requireSlot(t, s, kFresh, stored(model.NewValues(map[string]string{"x": "1"}), t0.Add(maxAge)))
	}},
	{"cycle-key/gone", func(t *testing.T) {
		h := open(kAbsent).Clear()
		h, err := h.Set(fixture(t), t0, "x", "2")
		noErr(t, err)
		h, s, err := h.CycleKey(fixture(t), t0, kFresh)
		noErr(t, err)
		flags(t, h, kFresh, true, true)
		requireSlot(t, s, kAbsent, model.Slot{})
		requireSlot(t, s, kFresh, stored(model.NewValues(map[string]string{"x": "2"}), t0.Add(maxAge)))
	}},
	{"save/no-key", func(t *testing.T) {
		s := fixture(t)
		h, err := open(kAbsent).Set(s, t0, "x", "1") // loads as missing: key ""
		noErr(t, err)
		flags(t, h, "", true, true)
		h, s, err = h.Save(s, t0, kFresh)
		noErr(t, err)
		flags(t, h, kFresh, true, true)
		requireSlot(t, s, kFresh, stored(model.NewValues(map[string]string{"x": "1"}), t0.Add(maxAge)))
		requireSlot(t, s, kAbsent, model.Slot{})
	}},
	{"save/accessed", func(t *testing.T) {
		s := fixture(t)
		h, _, _, err := open(kLive).Get(s, t0, "user")
		noErr(t, err)
		_, s, err = h.Save(s, t0, "")
		noErr(t, err)
		requireSlot(t, s, kLive, stored(vA, t0.Add(maxAge)))
	}},
	{"save/modified", func(t *testing.T) {
		s := fixture(t)
		h, err := open(kLive).Update(s, t0, vB)
		noErr(t, err)
		h, s, err = h.Save(s, t0, "")
		noErr(t, err)
		flags(t, h, kLive, true, true)
		requireSlot(t, s, kLive, stored(vB, t0.Add(maxAge)))
	}},
	{"save/untouched", func(t *testing.T) {
		h, s, err := open(kLive).Save(fixture(t), t0, kFresh)
		noErr(t, err)
		flags(t, h, kLive, false, false)
		requireSlot(t, s, kLive, stored(vA, t0.Add(maxAge)))
		requireSlot(t, s, kFresh, model.Slot{})
	}},
	{"save/gone", func(t *testing.T) {
		s := fixture(t)
		h, err := open(kLive).Set(s, t0, "x", "1")
		noErr(t, err)
		for _, gone := range []model.Op{
			{Kind: model.OpDelete, Key: kLive, Now: t0},
			{Kind: model.OpTouch, Key: kLive, Expiry: t0, Now: t0}, // expires now
		} {
			s2, _ := apply(t, s, gone, "")
			h2, s3, err := h.Save(s2, t0, kFresh)
			if !errors.Is(err, model.ErrNotFound) {
				t.Fatalf("after %v: save returned %v, want ErrNotFound", gone, err)
			}
			if h2 != h || !sameState(s3, s2) {
				t.Fatalf("a failed save changed the handle or the store: %v %v", h2, dump(s3))
			}
		}
	}},
	{"save/untouched-gone", func(t *testing.T) {
		h := open(kAbsent)
		h2, s, err := h.Save(fixture(t), t0, kFresh)
		if !errors.Is(err, model.ErrNotFound) || h2 != h || !sameState(s, fixture(t)) {
			t.Fatalf("got %v, %v, %v", h2, dump(s), err)
		}
	}},
	{"last-save-wins", func(t *testing.T) {
		s := fixture(t)
		h1, err := open(kLive).Set(s, t0, "a", "1")
		noErr(t, err)
		h2, err := open(kLive).Set(s, t0, "b", "2")
		noErr(t, err)
		_, s, err = h1.Save(s, t0, "")
		noErr(t, err)
		_, s, err = h2.Save(s, t0.Add(time.Second), "")
		noErr(t, err)
		// h1's "a" is lost: h2 loaded before h1 saved.
		requireSlot(t, s, kLive, stored(vA.With("b", "2"), t0.Add(time.Second+maxAge)))
	}},
	{"save-after-flush", func(t *testing.T) {
		s := fixture(t)
		h1, _, _, err := open(kLive).Get(s, t0, "user")
		noErr(t, err)
		_, s, err = open(kLive).Flush(s, t0)
		noErr(t, err)
		_, s, err = h1.Save(s, t0, kFresh)
		if !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("save after flush: %v", err)
		}
		requireSlot(t, s, kLive, model.Slot{})
		requireSlot(t, s, kFresh, model.Slot{})
	}},
	{"expiry/default", func(t *testing.T) {
		exp, err := model.ExpiryDate(vA, t0, maxAge)
		noErr(t, err)
		if !exp.Equal(t0.Add(maxAge)) {
			t.Fatalf("expiry %v", exp)
		}
	}},
	{"expiry/at", func(t *testing.T) {
		at := time.Date(2027, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600))
		s := fixture(t)
		h, err := open(kLive).SetExpiryAt(s, t0, at)
		noErr(t, err)
		h, exp, err := h.ExpiryDate(s, t0.Add(hour))
		noErr(t, err)
		if !exp.Equal(at) {
			t.Fatalf("expiry %v, want %v", exp, at)
		}
		_, s, err = h.Save(s, t0, "")
		noErr(t, err)
		requireSlot(t, s, kLive, stored(vA.With(model.ExpiryName, model.ExpiryAt(at)), at))
	}},
	{"expiry/age", func(t *testing.T) {
		s := fixture(t)
		h, err := open(kLive).SetExpiryAge(s, t0, 90*time.Second)
		noErr(t, err)
		now := t0.Add(10 * time.Minute) // the age counts from the save
		_, s, err = h.Save(s, now, "")
		noErr(t, err)
		requireSlot(t, s, kLive, stored(vA.With(model.ExpiryName, "90"), now.Add(90*time.Second)))
	}},
	{"expiry/age-zero", func(t *testing.T) {
		exp, err := model.ExpiryDate(vA.With(model.ExpiryName, "0"), t0, maxAge)
		noErr(t, err)
		if !exp.Equal(t0.Add(maxAge)) {
			t.Fatalf("expiry %v", exp)
		}
	}},
	{"expiry/age-negative", func(t *testing.T) {
		for _, set := range []func(model.Handle, model.State) (model.Handle, error){
			func(h model.Handle, s model.State) (model.Handle, error) { return h.SetExpiryAge(s, t0, -time.Second) },
			func(h model.Handle, s model.State) (model.Handle, error) {
				return h.SetExpiryAt(s, t0, t0.Add(-time.Second))
			},
		} {
			s := fixture(t)
			h, err := set(open(kLive), s)
			noErr(t, err)
			_, s, err = h.Save(s, t0, "")
			noErr(t, err)
			// The session ended: it no longer loads.
			h2, _, ok, err := open(kLive).Get(s, t0, "user")
			noErr(t, err)
			if ok || h2.Key() != "" {
				t.Fatalf("session still live after a negative expiry: %v", h2)
			}
		}
	}},
	{"expiry/age-fraction", func(t *testing.T) {
		h := open(kLive)
		h2, err := h.SetExpiryAge(fixture(t), t0, 1500*time.Millisecond)
		if !errors.Is(err, model.ErrInvalidExpiry) || h2 != h {
			t.Fatalf("got %v, %v", h2, err)
		}
	}},
	{"expiry/invalid-value", func(t *testing.T) {
		s := fixture(t)
		h := open(kLive)
		if h2, err := h.Set(s, t0, model.ExpiryName, "tomorrow"); !errors.Is(err, model.ErrInvalidExpiry) || h2 != h {
			t.Fatalf("set: %v, %v", h2, err)
		}
		if h2, _, err := h.SetDefault(s, t0, model.ExpiryName, "1.5"); !errors.Is(err, model.ErrInvalidExpiry) || h2 != h {
			t.Fatalf("setdefault: %v, %v", h2, err)
		}
		if h2, err := h.Update(s, t0, vB.With(model.ExpiryName, "")); !errors.Is(err, model.ErrInvalidExpiry) || h2 != h {
			t.Fatalf("update: %v, %v", h2, err)
		}
		if _, err := model.ExpiryDate(vA.With(model.ExpiryName, "99999999999999999999"), t0, maxAge); !errors.Is(err, model.ErrInvalidExpiry) {
			t.Fatalf("huge age: %v", err)
		}
		// Stored by someone else: ExpiryDate, Save and CycleKey fail before any write.
		bad := build(t, map[string]model.Record{kLive: {Values: vA.With(model.ExpiryName, "soon"), Expiry: t0.Add(hour)}})
		if _, _, err := h.ExpiryDate(bad, t0); !errors.Is(err, model.ErrInvalidExpiry) {
			t.Fatalf("expiry date: %v", err)
		}
		hb, _, _, err := h.Get(bad, t0, "user")
		noErr(t, err)
		if _, s2, err := hb.Save(bad, t0, ""); !errors.Is(err, model.ErrInvalidExpiry) || !sameState(s2, bad) {
			t.Fatalf("save: %v", err)
		}
		if _, s2, err := hb.CycleKey(bad, t0, kFresh); !errors.Is(err, model.ErrInvalidExpiry) || !sameState(s2, bad) {
			t.Fatalf("cycle: %v", err)
		}
	}},
	{"expiry/untouched-save", func(t *testing.T) {
		s := build(t, map[string]model.Record{kLive: {Values: vA.With(model.ExpiryName, "60"), Expiry: t0.Add(time.Minute)}})
		_, s, err := open(kLive).Save(s, t0, "")
		noErr(t, err)
		requireSlot(t, s, kLive, stored(vA.With(model.ExpiryName, "60"), t0.Add(maxAge)))
		// The next save that reads the session applies the custom age again.
		h, _, _, err := open(kLive).Get(s, t0, "user")
		noErr(t, err)
		_, s, err = h.Save(s, t0, "")
		noErr(t, err)
		requireSlot(t, s, kLive, stored(vA.With(model.ExpiryName, "60"), t0.Add(time.Minute)))
	}},
	{"error/fresh-key", func(t *testing.T) {
		s := fixture(t)
		for _, fresh := range []string{"", "BAD", kExpired} {
			h := open("")
			h2, s2, err := h.Save(s, t0, fresh)
			if !errors.Is(err, model.ErrInvalidKey) && !errors.Is(err, model.ErrKeyInUse) || h2 != h || !sameState(s2, s) {
				t.Fatalf("save with fresh %q: %v, %v, %v", fresh, h2, dump(s2), err)
			}
		}
		h, _, _, err := open(kLive).Get(s, t0, "user")
		noErr(t, err)
		if _, s2, err := h.CycleKey(s, t0, kLive); !errors.Is(err, model.ErrKeyInUse) || !sameState(s2, s) {
			t.Fatalf("cycle to the old key: %v", err)
		}
	}},
}

// TestHandleSpec runs one subtest per row of SPEC.md section 4.
func TestHandleSpec(t *testing.T) {
	for _, r := range handleRows {
		t.Run(r.name, r.test)
	}
}

// saveFunc is a handle's Save, as a function the property can be run on.
type saveFunc func(h model.Handle, s model.State, now time.Time, fresh string) (model.Handle, model.State, error)

// untouchedSaveProblem states "save never observes its own truncation" for
// one live session: opening it and saving without any access must leave the
// stored values and the key unchanged. It returns what went wrong, or "".
func untouchedSaveProblem(save saveFunc, values model.Values, expiry time.Time) string {
	s, _, err := model.State{}.Apply(model.Op{Kind: model.OpCreate, Values: values, Expiry: expiry, Now: t0}, kLive)
	if err != nil {
		return err.Error()
	}
	h, s, err := save(open(kLive), s, t0, kFresh)
	switch {
	case err != nil:
		return fmt.Sprintf("save failed: %v", err)
	case h.Key() != kLive:
		return fmt.Sprintf("key changed from %s to %q", kLive, h.Key())
	case !s.Slot(kLive).Stored || s.Slot(kLive).Record.Values != values:
		return fmt.Sprintf("stored %v, want values %v", s.Slot(kLive), values)
	case len(s.Keys()) != 1:
		return fmt.Sprintf("store holds %v, want only %s", s.Keys(), kLive)
	}
	return ""
}

// truncateThenLoad is Django #6984 as a handle: save empties the stored
// session first, then loads it lazily, finds it empty, takes that as corrupt
// and creates a new session.
func truncateThenLoad(h model.Handle, s model.State, now time.Time, fresh string) (model.Handle, model.State, error) {
	if h.Key() != "" && !h.Loaded() {
		s, _, _ = s.Apply(model.Op{Kind: model.OpSave, Key: h.Key(), Values: model.Values{}, Expiry: now.Add(maxAge), Now: now}, "")
		h2, v, _ := h.Items(s, now)
		if v == (model.Values{}) {
			h2 = open("")
		}
		return h2.Save(s, now, fresh)
	}
	return h.Save(s, now, fresh)
}

// TestUntouchedSaveProperty checks the property over random sessions on the
// model's Save, and requires it to catch truncate-then-load on every one.
func TestUntouchedSaveProperty(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("SESSIONCHECK_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("SESSIONCHECK_SEED=%q: %v", v, err)
		}
		seed = n
	}
	t.Logf("seed %d (replay with SESSIONCHECK_SEED=%d)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	for i := 0; i < 500; i++ {
		m := map[string]string{}
		for j := rng.IntN(5); j > 0; j-- {
			m[fmt.Sprint("k", rng.IntN(10))] = fmt.Sprint(rng.Uint32())
		}
		if rng.IntN(3) == 0 {
			m[model.ExpiryName] = fmt.Sprint(rng.IntN(7200) - 3600)
		}
		values := model.NewValues(m)
		expiry := t0.Add(time.Duration(1 + rng.Int64N(int64(48*time.Hour))))
		if p := untouchedSaveProblem(model.Handle.Save, values, expiry); p != "" {
			t.Fatalf("seed %d, values %v, expiry %v: %s", seed, values, expiry, p)
		}
		if p := untouchedSaveProblem(truncateThenLoad, values, expiry); p == "" {
			t.Fatalf("seed %d: truncate-then-load keeps %v: the property cannot catch it", seed, values)
		}
	}
}

// TestStepMatchesMethods checks that Step reports what the methods do: the
// result's key and flags are the handle's, and every kind is dispatched.
func TestStepMatchesMethods(t *testing.T) {
	s := withExtra(t)
	for _, k := range model.HandleKinds() {
		op := model.HandleOp{Kind: k, Name: "n", Value: "5", Values: vB, At: t0.Add(hour), Age: time.Minute}
		h, _, r := open(kLive).Step(s, t0, op, kFresh)
		if r.Err != nil && k != model.HandleSave {
			t.Fatalf("%v: %v", op, r.Err)
		}
		if r.Key != h.Key() || r.Accessed != h.Accessed() || r.Modified != h.Modified() {
			t.Fatalf("%v: result %v, handle %v", op, r, h)
		}
		if k.String() == fmt.Sprintf("HandleKind(%d)", k) {
			t.Fatalf("kind %d has no name", k)
		}
	}
	_, _, r := open(kLive).Step(s, t0, model.HandleOp{Kind: 0}, "")
	if r.Outcome != model.Failed {
		t.Fatalf("unknown kind: %v", r)
	}
	// Equal tells results apart.
	_, _, a := open(kLive).Step(s, t0, model.HandleOp{Kind: model.HandleGet, Name: "n"}, "")
	_, _, b := open(kLive).Step(s, t0, model.HandleOp{Kind: model.HandleGet, Name: "user"}, "")
	if !a.Equal(a) || a.Equal(b) {
		t.Fatalf("Equal: %v vs %v", a, b)
	}
}

package proptest

import (
	"os"
	"time"

	"pgregory.net/rapid"

	"github.com/sessioncheck/sessioncheck/model"
)

// untouched is the targeted property "save never observes its own
// truncation" (Django #6984) on its own: for any live session and any
// values, a handle opened on it and saved without being accessed leaves
// both the values and the key unchanged. A store that truncates its file
// and only then reads the record it is about to rewrite fails it at once.
// The expiry the save sets is the model's (model.Handle.Step).
func untouched(open Opener, dirs *dirPool, session SessionOpener) func(*rapid.T) {
	return func(t *rapid.T) {
		dir, err := dirs.make()
		if err != nil {
			t.Logf("%v", err)
			t.Fatalf("%v: cannot make a directory for the case", errSetup)
		}
		t.Cleanup(func() { _ = os.RemoveAll(dir) })
		now := epoch
		clock := func() time.Time { return now }
		store, err := open(dir, clock)
		if err != nil {
			t.Logf("%v", err)
			t.Fatalf("%v: cannot open the store on a fresh empty directory", errSetup)
		}
		t.Cleanup(func() { _ = closeStore(store) })

		values := drawValues(t)
		life := rapid.SampledFrom([]time.Duration{10 * time.Minute, time.Second, time.Hour}).Draw(t, "life")
		create := model.Op{Kind: model.OpCreate, Values: values, Expiry: now.Add(life), Now: now}
		key, err := store.Create(create.Values, create.Expiry)
		if err != nil {
			t.Logf("create: %v", err)
			t.Fatalf("create(%v, expiring in %v) failed", values, life)
		}
		state, err := model.State{}.Check(create, model.Result{Key: key})
		if err != nil {
			t.Fatalf("create(%v, expiring in %v) returned a key the model refuses", values, life)
		}
		// The request comes later, while the session is still live,
		// perhaps to another server process.
		now = now.Add(rapid.SampledFrom([]time.Duration{0, life / 2, life - time.Nanosecond}).Draw(t, "later"))
		if rapid.Bool().Draw(t, "reopen") {
			if err := closeStore(store); err != nil {
				t.Fatalf("closing the store failed")
			}
			if store, err = open(dir, clock); err != nil {
				t.Fatalf("opening the store again failed")
			}
		}

		h := session(store, key, clock, handleMaxAge)
		err = h.Save()
		if err != nil {
			t.Logf("save: %v", err)
			t.Fatalf("save of an untouched handle on a live session failed: %v", model.OutcomeOf(err))
		}
		if h.Key() != key {
			t.Fatalf("save of an untouched handle changed its key: the session was dropped (Django #6984)")
		}
		_, state, _ = model.OpenHandle(key, handleMaxAge).Step(state, now, model.HandleOp{Kind: model.HandleSave}, "")
		want := state.Slot(key).Record
		got, err := store.Load(key)
		if err != nil {
			t.Logf("load: %v", err)
			t.Fatalf("load after the untouched save: %v, want the session %v", model.OutcomeOf(err), want)
		}
		if got.Values != values {
			t.Fatalf("the untouched save changed the values: %v, were %v (Django #6984)", got.Values, values)
		}
		if !got.Expiry.Equal(want.Expiry) {
			t.Fatalf("the untouched save set expiry %v after the epoch, the model says %v", got.Expiry.Sub(epoch), want.Expiry.Sub(epoch))
		}
	}
}

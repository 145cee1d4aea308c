package proptest

import (
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
func untouched(open Opener, dirs *dirPool, session handleOpener) func(*rapid.T) {
	return func(t *rapid.T) {
		dir := dirs.forCase(t)
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
			t.Logf("step 1 detail: the store's error: %v", err)
			t.Fatalf("step 1: create(%v, expiring %s) at %s\n    store did:      %v\n    model expected: ok", values, at(create.Expiry), at(now), model.OutcomeOf(err))
		}
		state, err := model.State{}.Check(create, model.Result{Key: key})
		if err != nil {
			t.Fatalf("step 1: create(%v, expiring %s) at %s\n    store did:      returned a key the model refuses\n    model expected: a fresh valid key", values, at(create.Expiry), at(now))
		}
		t.Logf("step 1: create(%v, expiring %s) at %s → ok key=s1", values, at(create.Expiry), at(now))
		// The request comes later, while the session is still live,
		// perhaps to another server process.
		now = now.Add(rapid.SampledFrom([]time.Duration{0, life / 2, life - time.Nanosecond}).Draw(t, "later"))
		t.Logf("step 2: the clock moves to %s", at(now))
		if rapid.Bool().Draw(t, "reopen") {
			if err := closeStore(store); err != nil {
				t.Fatalf("step 2: reopen: closing the store failed")
			}
			if store, err = open(dir, clock); err != nil {
				t.Fatalf("step 2: reopen: opening the store again on its own directory failed")
			}
			t.Logf("step 2: reopen the store on the same directory")
		}

		h := session(store, key, clock, handleMaxAge)
		err = h.Save()
		_, state, want := model.OpenHandle(key, handleMaxAge).Step(state, now, model.HandleOp{Kind: model.HandleSave}, "")
		if err != nil {
			t.Logf("step 3 detail: the handle's error: %v", err)
			t.Fatalf("step 3: open a handle on s1 and save it without accessing it, at %s\n    store did:      %v\n    model expected: %v",
				at(now), model.OutcomeOf(err), want.Outcome)
		}
		if h.Key() != key {
			t.Fatalf("step 3: open a handle on s1 and save it without accessing it, at %s\n    store did:      the handle's key changed: the session was dropped (Django #6984)\n    model expected: the key stays s1", at(now))
		}
		t.Logf("step 3: open a handle on s1 and save it without accessing it, at %s → ok, key s1", at(now))
		rec := state.Slot(key).Record
		got, err := store.Load(key)
		if err != nil {
			t.Logf("step 4 detail: the store's error: %v", err)
			t.Fatalf("step 4: load(s1) at %s\n    store did:      %v\n    model expected: ok %v expiring %s", at(now), model.OutcomeOf(err), rec.Values, at(rec.Expiry))
		}
		if got.Values != values {
			t.Fatalf("step 4: load(s1) at %s\n    store did:      ok %v expiring %s: the untouched save changed the values (Django #6984)\n    model expected: ok %v expiring %s",
				at(now), got.Values, at(got.Expiry), rec.Values, at(rec.Expiry))
		}
		if !got.Expiry.Equal(rec.Expiry) {
			t.Fatalf("step 4: load(s1) at %s\n    store did:      ok %v expiring %s\n    model expected: ok %v expiring %s",
				at(now), got.Values, at(got.Expiry), rec.Values, at(rec.Expiry))
		}
	}
}

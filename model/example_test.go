package model_test

import (
	"fmt"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// Example walks one session through three requests using the model alone:
// a store state, the time, and handles that are values. A real store picks
// its own keys; with the model the caller supplies them.
func Example() {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	const age = 30 * time.Minute
	var store model.State

	// Request 1: no cookie. Log in, then save: the store creates the session.
	h := model.OpenHandle("", age)
	h, _ = h.Set(store, now, "user", "alice")
	h, store, err := h.Save(store, now, "k1k1k1k1k1k1")
	fmt.Println("saved:", h.Key(), err)

	// Request 2, five minutes later: reads only; the save writes the values
	// it read back and moves the expiry.
	now = now.Add(5 * time.Minute)
	h = model.OpenHandle("k1k1k1k1k1k1", age)
	h, user, _, _ := h.Get(store, now, "user")
	h, store, _ = h.Save(store, now, "")
	fmt.Println("user:", user, "accessed:", h.Accessed(), "modified:", h.Modified())
	fmt.Println("stored:", store.Slot("k1k1k1k1k1k1"))

	// Request 3 does not touch the session: its save is a Touch, which can
	// neither change the values nor the key.
	now = now.Add(time.Minute)
	h = model.OpenHandle("k1k1k1k1k1k1", age)
	h, store, _ = h.Save(store, now, "")
	fmt.Println("untouched save kept key:", h.Key(), store.Slot(h.Key()))

	// Request 4 logs out; a request still holding the old session then
	// saves and gets ErrNotFound: no resurrection.
	stale := model.OpenHandle("k1k1k1k1k1k1", age)
	stale, _ = stale.Set(store, now, "cart", "3")
	out := model.OpenHandle("k1k1k1k1k1k1", age)
	_, store, _ = out.Flush(store, now)
	_, store, err = stale.Save(store, now, "")
	fmt.Println("stale save:", err, "live keys:", store.LiveKeys(now))

	// Output:
	// saved: k1k1k1k1k1k1 <nil>
	// user: alice accessed: true modified: false
	// stored: {"user"="alice"} until 2026-11-25T12:35:00Z
	// untouched save kept key: k1k1k1k1k1k1 {"user"="alice"} until 2026-11-25T12:36:00Z
	// stale save: save session k1k1k1k1k1k1: session not found live keys: []
}

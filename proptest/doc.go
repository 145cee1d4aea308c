// Package proptest checks any session store against the model: a rapid
// state-machine suite that drives a backend through the store operations
// and the session handle and compares every result with what package model
// allows. It is to session stores what testing/fstest.TestFS is to file
// systems: one call from the backend author's own test.
//
//	func TestConformance(t *testing.T) {
//		proptest.TestStore(t, func(dir string, clock model.Clock) (model.Store, error) {
//			return mystore.Open(dir, mystore.Options{Now: clock})
//		})
//	}
//
// Each case starts from an empty directory and an empty model, with the
// clock at a fixed epoch. rapid then draws a sequence of steps: Create,
// Load, Save, Touch, Delete, Exists, Cycle and ClearExpired on a handful of
// sessions (the ones the store issued, live, expired or deleted, plus keys
// it never issued and invalid keys such as "../x"); clock advances, so
// that sessions expire; restarts, which open the store again on the same
// directory; and a session handle (session.Session, Django's SessionBase
// semantics) opened on a session and read, written, saved, flushed and
// cycled. model.State.Check decides every store result and model.Handle
// every handle result: the suite holds no semantics of its own.
//
// One property is also checked on its own, because it is the bug this
// project exists for (Django #6984): save never observes its own
// truncation. For any live session, a handle opened on it and saved without
// being accessed leaves both the values and the key unchanged.
//
// When a store breaks the model, rapid shrinks the case and the report
// shows the numbered steps of the shortest one it found, what the store did
// and what the model expected at the step that failed, and the seed that
// replays it. Sessions are named s1, s2, ... in the order the store issued
// them, and times are given from the epoch, so that two replays print the
// same report.
//
// Outside `go test` (the command-line tool), [Check] runs the same suite
// and returns a [Result] instead of failing a test.
package proptest

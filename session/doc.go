// Package session is the session handle a web request holds (Django's
// SessionBase semantics, specified by model.Handle and docs/SPEC.md §4),
// written against model.Store alone, so it works over any store.
//
// It lives apart from the reference store so that the conformance suite
// (package proptest), which drives this handle over the store it judges,
// does not import the implementation it judges.
package session

// Package model is the sequential specification of a session store: what
// every operation must do, written as pure functions over immutable values.
//
// Nothing here performs I/O or reads a clock. The current time is an input
// of every operation that depends on it, so a test controls it completely.
//
// The store is specified per key: [Slot] is what a store holds under one key
// and [StepSlot] is the transition function for one key. [State.Apply] and
// [State.Check] compose the per-key transitions into whole-store operations
// for sequential tests, and the linearizability checker partitions histories by key and uses the same
// [StepSlot], so both checks share one source of truth.
//
// The session handle a web request holds (lazy load, accessed and modified
// flags, Django's SessionBase semantics) is specified by [Handle].
package model

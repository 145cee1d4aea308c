package model

import (
	"errors"
	"fmt"
	"time"
)

// ErrNotFound is returned by Load, Save, Touch and Cycle when the session
// does not exist or has expired. Save never resurrects a missing session.
var ErrNotFound = errors.New("session not found")

// ErrCorrupt is returned when a stored record does not decode or does not
// pass its integrity check. The record is left where it is.
var ErrCorrupt = errors.New("invalid session data")

// CorruptError names the session whose stored record is invalid and why.
// It matches ErrCorrupt under errors.Is.
type CorruptError struct {
	Key    string
	Reason string
}

func (e *CorruptError) Error() string {
	return fmt.Sprintf("session %s: %v: %s", e.Key, ErrCorrupt, e.Reason)
}

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

// Record is what a store holds for one session: its values and the absolute
// time at which it expires.
type Record struct {
	Values Values
	Expiry time.Time
}

// LiveAt reports whether the record has not expired at now: a record is
// live strictly before its expiry and expired from its expiry on.
func (r Record) LiveAt(now time.Time) bool { return now.Before(r.Expiry) }

// Equal reports whether r and o hold the same values and the same instant.
func (r Record) Equal(o Record) bool {
	return r.Values == o.Values && r.Expiry.Equal(o.Expiry)
}

func (r Record) String() string { return Printer{}.Record(r) }

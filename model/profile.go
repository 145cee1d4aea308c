package model

import (
	"fmt"
	"maps"
	"time"
)

// Profile says what a check holds a store to. The zero Profile is
// [Strict]: the reference's contract, every result compared exactly.
// [Observable] holds a store only to what a user of a web application can
// observe, and lets a backend declare what it cannot do exactly.
//
// The comparison is [Profile.Check], one place for every checker: a result
// the strict model allows is always allowed; in observable a result it does
// not allow is accepted only through one of the relaxations below, and is
// then reported as a difference, never silently. Anything else stays a
// violation: an acknowledged save lost, a deleted or expired session back,
// one session's data under another key, an empty or torn read, a failed
// operation.
type Profile struct {
	// Observable turns the relaxations on: an expired session is as
	// good as absent (a store may remove it at any time after its expiry).
	Observable bool
	// Granularity is the expiry precision the store declares (e.g. a
	// second): its expiries may be truncated to a multiple of it.
	// Observable only; 0 means exact.
	Granularity time.Duration
	// ExistsStored declares that Exists is a stat: true for a stored
	// session that has expired. Observable only.
	ExistsStored bool
	// RemovedUnreported declares that ClearExpired cannot report the keys
	// it removed: the list is not compared. Observable only.
	RemovedUnreported bool
}

// Strict is the reference's contract, today's behaviour and the default.
var Strict = Profile{}

// Observable is the observable profile with nothing declared.
var Observable = Profile{Observable: true}

// ParseProfile reads a profile's name: "strict" or "observable".
func ParseProfile(name string) (Profile, error) {
	switch name {
	case "", "strict":
		return Strict, nil
	case "observable":
		return Observable, nil
	}
	return Profile{}, fmt.Errorf("unknown profile %q: want strict or observable", name)
}

// String names the profile.
func (p Profile) String() string {
	if p.Observable {
		return "observable"
	}
	return "strict"
}

// Check decides whether got is an allowed result of op in s under p and
// returns the state after it. diff is "" when the strict model allows got;
// otherwise it names the difference p accepted (observable only). err is a
// violation: no relaxation of p allows got.
func (p Profile) Check(s State, op Op, got Result) (next State, diff string, err error) {
	next, err = s.Check(op, got)
	if err == nil || !p.Observable {
		return next, "", err
	}
	strictErr := err
	if p.ExistsStored && op.Kind == OpExists && got.Outcome == OK {
		if slot := s.Slot(op.Key); slot.Stored && got.Exists && !slot.Record.LiveAt(op.Now) {
			return s, "exists is true for a stored expired session (declared: exists is a stat)", nil
		}
	}
	if p.RemovedUnreported && op.Kind == OpClearExpired && got.Outcome == OK {
		return s.withoutExpired(op.Now), "clear-expired's removed keys not compared (declared: not reported)", nil
	}
	if op.Kind == OpClearExpired && got.Outcome == OK {
		// The keys it did not report were removed early (an expired
		// session is as good as absent); every expired one is gone now.
		// A reported key the state does not hold is a record the backend
		// made itself, under a key no client was given (Django's load of
		// an expired session creates one): no user can observe it.
		switch expired, unknown := s.sweptKeys(got.Removed, op.Now); {
		case !expired:
		case unknown:
			return s.withoutExpired(op.Now), "clear-expired removed a record under a key no client was given", nil
		default:
			return s.withoutExpired(op.Now), "an expired session removed before clear-expired", nil
		}
	}
	type try struct {
		s    State
		op   Op
		got  Result
		diff string
	}
	var tries []try
	early := s.withoutExpired(op.Now)
	tries = append(tries, try{early, op, got, "an expired session removed before clear-expired"})
	if g := p.Granularity; g > 0 {
		ts, top, tgot := s.truncated(g), op, got
		top.Expiry = truncate(op.Expiry, g)
		tgot.Record.Expiry = truncate(got.Record.Expiry, g)
		why := fmt.Sprintf("expiry to whole %v (declared granularity)", g)
		tries = append(tries, try{ts, top, tgot, why},
			try{ts.withoutExpired(op.Now), top, tgot, why + ", and an expired session removed before clear-expired"})
	}
	for _, t := range tries {
		if n, err := t.s.Check(t.op, t.got); err == nil {
			return n, t.diff, nil
		}
	}
	return s, "", strictErr
}

// withoutExpired is s with every record expired at now removed: what a
// user observes, since an expired session is as good as absent.
func (s State) withoutExpired(now time.Time) State {
	m := maps.Clone(s.slots)
	for k, slot := range m {
		if !slot.Record.LiveAt(now) {
			delete(m, k)
		}
	}
	return State{slots: m}
}

// sweptKeys reports whether no key is a live session of s at now (every
// one is valid and expired or not stored), and whether some are not stored.
func (s State) sweptKeys(keys []string, now time.Time) (expired, unknown bool) {
	for _, k := range keys {
		slot := s.Slot(k)
		if ValidateKey(k) != nil || slot.liveAt(now) {
			return false, false
		}
		unknown = unknown || !slot.Stored
	}
	return true, unknown
}

// truncated is s with every expiry truncated to a multiple of g.
func (s State) truncated(g time.Duration) State {
	m := maps.Clone(s.slots)
	for k, slot := range m {
		slot.Record.Expiry = truncate(slot.Record.Expiry, g)
		m[k] = slot
	}
	return State{slots: m}
}

func truncate(t time.Time, g time.Duration) time.Time {
	if t.IsZero() {
		return t
	}
	return t.Truncate(g)
}

// ProfileDeclarer is a store that declares what it cannot do exactly (a
// worker's hello, docs/PROTOCOL.md): Declare returns p with the store's
// declarations filled in. Checks apply it to an observable profile only;
// strict ignores declarations.
type ProfileDeclarer interface {
	Declare(p Profile) Profile
}

// For returns the profile a check applies to st: p, with st's declarations
// when p is observable and st is a [ProfileDeclarer].
func (p Profile) For(st Store) Profile {
	if d, ok := st.(ProfileDeclarer); ok && p.Observable {
		return d.Declare(p)
	}
	return p
}

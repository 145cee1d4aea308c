package model

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// ExpiryName is the reserved value name under which a session keeps a custom
// expiry, as Django keeps "_session_expiry" in the session dict. Its value is
// either a whole number of seconds (an age of inactivity, counted from the
// save that writes it) or an absolute time in RFC 3339 form, as written by
// [ExpiryAge] and [ExpiryAt]. Absent means the handle's maxAge.
const ExpiryName = "_session_expiry"

// ErrInvalidExpiry is returned for a custom expiry that cannot be encoded
// (an age that is not a whole number of seconds or is out of range) and for
// a value under ExpiryName that does not parse. Set, SetDefault and Update
// refuse such a value before anything changes.
var ErrInvalidExpiry = errors.New("invalid session expiry")

// maxAgeSeconds bounds an age so that it fits in a time.Duration.
const maxAgeSeconds = math.MaxInt64 / int64(time.Second)

// ExpiryAge encodes an age of inactivity for ExpiryName. The age must be a
// whole number of seconds (Django stores an int); 0 means "until the browser
// closes" in Django, which on the server side is maxAge, and a negative age
// makes the next save store an already-expired record, which ends the session.
func ExpiryAge(age time.Duration) (string, error) {
	if age%time.Second != 0 {
		return "", fmt.Errorf("%w: age %v is not a whole number of seconds", ErrInvalidExpiry, age)
	}
	return strconv.FormatInt(int64(age/time.Second), 10), nil
}

// ExpiryAt encodes an absolute expiry for ExpiryName (UTC, RFC 3339 with
// nanoseconds, so it round-trips exactly; the monotonic reading is dropped).
func ExpiryAt(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// ExpiryDate is the expiry rule: the absolute time at which a session holding
// values expires if it is saved at now. A custom absolute expiry is returned
// as it is; a custom age is counted from now (age 0 means maxAge, as in
// Django); without a custom expiry it is now+maxAge (Django's
// SESSION_COOKIE_AGE). The error wraps ErrInvalidExpiry when the value under
// ExpiryName does not parse.
func ExpiryDate(values Values, now time.Time, maxAge time.Duration) (time.Time, error) {
	raw, ok := values.Get(ExpiryName)
	if !ok {
		return now.Add(maxAge), nil
	}
	return parseExpiry(raw, now, maxAge)
}

func parseExpiry(raw string, now time.Time, maxAge time.Duration) (time.Time, error) {
	if secs, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if secs < -maxAgeSeconds || secs > maxAgeSeconds {
			return time.Time{}, fmt.Errorf("%w: %s=%q is out of range", ErrInvalidExpiry, ExpiryName, raw)
		}
		if secs == 0 {
			return now.Add(maxAge), nil
		}
		return now.Add(time.Duration(secs) * time.Second), nil
	}
	t, err := time.Parse(time.RFC3339Nano, raw)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s=%q is neither whole seconds nor an RFC 3339 time", ErrInvalidExpiry, ExpiryName, raw)
	}
	return t, nil
}

// checkExpiryValue refuses a value a caller wants to store under ExpiryName
// when it would not parse later.
func checkExpiryValue(name, value string) error {
	if name != ExpiryName {
		return nil
	}
	_, err := parseExpiry(value, time.Time{}, 0)
	return err
}

// Handle is the sequential specification of a session handle: what a web
// request holds for one session, following Django's SessionBase. It is an
// immutable value; every operation returns the handle after it. Operations
// that may read the store take the store's state s and the time now (the
// store's clock); the three that may write it (Flush, CycleKey, Save) also
// return the state after them. The model never fails on its own: the errors
// it returns are the store's answers (ErrNotFound from Save), bad input
// (ErrInvalidExpiry), and a fresh key the caller supplied that a store could
// not have chosen (see [State.Apply]).
//
// A handle is opened on a key with no store access. Its values are loaded
// lazily, by the first operation that needs them; a key that is missing or
// expired at that moment loads as an empty session and the handle's key
// becomes "" (Django's session_key None). Reads set Accessed; writes set
// Accessed and Modified. Invariants: Modified implies Accessed, and a handle
// that is Accessed has its values loaded (or cleared).
//
// A handle is comparable with ==.
type Handle struct {
	key      string
	maxAge   time.Duration
	loaded   bool   // values hold the session (loaded, cleared or created)
	values   Values // meaningful when loaded
	accessed bool
	modified bool
}

// OpenHandle opens a handle on key without touching the store. maxAge is the
// inactivity age of a session without a custom expiry (Django's
// SESSION_COOKIE_AGE). An invalid key opens a handle with no key, as Django
// stores an invalid session_key as None: it behaves as no session at all.
func OpenHandle(key string, maxAge time.Duration) Handle {
	if ValidateKey(key) != nil {
		key = ""
	}
	return Handle{key: key, maxAge: maxAge}
}

// Key is the session key, or "" when the handle has no stored session (never
// had one, its key was invalid, it loaded as missing, or it was flushed).
func (h Handle) Key() string { return h.key }

// Accessed reports whether the session's values were read or written.
func (h Handle) Accessed() bool { return h.accessed }

// Modified reports whether the session's values were written.
func (h Handle) Modified() bool { return h.modified }

// MaxAge is the age given to OpenHandle.
func (h Handle) MaxAge() time.Duration { return h.maxAge }

// Loaded reports whether the handle holds the session's values, so that the
// next operation will not read the store.
func (h Handle) Loaded() bool { return h.loaded }

func (h Handle) String() string {
	vals := "not loaded"
	if h.loaded {
		vals = h.values.String()
	}
	return fmt.Sprintf("handle{key=%q %s accessed=%v modified=%v}", h.key, vals, h.accessed, h.modified)
}

// load is the lazy load: it marks the handle accessed and, the first time,
// reads the session from s. A session that is not live at now loads as empty
// and drops the key. In the model a load never fails; a real handle returns
// the store's error (ErrCorrupt, an I/O error) and changes nothing.
func (h Handle) load(s State, now time.Time) Handle {
	h.accessed = true
	if h.loaded {
		return h
	}
	h.loaded = true
	h.values = Values{}
	if h.key == "" {
		return h
	}
	_, r := s.applySlot(h.key, SlotOp{Kind: OpLoad, Now: now})
	if r.Outcome != OK {
		h.key = ""
		return h
	}
	h.values = r.Record.Values
	return h
}

// Get returns the value under name (a read).
func (h Handle) Get(s State, now time.Time, name string) (Handle, string, bool, error) {
	h = h.load(s, now)
	v, ok := h.values.Get(name)
	return h, v, ok, nil
}

// Set stores value under name (a write). A value under ExpiryName that does
// not parse is refused with ErrInvalidExpiry before anything changes.
func (h Handle) Set(s State, now time.Time, name, value string) (Handle, error) {
	if err := checkExpiryValue(name, value); err != nil {
		return h, err
	}
	h = h.load(s, now)
	h.values = h.values.With(name, value)
	h.modified = true
	return h, nil
}

// Pop removes name and returns its value. Like Django's pop, it is a write
// only when name was there; otherwise it is a read.
func (h Handle) Pop(s State, now time.Time, name string) (Handle, string, bool, error) {
	h = h.load(s, now)
	v, ok := h.values.Get(name)
	if ok {
		h.values = h.values.Without(name)
		h.modified = true
	}
	return h, v, ok, nil
}

// SetDefault returns the value under name, first storing value there if name
// was absent (a write only on a miss). Like Set it refuses an unparsable
// value under ExpiryName, even when name is present.
func (h Handle) SetDefault(s State, now time.Time, name, value string) (Handle, string, error) {
	if err := checkExpiryValue(name, value); err != nil {
		return h, "", err
	}
	h = h.load(s, now)
	if v, ok := h.values.Get(name); ok {
		return h, v, nil
	}
	h.values = h.values.With(name, value)
	h.modified = true
	return h, value, nil
}

// Update stores every pair of values (a write, even when values is empty,
// as in Django).
func (h Handle) Update(s State, now time.Time, values Values) (Handle, error) {
	if v, ok := values.Get(ExpiryName); ok {
		if err := checkExpiryValue(ExpiryName, v); err != nil {
			return h, err
		}
	}
	h = h.load(s, now)
	m := h.values.Map()
	for name, v := range values.Map() {
		m[name] = v
	}
	h.values = NewValues(m)
	h.modified = true
	return h, nil
}

// Clear empties the values without loading them (a write). The key stays.
func (h Handle) Clear() Handle {
	h.loaded, h.values = true, Values{}
	h.accessed, h.modified = true, true
	return h
}

// Keys returns the names, sorted (a read; never nil).
func (h Handle) Keys(s State, now time.Time) (Handle, []string, error) {
	h = h.load(s, now)
	return h, h.values.Names(), nil
}

// Items returns the values (a read).
func (h Handle) Items(s State, now time.Time) (Handle, Values, error) {
	h = h.load(s, now)
	return h, h.values, nil
}

// SetExpiryAt sets a custom absolute expiry (a write; Django's set_expiry
// with a datetime).
func (h Handle) SetExpiryAt(s State, now time.Time, at time.Time) (Handle, error) {
	return h.Set(s, now, ExpiryName, ExpiryAt(at))
}

// SetExpiryAge sets a custom age of inactivity (a write; Django's set_expiry
// with an int). See [ExpiryAge] for what ages are accepted.
func (h Handle) SetExpiryAge(s State, now time.Time, age time.Duration) (Handle, error) {
	v, err := ExpiryAge(age)
	if err != nil {
		return h, err
	}
	return h.Set(s, now, ExpiryName, v)
}

// ClearExpiry removes a custom expiry, so maxAge applies again (Django's
// set_expiry(None)): a write when there was one, a read otherwise.
func (h Handle) ClearExpiry(s State, now time.Time) (Handle, error) {
	h, _, _, err := h.Pop(s, now, ExpiryName)
	return h, err
}

// ExpiryDate is the time at which the session expires if it is saved at now
// (a read); see [ExpiryDate] for the rule.
func (h Handle) ExpiryDate(s State, now time.Time) (Handle, time.Time, error) {
	h = h.load(s, now)
	t, err := ExpiryDate(h.values, now, h.maxAge)
	return h, t, err
}

// Flush ends the session: it clears the values (a write, without loading),
// deletes the stored session, and drops the key.
func (h Handle) Flush(s State, now time.Time) (Handle, State, error) {
	if h.key != "" {
		s, _ = s.applySlot(h.key, SlotOp{Kind: OpDelete, Now: now})
	}
	h = h.Clear()
	h.key = ""
	return h, s, nil
}

// CycleKey moves the session to a new key (Django's cycle_key, used at
// login against session fixation). It loads the values; computes the expiry
// date, failing before any write if the custom expiry is invalid; then, if
// the handle has a key, moves the stored record with the store's Cycle, and
// if it has none or Cycle finds no live session (it was deleted or expired
// meanwhile), creates one holding the handle's values, as Django's create()
// does. fresh is the key the store chose. Afterwards the handle is accessed
// and modified, so the next Save writes its values under the new key.
func (h Handle) CycleKey(s State, now time.Time, fresh string) (Handle, State, error) {
	h = h.load(s, now)
	exp, err := ExpiryDate(h.values, now, h.maxAge)
	if err != nil {
		return h, s, err
	}
	if h.key != "" {
		next, r, err := s.Apply(Op{Kind: OpCycle, Key: h.key, Now: now}, fresh)
		if err != nil {
			return h, s, err
		}
		if r.Outcome == OK {
			h.key, h.modified = r.Key, true
			return h, next, nil
		}
	}
	next, r, err := s.Apply(Op{Kind: OpCreate, Values: h.values, Expiry: exp, Now: now}, fresh)
	if err != nil {
		return h, s, err
	}
	h.key, h.modified = r.Key, true
	return h, next, nil
}

// Save writes the session back, choosing one store operation:
//
//   - no key: Create with the values (empty if never loaded) and the expiry
//     date; the handle takes the fresh key the store chose;
//   - accessed or modified: Save(key, values, expiry date); ErrNotFound (the
//     session was deleted or expired meanwhile: Django's UpdateError) is
//     returned and nothing is written, never a resurrection, never a new key;
//   - otherwise (never accessed): Touch(key, now+maxAge), which cannot change
//     the values: save never observes its own truncation. An untouched
//     handle has not read a custom expiry, so it refreshes with maxAge.
//
// Save leaves the flags as they are. On an error the handle is unchanged.
func (h Handle) Save(s State, now time.Time, fresh string) (Handle, State, error) {
	switch {
	case h.key == "":
		exp, err := ExpiryDate(h.values, now, h.maxAge)
		if err != nil {
			return h, s, err
		}
		next, r, err := s.Apply(Op{Kind: OpCreate, Values: h.values, Expiry: exp, Now: now}, fresh)
		if err != nil {
			return h, s, err
		}
		h.key = r.Key
		return h, next, nil
	case h.accessed || h.modified:
		exp, err := ExpiryDate(h.values, now, h.maxAge)
		if err != nil {
			return h, s, err
		}
		next, r := s.applySlot(h.key, SlotOp{Kind: OpSave, Values: h.values, Expiry: exp, Now: now})
		if r.Outcome != OK {
			return h, s, fmt.Errorf("save session %s: %w", h.key, ErrNotFound)
		}
		return h, next, nil
	default:
		next, r := s.applySlot(h.key, SlotOp{Kind: OpTouch, Expiry: now.Add(h.maxAge), Now: now})
		if r.Outcome != OK {
			return h, s, fmt.Errorf("touch session %s: %w", h.key, ErrNotFound)
		}
		return h, next, nil
	}
}

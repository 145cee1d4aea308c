package session

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// Session is the session handle a web request holds, over any model.Store:
// Django's SessionBase semantics as specified by model.Handle and
// docs/SPEC.md §4. It is opened without touching the store and loads the
// session lazily, at most once. It is not safe for concurrent use: one
// request, one Session.
//
// Every method that may read the store returns the store's error. A failed
// load changes nothing (a corrupt session is an error, never an empty one);
// a failed write leaves the handle as it was apart from a load that
// completed.
type Session struct {
	store  model.Store
	clock  model.Clock
	maxAge time.Duration

	key      string
	loaded   bool
	values   map[string]string // meaningful when loaded
	accessed bool
	modified bool
}

// Open opens a handle on key over store. It does no I/O. clock is the
// time used for expiry dates (nil = time.Now); it should be the store's
// clock. maxAge is the inactivity age of a session without a custom expiry
// (Django's SESSION_COOKIE_AGE). An invalid key opens a handle with no key:
// it behaves as no session, and the store never sees the key.
func Open(store model.Store, key string, clock model.Clock, maxAge time.Duration) *Session {
	if clock == nil {
		clock = time.Now
	}
	if model.ValidateKey(key) != nil {
		key = ""
	}
	return &Session{store: store, clock: clock, maxAge: maxAge, key: key}
}

// Key is the session key, or "" when there is no stored session.
func (s *Session) Key() string { return s.key }

// Accessed reports whether the values were read or written.
func (s *Session) Accessed() bool { return s.accessed }

// Modified reports whether the values were written.
func (s *Session) Modified() bool { return s.modified }

// load marks the session accessed and, the first time, reads it. A session
// the store does not have (ErrNotFound) loads as empty and drops the key;
// any other error is returned and nothing changes.
func (s *Session) load() error {
	if s.loaded {
		s.accessed = true
		return nil
	}
	values := map[string]string{}
	key := s.key
	if key != "" {
		rec, err := s.store.Load(key)
		switch {
		case errors.Is(err, model.ErrNotFound):
			key = ""
		case err != nil:
			return fmt.Errorf("load session: %w", err)
		default:
			values = rec.Values.Map()
		}
	}
	s.key, s.values, s.loaded, s.accessed = key, values, true, true
	return nil
}

// checkExpiryValue refuses a value under model.ExpiryName that would not
// parse, before anything changes.
func checkExpiryValue(name, value string) error {
	if name != model.ExpiryName {
		return nil
	}
	_, err := model.ExpiryDate(model.NewValues(map[string]string{name: value}), time.Time{}, 0)
	return err
}

// Get returns the value under name.
func (s *Session) Get(name string) (string, bool, error) {
	if err := s.load(); err != nil {
		return "", false, err
	}
	v, ok := s.values[name]
	return v, ok, nil
}

// Set stores value under name.
func (s *Session) Set(name, value string) error {
	if err := checkExpiryValue(name, value); err != nil {
		return err
	}
	if err := s.load(); err != nil {
		return err
	}
	s.values[name] = value
	s.modified = true
	return nil
}

// Pop removes name and returns its value; it is a write only if name was there.
func (s *Session) Pop(name string) (string, bool, error) {
	if err := s.load(); err != nil {
		return "", false, err
	}
	v, ok := s.values[name]
	if ok {
		delete(s.values, name)
		s.modified = true
	}
	return v, ok, nil
}

// SetDefault returns the value under name, storing value there first if
// name was absent (a write only then).
func (s *Session) SetDefault(name, value string) (string, error) {
	if err := checkExpiryValue(name, value); err != nil {
		return "", err
	}
	if err := s.load(); err != nil {
		return "", err
	}
	if v, ok := s.values[name]; ok {
		return v, nil
	}
	s.values[name] = value
	s.modified = true
	return value, nil
}

// Update stores every pair of values (always a write).
func (s *Session) Update(values map[string]string) error {
	if v, ok := values[model.ExpiryName]; ok {
		if err := checkExpiryValue(model.ExpiryName, v); err != nil {
			return err
		}
	}
	if err := s.load(); err != nil {
		return err
	}
	maps.Copy(s.values, values)
	s.modified = true
	return nil
}

// Clear empties the values without loading them; the key stays.
func (s *Session) Clear() {
	s.values, s.loaded = map[string]string{}, true
	s.accessed, s.modified = true, true
}

// Keys returns the names, sorted (never nil).
func (s *Session) Keys() ([]string, error) {
	if err := s.load(); err != nil {
		return nil, err
	}
	names := slices.AppendSeq(make([]string, 0, len(s.values)), maps.Keys(s.values))
	slices.Sort(names)
	return names, nil
}

// Items returns a copy of the values.
func (s *Session) Items() (map[string]string, error) {
	if err := s.load(); err != nil {
		return nil, err
	}
	return maps.Clone(s.values), nil
}

// SetExpiryAt sets a custom absolute expiry (a write).
func (s *Session) SetExpiryAt(at time.Time) error {
	return s.Set(model.ExpiryName, model.ExpiryAt(at))
}

// SetExpiryAge sets a custom age of inactivity in whole seconds (a write).
func (s *Session) SetExpiryAge(age time.Duration) error {
	v, err := model.ExpiryAge(age)
	if err != nil {
		return err
	}
	return s.Set(model.ExpiryName, v)
}

// ClearExpiry removes a custom expiry (a write only if there was one).
func (s *Session) ClearExpiry() error {
	_, _, err := s.Pop(model.ExpiryName)
	return err
}

// ExpiryDate is when the session expires if it is saved now.
func (s *Session) ExpiryDate() (time.Time, error) {
	if err := s.load(); err != nil {
		return time.Time{}, err
	}
	return s.expiryAt(s.clock())
}

func (s *Session) expiryAt(now time.Time) (time.Time, error) {
	return model.ExpiryDate(model.NewValues(s.values), now, s.maxAge)
}

// Flush ends the session: it deletes the stored session, then clears the
// values (without loading them) and drops the key. If the delete fails the
// handle is unchanged.
func (s *Session) Flush() error {
	if s.key != "" {
		if err := s.store.Delete(s.key); err != nil {
			return fmt.Errorf("flush session: %w", err)
		}
	}
	s.Clear()
	s.key = ""
	return nil
}

// CycleKey moves the session to a new key (call it at login). It loads the
// values, computes their expiry date (failing before any write if it is
// invalid), then moves the stored record with the store's Cycle; if there is
// no key, or Cycle finds no live session, it creates one holding the values.
// The handle is modified afterwards, so the next Save writes its values.
func (s *Session) CycleKey() error {
	if err := s.load(); err != nil {
		return err
	}
	exp, err := s.expiryAt(s.clock())
	if err != nil {
		return err
	}
	if s.key != "" {
		newKey, err := s.store.Cycle(s.key)
		switch {
		case err == nil:
			s.key, s.modified = newKey, true
			return nil
		case !errors.Is(err, model.ErrNotFound):
			return fmt.Errorf("cycle session key: %w", err)
		}
	}
	newKey, err := s.store.Create(model.NewValues(s.values), exp)
	if err != nil {
		return fmt.Errorf("cycle session key: %w", err)
	}
	s.key, s.modified = newKey, true
	return nil
}

// Save writes the session back with exactly one store operation: Create if
// there is no key; Save(key, values, expiry date) if the session was accessed
// or modified, returning ErrNotFound if it was deleted or expired meanwhile
// (never a resurrection, never a new key); Touch(key, now+maxAge) if it was
// never accessed, which cannot change the values or the key. The flags stay;
// on an error the handle is unchanged.
func (s *Session) Save() error {
	now := s.clock()
	switch {
	case s.key == "":
		exp, err := s.expiryAt(now)
		if err != nil {
			return err
		}
		key, err := s.store.Create(model.NewValues(s.values), exp)
		if err != nil {
			return fmt.Errorf("create session: %w", err)
		}
		s.key = key
		return nil
	case s.accessed || s.modified:
		exp, err := s.expiryAt(now)
		if err != nil {
			return err
		}
		if err := s.store.Save(s.key, model.NewValues(s.values), exp); err != nil {
			return fmt.Errorf("save session %s: %w", s.key, err)
		}
		return nil
	default:
		if err := s.store.Touch(s.key, now.Add(s.maxAge)); err != nil {
			return fmt.Errorf("touch session %s: %w", s.key, err)
		}
		return nil
	}
}

// Do performs one handle operation given as a model.HandleOp and reports it
// as a model.HandleResult, so that a test can drive a Session and a
// model.Handle with the same operations and compare the results (Step's
// fresh key is the Key of this result).
func (s *Session) Do(op model.HandleOp) model.HandleResult {
	var r model.HandleResult
	var err error
	switch op.Kind {
	case model.HandleGet:
		r.Value, r.Found, err = s.Get(op.Name)
	case model.HandleSet:
		err = s.Set(op.Name, op.Value)
	case model.HandlePop:
		r.Value, r.Found, err = s.Pop(op.Name)
	case model.HandleSetDefault:
		r.Value, err = s.SetDefault(op.Name, op.Value)
	case model.HandleUpdate:
		err = s.Update(op.Values.Map())
	case model.HandleClear:
		s.Clear()
	case model.HandleKeys:
		r.Names, err = s.Keys()
	case model.HandleItems:
		var m map[string]string
		m, err = s.Items()
		r.Values = model.NewValues(m)
	case model.HandleFlush:
		err = s.Flush()
	case model.HandleCycleKey:
		err = s.CycleKey()
	case model.HandleSetExpiryAt:
		err = s.SetExpiryAt(op.At)
	case model.HandleSetExpiryAge:
		err = s.SetExpiryAge(op.Age)
	case model.HandleClearExpiry:
		err = s.ClearExpiry()
	case model.HandleExpiryDate:
		r.Expiry, err = s.ExpiryDate()
	case model.HandleSave:
		err = s.Save()
	default:
		err = fmt.Errorf("session: unknown handle operation %v", op.Kind)
	}
	r.Outcome, r.Err = model.OutcomeOf(err), err
	r.Key, r.Accessed, r.Modified = s.key, s.accessed, s.modified
	return r
}

// Package gorilla adapts gorilla/sessions v1.4.0's FilesystemStore to the
// sessioncheck contract (model.Store), so that the checks can run on it in
// goroutine mode and, through cmd/gorilla-worker, in process mode.
//
// It lives in its own module so that the main module does not depend on
// gorilla. The mapping goes through FilesystemStore's public API only, the
// way a web application uses it: a request carries the session ID in a
// signed cookie, store.New loads it, store.Save writes it (or, with
// MaxAge < 0, erases it). See README.md for what the mapping cannot express.
package gorilla

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/sessioncheck/sessioncheck/model"
)

// CookieName is the session's name (its cookie's name).
const CookieName = "sessioncheck"

// ExpiryValue is the name under which the adapter keeps the absolute expiry
// in the session's values: gorilla has no server-side expiry.
const ExpiryValue = "_sessioncheck_expiry"

// Store is a FilesystemStore seen as a model.Store.
type Store struct {
	fs    *sessions.FilesystemStore
	clock model.Clock
}

// Open opens a FilesystemStore on dir (which must exist) whose cookies are
// signed with secret; expiry decisions read clock.
func Open(dir string, secret string, clock model.Clock) (*Store, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("gorilla: session directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("gorilla: session directory %s is not a directory", dir)
	}
	if secret == "" {
		secret = "sessioncheck"
	}
	fs := sessions.NewFilesystemStore(dir, []byte(secret))
	return &Store{fs: fs, clock: clock}, nil
}

// Key mapping: gorilla IDs are base32 (A-Z, 2-7); the contract's keys are
// [a-z0-9]. The adapter lower-cases an ID and upper-cases a key, a
// bijection between the two alphabets' common part.
func keyOf(id string) string { return strings.ToLower(id) }
func idOf(key string) string { return strings.ToUpper(key) }

// request builds a request that carries key's session cookie, as a
// browser would send it.
func (s *Store) request(key string) (*http.Request, error) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	enc, err := securecookie.EncodeMulti(CookieName, idOf(key), s.fs.Codecs...)
	if err != nil {
		return nil, fmt.Errorf("gorilla: encoding the cookie: %w", err)
	}
	r.AddCookie(&http.Cookie{Name: CookieName, Value: enc})
	return r, nil
}

// open is the start of a request on key: New loads the session file. A
// missing file is not-found; a file that does not decode (for example one
// read while another process rewrites it in place) is corrupt.
func (s *Store) open(key string) (*sessions.Session, model.Record, error) {
	if err := model.ValidateKey(key); err != nil {
		return nil, model.Record{}, err
	}
	r, err := s.request(key)
	if err != nil {
		return nil, model.Record{}, err
	}
	sess, err := s.fs.New(r, CookieName)
	switch {
	case err != nil && errors.Is(err, os.ErrNotExist):
		return nil, model.Record{}, model.ErrNotFound
	case err != nil:
		return nil, model.Record{}, &model.CorruptError{Key: key, Reason: err.Error()}
	case sess.IsNew:
		return nil, model.Record{}, model.ErrNotFound
	}
	rec, err := recordOf(key, sess)
	if err != nil {
		return nil, model.Record{}, err
	}
	if !rec.LiveAt(s.clock()) {
		return nil, model.Record{}, model.ErrNotFound
	}
	return sess, rec, nil
}

func recordOf(key string, sess *sessions.Session) (model.Record, error) {
	m := map[string]string{}
	var expiry time.Time
	for k, v := range sess.Values {
		name, ok1 := k.(string)
		val, ok2 := v.(string)
		if !ok1 || !ok2 {
			return model.Record{}, &model.CorruptError{Key: key, Reason: fmt.Sprintf("value %v=%v is not a string pair", k, v)}
		}
		if name == ExpiryValue {
			t, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				return model.Record{}, &model.CorruptError{Key: key, Reason: "bad expiry: " + err.Error()}
			}
			expiry = t
			continue
		}
		m[name] = val
	}
	if expiry.IsZero() {
		return model.Record{}, &model.CorruptError{Key: key, Reason: "no expiry"}
	}
	return model.Record{Values: model.NewValues(m), Expiry: expiry}, nil
}

func setRecord(sess *sessions.Session, values model.Values, expiry time.Time) {
	sess.Values = map[any]any{}
	for k, v := range values.Map() {
		sess.Values[k] = v
	}
	sess.Values[ExpiryValue] = expiry.UTC().Format(time.RFC3339Nano)
}

func (s *Store) save(sess *sessions.Session) error {
	return s.fs.Save(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder(), sess)
}

// Create saves a new session: gorilla draws the ID (32 random bytes).
func (s *Store) Create(values model.Values, expiry time.Time) (string, error) {
	sess := sessions.NewSession(s.fs, CookieName)
	opts := *s.fs.Options
	sess.Options = &opts
	sess.IsNew = true
	setRecord(sess, values, expiry)
	if err := s.save(sess); err != nil {
		return "", err
	}
	return keyOf(sess.ID), nil
}

// Load is a request that reads its session.
func (s *Store) Load(key string) (model.Record, error) {
	_, rec, err := s.open(key)
	return rec, err
}

// Save is a request that loads its session and writes new values: gorilla's
// own Save writes whatever it is given (an upsert), so "only if it is still
// there" can only be the load at the start of the request.
func (s *Store) Save(key string, values model.Values, expiry time.Time) error {
	sess, _, err := s.open(key)
	if err != nil {
		return err
	}
	setRecord(sess, values, expiry)
	return s.save(sess)
}

// Touch is a request that loads its session and saves it with a new expiry.
func (s *Store) Touch(key string, expiry time.Time) error {
	sess, rec, err := s.open(key)
	if err != nil {
		return err
	}
	setRecord(sess, rec.Values, expiry)
	return s.save(sess)
}

// Delete is a logout: Save with MaxAge -1 erases the file (a missing file
// is no error since gorilla v1.2.2).
func (s *Store) Delete(key string) error {
	if err := model.ValidateKey(key); err != nil {
		return err
	}
	sess := sessions.NewSession(s.fs, CookieName)
	opts := *s.fs.Options
	opts.MaxAge = -1
	sess.Options = &opts
	sess.ID = idOf(key)
	return s.save(sess)
}

// Exists is a request that loads its session and sees whether it is there.
func (s *Store) Exists(key string) (bool, error) {
	_, _, err := s.open(key)
	if errors.Is(err, model.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// Cycle is what an application does on login with gorilla: load the
// session, save its values under a new ID, erase the old one.
func (s *Store) Cycle(key string) (string, error) {
	sess, _, err := s.open(key)
	if err != nil {
		return "", err
	}
	sess.ID = ""
	if err := s.save(sess); err != nil {
		return "", err
	}
	newKey := keyOf(sess.ID)
	if err := s.Delete(key); err != nil {
		return "", err
	}
	return newKey, nil
}

// ErrNoClearExpired: gorilla's FilesystemStore has no expiry and no
// garbage collection (gorilla/sessions issues #65, #214).
var ErrNoClearExpired = errors.New("gorilla FilesystemStore has no ClearExpired (no server-side expiry or GC)")

// ClearExpired is not supported: see ErrNoClearExpired.
func (s *Store) ClearExpired() ([]string, error) { return nil, ErrNoClearExpired }

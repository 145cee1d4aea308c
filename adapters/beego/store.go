// Package beego adapts beego v2.3.8's file session provider to the
// sessioncheck contract (model.Store) through beego's session.Manager, the
// way a beego application's requests use it: the router starts the session
// from the request's cookie (SessionStart) and releases it when the request
// ends (SessionRelease, which rewrites the file); a logout is
// DestroySession's Flush, drop and SessionDestroy; a login is
// SessionRegenerateID's release then regenerate. See README.md.
//
// It lives in its own module so that the main module does not depend on
// beego.
package beego

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/beego/beego/v2/server/web/session"

	"github.com/sessioncheck/sessioncheck/model"
)

// CookieName is the session cookie's name.
const CookieName = "beegosessionID"

// Names under which the adapter keeps the protocol's values (as one JSON
// object: beego's Store has no way to list its names) and its absolute
// expiry (beego has no per-session expiry, only GC by file age against
// time.Now).
const (
	ValuesName = "_sessioncheck_values"
	ExpiryName = "_sessioncheck_expiry"
)

// Store is beego's file provider, through a session.Manager, as a
// model.Store. beego's provider is one package-level value: every Store of
// a process shares it (and its mutex), and opening a Store points it at a
// new directory, so a process has one directory at a time.
type Store struct {
	m     *session.Manager
	clock model.Clock
}

// Open opens the file provider on dir, which must exist; expiry decisions
// read clock.
func Open(dir string, clock model.Clock) (*Store, error) {
	fi, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("beego: session directory: %w", err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("beego: session directory %s is not a directory", dir)
	}
	m, err := session.NewManager("file", &session.ManagerConfig{
		CookieName:      CookieName,
		Gclifetime:      3600,
		ProviderConfig:  dir,
		SessionIDLength: 16, // 32 hex digits: inside the protocol's alphabet
	})
	if err != nil {
		return nil, fmt.Errorf("beego: %w", err)
	}
	return &Store{m: m, clock: clock}, nil
}

// request is one HTTP request carrying key's cookie ("" for none).
type request struct {
	w *httptest.ResponseRecorder
	r *http.Request
	s session.Store
}

func (st *Store) start(key string) (*request, error) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	if key != "" {
		r.AddCookie(&http.Cookie{Name: CookieName, Value: key})
	}
	q := &request{w: httptest.NewRecorder(), r: r}
	s, err := st.m.SessionStart(q.w, q.r)
	if err != nil {
		return nil, fmt.Errorf("beego: SessionStart: %w", err)
	}
	q.s = s
	return q, nil
}

// release ends the request as beego's router does: SessionRelease writes
// the session back (it reports no error: beego only logs them).
func (q *request) release() { q.s.SessionRelease(context.Background(), q.w) }

// record reads the adapter's values and expiry from the request's session;
// ok is false when the session is not the one asked for (beego started a
// new one), has no expiry, or is expired at now.
func (q *request) record(key string, now time.Time) (rec model.Record, ok bool, err error) {
	if q.s.SessionID(context.Background()) != key {
		return model.Record{}, false, nil
	}
	e, _ := q.s.Get(context.Background(), ExpiryName).(string)
	if e == "" {
		return model.Record{}, false, nil // beego's empty session: an unknown id, or an empty file
	}
	exp, err := time.Parse(time.RFC3339Nano, e)
	if err != nil {
		return model.Record{}, false, fmt.Errorf("%w: expiry %q", model.ErrCorrupt, e)
	}
	if !now.Before(exp) {
		return model.Record{}, false, nil
	}
	vals := map[string]string{}
	if v, _ := q.s.Get(context.Background(), ValuesName).(string); v != "" {
		if err := json.Unmarshal([]byte(v), &vals); err != nil {
			return model.Record{}, false, fmt.Errorf("%w: values: %v", model.ErrCorrupt, err)
		}
	}
	return model.Record{Values: model.NewValues(vals), Expiry: exp}, true, nil
}

func (q *request) set(values model.Values, expiry time.Time) error {
	b, err := json.Marshal(values.Map())
	if err != nil {
		return err
	}
	ctx := context.Background()
	if err := q.s.Flush(ctx); err != nil {
		return err
	}
	if err := q.s.Set(ctx, ValuesName, string(b)); err != nil {
		return err
	}
	return q.s.Set(ctx, ExpiryName, expiry.UTC().Format(time.RFC3339Nano))
}

// Create is a request without a cookie: beego draws the id.
func (st *Store) Create(values model.Values, expiry time.Time) (string, error) {
	q, err := st.start("")
	if err != nil {
		return "", err
	}
	if err := q.set(values, expiry); err != nil {
		return "", err
	}
	q.release()
	return q.s.SessionID(context.Background()), nil
}

// Load is a request that reads its session; beego writes it back at the end.
func (st *Store) Load(key string) (model.Record, error) {
	if err := model.ValidateKey(key); err != nil {
		return model.Record{}, err
	}
	q, err := st.start(key)
	if err != nil {
		return model.Record{}, err
	}
	defer q.release()
	rec, ok, err := q.record(key, st.clock())
	if err != nil {
		return model.Record{}, err
	}
	if !ok {
		return model.Record{}, model.ErrNotFound
	}
	return rec, nil
}

// Save replaces the values of a live session.
func (st *Store) Save(key string, values model.Values, expiry time.Time) error {
	return st.write(key, func(q *request, rec model.Record) error { return q.set(values, expiry) }, expiry)
}

// Touch sets a live session's expiry.
func (st *Store) Touch(key string, expiry time.Time) error {
	return st.write(key, func(q *request, rec model.Record) error { return q.set(rec.Values, expiry) }, expiry)
}

func (st *Store) write(key string, f func(*request, model.Record) error, expiry time.Time) error {
	if err := model.ValidateKey(key); err != nil {
		return err
	}
	q, err := st.start(key)
	if err != nil {
		return err
	}
	defer q.release()
	rec, ok, err := q.record(key, st.clock())
	if err != nil {
		return err
	}
	if !ok {
		return model.ErrNotFound
	}
	return f(q, rec)
}

// Delete is DestroySession: Flush, drop the session, SessionDestroy.
func (st *Store) Delete(key string) error {
	if err := model.ValidateKey(key); err != nil {
		return err
	}
	q, err := st.start(key)
	if err != nil {
		return err
	}
	if err := q.s.Flush(context.Background()); err != nil {
		return err
	}
	st.m.SessionDestroy(q.w, q.r)
	return nil
}

// Exists is a request that looks at its session.
func (st *Store) Exists(key string) (bool, error) {
	if _, err := st.Load(key); err != nil {
		if errors.Is(err, model.ErrNotFound) {
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// Cycle is a login: Controller.SessionRegenerateID releases the session,
// then the manager regenerates the id; the request's end releases the new
// session.
func (st *Store) Cycle(key string) (string, error) {
	if err := model.ValidateKey(key); err != nil {
		return "", err
	}
	q, err := st.start(key)
	if err != nil {
		return "", err
	}
	_, ok, err := q.record(key, st.clock())
	if err != nil || !ok {
		q.release()
		if err == nil {
			err = model.ErrNotFound
		}
		return "", err
	}
	q.release()
	ns, err := st.m.SessionRegenerateID(q.w, q.r)
	if err != nil {
		return "", fmt.Errorf("beego: SessionRegenerateID: %w", err)
	}
	ns.SessionRelease(context.Background(), q.w)
	return ns.SessionID(context.Background()), nil
}

// ErrNoClearExpired is ClearExpired's error: beego's SessionGC removes
// files by modification time against time.Now and reports nothing.
var ErrNoClearExpired = errors.New("beego adapter: clear-expired cannot be expressed (SessionGC judges by file mtime on the real clock and reports nothing)")

// ClearExpired is not supported (the worker leaves it out of its hello).
func (st *Store) ClearExpired() ([]string, error) { return nil, ErrNoClearExpired }

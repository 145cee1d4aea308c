package hookfs

import (
	"sync"

	"github.com/sessioncheck/sessioncheck/seam"
)

// Recorder is an FS for tests that trace a store or step in at one of its
// calls: it keeps every call and, before each, runs a function that the
// test replaces between the phases of a run (set up untraced, trace one
// operation, look at the result) without reopening the store.
//
//	h := hookfs.Record(seam.OS)
//	st, _ := impl.Open(dir, impl.Options{FS: h})
//	key, _ := st.Create(values, expiry)
//	h.Reset(nil) // forget the calls Open and Create made
//	st.Touch(key, expiry)
//	calls := h.Log()
//
// It is safe for concurrent use. The installed function runs without the
// recorder's lock held, so it may itself drive a store over the same FS.
type Recorder struct {
	*FS
	mu    sync.Mutex
	calls []Call
	fn    func(n int, c Call) error
}

// Record wraps inner in a Recorder with nothing installed.
func Record(inner seam.FS) *Recorder {
	r := &Recorder{}
	r.FS = New(inner, Hooks{Before: r.before})
	return r
}

// before records c and returns what the installed function returns for it,
// which fails the call as Hooks.Before describes.
func (r *Recorder) before(c Call) error {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	n, fn := len(r.calls), r.fn
	r.mu.Unlock()
	if fn == nil {
		return nil
	}
	return fn(n, c)
}

// Reset forgets the calls recorded so far and installs fn (nil: none), which
// from then on runs before every call; n counts calls from 1 since this
// Reset, and a non-nil error fails the call as Hooks.Before describes.
func (r *Recorder) Reset(fn func(n int, c Call) error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls, r.fn = nil, fn
}

// Log returns the calls made since the last Reset, in order.
func (r *Recorder) Log() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Call(nil), r.calls...)
}

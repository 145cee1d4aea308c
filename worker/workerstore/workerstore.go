// Package workerstore lets the in-process checks (the proptest suite) drive
// a store that lives in a worker process, such as the Django adapter.
//
// Two things separate a worker from an in-process model.Store, and this
// package bridges both:
//
//   - A worker's clock is fixed by each open request (docs/PROTOCOL.md),
//     while the suite moves its clock between operations. The store this
//     package returns sends a new open, on the same directory, whenever the
//     suite's clock has moved since the last one.
//   - Protocol v1 carries whole seconds, while the suite's epoch has a
//     sub-second part (to catch stores that round). The store shifts the
//     whole timeline by that constant sub-second offset on the way out and
//     back on the way in: every comparison of an expiry with the clock is
//     unchanged, and no store is blamed for the wire's resolution.
//
// One worker process serves every case of a run (starting a Python worker
// costs a few hundred milliseconds); a worker that dies is started again
// for the next case.
package workerstore

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
)

// Secret is the secret every open sends.
const Secret = "sessioncheck-adapters"

// Pool serves stores from one worker command, restarting it after it dies.
// Its methods are safe for concurrent use, but the stores it opens share
// one worker process: use them from one goroutine at a time (the suite is
// sequential).
type Pool struct {
	argv []string
	opts worker.Options

	mu     sync.Mutex
	client *worker.Client
	broken bool
}

// New returns a Pool for the worker command argv. No process starts until
// the first Open.
func New(argv []string, opts worker.Options) *Pool {
	return &Pool{argv: append([]string(nil), argv...), opts: opts}
}

// Hello starts the worker if needed and returns what it said about itself.
func (p *Pool) Hello() (worker.Hello, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.clientLocked()
	if err != nil {
		return worker.Hello{}, err
	}
	return c.Hello, nil
}

func (p *Pool) clientLocked() (*worker.Client, error) {
	if p.client != nil && !p.broken {
		return p.client, nil
	}
	restart := p.client != nil
	if restart {
		p.client.Kill()
	}
	c, err := worker.Start(p.argv, p.opts)
	if err != nil && restart {
		// A worker that broke and cannot be started again is a broken
		// worker, not a store that failed an operation.
		return nil, fmt.Errorf("%w: starting the worker again: %v", worker.ErrUnknownOutcome, err)
	}
	if err != nil {
		return nil, err
	}
	p.client, p.broken = c, false
	return c, nil
}

// Close ends the worker process, if one is running.
func (p *Pool) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		return nil
	}
	err := p.client.Close()
	p.client = nil
	return err
}

// Open opens the worker's store on dir at clock's current time and returns
// it as a model.Store. It has the signature of proptest.Opener.
func (p *Pool) Open(dir string, clock model.Clock) (model.Store, error) {
	s := &store{pool: p, dir: dir, clock: clock}
	now := clock()
	// The shift is the clock's sub-second part at the first open of this
	// directory; the suite reopens a directory with the same clock.
	s.shift = time.Duration(now.Nanosecond())
	if err := s.sync(); err != nil {
		return nil, err
	}
	return s, nil
}

type store struct {
	pool  *Pool
	dir   string
	clock model.Clock
	shift time.Duration

	client *worker.Client
	sent   time.Time // the clock reading the last open carried
	opened bool
}

// Supports reports whether the worker declared kind in its hello (the
// store is a model.Declarer). Open has started the worker, so its hello is
// known.
func (s *store) Supports(kind model.Kind) bool {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	return s.client == nil || s.client.Hello.Supports(kind)
}

// Declare passes on the hello's declarations (model.ProfileDeclarer).
func (s *store) Declare(p model.Profile) model.Profile {
	s.pool.mu.Lock()
	defer s.pool.mu.Unlock()
	if s.client == nil {
		return p
	}
	return s.client.Hello.Declare(p)
}

func (s *store) wire(t time.Time) time.Time { return t.Add(-s.shift) }
func (s *store) back(t time.Time) time.Time { return t.Add(s.shift) }

// sync makes sure the worker is open on this store's directory at the
// suite's current time.
func (s *store) sync() error {
	p := s.pool
	p.mu.Lock()
	defer p.mu.Unlock()
	c, err := p.clientLocked()
	if err != nil {
		return err
	}
	now := s.clock()
	if c == s.client && s.opened && now.Equal(s.sent) {
		return nil
	}
	if err := c.Open(worker.Config{Dir: s.dir, Now: s.wire(now), Secret: Secret}); err != nil {
		p.broken = true
		return fmt.Errorf("workerstore: open %s at %s: %w", s.dir, worker.FormatTime(now), err)
	}
	s.client, s.sent, s.opened = c, now, true
	return nil
}

// done records a transport failure so that the next operation starts a
// fresh worker.
func (s *store) done(err error) error {
	if errors.Is(err, worker.ErrUnknownOutcome) {
		s.pool.mu.Lock()
		if s.pool.client == s.client {
			s.pool.broken = true
		}
		s.pool.mu.Unlock()
	}
	return err
}

func (s *store) remote() (model.Store, error) {
	if err := s.sync(); err != nil {
		if !errors.Is(err, worker.ErrUnknownOutcome) {
			// The worker refused the open that follows the clock: the
			// operation was never sent, and the worker, not the store,
			// is at fault.
			err = fmt.Errorf("%w: %v", worker.ErrUnknownOutcome, err)
		}
		return nil, err
	}
	return s.client.Store(), nil
}

func (s *store) Create(values model.Values, expiry time.Time) (string, error) {
	r, err := s.remote()
	if err != nil {
		return "", err
	}
	key, err := r.Create(values, s.wire(expiry))
	return key, s.done(err)
}

func (s *store) Load(key string) (model.Record, error) {
	r, err := s.remote()
	if err != nil {
		return model.Record{}, err
	}
	rec, err := r.Load(key)
	if err != nil {
		return model.Record{}, s.done(err)
	}
	rec.Expiry = s.back(rec.Expiry)
	return rec, nil
}

func (s *store) Save(key string, values model.Values, expiry time.Time) error {
	r, err := s.remote()
	if err != nil {
		return err
	}
	return s.done(r.Save(key, values, s.wire(expiry)))
}

func (s *store) Touch(key string, expiry time.Time) error {
	r, err := s.remote()
	if err != nil {
		return err
	}
	return s.done(r.Touch(key, s.wire(expiry)))
}

func (s *store) Delete(key string) error {
	r, err := s.remote()
	if err != nil {
		return err
	}
	return s.done(r.Delete(key))
}

func (s *store) Exists(key string) (bool, error) {
	r, err := s.remote()
	if err != nil {
		return false, err
	}
	ok, err := r.Exists(key)
	return ok, s.done(err)
}

func (s *store) Cycle(key string) (string, error) {
	r, err := s.remote()
	if err != nil {
		return "", err
	}
	k, err := r.Cycle(key)
	return k, s.done(err)
}

func (s *store) ClearExpired() ([]string, error) {
	r, err := s.remote()
	if err != nil {
		return nil, err
	}
	removed, err := r.ClearExpired()
	return removed, s.done(err)
}

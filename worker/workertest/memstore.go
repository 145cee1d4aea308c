// Package workertest provides an in-memory session store for testing
// drivers of the worker protocol and the checkers built on it: a correct one,
// and deliberately broken ones so that a test can show a checker catches
// something. It is not a reference implementation (that is package impl);
// it is the model's per-key step function behind a mutex.
package workertest

import (
	"io"
	"slices"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// Bug selects a deliberate departure from the model.
type Bug int

const (
	// Correct is no bug: every operation is atomic.
	Correct Bug = iota
	// Resurrect makes Save succeed on a missing session (it writes the
	// record regardless), which a sequential check also catches.
	Resurrect
	// SplitSave makes Save write the values first and the expiry in a
	// second step, releasing the lock in between, so a concurrent Load can
	// see a record that no write ever stored. Only concurrency shows it.
	SplitSave
)

// Mem is the shared backing state: several MemStore instances over one Mem
// behave like several store instances over one directory.
type Mem struct {
	mu    sync.Mutex
	slots map[string]model.Slot
}

// NewMem returns an empty backing state.
func NewMem() *Mem { return &Mem{slots: make(map[string]model.Slot)} }

// MemStore is one store instance over a Mem.
type MemStore struct {
	mem   *Mem
	clock model.Clock
	rand  io.Reader
	bug   Bug
}

// NewStore returns a store instance over mem reading time from clock and key
// randomness from rand (crypto/rand when nil).
func (mem *Mem) NewStore(clock model.Clock, rand io.Reader, bug Bug) *MemStore {
	return &MemStore{mem: mem, clock: clock, rand: rand, bug: bug}
}

func (s *MemStore) step(key string, op model.SlotOp) (model.SlotResult, bool) {
	op.Now = s.clock()
	next, want, legal := model.StepSlot(s.mem.slots[key], op)
	if legal {
		if next.Stored {
			s.mem.slots[key] = next
		} else {
			delete(s.mem.slots, key)
		}
	}
	return want, legal
}

func errOf(r model.SlotResult) error {
	if r.Outcome == model.NotFound {
		return model.ErrNotFound
	}
	return nil
}

func (s *MemStore) fresh() (string, error) {
	for {
		k, err := model.NewKey(s.rand)
		if err != nil {
			return "", err
		}
		if _, used := s.mem.slots[k]; !used {
			return k, nil
		}
	}
}

// Create implements model.Store.
func (s *MemStore) Create(values model.Values, expiry time.Time) (string, error) {
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	k, err := s.fresh()
	if err != nil {
		return "", err
	}
	s.step(k, model.SlotOp{Kind: model.OpCreate, Values: values, Expiry: expiry})
	return k, nil
}

// Load implements model.Store.
func (s *MemStore) Load(key string) (model.Record, error) {
	if err := model.ValidateKey(key); err != nil {
		return model.Record{}, err
	}
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	r, _ := s.step(key, model.SlotOp{Kind: model.OpLoad})
	return r.Record, errOf(r)
}

// Save implements model.Store.
func (s *MemStore) Save(key string, values model.Values, expiry time.Time) error {
	if err := model.ValidateKey(key); err != nil {
		return err
	}
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	switch s.bug {
	case Resurrect:
		s.mem.slots[key] = model.Slot{Stored: true, Record: model.Record{Values: values, Expiry: expiry}}
		return nil
	case SplitSave:
		old := s.mem.slots[key]
		if !old.Stored || !old.Record.LiveAt(s.clock()) {
			return model.ErrNotFound
		}
		s.mem.slots[key] = model.Slot{Stored: true, Record: model.Record{Values: values, Expiry: old.Record.Expiry}}
		s.mem.mu.Unlock()
		time.Sleep(50 * time.Microsecond) // the window
		s.mem.mu.Lock()
		if cur, ok := s.mem.slots[key]; ok && cur.Record.Values == values {
			cur.Record.Expiry = expiry
			s.mem.slots[key] = cur
		}
		return nil
	}
	r, _ := s.step(key, model.SlotOp{Kind: model.OpSave, Values: values, Expiry: expiry})
	return errOf(r)
}

// Touch implements model.Store.
func (s *MemStore) Touch(key string, expiry time.Time) error {
	if err := model.ValidateKey(key); err != nil {
		return err
	}
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	r, _ := s.step(key, model.SlotOp{Kind: model.OpTouch, Expiry: expiry})
	return errOf(r)
}

// Delete implements model.Store.
func (s *MemStore) Delete(key string) error {
	if err := model.ValidateKey(key); err != nil {
		return err
	}
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	s.step(key, model.SlotOp{Kind: model.OpDelete})
	return nil
}

// Exists implements model.Store.
func (s *MemStore) Exists(key string) (bool, error) {
	if err := model.ValidateKey(key); err != nil {
		return false, err
	}
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	r, _ := s.step(key, model.SlotOp{Kind: model.OpExists})
	return r.Exists, nil
}

// Cycle implements model.Store.
func (s *MemStore) Cycle(key string) (string, error) {
	if err := model.ValidateKey(key); err != nil {
		return "", err
	}
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	k, err := s.fresh()
	if err != nil {
		return "", err
	}
	r, _ := s.step(key, model.SlotOp{Kind: model.OpCycleOut})
	if r.Outcome != model.OK {
		return "", errOf(r)
	}
	s.step(k, model.SlotOp{Kind: model.OpCycleIn, Values: r.Record.Values, Expiry: r.Record.Expiry})
	return k, nil
}

// ClearExpired implements model.Store.
func (s *MemStore) ClearExpired() ([]string, error) {
	s.mem.mu.Lock()
	defer s.mem.mu.Unlock()
	var removed []string
	for k := range s.mem.slots {
		if _, legal := s.step(k, model.SlotOp{Kind: model.OpExpire}); legal {
			removed = append(removed, k)
		}
	}
	slices.Sort(removed)
	return removed, nil
}

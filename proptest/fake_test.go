package proptest_test

import (
	"slices"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// fakeStore is an in-memory store built on the model itself: it asks
// model.StepSlot what to return and lets model.State.Check advance its
// state, so it is correct by construction. The directory is ignored; a
// "reopen" gets the same memory through fakeDisk. Its fault, if set,
// turns it into a store with one bug.
type fakeStore struct {
	disk  *fakeDisk
	clock model.Clock
	fault string
}

// fakeDisk is what survives a reopen.
type fakeDisk struct {
	mu      sync.Mutex
	state   model.State
	deleted map[string]model.Record // for the "resurrect" fault
}

// fakeOpener returns an Opener of fake stores with the given fault; each
// directory gets its own memory.
func fakeOpener(fault string) func(dir string, clock model.Clock) (model.Store, error) {
	var mu sync.Mutex
	disks := map[string]*fakeDisk{}
	return func(dir string, clock model.Clock) (model.Store, error) {
		mu.Lock()
		defer mu.Unlock()
		d := disks[dir]
		if d == nil {
			d = &fakeDisk{deleted: map[string]model.Record{}}
			disks[dir] = d
		}
		if fault == "forget-on-reopen" {
			d.state = model.State{}
		}
		return &fakeStore{disk: d, clock: clock, fault: fault}, nil
	}
}

// apply runs op through the model: the store returns what the model wants.
func (f *fakeStore) apply(op model.Op) model.Result {
	op.Now = f.clock()
	f.disk.mu.Lock()
	defer f.disk.mu.Unlock()
	var got model.Result
	if op.Kind != model.OpCreate && op.Kind != model.OpClearExpired && model.ValidateKey(op.Key) != nil {
		return model.Result{Outcome: model.Invalid}
	}
	switch op.Kind {
	case model.OpCreate, model.OpCycle:
		slot := f.disk.state.Slot(op.Key)
		if op.Kind == model.OpCycle && !(slot.Stored && slot.Record.LiveAt(op.Now)) {
			got.Outcome = model.NotFound
			break
		}
		key, err := model.NewKey(nil)
		if err != nil {
			panic(err)
		}
		got.Key = key
	case model.OpClearExpired:
		live := f.disk.state.LiveKeys(op.Now)
		got.Removed = []string{}
		for _, k := range f.disk.state.Keys() {
			if !slices.Contains(live, k) {
				got.Removed = append(got.Removed, k)
			}
		}
	default:
		_, want, _ := model.StepSlot(f.disk.state.Slot(op.Key), model.SlotOp{Kind: op.Kind, Values: op.Values, Expiry: op.Expiry, Now: op.Now})
		got = model.Result{Outcome: want.Outcome, Record: want.Record, Exists: want.Exists}
	}
	if op.Kind == model.OpDelete && f.disk.state.Slot(op.Key).Stored {
		f.disk.deleted[op.Key] = f.disk.state.Slot(op.Key).Record
	}
	next, err := f.disk.state.Check(op, got)
	if err != nil {
		panic("fake store disagrees with the model: " + err.Error())
	}
	f.disk.state = next
	return got
}

func errOf(r model.Result) error {
	switch r.Outcome {
	case model.OK:
		return nil
	case model.NotFound:
		return model.ErrNotFound
	case model.Invalid:
		return model.ErrInvalidKey
	}
	panic("fake store: unexpected outcome " + r.Outcome.String())
}

func (f *fakeStore) Create(values model.Values, expiry time.Time) (string, error) {
	r := f.apply(model.Op{Kind: model.OpCreate, Values: values, Expiry: expiry})
	return r.Key, errOf(r)
}

func (f *fakeStore) Load(key string) (model.Record, error) {
	r := f.apply(model.Op{Kind: model.OpLoad, Key: key})
	return r.Record, errOf(r)
}

func (f *fakeStore) Save(key string, values model.Values, expiry time.Time) error {
	if f.fault == "resurrect" {
		// The bug: a save of a deleted session brings it back, as a
		// check-then-rename store does when the delete falls in its window.
		f.disk.mu.Lock()
		_, wasDeleted := f.disk.deleted[key]
		f.disk.mu.Unlock()
		if wasDeleted && !f.disk.state.Slot(key).Stored {
			return f.resurrect(key, values, expiry)
		}
	}
	return errOf(f.apply(model.Op{Kind: model.OpSave, Key: key, Values: values, Expiry: expiry}))
}

// resurrect stores a record under key whatever the model says, by telling
// the model it was a Create that chose key.
func (f *fakeStore) resurrect(key string, values model.Values, expiry time.Time) error {
	f.disk.mu.Lock()
	defer f.disk.mu.Unlock()
	next, err := f.disk.state.Check(model.Op{Kind: model.OpCreate, Values: values, Expiry: expiry, Now: f.clock()}, model.Result{Key: key})
	if err != nil {
		panic(err)
	}
	f.disk.state = next
	return nil
}

func (f *fakeStore) Touch(key string, expiry time.Time) error {
	return errOf(f.apply(model.Op{Kind: model.OpTouch, Key: key, Expiry: expiry}))
}

func (f *fakeStore) Delete(key string) error {
	return errOf(f.apply(model.Op{Kind: model.OpDelete, Key: key}))
}

func (f *fakeStore) Exists(key string) (bool, error) {
	if f.fault == "panic" && model.ValidateKey(key) != nil {
		panic("exists: index out of range") // a store that trusts its input
	}
	r := f.apply(model.Op{Kind: model.OpExists, Key: key})
	return r.Exists, errOf(r)
}

func (f *fakeStore) Cycle(key string) (string, error) {
	r := f.apply(model.Op{Kind: model.OpCycle, Key: key})
	return r.Key, errOf(r)
}

func (f *fakeStore) ClearExpired() ([]string, error) {
	r := f.apply(model.Op{Kind: model.OpClearExpired})
	return r.Removed, errOf(r)
}

package workload_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/memfs/workload"
	"github.com/sessioncheck/sessioncheck/model"
)

var (
	now  = workload.Start
	recA = model.Record{Values: model.NewValues(map[string]string{"v": "a"}), Expiry: now.Add(time.Hour)}
	recB = model.Record{Values: model.NewValues(map[string]string{"v": "b"}), Expiry: now.Add(time.Hour)}
)

const (
	k1 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	k2 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	k3 = "cccccccccccccccccccccccccccccccc"
)

func stored(r model.Record) workload.Observation {
	return workload.Observation{Slot: model.Slot{Stored: true, Record: r}}
}

func with(t *testing.T, key string, r model.Record) model.State {
	s, _, err := model.State{}.Apply(model.Op{Kind: model.OpCreate, Values: r.Values, Expiry: r.Expiry}, key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWindowSave(t *testing.T) {
	before := with(t, k1, recA)
	op := model.Op{Kind: model.OpSave, Key: k1, Values: recB.Values, Expiry: recB.Expiry, Now: now}
	w := workload.Window{Before: before, InFlight: &op}
	for _, r := range []model.Record{recA, recB} {
		if _, err := w.Check(map[string]workload.Observation{k1: stored(r)}); err != nil {
			t.Fatalf("%v refused during a save: %v", r, err)
		}
	}
	if _, err := w.Check(map[string]workload.Observation{k1: {}}); err == nil {
		t.Fatal("a save in flight may not lose the record")
	}
	acked := workload.Window{Before: before}
	if _, err := acked.Check(map[string]workload.Observation{k1: stored(recB)}); err == nil {
		t.Fatal("with nothing in flight, a record nobody saved was accepted")
	}
}

func TestWindowCycle(t *testing.T) {
	before := with(t, k1, recA)
	op := model.Op{Kind: model.OpCycle, Key: k1, Now: now}
	w := workload.Window{Before: before, InFlight: &op, Drawn: []string{k2, k3}}
	ok := []map[string]workload.Observation{
		{k1: stored(recA), k2: {}, k3: {}},           // before
		{k1: {}, k2: stored(recA), k3: {}},           // after
		{k1: stored(recA), k2: {}, k3: stored(recA)}, // new key written, old not yet removed
	}
	for _, obs := range ok {
		if _, err := w.Check(obs); err != nil {
			t.Fatalf("%v refused: %v", obs, err)
		}
	}
	bad := []map[string]workload.Observation{
		{k1: {}, k2: {}, k3: {}},                     // the record is lost
		{k1: {}, k2: stored(recA), k3: stored(recA)}, // two new keys
		{k1: {}, k2: stored(recB), k3: {}},           // a record never written
	}
	for _, obs := range bad {
		if _, err := w.Check(obs); err == nil {
			t.Fatalf("%v accepted", obs)
		}
	}
}

func TestWindowCorruptIsNeverAllowed(t *testing.T) {
	before := with(t, k1, recA)
	op := model.Op{Kind: model.OpTouch, Key: k1, Expiry: now.Add(2 * time.Hour), Now: now}
	w := workload.Window{Before: before, InFlight: &op}
	_, err := w.Check(map[string]workload.Observation{k1: {Err: &model.CorruptError{Key: k1, Reason: "empty file"}}})
	if err == nil || !strings.Contains(err.Error(), "empty file") || !strings.Contains(err.Error(), "the model requires") {
		t.Fatalf("corrupt record: %v; want a refusal naming the reason and the model's requirement", err)
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := workload.Generate(7, 50), workload.Generate(7, 50)
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("step %d differs between two generations from one seed", i)
		}
	}
	if c := workload.Generate(8, 50); c[1] == a[1] && c[2] == a[2] && c[3] == a[3] {
		t.Fatal("two seeds gave the same workload")
	}
}

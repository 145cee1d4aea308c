package model_test

import (
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// judge runs p.Check on the fixture and says whether got was accepted,
// and with which difference.
func judge(t *testing.T, p model.Profile, s model.State, op model.Op, got model.Result) (model.State, string, bool) {
	t.Helper()
	next, diff, err := p.Check(s, op, got)
	return next, diff, err == nil
}

var observableAll = model.Profile{Observable: true, Granularity: time.Second, ExistsStored: true, RemovedUnreported: true}

// profileRows test section 5 of docs/SPEC.md (profiles), row by row.
var profileRows = []specRow{
	{"profile/strict", func(t *testing.T) {
		s := fixture(t)
		sweep := model.Op{Kind: model.OpClearExpired, Now: t0}
		if _, _, ok := judge(t, model.Strict, s, sweep, model.Result{Removed: []string{}}); ok {
			t.Error("strict accepts a sweep that leaves an expired record")
		}
		if p, err := model.ParseProfile(""); err != nil || p != model.Strict {
			t.Errorf("the default profile is %v (%v), want strict", p, err)
		}
		if _, err := model.ParseProfile("lenient"); err == nil {
			t.Error("an unknown profile name is accepted")
		}
		// Declarations mean nothing to strict.
		if _, _, ok := judge(t, model.Strict, s, model.Op{Kind: model.OpExists, Key: kExpired, Now: t0}, model.Result{Exists: true}); ok {
			t.Error("strict accepts exists=true on an expired session")
		}
	}},
	{"profile/expired-absent", func(t *testing.T) {
		s := fixture(t)
		sweep := model.Op{Kind: model.OpClearExpired, Now: t0}
		next, diff, ok := judge(t, model.Observable, s, sweep, model.Result{Removed: []string{}})
		if !ok || diff == "" {
			t.Fatalf("observable: a sweep after an early removal: ok=%v diff=%q, want a listed difference", ok, diff)
		}
		if next.Slot(kExpired).Stored || !next.Slot(kLive).Stored {
			t.Errorf("after it the state is %v, want only the live session", next.Keys())
		}
		// A sweep that reports only some expired keys: the others went early.
		s2 := build(t, map[string]model.Record{kExpired: {Values: vB, Expiry: t0.Add(-hour)}, kFresh: {Values: vA, Expiry: t0.Add(-hour)}})
		if next, diff, ok := judge(t, model.Observable, s2, sweep, model.Result{Removed: []string{kFresh}}); !ok || diff == "" || len(next.Keys()) != 0 {
			t.Errorf("a partial sweep report: ok=%v diff=%q left %v", ok, diff, next.Keys())
		}
		if _, diff, ok := judge(t, model.Observable, s2, sweep, model.Result{Removed: []string{kAbsent, kFresh}}); !ok || diff == "" {
			t.Errorf("a sweep of a backend's own record: ok=%v diff=%q", ok, diff)
		}
		if _, _, ok := judge(t, model.Observable, s, sweep, model.Result{Removed: []string{kLive, kExpired}}); ok {
			t.Error("observable accepts a sweep that reports removing a live session")
		}
		// An expired session is absent: loading it back is a violation.
		load := model.Op{Kind: model.OpLoad, Key: kExpired, Now: t0}
		if _, _, ok := judge(t, model.Observable, s, load, model.Result{Record: model.Record{Values: vB, Expiry: t0.Add(-hour)}}); ok {
			t.Error("observable accepts a load of an expired session")
		}
		// Save must not revive it (Django's save without a load).
		save := model.Op{Kind: model.OpSave, Key: kExpired, Values: vA, Expiry: t0.Add(hour), Now: t0}
		if _, _, ok := judge(t, observableAll, s, save, model.Result{}); ok {
			t.Error("observable accepts a save that revives an expired session")
		}
	}},
	{"profile/exists-stat", func(t *testing.T) {
		s := fixture(t)
		ex := model.Op{Kind: model.OpExists, Key: kExpired, Now: t0}
		if _, _, ok := judge(t, model.Observable, s, ex, model.Result{Exists: true}); ok {
			t.Error("undeclared: exists=true on an expired session is accepted")
		}
		p := model.Profile{Observable: true, ExistsStored: true}
		if _, diff, ok := judge(t, p, s, ex, model.Result{Exists: true}); !ok || diff == "" {
			t.Errorf("declared stat: ok=%v diff=%q, want a listed difference", ok, diff)
		}
		absent := model.Op{Kind: model.OpExists, Key: kAbsent, Now: t0}
		if _, _, ok := judge(t, p, s, absent, model.Result{Exists: true}); ok {
			t.Error("declared stat: exists=true on an absent key is accepted")
		}
	}},
	{"profile/removed-unreported", func(t *testing.T) {
		s := fixture(t)
		sweep := model.Op{Kind: model.OpClearExpired, Now: t0}
		p := model.Profile{Observable: true, RemovedUnreported: true}
		next, diff, ok := judge(t, p, s, sweep, model.Result{Removed: []string{kLive}})
		if !ok || diff == "" {
			t.Fatalf("declared unreported: ok=%v diff=%q, want a listed difference", ok, diff)
		}
		if next.Slot(kExpired).Stored || !next.Slot(kLive).Stored {
			t.Errorf("after it the state is %v, want the live session kept and the expired one gone", next.Keys())
		}
		// The live session must still load afterwards.
		if _, _, ok := judge(t, p, next, model.Op{Kind: model.OpLoad, Key: kLive, Now: t0}, model.Result{Outcome: model.NotFound}); ok {
			t.Error("a live session lost after an unreported sweep is accepted")
		}
	}},
	{"profile/granularity", func(t *testing.T) {
		s := build(t, map[string]model.Record{kLive: {Values: vA, Expiry: t0.Add(1500 * time.Millisecond)}})
		load := model.Op{Kind: model.OpLoad, Key: kLive, Now: t0.Add(1200 * time.Millisecond)}
		if _, _, ok := judge(t, model.Observable, s, load, model.Result{Outcome: model.NotFound}); ok {
			t.Error("undeclared: a session expired 0.3 s early is accepted")
		}
		p := model.Profile{Observable: true, Granularity: time.Second}
		if _, diff, ok := judge(t, p, s, load, model.Result{Outcome: model.NotFound}); !ok || diff == "" {
			t.Errorf("declared 1s: ok=%v diff=%q, want a listed difference", ok, diff)
		}
		live := model.Op{Kind: model.OpLoad, Key: kLive, Now: t0.Add(200 * time.Millisecond)}
		if _, diff, ok := judge(t, p, s, live, model.Result{Record: model.Record{Values: vA, Expiry: t0.Add(time.Second)}}); !ok || diff == "" {
			t.Errorf("declared 1s: a truncated expiry: ok=%v diff=%q", ok, diff)
		}
		if _, _, ok := judge(t, p, s, live, model.Result{Record: model.Record{Values: vB, Expiry: t0.Add(time.Second)}}); ok {
			t.Error("declared 1s: another session's values are accepted")
		}
	}},
	{"profile/violations", func(t *testing.T) {
		s := fixture(t)
		bad := []struct {
			what string
			op   model.Op
			got  model.Result
		}{
			{"a failed operation", model.Op{Kind: model.OpLoad, Key: kLive, Now: t0}, model.Result{Outcome: model.Failed}},
			{"an empty read", model.Op{Kind: model.OpLoad, Key: kLive, Now: t0}, model.Result{Record: model.Record{Expiry: t0.Add(hour)}}},
			{"another session's data", model.Op{Kind: model.OpLoad, Key: kLive, Now: t0}, model.Result{Record: model.Record{Values: vB, Expiry: t0.Add(hour)}}},
			{"an acknowledged save lost", model.Op{Kind: model.OpLoad, Key: kLive, Now: t0}, model.Result{Outcome: model.NotFound}},
			{"a deleted session back", model.Op{Kind: model.OpLoad, Key: kAbsent, Now: t0}, model.Result{Record: model.Record{Values: vA, Expiry: t0.Add(hour)}}},
		}
		for _, b := range bad {
			if _, _, ok := judge(t, observableAll, s, b.op, b.got); ok {
				t.Errorf("observable with every declaration accepts %s", b.what)
			}
		}
	}},
}

// TestProfileSpec runs one subtest per row of SPEC.md section 5.
func TestProfileSpec(t *testing.T) {
	for _, r := range profileRows {
		t.Run(r.name, r.test)
	}
}

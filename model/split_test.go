package model_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// TestSplit pins the one decomposition every check shares: which parts
// each operation has, and which results no state allows.
func TestSplit(t *testing.T) {
	const k, k2 = "aaaaaaaa", "bbbbbbbb"
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	kinds := func(ps []model.Part) string {
		var b []string
		for _, p := range ps {
			b = append(b, p.Op.Kind.String()+":"+p.Key)
		}
		return strings.Join(b, " ")
	}
	for _, c := range []struct {
		op      model.Op
		got     model.Result
		want    string // parts, or "error"
		refusal string // part of the error
	}{
		{model.Op{Kind: model.OpCreate, Now: now}, model.Result{Key: k}, "create:" + k, ""},
		{model.Op{Kind: model.OpCycle, Key: k, Now: now}, model.Result{Key: k2}, "cycle-out:" + k + " cycle-in:" + k2, ""},
		{model.Op{Kind: model.OpCycle, Key: k, Now: now}, model.Result{Outcome: model.NotFound}, "cycle-out:" + k, ""},
		{model.Op{Kind: model.OpClearExpired, Now: now}, model.Result{Removed: []string{k2, k}}, "expire:" + k + " expire:" + k2, ""},
		{model.Op{Kind: model.OpSave, Key: k, Now: now}, model.Result{}, "save:" + k, ""},
		{model.Op{Kind: model.OpLoad, Key: "../x", Now: now}, model.Result{Outcome: model.Invalid}, "", ""},
		{model.Op{Kind: model.OpLoad, Key: "../x", Now: now}, model.Result{Outcome: model.NotFound}, "error", "invalid-key"},
		{model.Op{Kind: model.OpCycle, Key: k, Now: now}, model.Result{Key: k}, "error", "old key"},
		{model.Op{Kind: model.OpCreate, Now: now}, model.Result{Outcome: model.NotFound}, "error", "new key"},
		{model.Op{Kind: model.OpSave, Key: k, Now: now}, model.Result{Outcome: model.Failed}, "error", "healthy"},
		{model.Op{Kind: model.OpClearExpired, Now: now}, model.Result{Removed: []string{k, k}}, "error", "twice"},
	} {
		parts, err := model.Split(c.op, c.got)
		switch {
		case c.want == "error" && (err == nil || !strings.Contains(err.Error(), c.refusal)):
			t.Errorf("Split(%v, %v) = %v, %v; want an error about %q", c.op, c.got, kinds(parts), err, c.refusal)
		case c.want != "error" && (err != nil || kinds(parts) != c.want):
			t.Errorf("Split(%v, %v) = %q, %v; want %q", c.op, c.got, kinds(parts), err, c.want)
		}
	}

	rec := model.Record{Values: model.NewValues(map[string]string{"u": "1"}), Expiry: now.Add(time.Hour)}
	parts, _ := model.Split(model.Op{Kind: model.OpCycle, Key: k, Now: now}, model.Result{Key: k2})
	out, in := parts[0].Moving(rec), parts[1].Moving(rec)
	if !out.Result.Record.Equal(rec) || in.Op.Values != rec.Values || !in.Op.Expiry.Equal(rec.Expiry) {
		t.Errorf("Moving: cycle-out %v, cycle-in %v; want both to carry %v", out, in, rec)
	}

	u := model.SplitUnknown(model.Op{Kind: model.OpCycle, Key: k, Now: now}, []string{k2}, nil)
	if kinds(u) != "cycle-out:"+k+" cycle-in:"+k2 {
		t.Errorf("SplitUnknown(cycle) = %q", kinds(u))
	}
	if u := model.SplitUnknown(model.Op{Kind: model.OpCreate, Now: now}, nil, nil); len(u) != 0 {
		t.Errorf("SplitUnknown(create) with no fresh keys = %q, want nothing", kinds(u))
	}
}

// TestPrinterResults shows that a result prints by its operation: a
// Save's or Touch's ok is "ok", not "ok exists=false".
func TestPrinterResults(t *testing.T) {
	var p model.Printer
	for _, c := range []struct {
		k    model.Kind
		r    model.Result
		want string
	}{
		{model.OpSave, model.Result{}, "ok"},
		{model.OpTouch, model.Result{}, "ok"},
		{model.OpDelete, model.Result{}, "ok"},
		{model.OpExists, model.Result{}, "ok exists=false"},
		{model.OpCreate, model.Result{Key: "aaaaaaaa"}, "ok key=aaaaaaaa"},
		{model.OpClearExpired, model.Result{Removed: []string{}}, "ok removed=[]"},
		{model.OpLoad, model.Result{Outcome: model.NotFound}, "not-found"},
	} {
		if got := p.Result(c.k, c.r); got != c.want {
			t.Errorf("Printer.Result(%v, %+v) = %q, want %q", c.k, c.r, got, c.want)
		}
	}
	if got := (model.Result{}).String(); got != "ok" {
		t.Errorf("Result{}.String() = %q, want ok", got)
	}
}

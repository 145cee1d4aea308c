package explore

import (
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// TestCheckHistoryCycle pins the per-key view of Cycle that every check
// shares (model.Split): a cycle-out on the old key, then a cycle-in of the
// same record on the new key, each at its own point within the cycle. The
// history check accepts what a correct store may show and refuses a record
// left under the old key, a record that is not the one moved, and a cycle
// that returns its old key.
func TestCheckHistoryCycle(t *testing.T) {
	const k, k2 = "aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"
	now := Epoch
	rec := model.Record{Values: model.NewValues(map[string]string{"u": "1"}), Expiry: now.Add(time.Hour)}
	other := model.Record{Values: model.NewValues(map[string]string{"u": "2"}), Expiry: now.Add(time.Hour)}
	create := &Operation{Client: 0, Call: 0, Return: 1,
		Op:     model.Op{Kind: model.OpCreate, Values: rec.Values, Expiry: rec.Expiry, Now: now},
		Result: model.Result{Key: k}}
	cycle := func(call, ret int, newKey string) *Operation {
		return &Operation{Client: 0, Call: call, Return: ret, Op: model.Op{Kind: model.OpCycle, Key: k, Now: now},
			Result: model.Result{Key: newKey}}
	}
	load := func(client, call, ret int, key string, r *model.Record) *Operation {
		o := &Operation{Client: client, Call: call, Return: ret, Op: model.Op{Kind: model.OpLoad, Key: key, Now: now}}
		if r == nil {
			o.Result.Outcome = model.NotFound
		} else {
			o.Result.Record = *r
		}
		return o
	}
	for _, c := range []struct {
		name    string
		history []*Operation
		ok      bool
	}{
		{"moved", []*Operation{create, cycle(2, 3, k2), load(0, 4, 5, k2, &rec), load(1, 6, 7, k, nil)}, true},
		// A reader of the old key during the cycle may still see it.
		{"old-key-read-during-cycle", []*Operation{create, cycle(2, 5, k2), load(1, 3, 4, k, &rec), load(0, 6, 7, k2, &rec)}, true},
		{"old-key-kept", []*Operation{create, cycle(2, 3, k2), load(1, 4, 5, k, &rec)}, false},
		{"wrong-record", []*Operation{create, cycle(2, 3, k2), load(0, 4, 5, k2, &other)}, false},
		{"old-key-returned", []*Operation{create, cycle(2, 3, k)}, false},
		{"cycle-of-nothing-ok", []*Operation{cycle(0, 1, k2)}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := checkHistory(c.history)
			switch {
			case c.ok && err != nil:
				t.Fatalf("a history a correct store may show is refused:\n%v", err)
			case !c.ok && err == nil:
				t.Fatal("the history check accepted it")
			case err != nil:
				t.Logf("refused: %v", err)
			}
		})
	}
}

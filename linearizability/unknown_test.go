package linearizability

import (
	"math"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// TestWorkerFaultsBecomeUnknown: workers that hang or die mid-operation turn
// that operation into an unknown outcome (return ∞, a new client id) and
// are replaced; the history around them is still checked (no false
// violation on the reference), but the verdict is not a pass: a hang is
// unknown with the operations that hung, a death is a worker error.
func TestWorkerFaultsBecomeUnknown(t *testing.T) {
	for _, c := range []struct {
		fault string
		want  Verdict
	}{{"exit", Error}, {"hang", Unknown}} {
		t.Run(c.fault, func(t *testing.T) {
			argv, env := workerArgv(t, "reference", c.fault)
			cfg := Config{Histories: 5, OpTimeout: 300 * time.Millisecond, Env: env, Dir: fastDir(t), ReportDir: t.TempDir(),
				Workload: Workload{Seed: 9}}
			res, err := CheckProcesses(argv, cfg)
			if err != nil {
				t.Fatal(err)
			}
			counted := res.Work.WorkerErrors
			if c.fault == "hang" {
				counted = res.Work.Hung
			}
			if res.Verdict != c.want || res.UnknownOps == 0 || counted == 0 || res.Visualization != "" {
				t.Fatalf("%s: %s (%s), want %s with the fault counted and no violation\n%s", c.fault, res.Verdict, res.Work.Summary(), c.want, res.Detail)
			}
			t.Logf("%s: %s: %s\n%s", c.fault, res.Verdict, res.Work.Summary(), firstLines(res.Detail, 2))
		})
	}
}

func TestRecorderRefusesBadInput(t *testing.T) {
	r := NewRecorder()
	c := r.NewClient()
	op := model.Op{Kind: model.OpLoad, Key: "abcdefgh"}
	if err := r.Begin(c+1, op); err == nil {
		t.Fatal("Begin accepted an unknown client")
	}
	if _, err := r.End(c, model.Result{}, nil); err == nil {
		t.Fatal("End accepted a return with no call")
	}
	if err := r.Begin(c, op); err != nil {
		t.Fatal(err)
	}
	if err := r.Begin(c, op); err == nil {
		t.Fatal("Begin accepted two operations in flight for one client")
	}
	nc, err := r.Abandon(c, "test")
	if err != nil || nc == c {
		t.Fatalf("Abandon: new id %d (old %d), %v", nc, c, err)
	}
	if err := r.Add(Entry{Client: 5, Op: op, Call: 10, Return: 5}); err == nil {
		t.Fatal("Add accepted a return before its call")
	}
	h := r.Finish("end")
	if len(h) != 1 || !h[0].Unknown || h[0].Return != math.MaxInt64 {
		t.Fatalf("history %v", h)
	}
}

// TestModelUnknownAcceptsAnything: an unknown-outcome save may or may not
// have happened, so a later load may see either value; a definite stale
// read after a definite save is refused.
func TestModelUnknownAndStale(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	v1 := model.NewValues(map[string]string{"w": "1"})
	v2 := model.NewValues(map[string]string{"w": "2"})
	exp := now.Add(time.Hour)
	key := "abcdefghij"
	hist := func(saveUnknown bool, loaded model.Values) []Entry {
		save := Entry{Client: 0, Op: model.Op{Kind: model.OpSave, Key: key, Values: v2, Expiry: exp, Now: now}, Call: 20, Return: 30}
		if saveUnknown {
			save.Unknown, save.Return = true, math.MaxInt64
		}
		return []Entry{
			{Client: 0, Op: model.Op{Kind: model.OpCreate, Values: v1, Expiry: exp, Now: now}, Result: model.Result{Key: key}, Call: 0, Return: 10},
			save,
			{Client: 1, Op: model.Op{Kind: model.OpLoad, Key: key, Now: now}, Result: model.Result{Record: model.Record{Values: loaded, Expiry: exp}}, Call: 40, Return: 50},
		}
	}
	for _, c := range []struct {
		unknown bool
		loaded  model.Values
		want    Verdict
	}{{true, v1, Pass}, {true, v2, Pass}, {false, v2, Pass}, {false, v1, Violation}} {
		v, detail, _, err := CheckHistory(hist(c.unknown, c.loaded), time.Second, "", "")
		if err != nil || v != c.want {
			t.Errorf("unknown=%v loaded %v: %s (%v), want %s\n%s", c.unknown, c.loaded, v, err, c.want, detail)
		}
	}
}

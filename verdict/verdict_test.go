package verdict

import (
	"strings"
	"testing"
)

func TestJudge(t *testing.T) {
	ok := Work{Unit: "histories", Planned: 10, Units: 10, Operations: 400}
	cases := []struct {
		name  string
		found Verdict
		work  func(w *Work)
		want  Verdict
		why   string
	}{
		{"clean pass", Pass, func(*Work) {}, Pass, ""},
		{"violation stands", Violation, func(w *Work) { w.Hung = 3 }, Violation, ""},
		{"failed ops", Pass, func(w *Work) { w.Failed = 240 }, Violation, "240 of 400 operations failed"},
		{"garbage worker", Pass, func(w *Work) { w.WorkerErrors = 2; w.Restarts = 2 }, Error, "broke the protocol 2 times"},
		{"hung", Pass, func(w *Work) { w.Hung, w.Unknown, w.HungOps = 1, 1, []string{"save k1"} }, Unknown, "1 operations hung (no answer in time): save k1"},
		{"too many unknown", Pass, func(w *Work) { w.Unknown = 21 }, Unknown, "21 of 400 operations ended with an unknown outcome"},
		{"few unknown", Pass, func(w *Work) { w.Unknown = 20 }, Pass, ""},
		{"no work", Pass, func(w *Work) { w.Units, w.Operations = 0, 0 }, Unknown, "no work was done"},
		{"unfinished", Pass, func(w *Work) { w.Units = 9 }, Unknown, "only 9 of 10 histories"},
		{"silent hook", Pass, func(w *Work) { w.Silent = 11 }, Error, "announced no scheduling point"},
		{"nothing interleaved", Pass, func(w *Work) { w.Explores = true }, Error, "more than one interleaving"},
		{"explore interleaved", Pass, func(w *Work) { w.Explores, w.Interleaved = true, 3 }, Pass, ""},
		{"error stays", Error, func(*Work) {}, Error, ""},
		{"unknown stays", Unknown, func(*Work) {}, Unknown, ""},
	}
	for _, c := range cases {
		w := ok
		c.work(&w)
		got, why := Judge(c.found, w)
		if got != c.want || !strings.Contains(why, c.why) || (c.why == "" && why != "") {
			t.Errorf("%s: Judge = %s %q, want %s containing %q", c.name, got, why, c.want, c.why)
		}
	}
}

func TestSummary(t *testing.T) {
	w := Work{Unit: "histories", Units: 3, Operations: 120, Unknown: 2, Hung: 1}
	if got, want := w.Summary(), "3 histories, 120 ops (2 unknown, 1 hung)"; got != want {
		t.Errorf("Summary = %q, want %q", got, want)
	}
}

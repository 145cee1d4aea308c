// Package verdict holds the one rule every check, test helper and the
// command use to turn what a check found into a verdict: a check passes only
// when it did the work it claims.
//
// A check counts its work in a Work value while it runs and then calls
// Judge with what it found. Judge never turns a violation into anything
// else, and never lets missing, failed, hung or unannounced work stand as
// a pass.
package verdict

import (
	"fmt"
	"strings"
)

// Verdict is the outcome of one check on one store.
type Verdict string

// The verdicts. Only Pass is a pass.
const (
	// Pass: the check did its work and found no violation.
	Pass Verdict = "pass"
	// Violation: the store broke the contract; the result's detail shows how.
	Violation Verdict = "violation"
	// Unknown: the check could not decide: it ran out of time, or too much
	// of its work had no known outcome. Never a pass.
	Unknown Verdict = "unknown"
	// Error: the check could not run as it should (bad use, a worker that
	// breaks the protocol, a store that cannot be opened). Never a pass.
	Error Verdict = "error"
	// Skipped: the check cannot apply to this store, and says why.
	Skipped Verdict = "skipped"
)

// UnknownShare is the largest share of operations that may end with an
// unknown outcome (a killed or timed-out client) in a check that still
// passes. An operation of unknown outcome may linearize at any point after
// its call with any result, so each one loosens what the rest of the history
// pins down; a few are the price of killing clients on purpose, but past
// one in twenty the history says too little to call it a pass.
const UnknownShare = 0.05

// Work counts what a check did. Zero values mean "none of this happened";
// a check fills in every field that applies to it.
type Work struct {
	// Unit names what Units counts ("cases", "histories", "schedules",
	// "injections", "crash states").
	Unit string `json:"unit"`
	// Planned is how many units the check meant to do; Units how many it
	// did and judged. A check with Planned > Units did not finish.
	Planned int `json:"planned"`
	Units   int `json:"units"`
	// Operations is the number of store operations performed and judged.
	Operations int `json:"operations"`
	// Failed counts operations the store reported as failed although
	// nothing was injected: on a healthy disk a session store must not fail.
	Failed int `json:"failed"`
	// Unknown counts operations whose outcome is unknown (the client was
	// killed, or gave no answer in time). Hung counts those of them that
	// were killed because they gave no answer in time.
	Unknown int `json:"unknown"`
	Hung    int `json:"hung"`
	// HungOps names the operations that hung, for the report (a few).
	HungOps []string `json:"hung_ops,omitempty"`
	// WorkerErrors counts protocol errors from worker processes (an error
	// response, a line that does not parse, a worker that died unasked);
	// Restarts counts worker processes started again after one.
	WorkerErrors int `json:"worker_errors"`
	Restarts     int `json:"restarts"`
	// Silent counts operations that had to touch storage but announced no
	// scheduling point (explore through a worker's hook); Announced counts
	// the scheduling points announced in all.
	Silent    int `json:"silent"`
	Announced int `json:"announced"`
	// Interleaved counts the scenarios that had more than one
	// interleaving (explore). Zero when the check is not explore.
	Interleaved int `json:"interleaved"`
	// Unchecked names the store operations the check left out because
	// the store does not declare them (a worker's hello): they were never
	// run, so the verdict says nothing about them. It does not change the
	// verdict; reports list it.
	Unchecked []string `json:"unchecked,omitempty"`
	// Explores marks a Work from explore, where Interleaved must be > 0.
	Explores bool `json:"-"`
}

// Judge is the rule. found is what the check's own logic concluded
// (Violation if it saw the contract broken, Pass otherwise, or Error /
// Skipped / Unknown when it could not run). It returns the verdict to
// report and, when that differs from a plain pass, a sentence saying why
// in terms of the counted work.
//
// The order matters: a violation stands whatever else went wrong (it is a
// real counterexample); then errors; then missing work.
func Judge(found Verdict, w Work) (Verdict, string) {
	switch found {
	case Violation, Skipped:
		return found, ""
	case Error:
		return Error, ""
	}
	var why []string
	if w.Failed > 0 {
		return Violation, fmt.Sprintf("%d of %d operations failed with nothing injected: a session store must not fail on a healthy disk", w.Failed, w.Operations)
	}
	if w.WorkerErrors > 0 {
		return Error, fmt.Sprintf("the worker broke the protocol %d times (%d restarts)", w.WorkerErrors, w.Restarts)
	}
	if w.Silent > 0 {
		return Error, fmt.Sprintf("%d operations that must touch storage announced no scheduling point (%d points announced in all): the store's file operations are not behind the scheduler (the worker's hook, or the seam in process), so no interleaving of them was explored", w.Silent, w.Announced)
	}
	if w.Explores && w.Interleaved == 0 {
		return Error, "no scenario had more than one interleaving: nothing concurrent was explored"
	}
	if w.Hung > 0 {
		why = append(why, fmt.Sprintf("%d operations hung (no answer in time)%s", w.Hung, listOps(w.HungOps)))
	}
	if w.Units == 0 || w.Operations == 0 {
		why = append(why, fmt.Sprintf("no work was done (%d %s, %d operations)", w.Units, unit(w), w.Operations))
	} else if w.Planned > w.Units {
		why = append(why, fmt.Sprintf("only %d of %d %s were done", w.Units, w.Planned, unit(w)))
	}
	if w.Operations > 0 && float64(w.Unknown) > UnknownShare*float64(w.Operations) {
		why = append(why, fmt.Sprintf("%d of %d operations ended with an unknown outcome, more than the %.0f%% a pass allows", w.Unknown, w.Operations, 100*UnknownShare))
	}
	if len(why) > 0 {
		return Unknown, strings.Join(why, "; ")
	}
	if found == Unknown {
		return Unknown, ""
	}
	return Pass, ""
}

// Passed reports whether v is a pass.
func (v Verdict) Passed() bool { return v == Pass }

func unit(w Work) string {
	if w.Unit == "" {
		return "units"
	}
	return w.Unit
}

func listOps(ops []string) string {
	if len(ops) == 0 {
		return ""
	}
	const most = 5
	s := ops
	if len(s) > most {
		s = s[:most]
	}
	out := ": " + strings.Join(s, ", ")
	if len(ops) > most {
		out += fmt.Sprintf(" and %d more", len(ops)-most)
	}
	return out
}

// Summary is the work in a few words, for a table cell or a log line.
func (w Work) Summary() string {
	s := fmt.Sprintf("%d %s, %d ops", w.Units, unit(w), w.Operations)
	var extra []string
	for _, c := range []struct {
		n    int
		name string
	}{{w.Failed, "failed"}, {w.Unknown, "unknown"}, {w.Hung, "hung"}, {w.WorkerErrors, "worker errors"}, {w.Restarts, "restarts"}, {w.Silent, "silent"}} {
		if c.n > 0 {
			extra = append(extra, fmt.Sprintf("%d %s", c.n, c.name))
		}
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

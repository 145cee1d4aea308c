package explore

import (
	"fmt"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// Epoch is time zero of every scenario: a step's clock and expiry are given
// as durations after it.
var Epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Step is one store operation of a scenario. The values a Create or Save
// writes are chosen by the run and are unique per write, so that every value
// read names the write it came from.
type Step struct {
	Kind model.Kind // OpCreate … OpClearExpired (not the per-key kinds)
	// Key is the session the step works on, as an index into the keys the
	// scenario's prefix created, in order (Create and Cycle create keys).
	Key int
	// Expiry is the new expiry of a Create, Save or Touch, after Epoch.
	Expiry time.Duration
	// At is what the client's clock says during the step, after Epoch.
	At time.Duration
}

func (s Step) String() string {
	var args []string
	if s.Kind != model.OpCreate && s.Kind != model.OpClearExpired {
		args = append(args, fmt.Sprintf("K%d", s.Key))
	}
	if s.Kind == model.OpCreate || s.Kind == model.OpSave || s.Kind == model.OpTouch {
		args = append(args, "expiry=+"+s.Expiry.String())
	}
	out := s.Kind.String() + "(" + strings.Join(args, ", ") + ")"
	if s.At != 0 {
		out += " at +" + s.At.String()
	}
	return out
}

// needsKey reports whether the step names an existing session.
func (s Step) needsKey() bool { return s.Kind != model.OpCreate && s.Kind != model.OpClearExpired }

// Scenario is a small concurrent test: a sequential prefix run by client 0,
// then each client's steps run concurrently (client i runs Clients[i] in
// order). Afterwards a fresh client — another process — loads every key the
// run has seen, so that a write that should not have survived (a resurrected
// session, a fresh save swept away) shows in the history.
type Scenario struct {
	Name    string
	Prefix  []Step
	Clients [][]Step
}

func (sc Scenario) String() string {
	var parts []string
	for _, st := range sc.Prefix {
		parts = append(parts, st.String())
	}
	prefix := strings.Join(parts, "; ")
	var conc []string
	for i, steps := range sc.Clients {
		var ss []string
		for _, st := range steps {
			ss = append(ss, st.String())
		}
		conc = append(conc, clientName(i)+": "+strings.Join(ss, "; "))
	}
	out := sc.Name + ": "
	if prefix != "" {
		out += "prefix " + prefix + "; then "
	}
	return out + "concurrently " + strings.Join(conc, " | ")
}

// validate refuses a scenario the runner cannot run, naming what is wrong.
func (sc Scenario) validate() error {
	if len(sc.Clients) == 0 {
		return fmt.Errorf("explore: scenario %q has no concurrent clients", sc.Name)
	}
	if len(sc.Clients) > 9 {
		return fmt.Errorf("explore: scenario %q has %d clients; at most 9 fit a schedule string", sc.Name, len(sc.Clients))
	}
	keys := 0
	check := func(where string, st Step, known int) error {
		if st.Kind < model.OpCreate || st.Kind > model.OpClearExpired {
			return fmt.Errorf("explore: scenario %q, %s: %v is not a store operation", sc.Name, where, st.Kind)
		}
		if st.needsKey() && (st.Key < 0 || st.Key >= known) {
			return fmt.Errorf("explore: scenario %q, %s: %v names K%d but the prefix creates %d keys", sc.Name, where, st.Kind, st.Key, known)
		}
		return nil
	}
	for i, st := range sc.Prefix {
		if err := check(fmt.Sprintf("prefix step %d", i), st, keys); err != nil {
			return err
		}
		if st.Kind == model.OpCreate || st.Kind == model.OpCycle {
			keys++
		}
	}
	for c, steps := range sc.Clients {
		for i, st := range steps {
			if err := check(fmt.Sprintf("%s step %d", clientName(c), i), st, keys); err != nil {
				return err
			}
		}
	}
	return nil
}

func create(expiry time.Duration) Step { return Step{Kind: model.OpCreate, Expiry: expiry} }
func on(kind model.Kind, key int) Step { return Step{Kind: kind, Key: key, Expiry: time.Hour} }

// Scenarios returns the built-in scenarios: every pair of operations whose
// race a historical bug lives in, on one live session (K0, created by the
// prefix and live for an hour), plus a three-way race. Their names are
// stable: a schedule string is replayed on a named scenario.
func Scenarios() []Scenario {
	live := []Step{create(time.Hour)}
	// expiring: K0 expires 10 s after Epoch; a sweep at +20 s finds it
	// expired while a client whose clock says +0 s still sees it live.
	expiring := []Step{create(10 * time.Second)}
	sweep := Step{Kind: model.OpClearExpired, At: 20 * time.Second}
	return []Scenario{
		{Name: "save-load", Prefix: live, Clients: [][]Step{{on(model.OpSave, 0)}, {on(model.OpLoad, 0)}}},
		{Name: "touch-load", Prefix: live, Clients: [][]Step{{on(model.OpTouch, 0)}, {on(model.OpLoad, 0)}}},
		{Name: "save-delete", Prefix: live, Clients: [][]Step{{on(model.OpSave, 0)}, {on(model.OpDelete, 0)}}},
		{Name: "touch-delete", Prefix: live, Clients: [][]Step{{on(model.OpTouch, 0)}, {on(model.OpDelete, 0)}}},
		{Name: "create-create", Clients: [][]Step{{create(time.Hour)}, {create(time.Hour)}}},
		{Name: "save-sweep", Prefix: expiring, Clients: [][]Step{{on(model.OpSave, 0)}, {sweep}}},
		{Name: "touch-sweep", Prefix: expiring, Clients: [][]Step{{on(model.OpTouch, 0)}, {sweep}}},
		{Name: "cycle-save", Prefix: live, Clients: [][]Step{{on(model.OpCycle, 0)}, {on(model.OpSave, 0)}}},
		{Name: "cycle-load", Prefix: live, Clients: [][]Step{{on(model.OpCycle, 0)}, {on(model.OpLoad, 0)}}},
		{Name: "save-save", Prefix: live, Clients: [][]Step{{on(model.OpSave, 0)}, {on(model.OpSave, 0)}}},
		{Name: "save-delete-load", Prefix: live, Clients: [][]Step{{on(model.OpSave, 0)}, {on(model.OpDelete, 0)}, {on(model.OpLoad, 0)}}},
	}
}

// ScenarioNamed returns the built-in scenario called name.
func ScenarioNamed(name string) (Scenario, error) {
	var names []string
	for _, sc := range Scenarios() {
		if sc.Name == name {
			return sc, nil
		}
		names = append(names, sc.Name)
	}
	return Scenario{}, fmt.Errorf("explore: no scenario named %q (have %s)", name, strings.Join(names, ", "))
}

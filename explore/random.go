package explore

import (
	"fmt"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"pgregory.net/rapid"
)

// writers and anyKind are what a random scenario's clients draw from, the
// simplest first: rapid shrinks a draw towards the first element. A race
// needs a writer, so client 0 always draws one.
var (
	writers = []model.Kind{model.OpSave, model.OpTouch, model.OpDelete, model.OpCreate, model.OpCycle, model.OpClearExpired}
	anyKind = []model.Kind{model.OpLoad, model.OpSave, model.OpDelete, model.OpTouch, model.OpExists,
		model.OpCreate, model.OpCycle, model.OpClearExpired}
)

// drawScenario draws a small scenario: K0 created by the prefix (live for
// an hour, or expiring at +10 s so that a sweep at +20 s races a client at
// +0 s), then two or three clients with one or two operations each.
func drawScenario(t *rapid.T) Scenario {
	expiring := rapid.Bool().Draw(t, "K0 expires at +10s")
	expiry := time.Hour
	if expiring {
		expiry = 10 * time.Second
	}
	sc := Scenario{Name: "random", Prefix: []Step{create(expiry)}}
	n := rapid.IntRange(2, 3).Draw(t, "clients")
	for c := range n {
		ops := rapid.IntRange(1, 2).Draw(t, fmt.Sprintf("%s operations", clientName(c)))
		var steps []Step
		for i := range ops {
			kinds := anyKind
			if c == 0 && i == 0 {
				kinds = writers
			}
			st := Step{Kind: rapid.SampledFrom(kinds).Draw(t, "kind"), Expiry: time.Hour}
			if expiring && rapid.Bool().Draw(t, "late") {
				// Late clients run at +20 s: K0 has expired for them
				// and not for the others.
				st.At = 20 * time.Second
			}
			steps = append(steps, st)
		}
		sc.Clients = append(sc.Clients, steps)
	}
	return sc
}

// pctChooser is a PCT scheduler (Burckhardt et al., ASPLOS 2010) whose
// parameters are drawn from rapid: a priority order of the clients and up
// to maxChanges change points. At every choice point the enabled client with
// the highest priority runs; at the i-th choice point named by a change
// point, the client that would run is demoted below every other. A bug that
// needs d ordering constraints is hit with probability at least
// 1/(n·k^(d-1)) for n clients and k choice points, where a uniformly random
// pick at every point would almost never leave a client preempted inside a
// narrow window. It also shrinks well: rapid lowers the priorities towards
// the identity and removes change points or moves them earlier, so the
// minimal counterexample has the fewest preemptions.
type pctChooser struct {
	prio        []int // client -> rank, 0 highest
	changes     []int // choice-point indexes (from 1) at which to demote
	point       int
	picks       []int
	preemptions int
}

// maxChanges and changeRange bound the drawn change points: most scenarios
// have fewer than changeRange choice points, and every built-in variant
// needs at most two preemptions.
const (
	maxChanges  = 2
	changeRange = 12
)

func drawPCT(t *rapid.T, clients int) *pctChooser {
	order := make([]int, clients)
	for i := range order {
		order[i] = i
	}
	order = rapid.Permutation(order).Draw(t, "priority order")
	p := &pctChooser{prio: make([]int, clients)}
	for rank, c := range order {
		p.prio[c] = rank
	}
	// A fixed number of change-point slots, each possibly unused (0):
	// drawing the count first would make most cases have none, since
	// rapid favours small numbers; unused slots shrink to 0.
	for range maxChanges {
		if cp := rapid.IntRange(0, changeRange).Draw(t, "change point"); cp > 0 {
			p.changes = append(p.changes, cp)
		}
	}
	return p
}

func (p *pctChooser) best(options []int) int {
	best := options[0]
	for _, o := range options[1:] {
		if p.rank(o) < p.rank(best) {
			best = o
		}
	}
	return best
}

// rank is the priority of client c; clients past the drawn order (the
// observer) come last.
func (p *pctChooser) rank(c int) int {
	if c < len(p.prio) {
		return p.prio[c]
	}
	return len(p.prio) + c
}

func (p *pctChooser) choose(options []int, continuing bool) (int, error) {
	p.point++
	pick := p.best(options)
	for _, cp := range p.changes {
		if cp == p.point {
			// Demote the client about to run below everyone.
			low := 0
			for _, r := range p.prio {
				low = max(low, r+1)
			}
			if pick < len(p.prio) {
				p.prio[pick] = low
			}
			pick = p.best(options)
		}
	}
	if continuing && pick != options[0] {
		p.preemptions++
	}
	p.picks = append(p.picks, pick)
	return pick, nil
}

func (p *pctChooser) schedule() string {
	b := make([]byte, len(p.picks))
	for i, c := range p.picks {
		b[i] = byte('0' + c)
	}
	return string(b)
}

// Property is the random mode as a rapid property: each test case draws a
// scenario (or one of cfg.Scenarios, when set) and a PCT schedule from
// rapid, runs it and fails with the full execution — scenario,
// schedule string, every file-system call, history and violation — when
// the run breaks the model or the trace property. Because operations and
// interleavings are drawn from one stream, rapid shrinks them together to a
// minimal counterexample, and its seed or fail file replays it. A case in
// which an operation that must touch storage reached no scheduling point
// fails too: it explored nothing.
//
//	rapid.Check(t, explore.Property(open, explore.Config{}))
func Property(open Opener, cfg Config) func(*rapid.T) {
	return func(t *rapid.T) {
		var sc Scenario
		switch {
		case cfg.Scenarios != nil:
			sc = rapid.SampledFrom(cfg.Scenarios).Draw(t, "scenario")
		case rapid.Bool().Draw(t, "draw a new scenario"):
			sc = drawScenario(t)
		default:
			// Half the cases take a built-in scenario: each is a race
			// some historical bug lives in.
			sc = rapid.SampledFrom(Scenarios()).Draw(t, "scenario")
		}
		ch := drawPCT(t, len(sc.Clients))
		x, _, err := executeOnce(open, sc, cfg, ch)
		if err != nil {
			t.Fatalf("explore: %v", err)
		}
		if x.Problem != nil {
			x.Schedule, x.Preemptions = ch.schedule(), ch.preemptions
			t.Fatalf("%s", x)
		}
		if silent := silentOps(x.History); len(silent) > 0 {
			// As in Check: a run whose operations reached no
			// scheduling point explored no interleaving of them.
			x.Schedule, x.Preemptions = ch.schedule(), ch.preemptions
			t.Fatalf("explore: %s %s reached no scheduling point although it must touch storage (%d such operations in this run): the store's file operations are not behind the scheduler, so no interleaving was explored\n%s", clientName(silent[0].Client), fmtOp(silent[0].Op), len(silent), x)
		}
	}
}

// TestRandom checks the store open opens in the random mode from a Go test:
// rapid draws scenarios and schedules (RAPID_CHECKS of them, default 100)
// and shrinks any failure to a minimal one.
func TestRandom(t *testing.T, open Opener, cfg Config) {
	t.Helper()
	rapid.Check(t, Property(open, cfg))
}

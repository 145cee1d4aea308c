package linearizability

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/sessioncheck/sessioncheck/model"
)

// CheckHistory checks one recorded history. On a violation, detail describes
// the failing partition in plain text; if reportDir is not empty, the
// visualization of the failing partitions is written there and its path
// returned. Porcupine's plain check runs first; the verbose one (which waits
// for every partition) runs only on the failing partitions.
func CheckHistory(h []Entry, timeout time.Duration, reportDir, name string) (v Verdict, detail, visualization string, err error) {
	ops := Operations(h)
	switch porcupine.CheckOperationsTimeout(Model, ops, timeout) {
	case porcupine.Ok:
		return Pass, "", "", nil
	case porcupine.Unknown:
		return Unknown, fmt.Sprintf("the linearizability search did not finish within %v (%d operations); this is not a pass", timeout, len(ops)), "", nil
	}
	// Find the failing partitions, and describe the first.
	var bad []porcupine.Operation
	var parts [][]porcupine.Operation
	for _, p := range partition(ops) {
		if porcupine.CheckOperationsTimeout(Model, p, timeout) == porcupine.Illegal {
			parts = append(parts, p)
			bad = append(bad, p...)
		}
	}
	if len(parts) == 0 {
		// Cannot happen for a partitioned model; say so rather than pass.
		return Violation, "porcupine found the history not linearizable but no single key is; report this", "", nil
	}
	res, info := porcupine.CheckOperationsVerbose(Model, bad, timeout)
	if res == porcupine.Ok {
		return Violation, "porcupine's verbose check disagrees with its plain check; report this", "", nil
	}
	lins := info.PartialLinearizationsOperations()
	var b strings.Builder
	fmt.Fprintf(&b, "%d of %d keys have no linearization.\n", len(parts), len(partition(ops)))
	for i, p := range parts {
		if i == 3 {
			fmt.Fprintf(&b, "\n(%d more keys not shown)\n", len(parts)-i)
			break
		}
		var lin [][]porcupine.Operation
		if i < len(lins) {
			lin = lins[i]
		}
		b.WriteString("\n")
		b.WriteString(explain(p, lin))
	}
	if reportDir != "" {
		if err := os.MkdirAll(reportDir, 0o755); err != nil {
			return Violation, b.String(), "", err
		}
		visualization = filepath.Join(reportDir, safeName(name)+".html")
		if err := porcupine.VisualizePath(Model, info, visualization); err != nil {
			return Violation, b.String(), "", fmt.Errorf("writing the visualization: %w", err)
		}
	}
	return Violation, b.String(), visualization, nil
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '-'
	}, s)
}

func fmtTime(t int64) string {
	if t == math.MaxInt64 {
		return "∞"
	}
	return fmt.Sprintf("%.1fµs", float64(t)/1e3)
}

// explain describes one key that has no linearization: its operations in
// call order, the longest linearizable prefix porcupine found, and why each
// operation that could come next is refused by the model.
func explain(part []porcupine.Operation, lins [][]porcupine.Operation) string {
	var b strings.Builder
	key := part[0].Input.(Input).Key
	fmt.Fprintf(&b, "key %s: %d operations, not linearizable\n", key, len(part))
	sorted := slices.Clone(part)
	slices.SortStableFunc(sorted, func(x, y porcupine.Operation) int { return compareInt64(x.Call, y.Call) })
	b.WriteString("operations (call, return since the start of the history; client; operation → result):\n")
	for _, op := range sorted {
		fmt.Fprintf(&b, "  [%10s, %10s] %s\n", fmtTime(op.Call), fmtTime(op.Return), describeOp(op.Input.(Input), op.Output.(Output)))
	}
	var longest []porcupine.Operation
	for _, l := range lins {
		if len(l) > len(longest) {
			longest = l
		}
	}
	state := model.Slot{}
	done := map[porcupine.Operation]bool{}
	fmt.Fprintf(&b, "longest linearizable prefix (%d of %d operations):\n", len(longest), len(part))
	now := time.Time{}
	for _, op := range longest {
		in := op.Input.(Input)
		now = in.Op.Now
		_, next := step(state, op.Input, op.Output)
		state = next.(model.Slot)
		done[op] = true
		fmt.Fprintf(&b, "  %s   ⇒ %s\n", describeOp(in, op.Output.(Output)), describeSlot(state, now))
	}
	fmt.Fprintf(&b, "then the key holds: %s\n", describeSlot(state, now))
	// The operations that could come next: not yet linearized, and called
	// before every other remaining operation returned.
	var rest []porcupine.Operation
	minRet := int64(math.MaxInt64)
	for _, op := range sorted {
		if !done[op] {
			rest = append(rest, op)
			minRet = min(minRet, op.Return)
		}
	}
	b.WriteString("and no remaining operation can come next:\n")
	for _, op := range rest {
		if op.Call > minRet {
			continue
		}
		in, out := op.Input.(Input), op.Output.(Output)
		got := out.Result
		_, want, legal := model.StepSlot(state, in.Op)
		if out.AnyRecord && got.Outcome == model.OK {
			got.Record = want.Record
		}
		why := "the model allows it here (another order was needed)"
		if _, err := model.CheckSlot(state, in.Op, got); err != nil {
			why = err.Error()
		} else if !legal {
			why = fmt.Sprintf("%s is impossible here", in.Op.Kind)
		}
		fmt.Fprintf(&b, "  %s: %s\n", describeOp(in, out), why)
	}
	return b.String()
}

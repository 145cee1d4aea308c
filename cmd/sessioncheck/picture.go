package main

import (
	"fmt"
	"html"
	"slices"
	"strings"

	"github.com/sessioncheck/sessioncheck/explore"
)

// Picture geometry, in SVG user units.
const (
	laneWidth = 420
	rowHeight = 18
	topMargin = 48
)

// explorePicture draws an explore counterexample as a self-contained SVG
// (no scripts, fonts or links): one lane per client, each operation's span
// as a box holding its file-system calls in the order the scheduler ran
// them, a dashed line at every point where the scheduler switched
// clients, and the model's refusal below. Elements carry classes (lane,
// op, call, switch, refusal) so that a test can read the structure back.
func explorePicture(x *explore.Execution) string {
	var clients []int
	add := func(c int) {
		if !slices.Contains(clients, c) {
			clients = append(clients, c)
		}
	}
	for _, h := range x.History {
		add(h.Client)
	}
	for _, e := range x.Trace {
		add(e.Client)
	}
	slices.Sort(clients)
	lane := map[int]int{}
	for i, c := range clients {
		lane[c] = i
	}
	first, last := map[int]int{}, map[int]int{}
	for i, e := range x.Trace {
		if e.Op < 0 {
			continue
		}
		if _, ok := first[e.Op]; !ok {
			first[e.Op] = i
		}
		last[e.Op] = i
	}
	problem := ""
	if x.Problem != nil {
		problem = x.Problem.Error()
	}
	refusalLines := wrap(problem, 2*laneWidth/7)
	width := max(1, len(clients)) * laneWidth
	height := topMargin + len(x.Trace)*rowHeight + 40 + len(refusalLines)*rowHeight
	var b strings.Builder
	esc := html.EscapeString
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="monospace" font-size="11">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<title>%s</title>`+"\n", esc(fmt.Sprintf("scenario %s, schedule %q, %d preemptions", x.Scenario.Name, x.Schedule, x.Preemptions)))
	fmt.Fprintf(&b, `<text x="4" y="14" font-weight="bold">%s</text>`+"\n", esc(fmt.Sprintf("scenario %s · schedule %q · %d preemptions", x.Scenario.Name, x.Schedule, x.Preemptions)))
	for i, c := range clients {
		fmt.Fprintf(&b, `<g class="lane" data-client="c%d"><rect x="%d" y="22" width="%d" height="%d" fill="%s" stroke="#ccc"/><text x="%d" y="38" font-weight="bold">c%d</text></g>`+"\n",
			c, i*laneWidth, laneWidth, topMargin-22+len(x.Trace)*rowHeight, []string{"#f7f9fc", "#fcf8f2"}[i%2], i*laneWidth+6, c)
	}
	for op, f := range first {
		h := x.History[op]
		y0, y1 := topMargin+f*rowHeight, topMargin+(last[op]+1)*rowHeight
		fmt.Fprintf(&b, `<g class="op" data-op="%d"><rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="#36c" rx="3"/><title>%s</title></g>`+"\n",
			op, lane[h.Client]*laneWidth+2, y0, laneWidth-4, y1-y0, esc(h.String()))
	}
	for i, e := range x.Trace {
		y := topMargin + (i+1)*rowHeight - 5
		if i > 0 && x.Trace[i-1].Client != e.Client {
			fmt.Fprintf(&b, `<line class="switch" data-step="%d" x1="0" x2="%d" y1="%d" y2="%d" stroke="#c33" stroke-dasharray="4 3"/>`+"\n", e.Step, width, topMargin+i*rowHeight, topMargin+i*rowHeight)
		}
		label := e.String()
		if e.Op >= 0 && first[e.Op] == i {
			label = "▶ " + x.History[e.Op].String() + " │ " + label
		}
		fmt.Fprintf(&b, `<text class="call" data-step="%d" x="%d" y="%d">%s</text>`+"\n", e.Step, lane[e.Client]*laneWidth+8, y, esc(trim(label, laneWidth/7)))
	}
	y := topMargin + len(x.Trace)*rowHeight + 24
	if problem != "" {
		fmt.Fprintf(&b, `<g class="refusal"><text x="4" y="%d" fill="#a00" font-weight="bold">the model refuses:</text>`, y)
		for i, l := range refusalLines {
			fmt.Fprintf(&b, `<text x="4" y="%d" fill="#a00">%s</text>`, y+(i+1)*rowHeight, esc(l))
		}
		b.WriteString("</g>\n")
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// trim shortens s to n runes, the picture's text being fixed-width.
func trim(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// wrap breaks s into lines of at most n runes at spaces.
func wrap(s string, n int) []string {
	var lines []string
	var cur string
	for _, w := range strings.Fields(s) {
		if cur != "" && len([]rune(cur))+1+len([]rune(w)) > n {
			lines = append(lines, cur)
			cur = ""
		}
		if cur != "" {
			cur += " "
		}
		cur += w
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

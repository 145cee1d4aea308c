package main

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/verdict"
)

func reportIndex(out string) string { return filepath.Join(out, "index.html") }

// resultsSchema names the version of results.json's format
// (docs/results.schema.json). It changes only when a field is removed or
// changes its meaning; new optional fields keep it.
const resultsSchema = "sessioncheck/results/v1"

// jsonReport is results.json. It was {"results": [...]} before it had a
// schema version, so adding "schema" beside it breaks no consumer.
type jsonReport struct {
	Schema  string   `json:"schema"`
	Results []result `json:"results"`
}

func writeJSON(w io.Writer, results []result) error {
	if results == nil {
		results = []result{} // "results" is an array, never null
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(jsonReport{Schema: resultsSchema, Results: results})
}

func writeReport(out string, results []result) error {
	f, err := os.Create(filepath.Join(out, "results.json"))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	err = writeJSON(f, results)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	f, err = os.Create(reportIndex(out))
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	err = indexTemplate.Execute(f, newPage(results))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// grid arranges results as rows of stores and columns of checks.
type grid struct {
	stores, checks []string
	cells          map[[2]string]result
}

func newGrid(results []result) grid {
	g := grid{cells: map[[2]string]result{}}
	seen := map[string]bool{}
	for _, r := range results {
		if !seen["s"+r.Store] {
			seen["s"+r.Store] = true
			g.stores = append(g.stores, r.Store)
		}
		if !seen["c"+r.Check] {
			seen["c"+r.Check] = true
			g.checks = append(g.checks, r.Check)
		}
		g.cells[[2]string{r.Store, r.Check}] = r
	}
	return g
}

func (g grid) cell(store, check string) (result, bool) {
	r, ok := g.cells[[2]string{store, check}]
	return r, ok
}

func printTable(w io.Writer, results []result) {
	g := newGrid(results)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "store\t%s\t\n", strings.Join(g.checks, "\t"))
	for _, s := range g.stores {
		row := []string{s}
		for _, c := range g.checks {
			r, ok := g.cell(s, c)
			if !ok {
				row = append(row, "")
				continue
			}
			row = append(row, fmt.Sprintf("%s %.1fs %dop%s", r.Status, r.Seconds, r.Operations, workNote(r.Work, " ")))
		}
		fmt.Fprintf(tw, "%s\t\n", strings.Join(row, "\t"))
	}
	tw.Flush()
	failed := 0
	for _, r := range results {
		if !r.met() {
			failed++
		}
	}
	if len(results) > 0 {
		fmt.Fprintf(w, "\nseed %d; ", results[0].Seed)
	}
	if failed == 0 {
		fmt.Fprintln(w, "every expectation met")
	} else {
		fmt.Fprintf(w, "%d of %d results did not meet the catalogue's expectation\n", failed, len(results))
	}
}

// workNote names, for a table cell, the work that went wrong: operations
// that failed, hung or had an unknown outcome, worker errors and restarts,
// and operations that announced no scheduling point. It is empty when
// none did, and otherwise starts with sep.
func workNote(w *verdict.Work, sep string) string {
	if w == nil {
		return ""
	}
	var parts []string
	for _, c := range []struct {
		n    int
		name string
	}{{w.Failed, "failed"}, {w.Hung, "hung"}, {w.Unknown - w.Hung, "unknown"}, {w.WorkerErrors, "worker errors"}, {w.Restarts, "restarts"}, {w.Silent, "silent"}} {
		if c.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c.n, c.name))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return sep + strings.Join(parts, ",")
}

func printList(w io.Writer) {
	fmt.Fprintln(w, "stores:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range variants.All() {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "checks:")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range registry {
		fmt.Fprintf(tw, "  %s\t%s\n", c.name, c.summary)
	}
	tw.Flush()
}

// page is what index.html shows.
type page struct {
	Checks []string
	Rows   []pageRow
	Seed   int64
	Met    bool
	Failed int
}

type pageRow struct {
	Store string
	Cells []pageCell
}

type pageCell struct {
	Result result
	Unit   string
	Class  string
	Ok     bool
	Note   string // the work that went wrong, if any (workNote)
}

func newPage(results []result) page {
	g := newGrid(results)
	p := page{Checks: g.checks, Met: allMet(results)}
	if len(results) > 0 {
		p.Seed = results[0].Seed
	}
	for _, s := range g.stores {
		row := pageRow{Store: s}
		for _, c := range g.checks {
			r, ok := g.cell(s, c)
			cl := "none"
			if ok {
				cl = strings.ReplaceAll(strings.ToLower(r.Status), " ", "-")
				if !r.met() {
					p.Failed++
				}
			}
			row.Cells = append(row.Cells, pageCell{Result: r, Unit: lookupCheck(c).unit, Class: cl, Ok: ok, Note: workNote(r.Work, "; ")})
		}
		p.Rows = append(p.Rows, row)
	}
	return p
}

var indexTemplate = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>sessioncheck report</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse}th,td{border:1px solid #ccc;padding:.4em .6em;text-align:left;vertical-align:top}
th{background:#f4f4f4}.pass,.caught{background:#e6f5e6}.missed,.false-alarm,.violation,.error{background:#fbe3e3;font-weight:bold}
.unknown{background:#fff5d6}.skipped,.none{color:#888}small{color:#555}
</style></head><body>
<h1>sessioncheck report</h1>
<p>{{if .Met}}Every expectation met: the reference passed every check and every variant was caught by every check that must catch it.{{else}}{{.Failed}} result(s) did not meet the catalogue's expectation.{{end}}
Seed {{.Seed}} (rerun with <code>go run ./cmd/sessioncheck -seed {{.Seed}}</code>).</p>
<table><tr><th>store</th>{{range .Checks}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><th>{{.Store}}</th>{{range .Cells}}{{if .Ok}}<td class="{{.Class}}">{{.Result.Status}}<br>
<small>expected {{.Result.Expected}}; {{printf "%.1f" .Result.Seconds}} s; {{.Result.Operations}} ops{{if .Result.Histories}}; {{.Result.Histories}} {{.Unit}}{{end}}{{.Note}}</small>
{{if .Result.Visualization}}<br><a href="{{.Result.Visualization}}">visualization</a>{{end}}
{{if .Result.Counterexample}}<br><a href="{{.Result.Counterexample}}">{{if eq .Result.Verdict "violation"}}counterexample{{else}}details{{end}}</a>{{end}}
{{if .Result.Picture}}<br><a href="{{.Result.Picture}}">picture</a>{{end}}
</td>{{else}}<td class="none">—</td>{{end}}{{end}}</tr>
{{end}}</table>
<p><small>pass: no violation where none was expected · caught: a violation where one was expected ·
MISSED: no violation where one was required · FALSE ALARM: a violation where the catalogue requires none ·
VIOLATION: a violation on an external backend · unknown: the check could not decide (it ran out of time, operations hung, or too many had an unknown outcome); never a pass.
Raw results: <a href="results.json">results.json</a>.</small></p>
</body></html>
`))

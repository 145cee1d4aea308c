package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/verdict"
	"github.com/sessioncheck/sessioncheck/worker"
)

// target is a store under check: a built-in one, or an external worker.
type target struct {
	name    string
	builtin *variants.Store // nil for a worker
	worker  []string        // argv of the worker
	hello   worker.Hello    // what the worker said of itself
}

// expectation is what the catalogue requires of this target under check.
// An external backend is expected to be correct.
func (t target) expectation(check string) string {
	if t.builtin == nil {
		return string(variants.Pass)
	}
	return string(t.builtin.Expectation(check))
}

// outcome is what one check found on one target.
type outcome struct {
	verdict       string // pass, violation, unknown, error, skipped
	operations    int
	histories     int
	detail        string
	visualization string // file name inside the check's report directory
	picture       string // an SVG of the counterexample (explorePicture), if drawn
	// work is what the check counted and judged (verdict.Judge); nil for
	// a check that counts only operations and histories, whose work
	// runOne makes from those and judges the same way.
	work *verdict.Work
}

// job is what a check needs to run once.
type job struct {
	target target
	seed   int64
	budget float64
	dir    string // a fresh scratch directory for the store's files
	report string // this result's directory inside the report
	// timeout is -timeout: a worker operation's deadline (0: defaults).
	timeout time.Duration
	// profile is -profile, already validated.
	profile model.Profile
}

// result is one row of results.json (schema in README.md).
type result struct {
	Store          string  `json:"store"`
	Check          string  `json:"check"`
	Verdict        string  `json:"verdict"`
	Expected       string  `json:"expected"`
	Status         string  `json:"status"`
	Seed           int64   `json:"seed"`
	Operations     int     `json:"operations"`
	Histories      int     `json:"histories"`
	Seconds        float64 `json:"seconds"`
	Detail         string  `json:"detail"`
	Visualization  string  `json:"visualization"`
	Counterexample string  `json:"counterexample"`
	// Picture is the counterexample drawn as a self-contained SVG, a file
	// in the report directory; absent when none was drawn.
	Picture string `json:"picture,omitempty"`
	// Work is the check's counted work (verdict.Work): what the verdict
	// was judged on, with failed, unknown and hung operations, worker
	// errors and restarts. Absent for a skipped check.
	Work *verdict.Work `json:"work,omitempty"`
}

// status names how a verdict meets its expectation, as the table shows it.
func status(verdict, expected string, builtin bool) string {
	switch {
	case verdict == "violation" && expected == "violation":
		return "caught"
	case verdict == "violation" && expected == "any":
		return "caught"
	case verdict == "violation" && builtin:
		return "FALSE ALARM"
	case verdict == "violation":
		return "VIOLATION"
	case verdict == "pass" && expected == "violation":
		return "MISSED"
	case verdict == "pass":
		return "pass"
	case verdict == "skipped":
		return "skipped"
	case verdict == "unknown":
		return "unknown"
	}
	return "ERROR"
}

// met reports whether a result satisfies the catalogue.
// A check that cannot run on an external worker (it needs the in-process
// seam) says nothing against it; every built-in store runs every check.
func (r result) met() bool {
	if r.Verdict == "skipped" {
		return r.Store != "reference"
	}
	return variants.Expectation(r.Expected).Miss(r.Verdict) == ""
}

func allMet(results []result) bool {
	for _, r := range results {
		if !r.met() {
			return false
		}
	}
	return true
}

func storeNames() []string {
	var names []string
	for _, s := range variants.All() {
		names = append(names, s.Name)
	}
	return names
}

func targets(cfg config) ([]target, error) {
	var ts []target
	for _, name := range cfg.stores {
		s, _ := variants.Lookup(name)
		ts = append(ts, target{name: name, builtin: &s})
	}
	if cfg.worker != nil {
		hello, err := helloWorker(cfg.worker)
		if err != nil {
			return nil, usagef("-worker %q: %v", cfg.worker[0], err)
		}
		ts = append(ts, target{name: "worker:" + hello.Name, worker: cfg.worker, hello: hello})
	}
	return ts, nil
}

// runAll runs every chosen check on every chosen store, two at a time (the
// machines this is meant for have two cores), and returns the results in
// table order.
func runAll(cfg config, prog *progress) ([]result, *reportDir, error) {
	ts, err := targets(cfg)
	if err != nil {
		return nil, nil, err
	}
	rep, err := prepareReport(cfg.out)
	if err != nil {
		return nil, nil, err
	}
	cfg.report = rep
	tmp, err := os.MkdirTemp("", "sessioncheck-*")
	if err != nil {
		return nil, nil, fmt.Errorf("scratch directory: %w", err)
	}
	defer os.RemoveAll(tmp)

	type cell struct {
		i int
		t target
		c checkDef
	}
	var cells []cell
	for _, t := range ts {
		for _, name := range cfg.checks {
			cells = append(cells, cell{len(cells), t, lookupCheck(name)})
		}
	}
	results := make([]result, len(cells))
	prog.start(len(cells))
	work := make(chan cell)
	var wg sync.WaitGroup
	for range max(1, min(2, runtime.GOMAXPROCS(0))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				prog.begin(c.t.name, c.c.name)
				results[c.i] = runOne(cfg, tmp, c.t, c.c)
				prog.done(results[c.i])
			}
		}()
	}
	for _, c := range cells {
		work <- c
	}
	close(work)
	wg.Wait()
	prog.finish()
	return results, rep, nil
}

func runOne(cfg config, tmp string, t target, c checkDef) result {
	r := result{Store: t.name, Check: c.name, Expected: t.expectation(c.name), Seed: cfg.seed}
	report := cfg.report.cellDir(safeName(t.name) + "." + c.name)
	j := job{target: t, seed: cfg.seed, budget: cfg.budget, report: report, timeout: cfg.timeout}
	j.profile, _ = model.ParseProfile(cfg.profile) // parseFlags validated it
	var o outcome
	start := time.Now()
	if err := os.MkdirAll(report, 0o755); err != nil {
		o = outcome{verdict: "error", detail: err.Error()}
	} else if dir, err := os.MkdirTemp(tmp, "store-*"); err != nil {
		o = outcome{verdict: "error", detail: err.Error()}
	} else {
		j.dir = dir
		o = c.run(j)
	}
	r.Seconds = time.Since(start).Seconds()
	judge(&o, c.unit)
	r.Verdict, r.Operations, r.Histories, r.Detail, r.Work = o.verdict, o.operations, o.histories, o.detail, o.work
	if o.visualization != "" {
		r.Visualization = filepath.Join(filepath.Base(report), o.visualization)
	}
	if o.detail != "" && o.verdict != "pass" {
		name := "counterexample.txt"
		if err := os.WriteFile(filepath.Join(report, name), []byte(o.detail+"\n"), 0o644); err == nil {
			r.Counterexample = filepath.Join(filepath.Base(report), name)
		}
	}
	if o.picture != "" {
		name := "counterexample.svg"
		if err := os.WriteFile(filepath.Join(report, name), []byte(o.picture), 0o644); err == nil {
			r.Picture = filepath.Join(filepath.Base(report), name)
		}
	}
	r.Status = status(r.Verdict, r.Expected, t.builtin != nil)
	return r
}

// judge applies the one rule (verdict.Judge) to what a check found and the
// work it counted, so that no check's pass stands on missing, failed, hung
// or broken work. A check that counted nothing beyond operations and
// histories (o.work nil) is judged on those. A check's own judgement
// is kept when the rule agrees; when the rule changes the verdict, its
// reason heads the detail.
func judge(o *outcome, unit string) {
	switch o.verdict {
	case "skipped", "error":
		return
	}
	if o.work == nil {
		o.work = &verdict.Work{Unit: unit, Units: o.histories, Planned: o.histories, Operations: o.operations}
	}
	v, why := verdict.Judge(verdict.Verdict(o.verdict), *o.work)
	if string(v) != o.verdict {
		o.verdict = string(v)
		if why != "" {
			o.detail = strings.TrimSpace(why + "\n" + o.detail)
		}
	}
}

// safeName turns a store name into a file name.
func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// progress tells a person at a terminal which check is running. It says
// nothing when stderr is not a terminal, so logs and pipes stay clean.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	total   int
	done_   int
	running map[string]bool
}

func newProgress(stderr io.Writer) *progress {
	f, ok := stderr.(*os.File)
	if !ok {
		return &progress{}
	}
	if st, err := f.Stat(); err != nil || st.Mode()&os.ModeCharDevice == 0 {
		return &progress{}
	}
	return &progress{w: stderr, running: map[string]bool{}}
}

func (p *progress) start(total int) { p.total = total }

func (p *progress) begin(store, check string) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[store+" × "+check] = true
	p.draw()
}

func (p *progress) done(r result) {
	if p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, r.Store+" × "+r.Check)
	p.done_++
	p.draw()
}

func (p *progress) draw() {
	line := fmt.Sprintf("[%d/%d]", p.done_, p.total)
	for name := range p.running {
		line += " " + name
	}
	if len(line) > 100 {
		line = line[:100]
	}
	fmt.Fprintf(p.w, "\r\033[K%s", line)
}

func (p *progress) finish() {
	if p.w != nil {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

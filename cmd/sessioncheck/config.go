package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

var errHelp = errors.New("help requested")

// config is what the flags asked for.
type config struct {
	stores []string // built-in store names, in catalogue order
	checks []string // check names, in registry order
	seed   int64
	budget float64
	out    string
	report *reportDir // set by runAll once the directory is prepared
	json   bool
	junit  string   // -junit: where to write JUnit XML, if anywhere
	worker []string // argv of an external worker, if any
	list   bool
	// profile is -profile: strict (default) or observable.
	profile string
	// timeout is the deadline of each operation sent to a worker (0: the
	// checks' defaults); an operation that misses it counts as hung.
	timeout time.Duration
}

const usageText = `usage: sessioncheck [flags]

Runs every check on every session store and prints a verdict table.
Exit status: 0 all expectations met, 1 an expectation failed, 2 bad use.

flags:
  -store list    comma-separated stores to check (default: every built-in store; see -list)
  -check list    comma-separated checks to run (default: every check; see -list)
  -seed n        seed for every check's random choices (default: from the clock, printed)
  -budget x      scale the work of every check, from 0.2 (a quick look) to 100 (default 1; 5 is a soak)
  -out dir       report directory (default ./sessioncheck-report); a later run replaces
                 only the files its manifest lists and refuses a directory holding others
  -json          print results as JSON on stdout instead of the table
  -junit file    also write the results as JUnit XML (one test case per store × check)
  -worker 'CMD ARGS'
                 check an external backend through the worker protocol (docs/PROTOCOL.md)
                 with every check the protocol allows
  -timeout d     deadline of each operation sent to a worker (default 5s in lin-processes,
                 20s in proptest); one that misses it is killed and counted as hung
  -profile p     strict (default: the reference's contract, every result exact) or
                 observable (only what a web application's user can observe counts;
                 a worker's hello may declare granularity, exists and sweep reporting;
                 what it accepts is listed as differences, apart from violations)
  -list          list the stores and checks, one line each, and exit
`

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("sessioncheck", flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are reported as one line by run
	var (
		cfg                config
		stores, checks, wk string
	)
	fs.StringVar(&stores, "store", "", "")
	fs.StringVar(&checks, "check", "", "")
	fs.Int64Var(&cfg.seed, "seed", 0, "")
	fs.Float64Var(&cfg.budget, "budget", 1, "")
	fs.StringVar(&cfg.out, "out", "sessioncheck-report", "")
	fs.BoolVar(&cfg.json, "json", false, "")
	fs.StringVar(&cfg.junit, "junit", "", "")
	fs.StringVar(&wk, "worker", "", "")
	fs.BoolVar(&cfg.list, "list", false, "")
	fs.DurationVar(&cfg.timeout, "timeout", 0, "")
	fs.StringVar(&cfg.profile, "profile", "strict", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			io.WriteString(stderr, usageText)
			return cfg, errHelp
		}
		return cfg, usagef("%v (see sessioncheck -h)", err)
	}
	if fs.NArg() > 0 {
		return cfg, usagef("unexpected argument %q (see sessioncheck -h)", fs.Arg(0))
	}
	if !(cfg.budget >= minBudget && cfg.budget <= maxBudget) {
		return cfg, usagef("-budget %v: want a number from %v to %v (below %v some checks do too little work to catch the catalogue's bugs)", cfg.budget, minBudget, maxBudget, minBudget)
	}
	if cfg.timeout < 0 {
		return cfg, usagef("-timeout %v: want a positive duration such as 5s", cfg.timeout)
	}
	if _, err := model.ParseProfile(cfg.profile); err != nil {
		return cfg, usagef("-profile: %v", err)
	}
	// An empty value set on purpose is a mistake (an unset variable in a
	// CI job, say), not a request for the default: running the built-in
	// catalogue instead would check nothing of the job's own and exit 0.
	for _, name := range []string{"store", "check", "worker", "out", "junit"} {
		if v := fs.Lookup(name).Value.String(); flagSet(fs, name) && strings.TrimSpace(v) == "" {
			return cfg, usagef("-%s: empty value (leave the flag out for the default)", name)
		}
	}
	if !flagSet(fs, "seed") {
		cfg.seed = time.Now().UnixNano() % 1_000_000_000
	}
	var err error
	if wk != "" {
		if cfg.worker, err = splitCommand(wk); err != nil {
			return cfg, usagef("-worker: %v", err)
		}
	}
	if stores != "" || wk == "" {
		if cfg.stores, err = pick("store", stores, storeNames()); err != nil {
			return cfg, err
		}
	}
	if cfg.checks, err = pick("check", checks, checkNames()); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// Budgets outside [minBudget, maxBudget] are refused. At minBudget every
// check still meets the catalogue's expectations (the fault and crash
// checks have floors of work below which they would miss their bugs on
// some seeds; see checks.go); above maxBudget a run would take many hours
// and it is better spent as several runs under different seeds.
const (
	minBudget = 0.2
	maxBudget = 100
)

func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// pick resolves a comma list against the known names, keeping their order;
// an empty list means all of them.
func pick(what, list string, known []string) ([]string, error) {
	if list == "" {
		return known, nil
	}
	var want []string
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if !slices.Contains(known, name) {
			return nil, usagef("unknown %s %q (known: %s)", what, name, strings.Join(known, ", "))
		}
		want = append(want, name)
	}
	var out []string
	for _, name := range known {
		if slices.Contains(want, name) {
			out = append(out, name)
		}
	}
	return out, nil
}

// splitCommand splits a command line into words the way a POSIX shell
// would for the simple cases: spaces separate, single and double quotes
// group, a backslash escapes the next character outside single quotes.
func splitCommand(s string) ([]string, error) {
	var (
		words  []string
		cur    strings.Builder
		inWord bool
		quote  rune
	)
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\' && quote != '\'':
			escaped, inWord = true, true
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated %c quote in %q", quote, s)
	}
	if escaped {
		return nil, fmt.Errorf("trailing backslash in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return words, nil
}

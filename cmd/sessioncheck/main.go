// Command sessioncheck runs every check on every session store and prints a
// verdict table: which checks the reference passes and which check catches
// each historical bug.
//
// With no flags it checks every built-in store (the reference and its
// variants) with every check in a fresh temporary directory, writes a report
// directory (index.html, results.json and a manifest of what it wrote, so
// that the next run removes only that) and exits 0 exactly when the
// reference passes everything and every variant is caught by every check
// that must catch it. Exit status 1 means an expectation was not met; 2 means
// the command was used wrongly.
//
// Usage:
//
//	sessioncheck [-store list] [-check list] [-seed n] [-budget x] [-out dir] [-json] [-junit file] [-worker 'CMD ARGS'] [-list]
package main

import (
	"fmt"
	"io"
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// usageError is bad use of the command: printed as one line, exit status 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// run is main without the process: it returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == workerCommand {
		return serveWorker(args[1:], os.Stdin, stdout, stderr)
	}
	cfg, err := parseFlags(args, stderr)
	if err == errHelp {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sessioncheck: %v\n", err)
		return 2
	}
	if cfg.list {
		printList(stdout)
		return 0
	}
	results, rep, err := runAll(cfg, newProgress(stderr))
	if err != nil {
		fmt.Fprintf(stderr, "sessioncheck: %v\n", err)
		return 2
	}
	if err := rep.publish(results); err != nil {
		fmt.Fprintf(stderr, "sessioncheck: %v\n", err)
		return 2
	}
	if cfg.junit != "" {
		if err := writeJUnit(cfg.junit, results, cfg.out); err != nil {
			fmt.Fprintf(stderr, "sessioncheck: %v\n", err)
			return 2
		}
	}
	if os.Getenv("GITHUB_ACTIONS") == "true" {
		// Workflow commands on stderr under -json, so stdout stays JSON.
		aw := stdout
		if cfg.json {
			aw = stderr
		}
		annotate(aw, results, cfg.out)
	}
	if cfg.json {
		if err := writeJSON(stdout, results); err != nil {
			fmt.Fprintf(stderr, "sessioncheck: %v\n", err)
			return 2
		}
	} else {
		printTable(stdout, results)
		fmt.Fprintf(stdout, "\nreport: %s\n", reportIndex(cfg.out))
	}
	if !allMet(results) {
		return 1
	}
	return 0
}

// Command silent-hook is a hostile worker for the explore check: it
// declares the scheduling hook (feature "schedule", docs/PROTOCOL.md) but
// never announces a file-system call. It serves a built-in store (by
// default check-then-rename, which explore catches in process) exactly as
// cmd/sessioncheck-worker does, so every operation runs to its end at once
// and the driver sees no scheduling point: a driver that trusts the
// declared feature explores one interleaving per scenario and finds
// nothing. explore must call that an error, never a pass.
//
// Usage: silent-hook [STORE]
package main

import (
	"fmt"
	"os"

	"github.com/sessioncheck/sessioncheck/worker"
	"github.com/sessioncheck/sessioncheck/worker/builtin"
)

func main() {
	name := "check-then-rename"
	if len(os.Args) > 1 {
		name = os.Args[1]
	}
	open, err := builtin.Open(name)
	if err != nil {
		fmt.Fprintln(os.Stderr, "silent-hook:", err)
		os.Exit(2)
	}
	srv := &worker.Server{
		Name: "silent-hook/" + name,
		Open: open,
		// The lie: "schedule" is declared, and nothing is ever announced.
		Features: []string{worker.FeatureKeyPool, worker.FeatureSchedule},
	}
	if err := srv.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "silent-hook:", err)
		os.Exit(1)
	}
}

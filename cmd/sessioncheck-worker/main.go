// Command sessioncheck-worker serves a built-in session store (the
// reference or one of its variants) over the sessioncheck worker protocol
// on stdin and stdout (docs/PROTOCOL.md). The driver sends the directory and
// the fixed clock in its open request.
//
// Usage:
//
//	sessioncheck-worker -store reference
//	sessioncheck-worker -list
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/worker/builtin"
)

func main() {
	store := flag.String("store", "reference", "the built-in store to serve")
	list := flag.Bool("list", false, "list the built-in stores and exit")
	flag.Parse()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "sessioncheck-worker: unexpected argument %q\n", flag.Arg(0))
		os.Exit(2)
	}
	if *list {
		for _, s := range variants.All() {
			fmt.Printf("%-20s %s\n", s.Name, s.Summary)
		}
		return
	}
	if _, err := builtin.Open(*store); err != nil {
		fmt.Fprintln(os.Stderr, "sessioncheck-worker:", err)
		os.Exit(2)
	}
	if err := builtin.Serve(*store, os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sessioncheck-worker:", err)
		os.Exit(1)
	}
}

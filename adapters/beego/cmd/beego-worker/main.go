// Command beego-worker serves beego v2.3.8's file session provider over
// the sessioncheck worker protocol (docs/PROTOCOL.md), so that
// lin-processes can run one OS process per client on a shared directory.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sessioncheck/sessioncheck/adapters/beego"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
)

func main() {
	srv := &worker.Server{
		Name: "beego-2.3.8/file",
		Ops:  []string{"create", "load", "save", "touch", "delete", "exists", "cycle"},
		Open: func(cfg worker.Config) (model.Store, error) {
			now := cfg.Now
			return beego.Open(cfg.Dir, func() time.Time { return now })
		},
	}
	if err := srv.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "beego-worker:", err)
		os.Exit(1)
	}
}

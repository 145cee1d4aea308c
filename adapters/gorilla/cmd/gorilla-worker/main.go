// Command gorilla-worker serves gorilla/sessions v1.4.0's FilesystemStore
// over the sessioncheck worker protocol (docs/PROTOCOL.md), so that
// lin-processes can run one OS process per client on a shared directory.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/sessioncheck/sessioncheck/adapters/gorilla"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
)

func main() {
	srv := &worker.Server{Name: "gorilla-1.4.0/filesystem", Open: func(cfg worker.Config) (model.Store, error) {
		now := cfg.Now
		return gorilla.Open(cfg.Dir, cfg.Secret, func() time.Time { return now })
	}}
	if err := srv.Serve(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "gorilla-worker:", err)
		os.Exit(1)
	}
}

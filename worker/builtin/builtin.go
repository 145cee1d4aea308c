// Package builtin serves the built-in stores (the reference and its
// variants, package impl/variants) over the worker protocol. It is what
// `sessioncheck worker -store NAME` runs, and what any program that
// re-executes itself as a worker (a test binary) can call.
package builtin

import (
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/impl/variants"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/worker"
)

// Open returns the OpenFunc of the built-in store called name: each call
// opens an instance over cfg.Dir whose clock is fixed at cfg.Now, keyed with
// cfg.Secret, drawing fresh keys from cfg.Keys when given.
func Open(name string) (worker.OpenFunc, error) {
	v, ok := variants.Lookup(name)
	if !ok {
		var names []string
		for _, s := range variants.All() {
			names = append(names, s.Name)
		}
		return nil, fmt.Errorf("unknown store %q (have %v)", name, names)
	}
	return func(cfg worker.Config) (model.Store, error) {
		now := cfg.Now
		opts := impl.Options{Clock: func() time.Time { return now }}
		if cfg.Secret != "" {
			opts.Secret = []byte(cfg.Secret)
		}
		if len(cfg.Keys) > 0 {
			opts.NewKey = PoolKeys(cfg.Keys)
		}
		return v.Open(cfg.Dir, opts)
	}, nil
}

// PoolKeys returns a key source that draws uniformly from keys: a small
// pool makes fresh keys collide, which is how a create that overwrites is
// caught.
func PoolKeys(keys []string) func() (string, error) {
	keys = append([]string(nil), keys...)
	return func() (string, error) { return keys[rand.IntN(len(keys))], nil }
}

// Serve serves the built-in store called name on r and w until r ends. Its
// hello names it "go/<name>".
func Serve(name string, r io.Reader, w io.Writer) error {
	open, err := Open(name)
	if err != nil {
		return err
	}
	return worker.Serve(r, w, "go/"+name, open)
}

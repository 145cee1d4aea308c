package explore

import (
	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
)

// Secret is the HMAC secret every client's store is opened with, so that one
// client reads what another wrote.
var Secret = []byte("explore: one secret for every simulated process")

// ImplOpener adapts an opener of the reference store's shape (impl.Open, or
// a catalogue entry's Open) to an Opener: each client's store gets its view
// of the file system, its clock, its key randomness and the shared Secret.
func ImplOpener(open func(dir string, opts impl.Options) (*impl.Store, error)) Opener {
	return func(env Env) (model.Store, error) {
		st, err := open(env.Dir, impl.Options{FS: env.FS, Clock: env.Clock, Rand: env.Rand, Secret: Secret})
		if err != nil {
			return nil, err
		}
		return st, nil
	}
}

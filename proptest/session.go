package proptest

import (
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
)

// defaultSession is the handle the suite drives over every store: the
// reference's, which is written against model.Store alone. A store whose
// operations are right gives right handle results through it; one that
// truncates before it reads (Django #6984) loses the session that an
// untouched handle saves.
func defaultSession(store model.Store, key string, clock model.Clock, maxAge time.Duration) Session {
	return impl.OpenSession(store, key, clock, maxAge)
}

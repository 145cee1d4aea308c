package proptest

import (
	"time"

	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/session"
)

// defaultSession is the handle the suite drives over every store: package
// session's, which is written against model.Store alone. A store whose
// operations are right gives right handle results through it; one that
// truncates before it reads (Django #6984) loses the session that an
// untouched handle saves.
func defaultSession(store model.Store, key string, clock model.Clock, maxAge time.Duration) realHandle {
	return session.Open(store, key, clock, maxAge)
}

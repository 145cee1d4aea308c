package proptest_test

import (
	"testing"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/proptest"
)

func openReference(dir string, clock model.Clock) (model.Store, error) {
	return impl.Open(dir, impl.Options{Clock: clock, Secret: []byte("proptest")})
}

// TestReference is the reference store against the model: DefaultChecks
// (200) cases by default, RAPID_CHECKS=n for more.
func TestReference(t *testing.T) {
	proptest.TestStore(t, openReference)
}

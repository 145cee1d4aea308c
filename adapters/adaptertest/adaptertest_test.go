package adaptertest_test

import (
	"runtime"
	"testing"

	"github.com/sessioncheck/sessioncheck/adapters/adaptertest"
)

// recorder is a testing.TB that notes whether it was failed or skipped.
type recorder struct {
	testing.TB
	failed, skipped bool
}

func (r *recorder) Helper()      {}
func (r *recorder) Fatal(...any) { r.failed = true; runtime.Goexit() }
func (r *recorder) Skip(...any)  { r.skipped = true; runtime.Goexit() }

func TestMissingFailsUnderCI(t *testing.T) {
	for _, c := range []struct {
		ci         string
		fail, skip bool
	}{{"true", true, false}, {"", false, true}, {"false", false, true}} {
		t.Setenv("CI", c.ci)
		r := &recorder{TB: t}
		done := make(chan struct{})
		go func() { // Fatal and Skip end the goroutine, as testing's do
			defer close(done)
			adaptertest.Missing(r, "php is not installed")
		}()
		<-done
		if r.failed != c.fail || r.skipped != c.skip {
			t.Errorf("CI=%q: failed=%v skipped=%v, want failed=%v skipped=%v", c.ci, r.failed, r.skipped, c.fail, c.skip)
		}
	}
}

// Package adaptertest holds what the adapters' tests share: the one rule
// for a test whose backend's runtime is not installed.
package adaptertest

import (
	"os"
	"testing"
)

// Missing ends a test whose runtime (an interpreter, a package, a server)
// is absent. Under CI=true it fails, since .ci/run installs everything and
// a missing piece there means a broken install step, not a choice; on a
// developer's machine it skips. msg names what is missing and how to get it.
func Missing(t testing.TB, msg string) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

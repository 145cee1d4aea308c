package proptest

import (
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
)

// dirPool makes each case its own new directory under root. Names come
// from a counter, not os.MkdirTemp's random names: rapid runs the property
// thousands of times while it shrinks, and each directory should cost one
// mkdir. A case's directory is never reused, so a store (or a test double)
// that keeps state by path starts every case empty.
type dirPool struct {
	root string
	made atomic.Uint64
}

// make returns a new empty directory.
func (p *dirPool) make() (string, error) {
	dir := filepath.Join(p.root, "case-"+strconv.FormatUint(p.made.Add(1), 10))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return "", err
	}
	return dir, nil
}

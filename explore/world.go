package explore

import (
	"fmt"
	"os"

	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// World is one fresh file system for one run of a scenario: the directory
// the stores are opened on and one view of the file system per simulated
// process. Views of one World share the files; what a view keeps in memory
// (in-process locks, for instance) belongs to that view alone.
type World interface {
	// Dir is the session directory; it exists and is empty.
	Dir() string
	// View returns the file system as process p sees it.
	View(p int) seam.FS
	// Close releases the world and everything in it.
	Close() error
}

// OSWorlds returns a World factory over the real file system: each World is
// a fresh directory under root (os.TempDir when root is empty; /dev/shm is a
// good choice on Linux because every run syncs). Every view is seam.OS; the
// scheduler keeps in-process locks per client itself, so sharing seam.OS
// between simulated processes is safe.
// The clock is not used: the real file system has its own.
func OSWorlds(root string) func(model.Clock) (World, error) {
	return func(model.Clock) (World, error) {
		dir, err := os.MkdirTemp(root, "explore-*")
		if err != nil {
			return nil, fmt.Errorf("explore: make a directory for a run: %w", err)
		}
		return osWorld(dir), nil
	}
}

type osWorld string

func (w osWorld) Dir() string      { return string(w) }
func (w osWorld) View(int) seam.FS { return seam.OS }
func (w osWorld) Close() error     { return os.RemoveAll(string(w)) }

// MemDir is the session directory of a MemWorlds world.
const MemDir = "/sessions"

// MemWorlds returns a World factory over memfs: each World is a fresh
// in-memory disk holding an empty MemDir, and each simulated process gets
// its own view (memfs.FS.NewProcess), as separate processes would. A run
// is then a pure function of the scenario and the schedule, and fast.
func MemWorlds() func(model.Clock) (World, error) {
	return func(clock model.Clock) (World, error) {
		disk := memfs.New(clock)
		if err := disk.MkdirAll(MemDir, 0o700); err != nil {
			return nil, fmt.Errorf("explore: make %s in memory: %w", MemDir, err)
		}
		return &memWorld{disk: disk}, nil
	}
}

type memWorld struct {
	disk  *memfs.FS
	views []*memfs.FS
}

func (w *memWorld) Dir() string { return MemDir }

func (w *memWorld) View(p int) seam.FS {
	for len(w.views) <= p {
		if len(w.views) == 0 {
			w.views = append(w.views, w.disk)
		} else {
			w.views = append(w.views, w.disk.NewProcess())
		}
	}
	return w.views[p]
}

func (w *memWorld) Close() error { return nil }

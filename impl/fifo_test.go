package impl_test

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// plantedFIFO plants a named pipe as a session file. Load of its key and
// ClearExpired must return (an error for that key), not block in open(2);
// a hang is detected with a generous deadline, then the pipe is opened for
// writing to release the blocked call.
func plantedFIFO(t *testing.T, fsys seam.FS) string {
	dir := privateDir(t)
	s := secOpen(t, dir, impl.Options{FS: fsys})
	const key = "fifofifofifofifofifofifofifofifo"
	fifo := filepath.Join(dir, "s_"+key)
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	release := func() {
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
	}
	var p secProblems
	for name, op := range map[string]func() error{
		"Load":         func() error { _, err := s.Load(key); return err },
		"ClearExpired": func() error { _, err := s.ClearExpired(); return err },
	} {
		done := make(chan error, 1)
		go func() { done <- op() }()
		select {
		case err := <-done:
			if !errors.Is(err, model.ErrCorrupt) {
				p.add("%s with a FIFO as a session file: %v, want ErrCorrupt naming %s", name, err, key)
			}
		case <-time.After(10 * time.Second):
			p.add("%s blocked on a FIFO planted as a session file", name)
			for {
				release()
				select {
				case <-done:
				case <-time.After(10 * time.Millisecond):
					continue
				}
				break
			}
		}
	}
	return p.String()
}

func TestHostileSessionFileFIFO(t *testing.T) {
	guardCase(t,
		func(t *testing.T) string { return plantedFIFO(t, seam.OS) },
		"O_NONBLOCK stripped from every open",
		func(t *testing.T) string { return plantedFIFO(t, &secFS{FS: seam.OS, strip: syscall.O_NONBLOCK}) })
}

package fusefs_test

import (
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/fusefs"
	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/memfs"
	"github.com/sessioncheck/sessioncheck/model"
	"github.com/sessioncheck/sessioncheck/seam"
)

// BenchmarkStore compares the reference store's Save and Load on the
// simulated disk reached two ways: through the in-process seam (memfs as
// impl.FS) and through the kernel (impl.OS on the FUSE mount of the same
// kind of disk). The difference is the FUSE round trips; requests/op says
// how many each operation costs.
func BenchmarkStore(b *testing.B) {
	values := model.NewValues(map[string]string{"payload": strings.Repeat("x", 1024)})
	clock := func() time.Time { return memfs.Epoch }
	expiry := memfs.Epoch.Add(time.Hour)
	for _, via := range []string{"seam", "fuse"} {
		for _, op := range []string{"save", "load"} {
			b.Run(via+"/"+op, func(b *testing.B) {
				disk := memfs.New(nil)
				require.NoError(b, disk.MkdirAll("/s", 0o700))
				opts := impl.Options{FS: disk, Clock: clock, Secret: []byte("bench")}
				dir := "/s"
				var requests atomic.Int64
				if via == "fuse" {
					if err := fusefs.Available(); err != nil {
						b.Skip(err.Error())
					}
					srv, err := fusefs.Mount(disk, b.TempDir(), fusefs.Options{Before: func(fusefs.Request) syscall.Errno {
						requests.Add(1)
						return 0
					}})
					require.NoError(b, err)
					b.Cleanup(func() { require.NoError(b, srv.Close()) })
					opts.FS, dir = seam.OS, filepath.Join(srv.Dir(), "s")
				}
				st, err := impl.Open(dir, opts)
				require.NoError(b, err)
				key, err := st.Create(values, expiry)
				require.NoError(b, err)
				requests.Store(0)
				b.ResetTimer()
				for b.Loop() {
					if op == "save" {
						err = st.Save(key, values, expiry)
					} else {
						_, err = st.Load(key)
					}
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(requests.Load())/float64(b.N), "requests/op")
			})
		}
	}
}

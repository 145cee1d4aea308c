package bench

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/seam"
)

// BenchmarkParts times the pieces of the store's operations on their own, so
// that docs/PERFORMANCE.md can say what dominates each cost: the integrity
// tag, decoding and encoding, reading a file through os.File and io.ReadAll
// (what the store does) against a raw read into a sized buffer (what the
// floor does), and taking and releasing a writer's lock stripe.
func BenchmarkParts(b *testing.B) {
	now := time.Now()
	for _, size := range Sizes {
		key := "8a1fik3gpusmhrznvh49bwph329ai2t9"
		rec, err := RecordOfSize(key, size, now.Add(time.Hour), secret)
		if err != nil {
			b.Fatal(err)
		}
		data := impl.Encode(key, rec, secret)
		b.Run("hmac-sha256/"+SizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for range b.N {
				h := hmac.New(sha256.New, secret)
				h.Write(data)
				h.Sum(nil)
			}
		})
		b.Run("decode/"+SizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for range b.N {
				if _, err := impl.Decode(key, data, secret); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("encode/"+SizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for range b.N {
				impl.Encode(key, rec, secret)
			}
		})
		dir := benchDir(b)
		path := filepath.Join(dir, "s_"+key)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			b.Fatal(err)
		}
		b.Run("read-osfile-readall/"+SizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for range b.N {
				f, err := seam.OS.OpenFile(path, os.O_RDONLY, 0)
				if err != nil {
					b.Fatal(err)
				}
				got, err := io.ReadAll(f)
				f.Close()
				if err != nil || !bytes.Equal(got, data) {
					b.Fatal("read failed", err)
				}
			}
		})
		b.Run("read-raw/"+SizeName(size), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(size))
			fl := &Floor{Dir: dir}
			buf := make([]byte, size+4096)
			for range b.N {
				if _, err := fl.Read(path, buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("lock-stripe", func(b *testing.B) {
		dir := benchDir(b)
		b.ReportAllocs()
		for range b.N {
			unlock, err := seam.OS.Lock(filepath.Join(dir, "l_00"), seam.FileLock)
			if err != nil {
				b.Fatal(err)
			}
			if err := unlock(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

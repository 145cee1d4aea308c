package bench

import (
	"fmt"
	"strings"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
)

// Sizes are the record sizes the store benchmarks use: an encoded session
// file of exactly 1 KiB (a typical session: a user id, a CSRF token, a few
// flags) and of 64 KiB (a session used as a cache, where the copy and the
// integrity tag start to cost more than the system calls).
var Sizes = []int{1 << 10, 64 << 10}

// SizeName is the benchmark name of a size: 1KiB, 64KiB.
func SizeName(size int) string {
	if size%(1<<10) == 0 {
		return fmt.Sprintf("%dKiB", size>>10)
	}
	return fmt.Sprintf("%dB", size)
}

// RecordOfSize returns a record whose reference encoding under key with
// secret is exactly size bytes: one value, named "data", padded to fit. It
// returns an error when size is smaller than the encoding of an empty value.
func RecordOfSize(key string, size int, expiry time.Time, secret []byte) (model.Record, error) {
	empty := model.Record{Values: model.NewValues(map[string]string{"data": ""}), Expiry: expiry}
	base := len(impl.Encode(key, empty, secret))
	if size < base {
		return model.Record{}, fmt.Errorf("bench: a record under a %d-character key needs at least %d bytes, not %d", len(key), base, size)
	}
	rec := model.Record{Values: model.NewValues(map[string]string{"data": strings.Repeat("v", size-base)}), Expiry: expiry}
	if n := len(impl.Encode(key, rec, secret)); n != size {
		return model.Record{}, fmt.Errorf("bench: record encodes to %d bytes, want %d", n, size)
	}
	return rec, nil
}

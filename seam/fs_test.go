package seam

import (
	"errors"
	"io"
	"testing"
)

// TestWriteAllStopsOnZero shows that a write(2) which writes nothing and
// reports no error ends the write with io.ErrShortWrite instead of
// looping for ever, and that partial writes are continued.
func TestWriteAllStopsOnZero(t *testing.T) {
	calls := 0
	n, err := writeAll([]byte("abcdef"), func(b []byte) (int, error) {
		calls++
		if calls > 3 {
			t.Fatal("writeAll kept calling a write that writes nothing")
		}
		if calls == 1 {
			return 2, nil // a short write: continue with the rest
		}
		return 0, nil
	})
	if n != 2 || !errors.Is(err, io.ErrShortWrite) || calls != 2 {
		t.Fatalf("got n=%d err=%v after %d calls, want 2, io.ErrShortWrite, 2", n, err, calls)
	}

	var got []byte
	n, err = writeAll([]byte("abcdef"), func(b []byte) (int, error) {
		k := min(len(b), 4)
		got = append(got, b[:k]...)
		return k, nil
	})
	if n != 6 || err != nil || string(got) != "abcdef" {
		t.Fatalf("got n=%d err=%v wrote %q, want 6, nil, abcdef", n, err, got)
	}

	calls = 0
	if _, err := writeAll(nil, func(b []byte) (int, error) { calls++; return 0, nil }); err != nil || calls != 1 {
		t.Fatalf("an empty write: err=%v after %d calls, want nil after 1", err, calls)
	}
}

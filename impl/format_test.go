package impl_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	key := "roundtrip0000000"
	recs := []model.Record{
		{},
		{Values: vals("", ""), Expiry: time.Unix(0, 1)},
		{Values: vals("user", "42", "cart", strings.Repeat("é", 100), "nul", "a\x00b"), Expiry: later},
		{Values: vals("a", "1"), Expiry: time.Date(1900, 1, 1, 0, 0, 0, 999_999_999, time.UTC)},
		{Values: vals("z", ""), Expiry: time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("x", 3600))},
	}
	for _, sec := range [][]byte{nil, secret} {
		for _, rec := range recs {
			data := impl.Encode(key, rec, sec)
			got, err := impl.Decode(key, data, sec)
			require.NoError(t, err, "%v", rec)
			require.True(t, got.Equal(rec), "want %v, got %v", rec, got)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	key := "decodekey0000000"
	good := impl.Encode(key, model.Record{Values: vals("a", "1"), Expiry: later}, secret)
	r := rand.New(rand.NewPCG(1, 2))
	// Every prefix, and random bytes of every length up to the file's, with
	// and without the right magic: none decodes, none panics.
	for n := range len(good) {
		_, err := impl.Decode(key, good[:n], secret)
		require.ErrorIs(t, err, model.ErrCorrupt, "prefix of %d bytes", n)
		b := make([]byte, n+1)
		for i := range b {
			b[i] = byte(r.UintN(256))
		}
		_, err = impl.Decode(key, b, secret)
		require.ErrorIs(t, err, model.ErrCorrupt, "random %x", b)
		copy(b, good[:min(len(b), 8)])
		_, err = impl.Decode(key, b, secret)
		require.ErrorIs(t, err, model.ErrCorrupt, "random with magic %x", b)
	}
	// The wrong secret, the wrong key.
	_, err := impl.Decode(key, good, []byte("other"))
	require.ErrorContains(t, err, "integrity")
	_, err = impl.Decode("anotherkey000000", good, secret)
	require.ErrorContains(t, err, fmt.Sprintf("%q", key))
	// A version this code does not know.
	b := append([]byte(nil), good...)
	b[6] = 2
	_, err = impl.Decode(key, b, secret)
	require.ErrorContains(t, err, "version 2")
}

func ExampleEncode() {
	rec := model.Record{Values: model.NewValues(map[string]string{"user": "42"}), Expiry: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	data := impl.Encode("examplekey000000", rec, []byte("secret"))
	got, err := impl.Decode("examplekey000000", data, []byte("secret"))
	fmt.Println(got, err)
	_, err = impl.Decode("otherkey00000000", data, []byte("secret"))
	fmt.Println(err)
	// Output:
	// {"user"="42"} until 2030-01-01T00:00:00Z <nil>
	// session otherkey00000000: invalid session data: file holds session "examplekey000000" (moved or copied)
}

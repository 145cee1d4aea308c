package impl_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
)

// TestDecodeVerifiedIsDecode pins that the verified cache never changes an
// answer: for files Encode just made (a cache hit), for every one-byte
// change of them (the flipped byte must miss and be refused as Decode
// refuses it), under another secret and under another key.
func TestDecodeVerifiedIsDecode(t *testing.T) {
	key := "verifiedkey00000"
	recs := []model.Record{
		{},
		{Values: vals("user", "42", "cart", strings.Repeat("x", 300)), Expiry: later},
		{Values: vals("z", ""), Expiry: time.Date(9999, 12, 31, 23, 59, 59, 5, time.FixedZone("x", 3600))},
	}
	for _, sec := range [][]byte{nil, secret} {
		for _, rec := range recs {
			data := impl.Encode(key, rec, sec)
			want, err := impl.Decode(key, data, sec)
			require.NoError(t, err)
			got, err := impl.DecodeVerified(key, data, sec)
			require.NoError(t, err)
			require.Equal(t, want, got, "a hit returns what Decode returns")

			for i := range data {
				bad := []byte(string(data))
				bad[i] ^= 0x01
				_, werr := impl.Decode(key, bad, sec)
				require.Error(t, werr, "byte %d", i)
				_, gerr := impl.DecodeVerified(key, bad, sec)
				require.EqualError(t, gerr, werr.Error(), "byte %d", i)
			}
			// A caller changing the slice Encode gave it does not change
			// what the cache holds.
			data[len(data)-1] ^= 0x80
			_, err = impl.DecodeVerified(key, data, sec)
			require.Error(t, err)
			data[len(data)-1] ^= 0x80
			got, err = impl.DecodeVerified(key, data, sec)
			require.NoError(t, err)
			require.Equal(t, want, got)

			_, err = impl.DecodeVerified(key, data, []byte("another secret"))
			require.Error(t, err, "the cache is per secret")
			_, err = impl.DecodeVerified("otherkey00000000", data, sec)
			require.Error(t, err, "the cache is per key")
		}
	}
}

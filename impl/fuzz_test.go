package impl_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/sessioncheck/sessioncheck/impl"
	"github.com/sessioncheck/sessioncheck/model"
)

// The fuzz targets here attack the session file format: the bytes an
// attacker who can write the session directory controls completely.

var (
	fuzzSecret  = []byte("sessioncheck fuzz secret")
	otherSecret = []byte("another deployment's secret")
)

const (
	fuzzKey  = "k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1k1"
	fuzzKey2 = "k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2k2"
)

// sign appends the tag the format defines (HMAC-SHA256 of every byte before
// it). It is written here from the format's doc comment rather than taken
// from the package, so a mistake in the package's tag is not shared.
func sign(body, secret []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write(body)
	return h.Sum(append(body[:len(body):len(body)], nil...))
}

// decodeFunc is the shape of impl.Decode, so that the property can be run
// on decoders with a guard switched off.
type decodeFunc func(key string, data, secret []byte) (model.Record, error)

// otherKey returns a valid key different from key.
func otherKey(key string) string {
	if key == fuzzKey2 {
		return fuzzKey
	}
	return fuzzKey2
}

// decodeProblem says how decode breaks the contract of a session-file
// decoder on data read from key's file, or returns "" when it keeps it:
//   - it never panics;
//   - a refusal is a *model.CorruptError naming key;
//   - an accepted file is exactly the encoding of the record it decoded to
//     (so nothing the integrity tag does not cover can influence a record,
//     and no two files decode to one record);
//   - an accepted file is refused under any other key (the tag binds the
//     key), under another secret, truncated, or with any byte changed.
func decodeProblem(decode decodeFunc, key string, data, secret []byte) (problem string) {
	defer func() {
		if r := recover(); r != nil {
			problem = fmt.Sprintf("panicked: %v", r)
		}
	}()
	refused := func(k string, d, s []byte) string {
		rec, err := decode(k, d, s)
		if err == nil {
			return fmt.Sprintf("accepted and decoded to %v", rec)
		}
		var ce *model.CorruptError
		if !errors.As(err, &ce) || !errors.Is(err, model.ErrCorrupt) {
			return fmt.Sprintf("refused with %T %q, want a *model.CorruptError", err, err)
		}
		if ce.Key != k || ce.Reason == "" {
			return fmt.Sprintf("refused naming key %q and reason %q, want key %q and a reason", ce.Key, ce.Reason, k)
		}
		return ""
	}
	rec, err := decode(key, data, secret)
	if err != nil {
		if p := refused(key, data, secret); p != "" {
			return "on its input: " + p
		}
		return ""
	}
	if enc := impl.Encode(key, rec, secret); !bytes.Equal(enc, data) {
		return fmt.Sprintf("accepted %d bytes that decode to %v, whose encoding is %d other bytes", len(data), rec, len(enc))
	}
	if p := refused(otherKey(key), data, secret); p != "" {
		return "file of " + key + " read under another key: " + p
	}
	if p := refused(key, data, otherSecret); p != "" {
		return "under another secret: " + p
	}
	for _, n := range []int{0, 1, len(data) / 2, len(data) - 1} {
		if n < len(data) {
			if p := refused(key, data[:n], secret); p != "" {
				return fmt.Sprintf("truncated to %d bytes: %s", n, p)
			}
		}
	}
	// Every byte for small files, an even spread for big ones: the tag is
	// at the end, so the last 32 positions are always among them.
	stride := max(1, len(data)/256)
	for i := len(data) - 1; i >= 0; i -= stride {
		for _, x := range []byte{0x01, 0x80} {
			m := bytes.Clone(data)
			m[i] ^= x
			if p := refused(key, m, secret); p != "" {
				return fmt.Sprintf("byte %d xor %#02x: %s", i, x, p)
			}
		}
	}
	return ""
}

// decodeSeed is one input of FuzzDecode: the key whose file is read, the
// bytes, and whether to append a valid tag to them first (so the fuzzer can
// reach the parser behind the tag, as a buggy writer holding the secret would).
type decodeSeed struct {
	key  string
	data []byte
	sign bool
}

// seedRecords are the records whose encodings seed FuzzDecode: empty and
// binary values, non-ASCII names, and the widest expiry times.
func seedRecords() []model.Record {
	t0 := time.Date(2026, 1, 2, 15, 4, 5, 123456789, time.UTC)
	return []model.Record{
		{Expiry: t0},
		{Values: model.NewValues(map[string]string{"user": "42"}), Expiry: t0},
		{Values: model.NewValues(map[string]string{"": "", "a\x00b": "\xff\xfe", "ключ": "значение"}), Expiry: t0.Add(time.Hour)},
		{Values: model.NewValues(map[string]string{"a": "1", "b": "2", "c": "3"}), Expiry: time.Unix(0, 0).UTC()},
		{Values: model.NewValues(map[string]string{"far": "future"}), Expiry: time.Unix(math.MaxInt64, 999_999_999).UTC()},
		{Values: model.NewValues(map[string]string{"far": "past"}), Expiry: time.Unix(math.MinInt64, 0).UTC()},
	}
}

// decodeSeeds builds the seeds from the package's own encoder, so they track
// the format: valid files, the same bodies to be re-signed, and each way a
// hostile or damaged file differs from a valid one.
func decodeSeeds() []decodeSeed {
	recs := seedRecords()
	var seeds []decodeSeed
	for _, rec := range recs {
		enc := impl.Encode(fuzzKey, rec, fuzzSecret)
		body := enc[:len(enc)-sha256.Size]
		seeds = append(seeds,
			decodeSeed{fuzzKey, enc, false},
			decodeSeed{fuzzKey, body, true},
			decodeSeed{fuzzKey2, enc, false},                        // copied to another key's name
			decodeSeed{fuzzKey, enc[:len(enc)-1], false},            // truncated
			decodeSeed{fuzzKey, append(bytes.Clone(enc), 0), false}, // trailing byte
			decodeSeed{fuzzKey, impl.Encode(fuzzKey, rec, otherSecret), false},
			decodeSeed{fuzzKey, impl.Encode(fuzzKey, rec, nil), false},
		)
	}
	long := string(bytes.Repeat([]byte("z"), model.MaxKeyLength))
	seeds = append(seeds,
		decodeSeed{long, impl.Encode(long, recs[1], fuzzSecret), false},
		decodeSeed{fuzzKey, nil, false},
		decodeSeed{fuzzKey, []byte("SCSESS"), false},
		decodeSeed{fuzzKey, []byte("SCSESS\x02"), true},
		decodeSeed{fuzzKey, []byte("\x80\x04}q\x00."), false}, // a pickle, as Django writes
		// Behind a valid tag: a pair count far beyond the file, names out
		// of order, a key length past the end, nanoseconds out of range.
		decodeSeed{fuzzKey, append([]byte("SCSESS\x01\x20"+fuzzKey+"\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 0xff, 0xff, 0xff, 0xff), true},
		decodeSeed{fuzzKey, []byte("SCSESS\x01\x20" + fuzzKey + "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02" +
			"\x00\x00\x00\x01b\x00\x00\x00\x00\x00\x00\x00\x01a\x00\x00\x00\x00"), true},
		decodeSeed{fuzzKey, []byte("SCSESS\x01\xff" + fuzzKey), true},
		decodeSeed{fuzzKey, []byte("SCSESS\x01\x20" + fuzzKey + "\x00\x00\x00\x00\x00\x00\x00\x00\x3b\x9a\xca\x00\x00\x00\x00\x00"), true},
	)
	return seeds
}

// prepare turns a fuzz input into the key and bytes to decode. A key the
// store would refuse never reaches Decode, so it is replaced.
func prepare(key string, data []byte, signIt bool) (string, []byte) {
	if model.ValidateKey(key) != nil {
		key = fuzzKey
	}
	if signIt {
		data = sign(bytes.Clone(data), fuzzSecret)
	}
	return key, data
}

// FuzzDecode checks that no bytes make Decode panic, and that Decode accepts
// nothing but the exact encoding, under the secret, of the key it was asked
// for: any successful decode re-encodes to the same bytes, and a copy under
// another key, another secret, a truncation or any changed byte is refused.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds() {
		f.Add(s.key, s.data, s.sign)
	}
	f.Fuzz(func(t *testing.T, key string, data []byte, signIt bool) {
		key, data = prepare(key, data, signIt)
		if p := decodeProblem(impl.Decode, key, data, fuzzSecret); p != "" {
			t.Fatalf("Decode(%q, %q): %s", key, data, p)
		}
	})
}

// resign replaces the tag at the end of data with a valid one: decoding the
// result is exactly what Decode does with its tag check switched off.
func resign(data, secret []byte) []byte {
	if len(data) < sha256.Size {
		return data
	}
	return sign(bytes.Clone(data[:len(data)-sha256.Size]), secret)
}

// rebindKey rewrites the key a session file holds to key and signs the
// result: reading the output is exactly reading data with the key check
// switched off. Bytes too short to hold a key are returned unchanged.
func rebindKey(data []byte, key string, secret []byte) []byte {
	const at = 8 // magic, version, key length
	if len(data) <= at || len(data) < at+int(data[at-1])+sha256.Size {
		return data
	}
	body := append(append([]byte(nil), data[:at-1]...), byte(len(key)))
	body = append(body, key...)
	body = append(body, data[at+int(data[at-1]):len(data)-sha256.Size]...)
	return sign(body, secret)
}

// brokenDecoders are Decode with one guard switched off. Each is built from
// Decode by changing its input, so it differs from the reference only in
// the guard it removes. The property must catch every one on the seeds.
var brokenDecoders = map[string]decodeFunc{
	// No integrity check: any tag is accepted.
	"no-tag-check": func(key string, data, secret []byte) (model.Record, error) {
		return impl.Decode(key, resign(data, secret), secret)
	},
	// A tag compared on its first 4 bytes only.
	"short-tag-compare": func(key string, data, secret []byte) (model.Record, error) {
		if len(data) >= sha256.Size {
			want := sign(bytes.Clone(data[:len(data)-sha256.Size]), secret)
			if bytes.Equal(want[len(want)-sha256.Size:][:4], data[len(data)-sha256.Size:][:4]) {
				data = want
			}
		}
		return impl.Decode(key, data, secret)
	},
	// The key is not bound: a file is accepted under any name.
	"no-key-binding": func(key string, data, secret []byte) (model.Record, error) {
		return impl.Decode(key, rebindKey(data, key, secret), secret)
	},
	// The secret is ignored: every deployment's files verify.
	"no-secret": func(key string, data, _ []byte) (model.Record, error) {
		return impl.Decode(key, resign(data, nil), nil)
	},
	// A header read before its length is checked.
	"unchecked-header": func(key string, data, secret []byte) (model.Record, error) {
		if data[6] != 1 {
			return model.Record{}, &model.CorruptError{Key: key, Reason: "version"}
		}
		return impl.Decode(key, data, secret)
	},
	// Damage reported as a bare error, not ErrCorrupt naming the key.
	"bare-error": func(key string, data, secret []byte) (model.Record, error) {
		rec, err := impl.Decode(key, data, secret)
		if err != nil {
			return rec, errors.New("bad data")
		}
		return rec, nil
	},
}

// TestDecodePropertyCatchesBrokenDecoders shows that FuzzDecode's property
// fails for Decode with each guard switched off, on the seeds alone, and
// passes for Decode itself.
func TestDecodePropertyCatchesBrokenDecoders(t *testing.T) {
	seeds := decodeSeeds()
	for _, s := range seeds {
		key, data := prepare(s.key, s.data, s.sign)
		if p := decodeProblem(impl.Decode, key, data, fuzzSecret); p != "" {
			t.Errorf("reference: Decode(%q, %q): %s", key, data, p)
		}
	}
	// The property is vacuous unless valid files decode: each seed record,
	// encoded, must come back as itself.
	for _, rec := range seedRecords() {
		got, err := impl.Decode(fuzzKey, impl.Encode(fuzzKey, rec, fuzzSecret), fuzzSecret)
		if err != nil || !got.Equal(rec) {
			t.Errorf("reference: %v does not round-trip: got %v, %v", rec, got, err)
		}
	}
	for _, name := range []string{"no-tag-check", "short-tag-compare", "no-key-binding", "no-secret", "unchecked-header", "bare-error"} {
		caught := ""
		for _, s := range seeds {
			key, data := prepare(s.key, s.data, s.sign)
			if p := decodeProblem(brokenDecoders[name], key, data, fuzzSecret); p != "" {
				caught = p
				break
			}
		}
		if caught == "" {
			t.Errorf("%s passes every seed: the property cannot catch it", name)
		} else {
			t.Logf("%s caught: %s", name, caught)
		}
	}
}

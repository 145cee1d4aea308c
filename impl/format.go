package impl

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sessioncheck/sessioncheck/model"
)

// The session file format, version 1. All integers are big-endian.
//
//	magic    6 bytes  "SCSESS"
//	version  1 byte   1
//	keylen   1 byte   length of the key (8..64)
//	key      keylen bytes
//	seconds  8 bytes  expiry, Unix seconds (int64)
//	nanos    4 bytes  expiry, nanoseconds within the second (0..999999999)
//	count    4 bytes  number of pairs
//	pairs    count × (namelen 4 bytes, name, valuelen 4 bytes, value), names strictly increasing
//	tag      32 bytes HMAC-SHA256 under the store's secret of every byte before it
//
// The key is inside the tagged bytes, so a file copied under another key's
// name is detected (its key does not match, and forging a matching key needs
// the secret). The tag is checked before any field is parsed: bytes that do
// not carry a valid tag are never decoded. With a nil secret the tag still
// detects truncation and corruption, but not deliberate tampering.
const (
	formatMagic   = "SCSESS"
	formatVersion = 1
	tagSize       = sha256.Size
	headerSize    = len(formatMagic) + 1 + 1 // magic, version, keylen
	// minFileSize is the size of a record with the shortest key and no pairs.
	minFileSize = headerSize + model.MinKeyLength + 8 + 4 + 4 + tagSize
)

// Encode returns the bytes of the session file that holds rec under key,
// tagged with secret. It does no I/O, so a write can materialise everything
// it needs before it touches storage.
func Encode(key string, rec model.Record, secret []byte) []byte {
	size := headerSize + len(key) + 8 + 4 + 4 + tagSize
	pairs := 0
	for n, v := range rec.Values.All() {
		size += 8 + len(n) + len(v)
		pairs++
	}
	b := make([]byte, 0, size)
	b = append(b, formatMagic...)
	b = append(b, formatVersion, byte(len(key)))
	b = append(b, key...)
	b = binary.BigEndian.AppendUint64(b, uint64(rec.Expiry.Unix()))
	b = binary.BigEndian.AppendUint32(b, uint32(rec.Expiry.Nanosecond()))
	b = binary.BigEndian.AppendUint32(b, uint32(pairs))
	// Values keeps its pairs in name order, the order the format requires.
	for n, v := range rec.Values.All() {
		b = binary.BigEndian.AppendUint32(b, uint32(len(n)))
		b = append(b, n...)
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	b = append(b, tag(b, secret)...)
	if len(b) <= verifiedMaxBytes && model.ValidateKey(key) == nil {
		// What Decode of b would return: the expiry as Decode builds it.
		dec := model.Record{Values: rec.Values, Expiry: time.Unix(rec.Expiry.Unix(), int64(rec.Expiry.Nanosecond())).UTC()}
		remember(key, secret, bytes.Clone(b), dec)
	}
	return b
}

func tag(body, secret []byte) []byte {
	macs := macsFor(secret)
	h := macs.pool.Get().(hash.Hash)
	h.Reset() // back to the keyed state: the key's two blocks are not hashed again
	h.Write(body)
	sum := h.Sum(nil)
	macs.pool.Put(h)
	return sum
}

// keyedMACs holds ready HMACs for one secret. A process's stores normally
// share one secret, so only the last one used is kept.
type keyedMACs struct {
	secret string
	pool   sync.Pool
}

var lastMACs atomic.Pointer[keyedMACs]

func macsFor(secret []byte) *keyedMACs {
	if m := lastMACs.Load(); m != nil && m.secret == string(secret) {
		return m
	}
	key := slices.Clone(secret)
	m := &keyedMACs{secret: string(secret)}
	m.pool.New = func() any { return hmac.New(sha256.New, key) }
	lastMACs.Store(m)
	return m
}

// Decode parses a session file read from key's name. Anything but a
// well-formed file whose tag holds under secret and whose key is key is a
// *model.CorruptError naming key and the reason. Decode never panics.
func Decode(key string, data []byte, secret []byte) (model.Record, error) {
	bad := func(format string, args ...any) (model.Record, error) {
		return model.Record{}, &model.CorruptError{Key: key, Reason: fmt.Sprintf(format, args...)}
	}
	switch {
	case len(data) == 0:
		return bad("empty file")
	case len(data) < headerSize || string(data[:len(formatMagic)]) != formatMagic:
		return bad("not a session file (bad magic)")
	case data[len(formatMagic)] != formatVersion:
		return bad("unsupported format version %d", data[len(formatMagic)])
	case len(data) < minFileSize:
		return bad("truncated: %d bytes", len(data))
	}
	body, sum := data[:len(data)-tagSize], data[len(data)-tagSize:]
	if !hmac.Equal(sum, tag(body, secret)) {
		return bad("integrity check failed (truncated, corrupted, tampered or wrong secret)")
	}
	// From here on the bytes are ones this format wrote under secret; the
	// parse is still strict, because a tag proves origin, not sanity.
	p := parser{b: body[headerSize-1:]}
	storedKey := string(p.bytes(int(p.u8())))
	if p.err == nil && storedKey != key {
		return bad("file holds session %q (moved or copied)", storedKey)
	}
	sec, nsec := int64(p.u64()), p.u32()
	if p.err == nil && nsec > 999_999_999 {
		return bad("nanoseconds out of range: %d", nsec)
	}
	n := p.u32()
	if p.err == nil && uint64(n)*8 > uint64(len(p.b)) {
		return bad("pair count %d exceeds the file", n)
	}
	pairs := make([]model.Pair, 0, n)
	for i := uint32(0); i < n && p.err == nil; i++ {
		name := string(p.bytes(int(p.u32())))
		value := string(p.bytes(int(p.u32())))
		if p.err == nil && i > 0 && name <= pairs[i-1].Name {
			return bad("pair names out of order at pair %d", i)
		}
		pairs = append(pairs, model.Pair{Name: name, Value: value})
	}
	if p.err == nil && len(p.b) != 0 {
		return bad("%d trailing bytes", len(p.b))
	}
	if p.err != nil {
		return bad("%v", p.err)
	}
	values, err := model.NewValuesSorted(pairs)
	if err != nil {
		return bad("%v", err)
	}
	return model.Record{Values: values, Expiry: time.Unix(sec, int64(nsec)).UTC()}, nil
}

// The verified cache: for a few keys, the exact bytes of the last session
// file that was decoded (or encoded) under a secret, and their record. A
// read whose bytes are equal to them is that record: bytes equal to bytes
// that verified under the secret verify under it, so comparing them (about
// 1 µs for 64 KiB) is as strong as recomputing the tag (about 40 µs) and
// parsing again. Nothing is trusted because of a name, a size or a time:
// every Load still reads the whole file and compares every byte, so a file
// changed in any byte, by anyone, misses and is decoded in full. Encode
// fills the cache too (with a copy, so that a caller changing the slice it
// got cannot change the cache), which makes the old-record read of the
// next Save a hit.
const (
	verifiedSlots = 64
	// verifiedMaxBytes keeps bigger records out, bounding the cache at
	// 64 × 128 KiB of file bytes plus their values.
	verifiedMaxBytes = 128 << 10
)

type verifiedEntry struct {
	key, secret string
	data        []byte // never written after the entry is stored
	rec         model.Record
}

var verified [verifiedSlots]atomic.Pointer[verifiedEntry]

func verifiedSlot(key string) *atomic.Pointer[verifiedEntry] {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &verified[h%verifiedSlots]
}

func remember(key string, secret, data []byte, rec model.Record) {
	verifiedSlot(key).Store(&verifiedEntry{key: key, secret: string(secret), data: data, rec: rec})
}

// DecodeVerified is Decode with the verified cache: the same result for
// the same arguments, faster when data is the last file of key seen under
// secret. data is not retained (a copy is, on a miss that decodes).
func DecodeVerified(key string, data []byte, secret []byte) (model.Record, error) {
	if e := verifiedSlot(key).Load(); e != nil && e.key == key && e.secret == string(secret) && bytes.Equal(e.data, data) {
		return e.rec, nil
	}
	rec, err := Decode(key, data, secret)
	if err == nil && len(data) <= verifiedMaxBytes {
		remember(key, secret, bytes.Clone(data), rec)
	}
	return rec, err
}

// parser reads fields from b; after the first short read it returns zeros
// and keeps its error, so callers check once.
type parser struct {
	b   []byte
	err error
}

func (p *parser) bytes(n int) []byte {
	if p.err != nil || n < 0 || n > len(p.b) {
		if p.err == nil {
			p.err = fmt.Errorf("field of %d bytes runs past the end", n)
		}
		return nil
	}
	out := p.b[:n]
	p.b = p.b[n:]
	return out
}

func (p *parser) u8() uint8 {
	if b := p.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (p *parser) u32() uint32 {
	if b := p.bytes(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (p *parser) u64() uint64 {
	if b := p.bytes(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

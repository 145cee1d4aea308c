package model

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// Key lengths and alphabet. A generated key has KeyLength characters; a key
// given by a client is valid if it has between MinKeyLength and MaxKeyLength
// characters, all from KeyAlphabet.
const (
	KeyLength    = 32
	MinKeyLength = 8
	MaxKeyLength = 64
	KeyAlphabet  = "abcdefghijklmnopqrstuvwxyz0123456789"
)

// ErrInvalidKey is returned, before any file-system access, for a key that
// does not match ^[a-z0-9]{8,64}$. It is the path-traversal guard.
var ErrInvalidKey = errors.New("invalid session key")

// ValidateKey reports whether key is an acceptable session key. The error
// wraps ErrInvalidKey and says what was wrong with the key, quoting at most
// MaxKeyLength bytes of it: a key is client input, and a 10 MB cookie must
// not become a 10 MB log line.
func ValidateKey(key string) error {
	if len(key) < MinKeyLength || len(key) > MaxKeyLength {
		var shown string
		if len(key) > MaxKeyLength {
			shown = fmt.Sprintf("%q... (cut)", key[:MaxKeyLength])
		} else {
			shown = fmt.Sprintf("%q", key)
		}
		return fmt.Errorf("%w %s: length %d, want %d to %d", ErrInvalidKey, shown, len(key), MinKeyLength, MaxKeyLength)
	}
	for i := 0; i < len(key); i++ {
		if c := key[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9') {
			return fmt.Errorf("%w %q: byte %#02x at %d is not in [a-z0-9]", ErrInvalidKey, key, c, i)
		}
	}
	return nil
}

// NewKey draws a fresh key of KeyLength characters from KeyAlphabet using
// random bytes from r (crypto/rand.Reader when r is nil). Each character
// carries log2(36) ≈ 5.17 bits, so a key carries about 165 bits.
func NewKey(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	// Rejection sampling keeps the distribution uniform: 252 = 7×36 is the
	// largest multiple of 36 below 256.
	const limit = 252
	out := make([]byte, 0, KeyLength)
	buf := make([]byte, KeyLength+8)
	for len(out) < KeyLength {
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", fmt.Errorf("new session key: %w", err)
		}
		for _, b := range buf {
			if b < limit && len(out) < KeyLength {
				out = append(out, KeyAlphabet[int(b)%len(KeyAlphabet)])
			}
		}
	}
	return string(out), nil
}

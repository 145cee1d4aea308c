package explore

import (
	"strconv"

	"github.com/sessioncheck/sessioncheck/model"
)

// keyRand is the key randomness of one client. Each Read fills the buffer
// with the characters of the next key in a fixed sequence (as alphabet
// indices, all below model.NewKey's rejection limit), so the n-th key a
// client draws is KeyAt(n) whatever the size of the read. Every client has
// its own sequence starting at 0: two clients that create concurrently try
// the same key, which is how a create without O_EXCL is caught.
type keyRand struct{ next int }

// Read never fails.
func (r *keyRand) Read(p []byte) (int, error) {
	key := KeyAt(r.next)
	r.next++
	for i := range p {
		c := key[i%len(key)]
		if c >= 'a' {
			p[i] = c - 'a'
		} else {
			p[i] = c - '0' + 26
		}
	}
	return len(p), nil
}

// KeyAt is the n-th key every client's controlled randomness produces:
// "sess" followed by n in base 36, zero-padded to model.KeyLength.
func KeyAt(n int) string {
	s := strconv.FormatInt(int64(n), 36)
	pad := model.KeyLength - 4 - len(s)
	b := make([]byte, 0, model.KeyLength)
	b = append(b, "sess"...)
	for range pad {
		b = append(b, '0')
	}
	return string(append(b, s...))
}

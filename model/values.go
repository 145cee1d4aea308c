package model

import (
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Values is an immutable set of string keys with string values, held in a
// canonical form so that two Values with the same pairs are equal under ==.
// The zero Values is empty.
type Values struct {
	canon string // pairs sorted by name, each as len(name):name len(value):value
}

// NewValues returns the Values holding the pairs of m.
func NewValues(m map[string]string) Values {
	var b strings.Builder
	for _, name := range slices.Sorted(maps.Keys(m)) {
		writeField(&b, name)
		writeField(&b, m[name])
	}
	return Values{canon: b.String()}
}

func writeField(b *strings.Builder, s string) {
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

// pairs calls yield for each pair in name order until it returns false.
func (v Values) pairs(yield func(name, value string) bool) {
	rest := v.canon
	next := func() string {
		i := strings.IndexByte(rest, ':')
		n, _ := strconv.Atoi(rest[:i])
		s := rest[i+1 : i+1+n]
		rest = rest[i+1+n:]
		return s
	}
	for rest != "" {
		name := next()
		if !yield(name, next()) {
			return
		}
	}
}

// Map returns a fresh map holding the pairs; changing it does not change v.
func (v Values) Map() map[string]string {
	m := make(map[string]string)
	v.pairs(func(name, value string) bool { m[name] = value; return true })
	return m
}

// Get returns the value stored under name and whether it was there.
func (v Values) Get(name string) (value string, ok bool) {
	v.pairs(func(n, val string) bool {
		if n == name {
			value, ok = val, true
			return false
		}
		return true
	})
	return value, ok
}

// Len is the number of pairs.
func (v Values) Len() int {
	n := 0
	v.pairs(func(string, string) bool { n++; return true })
	return n
}

// Names returns the names in sorted order (never nil).
func (v Values) Names() []string {
	names := []string{}
	v.pairs(func(n, _ string) bool { names = append(names, n); return true })
	return names
}

// With returns v with name set to value.
func (v Values) With(name, value string) Values {
	m := v.Map()
	m[name] = value
	return NewValues(m)
}

// Without returns v without name.
func (v Values) Without(name string) Values {
	m := v.Map()
	delete(m, name)
	return NewValues(m)
}

// String formats the pairs as {name=value ...} with values quoted.
func (v Values) String() string {
	var b strings.Builder
	b.WriteByte('{')
	v.pairs(func(n, val string) bool {
		if b.Len() > 1 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(n))
		b.WriteByte('=')
		b.WriteString(strconv.Quote(val))
		return true
	})
	b.WriteByte('}')
	return b.String()
}

// All yields the pairs in name order.
func (v Values) All() iter.Seq2[string, string] {
	return func(yield func(name, value string) bool) { v.pairs(yield) }
}

// Pair is one name and its value.
type Pair struct{ Name, Value string }

// NewValuesSorted returns the Values holding pairs, which must be in strictly
// increasing name order (as a decoder that checks the order has them). It
// builds the canonical form directly, without the map NewValues sorts.
func NewValuesSorted(pairs []Pair) (Values, error) {
	var b strings.Builder
	n := 0
	for _, p := range pairs {
		n += len(p.Name) + len(p.Value) + 8
	}
	b.Grow(n)
	for i, p := range pairs {
		if i > 0 && p.Name <= pairs[i-1].Name {
			return Values{}, fmt.Errorf("values: name %q at %d is not after %q", p.Name, i, pairs[i-1].Name)
		}
		writeField(&b, p.Name)
		writeField(&b, p.Value)
	}
	return Values{canon: b.String()}, nil
}

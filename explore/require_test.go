package explore

// A stand-in for the few calls of testify's require these tests make, with
// testify's names and signatures. The module's go.sum lacks the sums of
// testify's own dependencies (go-spew, go-difflib, go.yaml.in/yaml/v3), so
// importing testify does not build yet, and go.sum is not this package's to
// change. When it has them, delete this file and import
// github.com/stretchr/testify/require.

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

type requirer struct{}

var require requirer

func why(m []any) string {
	if len(m) == 0 {
		return ""
	}
	if f, ok := m[0].(string); ok {
		return "\n" + fmt.Sprintf(f, m[1:]...)
	}
	return "\n" + fmt.Sprint(m...)
}

func (requirer) NoError(t testing.TB, err error, m ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v%s", err, why(m))
	}
}

func (requirer) Error(t testing.TB, err error, m ...any) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error, got nil%s", why(m))
	}
}

func (requirer) ErrorAs(t testing.TB, err error, target any, m ...any) {
	t.Helper()
	if !errors.As(err, target) {
		t.Fatalf("error %v is not a %T%s", err, target, why(m))
	}
}

func (requirer) Equal(t testing.TB, want, got any, m ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("want %v, got %v%s", want, got, why(m))
	}
}

func (requirer) True(t testing.TB, ok bool, m ...any) {
	t.Helper()
	if !ok {
		t.Fatalf("want true%s", why(m))
	}
}

func (requirer) Contains(t testing.TB, s, sub string, m ...any) {
	t.Helper()
	if !strings.Contains(s, sub) {
		t.Fatalf("%q does not contain %q%s", s, sub, why(m))
	}
}

func (requirer) Positive(t testing.TB, n int, m ...any) {
	t.Helper()
	if n <= 0 {
		t.Fatalf("want a positive number, got %d%s", n, why(m))
	}
}

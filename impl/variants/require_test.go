package variants_test

// A stand-in for the subset of testify's require that these tests use. The
// module's go.sum lacks the entries of testify's own dependencies
// (go-spew, go-difflib, go.yaml.in/yaml/v3), so importing testify does not
// build yet and go.sum is not this package's to change. Once it has them,
// delete this file and import github.com/stretchr/testify/require: every
// call here has testify's name and signature.

import (
	"cmp"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
)

type requirer struct{}

var require requirer

func msg(args []any) string {
	if len(args) == 0 {
		return ""
	}
	if f, ok := args[0].(string); ok {
		return ": " + fmt.Sprintf(f, args[1:]...)
	}
	return ": " + fmt.Sprint(args...)
}

func (requirer) NoError(t testing.TB, err error, m ...any) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v%s", err, msg(m))
	}
}

func (requirer) Error(t testing.TB, err error, m ...any) {
	t.Helper()
	if err == nil {
		t.Fatalf("want an error, got nil%s", msg(m))
	}
}

func (requirer) ErrorIs(t testing.TB, err, target error, m ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("error %v does not match %v%s", err, target, msg(m))
	}
}

func (requirer) ErrorAs(t testing.TB, err error, target any, m ...any) {
	t.Helper()
	if !errors.As(err, target) {
		t.Fatalf("error %v is not a %T%s", err, target, msg(m))
	}
}

func (requirer) ErrorContains(t testing.TB, err error, s string, m ...any) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), s) {
		t.Fatalf("error %v does not contain %q%s", err, s, msg(m))
	}
}

func (requirer) Equal(t testing.TB, want, got any, m ...any) {
	t.Helper()
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("want %v, got %v%s", want, got, msg(m))
	}
}

func (requirer) NotEqual(t testing.TB, a, b any, m ...any) {
	t.Helper()
	if reflect.DeepEqual(a, b) {
		t.Fatalf("both are %v%s", a, msg(m))
	}
}

func (requirer) True(t testing.TB, ok bool, m ...any) {
	t.Helper()
	if !ok {
		t.Fatalf("want true%s", msg(m))
	}
}

func (requirer) False(t testing.TB, ok bool, m ...any) {
	t.Helper()
	if ok {
		t.Fatalf("want false%s", msg(m))
	}
}

func length(x any) int { return reflect.ValueOf(x).Len() }

func (requirer) Len(t testing.TB, x any, n int, m ...any) {
	t.Helper()
	if l := length(x); l != n {
		t.Fatalf("want length %d, got %d: %v%s", n, l, x, msg(m))
	}
}

func (requirer) Empty(t testing.TB, x any, m ...any) {
	t.Helper()
	if x != nil && length(x) != 0 {
		t.Fatalf("want empty, got %v%s", x, msg(m))
	}
}

func (requirer) Contains(t testing.TB, in, x any, m ...any) {
	t.Helper()
	v := reflect.ValueOf(in)
	switch v.Kind() {
	case reflect.String:
		if strings.Contains(v.String(), x.(string)) {
			return
		}
	case reflect.Map:
		if v.MapIndex(reflect.ValueOf(x)).IsValid() {
			return
		}
	case reflect.Slice:
		for i := range v.Len() {
			if reflect.DeepEqual(v.Index(i).Interface(), x) {
				return
			}
		}
	}
	t.Fatalf("%v does not contain %v%s", in, x, msg(m))
}

func (requirer) ElementsMatch(t testing.TB, a, b []string, m ...any) {
	t.Helper()
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	if !slices.Equal(a, b) {
		t.Fatalf("want elements %v, got %v%s", a, b, msg(m))
	}
}

func (requirer) IsNonDecreasing(t testing.TB, x []string, m ...any) {
	t.Helper()
	if !slices.IsSortedFunc(x, cmp.Compare[string]) {
		t.Fatalf("not sorted: %v%s", x, msg(m))
	}
}

func (requirer) NotEmpty(t testing.TB, x any, m ...any) {
	t.Helper()
	if x == nil || length(x) == 0 {
		t.Fatalf("want non-empty%s", msg(m))
	}
}

package variants

import "testing"

func TestExpectationMiss(t *testing.T) {
	cases := []struct {
		want    Expectation
		verdict string
		miss    string
	}{
		{Pass, "pass", ""},
		{Pass, "violation", "false alarm"},
		{Pass, "unknown", "undecided"},
		{Pass, "error", "undecided"},
		{Violation, "violation", ""},
		{Violation, "pass", "missed"},
		{Violation, "unknown", "undecided"},
		{Any, "pass", ""},
		{Any, "violation", ""},
		{Any, "unknown", ""},
		{Any, "error", "undecided"},
	}
	for _, c := range cases {
		if got := c.want.Miss(c.verdict); got != c.miss {
			t.Errorf("Expectation(%s).Miss(%s) = %q, want %q", c.want, c.verdict, got, c.miss)
		}
	}
}

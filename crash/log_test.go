package crash

import (
	"fmt"
	"strings"
	"testing"
)

// TestLogKeepsWhatReportsList: the log holds a bounded number of lines
// however long the workload, and still gives a report the operations just
// before its crash point, saying what it left out.
func TestLogKeepsWhatReportsList(t *testing.T) {
	var l opLog
	for i := range 1000 {
		l.add(fmt.Sprint(i))
		if len(l.lines) > 2*(reportOps+1) {
			t.Fatalf("after %d lines the log holds %d", i+1, len(l.lines))
		}
		for _, n := range []int{i, i + 1} {
			got := l.upTo(n)
			if n == 0 {
				if len(got) != 0 {
					t.Fatalf("upTo(0) = %q", got)
				}
				continue
			}
			if last := got[len(got)-1]; last != fmt.Sprint(n-1) {
				t.Fatalf("upTo(%d) ends with %q", n, last)
			}
			if n > reportOps {
				if len(got) != reportOps+1 || !strings.Contains(got[0], fmt.Sprintf("operations 0 to %d left out", n-reportOps-1)) {
					t.Fatalf("upTo(%d) = %d lines beginning %q", n, len(got), got[0])
				}
			} else if len(got) != n {
				t.Fatalf("upTo(%d) = %d lines", n, len(got))
			}
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const sample1 = `goos: linux
BenchmarkStore/save-durable/1KiB/c1-2   100  3000000 ns/op  1000000 floor-ns/op  1100000 store-ns/op  1.10 x-floor  30 store-allocs/op  7000 store-B/op  8000 B/op  60 allocs/op
BenchmarkStore/load/1KiB/c1-2   1000  30000 ns/op  5000 floor-ns/op  9000 store-ns/op  1.80 x-floor  23 store-allocs/op  5000 store-B/op
BenchmarkPeers/mix/1KiB-2  100  900000 ns/op  100000 go-nondurable-ns/op  600000 django-ns/op  6.0 x-django
BenchmarkCheck/ops=10k-2  10  100000000 ns/op  0.02 key-overlap  10000 ops  16000000 B/op
BenchmarkCheck/ops=100k-2  1  900000000 ns/op  0.1 key-overlap  100000 ops  170000000 B/op
    peers_bench_test.go:197: peer gorilla left out: BenchmarkX is not a result line
`

const sample2 = `BenchmarkStore/save-durable/1KiB/c1-2   100  3000000 ns/op  1000000 floor-ns/op  1300000 store-ns/op  1.30 x-floor  30 store-allocs/op  7000 store-B/op
BenchmarkStore/load/1KiB/c1-2   1000  30000 ns/op  5000 floor-ns/op  15000 store-ns/op  3.00 x-floor  23 store-allocs/op  5000 store-B/op
BenchmarkPeers/mix/1KiB-2  100  900000 ns/op  100000 go-nondurable-ns/op  400000 django-ns/op  4.0 x-django
BenchmarkCheck/ops=10k-2  10  50000000 ns/op  0.02 key-overlap  10000 ops  16000000 B/op
BenchmarkCheck/ops=100k-2  1  1100000000 ns/op  0.1 key-overlap  100000 ops  170000000 B/op
`

func writeRuns(t *testing.T, contents ...string) []string {
	dir := t.TempDir()
	var files []string
	for i, c := range contents {
		f := filepath.Join(dir, "run-"+string(rune('1'+i))+".txt")
		require.NoError(t, os.WriteFile(f, []byte(c), 0o644))
		files = append(files, f)
	}
	return files
}

// Medians over runs, ratios within a run first, goals judged on the median.
func TestRender(t *testing.T) {
	var out strings.Builder
	require.NoError(t, run("", "", writeRuns(t, sample1, sample2), &out))
	s := out.String()
	require.Contains(t, s, "| durable Save ≤ 1.15× floor, 1KiB | 1.20× | 1.10–1.30 | **missed** |")
	require.Contains(t, s, "| Load ≤ 2× bare read, 1KiB | 2.40× | 1.80–3.00 | **missed** |")
	require.Contains(t, s, "| ops/s ≥ 5× Django (mix, non-durable, worker pipe, disk), 1KiB | 5.0× | 4.0–6.0 | met |")
	require.Contains(t, s, "| check 100k ops ≤ 1 s | 1.00 s | 0.90–1.10 | met |")
	// 100k/10k per run: 9 and 22; median 15.5.
	require.Contains(t, s, "| check 100k ≤ 12× 10k | 15.5× | 9.0–22.0 | **missed** |")
	require.NotContains(t, s, "| 64KiB | 1 client |", "not in the runs: left out")
	require.Contains(t, s, "| durable Save ≤ 1.15× floor, 64KiB | — | — | not measured |")
	require.Contains(t, s, "| mix | 1KiB | — | — | 100 | — | 500 | — | **—** | **5.0** | — |")
}

func TestReplacesOnlyTheTablesSection(t *testing.T) {
	doc := filepath.Join(t.TempDir(), "PERF.md")
	require.NoError(t, os.WriteFile(doc, []byte("# Title\nprose\n<!-- tables:begin -->\nold\n<!-- tables:end -->\nafter\n"), 0o644))
	require.NoError(t, run(doc, "", writeRuns(t, sample1), nil))
	b, err := os.ReadFile(doc)
	require.NoError(t, err)
	s := string(b)
	require.True(t, strings.HasPrefix(s, "# Title\nprose\n<!-- tables:begin -->\n"))
	require.True(t, strings.HasSuffix(s, "<!-- tables:end -->\nafter\n"))
	require.NotContains(t, s, "old")
	require.Contains(t, s, "1.10×")
}

func TestBadInput(t *testing.T) {
	require.ErrorContains(t, run("", "", nil, nil), "no result files")
	doc := filepath.Join(t.TempDir(), "PERF.md")
	require.NoError(t, os.WriteFile(doc, []byte("no markers"), 0o644))
	require.ErrorContains(t, run(doc, "", writeRuns(t, sample1), nil), "tables:begin")
	require.ErrorContains(t, run("", "", writeRuns(t, "BenchmarkA-2 1 x ns/op\n"), nil), `value "x"`)
}

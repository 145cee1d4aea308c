// Command tables turns the raw output of bench/run.sh (one `go test -bench`
// output file per run) into the tables of docs/PERFORMANCE.md: it replaces
// the text between the markers
//
//	<!-- tables:begin -->
//	<!-- tables:end -->
//
// in the document with medians over the runs. Ratios are taken within each
// run first (the benchmarks interleave the two sides of every ratio), then
// their median is shown; the spread column gives the smallest and largest
// run, so a reader sees how noisy the machine was.
//
// Usage:
//
//	go run ./bench/tables -doc docs/PERFORMANCE.md -env env.txt run-1.txt run-2.txt ...
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

func main() {
	doc := flag.String("doc", "", "the document whose tables section is replaced (empty: print the tables)")
	env := flag.String("env", "", "a file describing the machine and the run, shown above the tables")
	flag.Parse()
	if err := run(*doc, *env, flag.Args(), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tables:", err)
		os.Exit(1)
	}
}

const (
	beginMarker = "<!-- tables:begin -->"
	endMarker   = "<!-- tables:end -->"
)

func run(doc, env string, files []string, stdout io.Writer) error {
	if len(files) == 0 {
		return errors.New("no result files given")
	}
	var runs []Run
	for _, f := range files {
		r, err := parseFile(f)
		if err != nil {
			return err
		}
		runs = append(runs, r)
	}
	var envText string
	if env != "" {
		b, err := os.ReadFile(env)
		if err != nil {
			return err
		}
		envText = string(b)
	}
	tables := render(runs, envText)
	if doc == "" {
		_, err := io.WriteString(stdout, tables)
		return err
	}
	old, err := os.ReadFile(doc)
	if err != nil {
		return err
	}
	s := string(old)
	i, j := strings.Index(s, beginMarker), strings.Index(s, endMarker)
	if i < 0 || j < i {
		return fmt.Errorf("%s has no %q ... %q section", doc, beginMarker, endMarker)
	}
	s = s[:i+len(beginMarker)] + "\n" + tables + s[j:]
	return os.WriteFile(doc, []byte(s), 0o644)
}

// Run is one run's results: benchmark name (without the -GOMAXPROCS
// suffix) → unit → value.
type Run map[string]map[string]float64

var procSuffix = regexp.MustCompile(`-\d+$`)

// parseFile reads `go test -bench` output.
func parseFile(name string) (Run, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return parse(f, name)
}

func parse(r io.Reader, name string) (Run, error) {
	run := Run{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		fields := strings.Fields(sc.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		if _, err := strconv.Atoi(fields[1]); err != nil {
			continue // a log line that happens to start with Benchmark
		}
		bench := procSuffix.ReplaceAllString(fields[0], "")
		m := map[string]float64{}
		for k := 2; k+1 < len(fields); k += 2 {
			v, err := strconv.ParseFloat(fields[k], 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: value %q: %v", name, line, fields[k], err)
			}
			m[fields[k+1]] = v
		}
		run[bench] = m
	}
	return run, sc.Err()
}

// values returns the metric of bench in every run that has it.
func values(runs []Run, bench, unit string) []float64 {
	var vs []float64
	for _, r := range runs {
		if v, ok := r[bench][unit]; ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// ratios returns, per run having both, num's metric over den's.
func ratios(runs []Run, num, numUnit, den, denUnit string) []float64 {
	var vs []float64
	for _, r := range runs {
		a, ok1 := r[num][numUnit]
		b, ok2 := r[den][denUnit]
		if ok1 && ok2 && b != 0 {
			vs = append(vs, a/b)
		}
	}
	return vs
}

func median(vs []float64) (float64, bool) {
	if len(vs) == 0 {
		return 0, false
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2], true
	}
	return (s[n/2-1] + s[n/2]) / 2, true
}

// stat formats the median with a scale and format, or "—".
func stat(vs []float64, scale float64, format string) string {
	m, ok := median(vs)
	if !ok {
		return "—"
	}
	return fmt.Sprintf(format, m*scale)
}

// spread formats min–max.
func spread(vs []float64, format string) string {
	if len(vs) == 0 {
		return "—"
	}
	return fmt.Sprintf(format+"–"+format, slices.Min(vs), slices.Max(vs))
}

func goal(vs []float64, ok func(float64) bool) string {
	m, has := median(vs)
	switch {
	case !has:
		return "not measured"
	case ok(m):
		return "met"
	}
	return "**missed**"
}

var (
	storeOps   = []string{"load", "save-durable", "save-nondurable", "touch-durable", "touch-nondurable", "create-durable", "create-nondurable", "delete-durable", "delete-nondurable"}
	sizes      = []string{"1KiB", "64KiB"}
	shapes     = []string{"c1", "c8-keys", "c8-same"}
	peers      = []string{"go-inproc", "django-inproc", "go-nondurable", "go-durable", "django", "gorilla"}
	workloads  = []string{"mix", "load", "save", "touch", "create", "delete"}
	checkOps   = []string{"1k", "10k", "100k"}
	checkKeys  = []string{"1000", "100", "30", "10", "5"}
	shapeTitle = map[string]string{"c1": "1 client", "c8-keys": "8 clients, 8 keys", "c8-same": "8 clients, 1 key"}
)

func render(runs []Run, env string) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	p("\n_Generated by `bench/run.sh` from %d runs; every figure is the median over the runs, ratios are taken within each run first._\n\n", len(runs))
	if env != "" {
		p("```\n%s```\n\n", strings.TrimLeft(env, "\n"))
	}

	p("### Goals\n\n| goal | measured (median) | runs (min–max) | verdict |\n|---|---|---|---|\n")
	for _, size := range sizes {
		vs := values(runs, "BenchmarkStore/save-durable/"+size+"/c1", "x-floor")
		p("| durable Save ≤ 1.15× floor, %s | %s | %s | %s |\n", size, stat(vs, 1, "%.2f×"), spread(vs, "%.2f"), goal(vs, func(m float64) bool { return m <= 1.15 }))
	}
	for _, size := range sizes {
		vs := values(runs, "BenchmarkStore/load/"+size+"/c1", "x-floor")
		p("| Load ≤ 2× bare read, %s | %s | %s | %s |\n", size, stat(vs, 1, "%.2f×"), spread(vs, "%.2f"), goal(vs, func(m float64) bool { return m <= 2 }))
		cpu := values(runs, "BenchmarkStore/load/"+size+"/c1", "x-floor-cpu")
		p("| Load ≤ 2× bare read, %s, CPU time | %s | %s | %s |\n", size, stat(cpu, 1, "%.2f×"), spread(cpu, "%.2f"), goal(cpu, func(m float64) bool { return m <= 2 }))
	}
	for _, size := range sizes {
		vs := values(runs, "BenchmarkPeersMem/mix/"+size, "x-django-inproc")
		p("| ops/s ≥ 5× Django (mix, non-durable, in process, tmpfs), %s | %s | %s | %s |\n", size, stat(vs, 1, "%.1f×"), spread(vs, "%.1f"), goal(vs, func(m float64) bool { return m >= 5 }))
		vs = values(runs, "BenchmarkPeersMem/mix/"+size, "x-django")
		p("| ops/s ≥ 5× Django (mix, non-durable, worker pipe, tmpfs), %s | %s | %s | %s |\n", size, stat(vs, 1, "%.1f×"), spread(vs, "%.1f"), goal(vs, func(m float64) bool { return m >= 5 }))
		vs = values(runs, "BenchmarkPeers/mix/"+size, "x-django-inproc")
		p("| ops/s ≥ 5× Django (mix, non-durable, in process, disk), %s | %s | %s | %s |\n", size, stat(vs, 1, "%.1f×"), spread(vs, "%.1f"), goal(vs, func(m float64) bool { return m >= 5 }))
		vs = values(runs, "BenchmarkPeers/mix/"+size, "x-django")
		p("| ops/s ≥ 5× Django (mix, non-durable, worker pipe, disk), %s | %s | %s | %s |\n", size, stat(vs, 1, "%.1f×"), spread(vs, "%.1f"), goal(vs, func(m float64) bool { return m >= 5 }))
	}
	vs := scale(values(runs, "BenchmarkCheck/ops=100k", "ns/op"), 1e-9)
	p("| check 100k ops ≤ 1 s | %s | %s | %s |\n", stat(vs, 1, "%.2f s"), spread(vs, "%.2f"), goal(vs, func(m float64) bool { return m <= 1 }))
	vs = ratios(runs, "BenchmarkCheck/ops=100k", "ns/op", "BenchmarkCheck/ops=10k", "ns/op")
	p("| check 100k ≤ 12× 10k | %s | %s | %s |\n\n", stat(vs, 1, "%.1f×"), spread(vs, "%.1f"), goal(vs, func(m float64) bool { return m <= 12 }))

	p("### The store against its floor\n\n")
	p("µs per operation (for 8 clients: wall time over all clients' operations, the inverse of throughput). x floor is the store over the floor measured interleaved with it in the same run.\n\n")
	p("With one client the CPU time of each side is measured too (user and system time of the thread that runs both): x floor CPU is the ratio of work done, which waiting for a core on a loaded machine does not inflate.\n\n")
	p("| operation | size | clients | floor µs | store µs | x floor | runs (min–max) | x floor CPU | store allocs/op | store B/op |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, op := range storeOps {
		for _, size := range sizes {
			for _, sh := range shapes {
				name := "BenchmarkStore/" + op + "/" + size + "/" + sh
				if _, ok := median(values(runs, name, "x-floor")); !ok {
					continue
				}
				x := values(runs, name, "x-floor")
				p("| %s | %s | %s | %s | %s | **%s** | %s | %s | %s | %s |\n", op, size, shapeTitle[sh],
					stat(values(runs, name, "floor-ns/op"), 1e-3, "%.1f"), stat(values(runs, name, "store-ns/op"), 1e-3, "%.1f"),
					stat(x, 1, "%.2f"), spread(x, "%.2f"), stat(values(runs, name, "x-floor-cpu"), 1, "%.2f"),
					stat(values(runs, name, "store-allocs/op"), 1, "%.0f"), stat(values(runs, name, "store-B/op"), 1, "%.0f"))
			}
		}
	}

	for _, pass := range []struct{ bench, title string }{
		{"BenchmarkPeers", "on the disk"},
		{"BenchmarkPeersMem", "on tmpfs (the stores' own costs)"},
	} {
		if !hasPrefix(runs, pass.bench+"/") {
			continue
		}
		p("\n### Peers on the same work, %s\n\n", pass.title)
		p("µs per operation, one sequential client each. go-inproc and django-inproc call their store in process (no pipe); the others are behind the worker protocol. x django-inproc = django-inproc's time over go-inproc's; x django and x gorilla = the peer's time over go-nondurable's (through the same pipe); both taken within each run: how many times more operations per second the reference does, without fsync.\n\n")
		p("| workload | size | go-inproc µs | django-inproc µs | go-nondurable µs | go-durable µs | django µs | gorilla µs | x django-inproc | x django | x gorilla |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
		for _, wl := range workloads {
			for _, size := range sizes {
				name := pass.bench + "/" + wl + "/" + size
				if !has(runs, name) {
					continue
				}
				row := []string{wl, size}
				for _, peer := range peers {
					row = append(row, stat(values(runs, name, peer+"-ns/op"), 1e-3, "%.0f"))
				}
				row = append(row, "**"+stat(values(runs, name, "x-django-inproc"), 1, "%.1f")+"**",
					"**"+stat(values(runs, name, "x-django"), 1, "%.1f")+"**", stat(values(runs, name, "x-gorilla"), 1, "%.1f"))
				p("| %s |\n", strings.Join(row, " | "))
			}
		}

	}
	p("\n### Checker: history length (16 clients, 1,000 keys)\n\n")
	p("| operations | per-key overlap | check ms | runs (min–max) | × 10k | MB allocated |\n|---|---|---|---|---|---|\n")
	for _, n := range checkOps {
		name := "BenchmarkCheck/ops=" + n
		if !has(runs, name) {
			continue
		}
		t := scale(values(runs, name, "ns/op"), 1e-9)
		p("| %s | %s | %s | %s | %s | %s |\n", n, stat(values(runs, name, "key-overlap"), 1, "%.2f"),
			stat(t, 1e3, "%.0f"), spreadScaled(t, 1e3, "%.0f"),
			stat(ratios(runs, name, "ns/op", "BenchmarkCheck/ops=10k", "ns/op"), 1, "%.1f"),
			stat(values(runs, name, "B/op"), 1e-6, "%.0f"))
	}
	if has(runs, "BenchmarkLinCheck/ops=10000") {
		p("\nThe same check on histories recorded from 16 goroutine clients over 1,000 keys of a correct in-memory store (package linearizability's own BenchmarkCheck, run in the same runs):\n\n")
		p("| operations | check ms | runs (min–max) | × 10k | MB allocated |\n|---|---|---|---|---|\n")
		for _, n := range []string{"10000", "100000"} {
			name := "BenchmarkLinCheck/ops=" + n
			t := scale(values(runs, name, "ns/op"), 1e-9)
			p("| %s | %s | %s | %s | %s |\n", n, stat(t, 1e3, "%.0f"), spreadScaled(t, 1e3, "%.0f"),
				stat(ratios(runs, name, "ns/op", "BenchmarkLinCheck/ops=10000", "ns/op"), 1, "%.1f"), stat(values(runs, name, "B/op"), 1e-6, "%.0f"))
		}
	}
	p("\n### Checker: per-key concurrency (10k operations, 16 clients)\n\n")
	p("| keys | per-key overlap | check ms | runs (min–max) | MB allocated |\n|---|---|---|---|---|\n")
	for _, k := range checkKeys {
		name := "BenchmarkCheckContention/keys=" + k
		if !has(runs, name) {
			continue
		}
		t := scale(values(runs, name, "ns/op"), 1e-9)
		p("| %s | %s | %s | %s | %s |\n", k, stat(values(runs, name, "key-overlap"), 1, "%.2f"),
			stat(t, 1e3, "%.0f"), spreadScaled(t, 1e3, "%.0f"), stat(values(runs, name, "B/op"), 1e-6, "%.0f"))
	}
	p("\n### Parts of the store's work, on their own\n\n| part | size | µs/op | B/op | allocs/op |\n|---|---|---|---|---|\n")
	for _, part := range []string{"read-raw", "read-osfile-readall", "hmac-sha256", "decode", "encode"} {
		for _, size := range sizes {
			name := "BenchmarkParts/" + part + "/" + size
			if !has(runs, name) {
				continue
			}
			p("| %s | %s | %s | %s | %s |\n", part, size, stat(values(runs, name, "ns/op"), 1e-3, "%.1f"),
				stat(values(runs, name, "B/op"), 1, "%.0f"), stat(values(runs, name, "allocs/op"), 1, "%.0f"))
		}
	}
	if name := "BenchmarkParts/lock-stripe"; has(runs, name) {
		p("| lock-stripe (open, flock, unlock, close) | — | %s | %s | %s |\n", stat(values(runs, name, "ns/op"), 1e-3, "%.1f"),
			stat(values(runs, name, "B/op"), 1, "%.0f"), stat(values(runs, name, "allocs/op"), 1, "%.0f"))
	}

	p("\n### explore\n\n| schedules per exploration | schedules/s | runs/s | runs (min–max) schedules/s |\n|---|---|---|---|\n")
	s := values(runs, "BenchmarkExplore", "schedules/s")
	p("| %s | %s | %s | %s |\n", stat(values(runs, "BenchmarkExplore", "schedules"), 1, "%.0f"), stat(s, 1, "%.0f"),
		stat(values(runs, "BenchmarkExplore", "runs/s"), 1, "%.0f"), spread(s, "%.0f"))
	return b.String()
}

// hasPrefix reports whether any run has a benchmark whose name starts with prefix.
func hasPrefix(runs []Run, prefix string) bool {
	for _, r := range runs {
		for name := range r {
			if strings.HasPrefix(name, prefix) {
				return true
			}
		}
	}
	return false
}

// has reports whether any run has bench.
func has(runs []Run, bench string) bool {
	for _, r := range runs {
		if _, ok := r[bench]; ok {
			return true
		}
	}
	return false
}

func scale(vs []float64, k float64) []float64 {
	out := make([]float64, len(vs))
	for i, v := range vs {
		out[i] = v * k
	}
	return out
}

func spreadScaled(vs []float64, k float64, format string) string { return spread(scale(vs, k), format) }

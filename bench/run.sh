#!/bin/sh
# Regenerates the tables of docs/PERFORMANCE.md: builds the benchmark binary
# once, runs every benchmark group COUNT times (a run = one pass over all
# groups, so the two sides of every ratio are measured in the same run, and
# interleaved within it), keeps the raw output in bench/results/, and
# rewrites the tables section of docs/PERFORMANCE.md with the medians.
#
#   bench/run.sh                 # 6 runs, about 15 minutes on 2 cores
#   COUNT=1 QUICK=1 bench/run.sh # a short smoke run (not for the doc)
#
# SESSIONCHECK_BENCH_DIR picks where the store benchmarks write (default:
# the system temporary directory). It must be on a real disk: on tmpfs an
# fsync costs nothing and the durable figures mean nothing, so the script
# refuses tmpfs unless ALLOW_TMPFS=1.
set -eu
cd "$(dirname "$0")/.."
COUNT=${COUNT:-6}
OUT=bench/results
DIR=${SESSIONCHECK_BENCH_DIR:-${TMPDIR:-/tmp}}
FSTYPE=$(stat -f -c %T "$DIR")
DEVICE=$(df -P "$DIR" | awk 'NR==2 {print $1}')
if [ "$FSTYPE" = tmpfs ] && [ "${ALLOW_TMPFS:-0}" != 1 ]; then
	echo "run.sh: $DIR is on tmpfs; set SESSIONCHECK_BENCH_DIR to a directory on a real disk" >&2
	exit 2
fi
# MEMDIR: a tmpfs directory for the second peer pass (empty: skipped).
MEMDIR=${SESSIONCHECK_MEM_DIR:-/dev/shm}
if [ ! -d "$MEMDIR" ] || [ "$(stat -f -c %T "$MEMDIR")" != tmpfs ]; then
	echo "run.sh: $MEMDIR is not a tmpfs directory; the in-memory peer pass is skipped" >&2
	MEMDIR=
fi
if [ "${QUICK:-0}" = 1 ]; then
	STORE_TIME=100x PEER_TIME=50x CHECK_TIME=1x EXPLORE_TIME=1x PARTS_TIME=100x
else
	STORE_TIME=1s PEER_TIME=1s CHECK_TIME=2x EXPLORE_TIME=2x PARTS_TIME=0.5s
fi

BIN=$(mktemp -d)/bench.test
LINBIN=$(dirname "$BIN")/linearizability.test
trap 'rm -rf "$(dirname "$BIN")"' EXIT
go test -c -o "$BIN" ./bench
go test -c -o "$LINBIN" ./linearizability
mkdir -p "$OUT"
rm -f "$OUT"/run-*.txt

{
	echo "date:      $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "commit:    $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- impl bench linearizability explore worker 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "go:        $(go version | cut -d' ' -f3-)"
	echo "cpu:       $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') × $(nproc)"
	echo "disk:      $DIR on $DEVICE ($FSTYPE; $(findmnt -n -o FSTYPE,OPTIONS -T "$DIR" 2>/dev/null || echo '?'))"
	echo "memory:    ${MEMDIR:-none} (peers' second pass)"
	echo "python:    $(${SESSIONCHECK_PYTHON:-/usr/bin/python3} -c 'import sys, django; print(sys.version.split()[0], "Django", django.get_version())' 2>/dev/null || echo 'Django not importable')"
	echo "runs:      $COUNT (benchtime store $STORE_TIME, peers $PEER_TIME, checker $CHECK_TIME, explore $EXPLORE_TIME, parts $PARTS_TIME)"
	echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the start"
} > "$OUT/env.txt"
cat "$OUT/env.txt"

# group NAME BENCHTIME runs one group of benchmarks; a failure is noted and
# the run goes on, so that one broken peer does not cost the other tables.
group() {
	(cd bench && "$BIN" -test.run '^$' -test.bench "$1" -test.benchtime "$2") >> "$RUNFILE" 2>&1 || {
		echo "run.sh: $1 failed in $RUNFILE (the tables use what finished)" >&2
		FAILED=1
	}
}
FAILED=0
i=1
while [ "$i" -le "$COUNT" ]; do
	echo "run $i of $COUNT" >&2
	RUNFILE="$OUT/run-$i.txt"
	group '^BenchmarkStore$' "$STORE_TIME"
	group '^BenchmarkPeers$' "$PEER_TIME"
	# The peers again on tmpfs: a rename that replaces a file makes ext4
	# (auto_da_alloc) start writeback even without fsync, which swamps the
	# stores' own costs; in memory only those remain.
	if [ -n "$MEMDIR" ]; then
		(cd bench && SESSIONCHECK_PEER_DIR="$MEMDIR" "$BIN" -test.run '^$' -test.bench '^BenchmarkPeers$' -test.benchtime "$PEER_TIME") 2>&1 |
			sed 's/^BenchmarkPeers\//BenchmarkPeersMem\//' >> "$RUNFILE"
	fi
	group '^BenchmarkCheck' "$CHECK_TIME"
	group '^BenchmarkExplore$' "$EXPLORE_TIME"
	group '^BenchmarkParts$' "$PARTS_TIME"
	# The linearizability package's own checker benchmark (recorded
	# histories), renamed so that it does not mix with bench's BenchmarkCheck.
	(cd linearizability && "$LINBIN" -test.run '^$' -test.bench '^BenchmarkCheck$' -test.benchtime "$CHECK_TIME") 2>&1 |
		sed 's/^BenchmarkCheck\//BenchmarkLinCheck\//' >> "$RUNFILE" || {
		echo "run.sh: linearizability BenchmarkCheck failed in $RUNFILE" >&2
		FAILED=1
	}
	if grep -q '^--- FAIL\|^FAIL' "$RUNFILE"; then
		echo "run.sh: a benchmark failed in $RUNFILE" >&2
		FAILED=1
	fi
	i=$((i + 1))
done
echo "load:      $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min) at the end" >> "$OUT/env.txt"

go run ./bench/tables -doc docs/PERFORMANCE.md -env "$OUT/env.txt" "$OUT"/run-*.txt
echo "docs/PERFORMANCE.md updated from $OUT/run-*.txt" >&2
exit "$FAILED"

#!/usr/bin/env bash
# Scan benchmark: the same scans of one LanceDB-written dataset through a
# Lance foreign table, in LanceDB itself (Node), and on a heap table holding
# the same rows.  Prints figures; asserts nothing.  See README.md.
#
#   bench/scan/run.sh
#
# Needs the extension installed into the server `pg_config` names (make
# install) and @lancedb/lancedb in $LANCEDB_REF (default
# test/interop/.lancedb, where scripts/test.sh installs it).
#
# Environment: BENCH_DIR (where the dataset is kept between runs, default
# /tmp/lancedb_fdw_bench_scan), ROWS (default 1000000), ROUNDS (default 3)
# and REPEATS (default 3): each round times every scan REPEATS times in
# each system in turn, so a burst of load on a shared machine hits them
# alike; the figure is the best of all ROUNDS x REPEATS runs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export LANCEDB_REF=${LANCEDB_REF:-$ROOT/test/interop/.lancedb}
BENCH_DIR=${BENCH_DIR:-/tmp/lancedb_fdw_bench_scan}
ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-3}
REPEATS=${REPEATS:-3}
SCRIPT=$ROOT/bench/scan/lancedb_scan.mjs

# --- the dataset, written once by LanceDB and kept --------------------------
# The stamp names the row count and the script's checksum, so a change to
# either writes the dataset again.
stamp="$ROWS $(sha1sum "$SCRIPT" | cut -c1-12)"
if [ "$(cat "$BENCH_DIR/stamp" 2>/dev/null)" != "$stamp" ]; then
	echo "writing $ROWS rows with LanceDB into $BENCH_DIR ..." >&2
	rm -rf "$BENCH_DIR"
	mkdir -p "$BENCH_DIR"
	node "$SCRIPT" write "$BENCH_DIR" "$ROWS" 2> >(grep -v WARN >&2)
	echo "$stamp" >"$BENCH_DIR/stamp"
fi
# the server reads it as its own user
chmod -R a+rX "$BENCH_DIR"

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# --- PostgreSQL: a throwaway cluster -----------------------------------------
. scripts/cluster.sh
trap cluster_stop EXIT
cluster_start
# Room for the heap table in shared buffers (a table under a quarter of
# them is scanned without the ring buffer, so it stays cached: warm).
psql -X -q -c "ALTER SYSTEM SET shared_buffers = '1GB'" >/dev/null
_cluster_as_owner "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -w restart >/dev/null

psql -X -q -v ON_ERROR_STOP=1 >/dev/null <<EOF
CREATE EXTENSION lancedb_fdw;
CREATE SERVER bench_lance FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri '$BENCH_DIR');
IMPORT FOREIGN SCHEMA lance LIMIT TO (bench) FROM SERVER bench_lance INTO public;
CREATE TABLE heap_bench AS SELECT * FROM bench;
VACUUM (FREEZE, ANALYZE) heap_bench;
EOF

# Best time in ms of REPEATS runs of a query in one session, after one
# untimed run that warms the caches, and the backend's average CPU time
# per run (user + system from /proc, in clock ticks: the average over the
# runs is finer than one run).  psql's \timing is what a client sees:
# parse, plan and execute, and the round trip over the socket.  Parallel
# query is off (one process per scan, as the foreign scan is) and so is JIT
# (its compile time would be noise on a 1M-row scan).
TICK_MS=$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN { print 1000 / hz }')
pg_ms() {
	local query=$1 script cpu0 cpu1
	cpu0=$(mktemp)
	cpu1=$(mktemp)
	script="SET max_parallel_workers_per_gather = 0;
SET jit = off;
$query;
SELECT pg_backend_pid() AS pid \\gset
\\setenv BACKEND_PID :pid
\\! awk '{ print \$14 + \$15 }' /proc/\$BACKEND_PID/stat >$cpu0
\\timing on"
	for _ in $(seq "$REPEATS"); do
		script="$script
$query;"
	done
	script="$script
\\! awk '{ print \$14 + \$15 }' /proc/\$BACKEND_PID/stat >$cpu1"
	echo "$script" | psql -X -q -v ON_ERROR_STOP=1 |
		awk -v cpu0="$cpu0" -v cpu1="$cpu1" -v tick="$TICK_MS" -v n="$REPEATS" '
		/^Time: / { if (best == "" || $2 < best) best = $2 }
		END { getline t0 <cpu0; getline t1 <cpu1; print best, (t1 - t0) * tick / n }'
	rm -f "$cpu0" "$cpu1"
}

declare -A SQL=(
	[count]='SELECT count(*) FROM %s'
	[sum_i]='SELECT sum(i) FROM %s'
	[sum_f]='SELECT sum(f) FROM %s'
	[all]='SELECT count(t.*) FROM %s t'
)
SCANS=(count sum_i sum_f all)
# The scans in LanceDB, one JSON line each: once as it runs by default
# (its thread pools use every CPU), once held to one CPU with taskset, as
# one backend process is.
lancedb_run() {
	"$@" node "$SCRIPT" time "$BENCH_DIR" "$REPEATS" 2> >(grep -v WARN >&2)
}
lancedb_figure() {
	echo "$1" | sed -n "s/.*\"scan\":\"$2\".*\"$3\":\([0-9.e-]*\).*/\1/p"
}

# The smaller of a running best and a new figure.
best_of() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'
}

# Per scan: best wall time, and the lowest of the rounds' average CPU times.
declare -A FDW HEAP LANCE LANCE1 FDW_CPU HEAP_CPU LANCE_CPU
for round in $(seq "$ROUNDS"); do
	echo "round $round of $ROUNDS: LanceDB, LanceDB on one CPU, foreign table, heap table ..." >&2
	out=$(lancedb_run)
	out1=$(lancedb_run taskset -c 0)
	for scan in "${SCANS[@]}"; do
		LANCE[$scan]=$(best_of "${LANCE[$scan]:-}" "$(lancedb_figure "$out" "$scan" ms)")
		LANCE_CPU[$scan]=$(best_of "${LANCE_CPU[$scan]:-}" "$(lancedb_figure "$out" "$scan" cpu_ms)")
		LANCE1[$scan]=$(best_of "${LANCE1[$scan]:-}" "$(lancedb_figure "$out1" "$scan" ms)")
		# shellcheck disable=SC2059
		read -r ms cpu <<<"$(pg_ms "$(printf "${SQL[$scan]}" bench)")"
		FDW[$scan]=$(best_of "${FDW[$scan]:-}" "$ms")
		FDW_CPU[$scan]=$(best_of "${FDW_CPU[$scan]:-}" "$cpu")
		# shellcheck disable=SC2059
		read -r ms cpu <<<"$(pg_ms "$(printf "${SQL[$scan]}" heap_bench)")"
		HEAP[$scan]=$(best_of "${HEAP[$scan]:-}" "$ms")
		HEAP_CPU[$scan]=$(best_of "${HEAP_CPU[$scan]:-}" "$cpu")
	done
done

# --- the table ---------------------------------------------------------------
declare -A LABEL=(
	[count]='count(*)'
	[sum_i]='sum(i) int32'
	[sum_f]='sum(f) float64'
	[all]='all 10 columns'
)
echo
echo "Scan benchmark: $ROWS rows x 10 columns written by LanceDB $(node -e "console.log(require('$LANCEDB_REF/node_modules/@lancedb/lancedb/package.json').version)") (default file format)"
echo "$(nproc) CPUs, load average at start $LOAD; best of $((ROUNDS * REPEATS)) warm runs each; rows/s = rows / best time"
echo "LanceDB: all CPUs; LanceDB 1cpu: the same held to one CPU (taskset); FDW and heap: one backend"
echo
printf '%-15s %10s %10s %12s %10s %12s %12s\n' scan FDW LanceDB 'LanceDB 1cpu' heap 'FDW/LanceDB' 'FDW/1cpu'
for scan in "${SCANS[@]}"; do
	awk -v label="${LABEL[$scan]}" -v rows="$ROWS" -v fdw="${FDW[$scan]}" -v lance="${LANCE[$scan]}" \
		-v lance1="${LANCE1[$scan]}" -v heap="${HEAP[$scan]}" 'BEGIN {
		printf "%-15s %10.3g %10.3g %12.3g %10.3g %11.2fx %11.2fx\n", label, rows / fdw * 1000,
			rows / lance * 1000, rows / lance1 * 1000, rows / heap * 1000, lance / fdw, lance1 / fdw
	}'
done
echo "(rows/s)"
echo
printf '%-15s %10s %10s %12s %10s\n' 'best time, ms' FDW LanceDB 'LanceDB 1cpu' heap
for scan in "${SCANS[@]}"; do
	printf '%-15s %10.3f %10.3f %12.3f %10.3f\n' "${LABEL[$scan]}" "${FDW[$scan]}" "${LANCE[$scan]}" \
		"${LANCE1[$scan]}" "${HEAP[$scan]}"
done
echo
echo "CPU time per scan, ms (user + system; FDW and heap: the backend; LanceDB: every thread of"
echo "its process; the average over a round's runs, lowest round); count(*) is below a clock tick"
printf '%-15s %10s %10s %10s %12s\n' 'CPU ms' FDW LanceDB heap 'FDW/LanceDB'
for scan in sum_i sum_f all; do
	awk -v label="${LABEL[$scan]}" -v fdw="${FDW_CPU[$scan]}" -v lance="${LANCE_CPU[$scan]}" \
		-v heap="${HEAP_CPU[$scan]}" 'BEGIN {
		printf "%-15s %10.1f %10.1f %10.1f %11.2fx\n", label, fdw, lance, heap, lance / fdw
	}'
done

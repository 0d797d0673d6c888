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
# /tmp/lancedb_fdw_bench_scan), ROWS (default 1000000), REPEATS (timed runs
# per scan, best taken; default 5).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
export LANCEDB_REF=${LANCEDB_REF:-$ROOT/test/interop/.lancedb}
BENCH_DIR=${BENCH_DIR:-/tmp/lancedb_fdw_bench_scan}
ROWS=${ROWS:-1000000}
REPEATS=${REPEATS:-5}
SCRIPT=$ROOT/bench/scan/lancedb_scan.mjs

# --- the dataset, written once by LanceDB and kept --------------------------
# The stamp names the row count and the generator's checksum, so a change
# to either writes the dataset again.
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

# --- LanceDB ----------------------------------------------------------------
echo "timing LanceDB (best of $REPEATS) ..." >&2
lancedb_out=$(node "$SCRIPT" time "$BENCH_DIR" "$REPEATS" 2> >(grep -v WARN >&2))
lancedb_ms() {
	echo "$lancedb_out" | sed -n "s/.*\"scan\":\"$1\",\"ms\":\([0-9.e-]*\).*/\1/p"
}

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
# untimed run that warms the caches.  psql's \timing is what a client
# sees: parse, plan and execute, and the round trip over the socket.
# Parallel query is off (one process per scan, as the foreign scan is)
# and so is JIT (its compile time would be noise on a 1M-row scan).
pg_ms() {
	local query=$1 script
	script="SET max_parallel_workers_per_gather = 0;
SET jit = off;
$query;
\\timing on"
	for _ in $(seq "$REPEATS"); do
		script="$script
$query;"
	done
	echo "$script" | psql -X -q -v ON_ERROR_STOP=1 |
		awk '/^Time: / { if (best == "" || $2 < best) best = $2 } END { print best }'
}

declare -A SQL=(
	[count]='SELECT count(*) FROM %s'
	[sum_i]='SELECT sum(i) FROM %s'
	[sum_f]='SELECT sum(f) FROM %s'
	[all]='SELECT count(t.*) FROM %s t'
)
SCANS=(count sum_i sum_f all)
declare -A FDW HEAP LANCE
for scan in "${SCANS[@]}"; do
	echo "timing $scan through the foreign table and the heap table (best of $REPEATS) ..." >&2
	# shellcheck disable=SC2059
	FDW[$scan]=$(pg_ms "$(printf "${SQL[$scan]}" bench)")
	# shellcheck disable=SC2059
	HEAP[$scan]=$(pg_ms "$(printf "${SQL[$scan]}" heap_bench)")
	LANCE[$scan]=$(lancedb_ms "$scan")
done

# --- the table ---------------------------------------------------------------
declare -A LABEL=(
	[count]='count(*)'
	[sum_i]='sum(i)  int32'
	[sum_f]='sum(f)  float64'
	[all]='all 10 columns'
)
echo
echo "Scan benchmark: $ROWS rows x 10 columns written by LanceDB $(node -e "console.log(require('$LANCEDB_REF/node_modules/@lancedb/lancedb/package.json').version)") (default file format)"
echo "$(nproc) CPUs; best of $REPEATS warm runs each; rows/s = rows / best time"
echo
printf '%-16s %14s %14s %14s %12s\n' scan 'FDW rows/s' 'LanceDB rows/s' 'heap rows/s' 'FDW/LanceDB'
for scan in "${SCANS[@]}"; do
	awk -v label="${LABEL[$scan]}" -v rows="$ROWS" -v fdw="${FDW[$scan]}" \
		-v lance="${LANCE[$scan]}" -v heap="${HEAP[$scan]}" 'BEGIN {
		printf "%-16s %14.3g %14.3g %14.3g %11.2fx\n", label,
			rows / fdw * 1000, rows / lance * 1000, rows / heap * 1000, lance / fdw
	}'
done
echo
printf '%-16s %14s %14s %14s\n' 'best time, ms' FDW LanceDB heap
for scan in "${SCANS[@]}"; do
	printf '%-16s %14.3f %14.3f %14.3f\n' "${LABEL[$scan]}" "${FDW[$scan]}" "${LANCE[$scan]}" "${HEAP[$scan]}"
done

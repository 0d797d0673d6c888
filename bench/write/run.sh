#!/usr/bin/env bash
# bench/write: COPY of N rows (10 columns, one vector(128)) into a Lance
# foreign table, LanceDB's table.add() of the same rows in Node, and COPY
# into a heap table; prints rows/s and the ratios.
#
#   bench/write/run.sh [ROWS]        (default 1000000)
#
# Needs the extension installed in the pg_config on PATH and LanceDB
# installed by scripts/test.sh (test/interop/.lancedb).  Starts its own
# throwaway cluster; data goes under a temporary folder.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-1000000}
. bench/write/common.sh
bench_start write
awk -v n="$ROWS" -f bench/write/gen_rows.awk >"$WORK/rows.tsv"
chmod 644 "$WORK/rows.tsv"

COLS="id bigint NOT NULL, a integer, b bigint, c double precision, d real, e boolean, f text, g text, ts timestamp, vec vector(128)"
# COPY's fast path is a ProcessUtility hook, so it applies to a session's
# first statement only when the library is preloaded (docs/writer.md)
psql -XAtq >/dev/null <<SQL
ALTER SYSTEM SET session_preload_libraries = 'lancedb_fdw';
SELECT pg_reload_conf();
SQL
psql -XAtq <<SQL
CREATE EXTENSION lancedb_fdw;
CREATE TABLE heap ($COLS);
CREATE SERVER lance FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri '$WORK/lance');
CREATE FOREIGN TABLE bench ($COLS) SERVER lance;
SELECT lance_create_table('bench', '2.2');
CREATE FOREIGN TABLE bench_std ($COLS) SERVER lance;
SELECT lance_create_table('bench_std', '2.2');
SQL
lance_s=$(timed "COPY bench FROM '$WORK/rows.tsv'")
# the same COPY on the standard (executor) path
lance_std_s=$(PGOPTIONS="-c lancedb.copy_fast_path=off" timed "COPY bench_std FROM '$WORK/rows.tsv'")
heap_s=$(timed "COPY heap FROM '$WORK/rows.tsv'")
check=$(psql -XAtq -c "SELECT count(*) FROM bench")
# both paths wrote the same rows
differ=$(psql -XAtq -c "SELECT count(*) FROM (SELECT * FROM bench EXCEPT ALL SELECT * FROM bench_std) d")
[ "$differ" = 0 ] || { echo "fast and standard COPY differ in $differ rows" >&2; exit 1; }
# the same rows in COPY's binary format: no text parsing of 128 floats a row
psql -XAtq -c "COPY heap TO '$WORK/rows.bin' (FORMAT binary)"
psql -XAtq -c "TRUNCATE heap"
psql -XAtq <<SQL
CREATE FOREIGN TABLE bench_bin ($COLS) SERVER lance;
SELECT lance_create_table('bench_bin', '2.2');
SQL
lance_bin_s=$(timed "COPY bench_bin FROM '$WORK/rows.bin' (FORMAT binary)")
heap_bin_s=$(timed "COPY heap FROM '$WORK/rows.bin' (FORMAT binary)")
ldb_s=$(lancedb_add_seconds lancedb_add.mjs "$ROWS")

awk -v n="$ROWS" -v load="$load" -v l="$lance_s" -v h="$heap_s" -v d="$ldb_s" -v c="$check" \
	-v lb="$lance_bin_s" -v hb="$heap_bin_s" -v ls="$lance_std_s" 'BEGIN {
	printf "rows: %d (Lance table reads back %d), load average before: %s\n", n, c, load
	printf "%-38s %10s %12s\n", "writer", "seconds", "rows/s"
	printf "%-38s %10.2f %12.0f\n", "COPY into Lance foreign table (2.2)", l, n / l
	printf "%-38s %10.2f %12.0f\n", "  the same, copy_fast_path off", ls, n / ls
	printf "%-38s %10.2f %12.0f\n", "LanceDB table.add() in Node", d, n / d
	printf "%-38s %10.2f %12.0f\n", "COPY into heap table", h, n / h
	printf "%-38s %10.2f %12.0f\n", "COPY BINARY into Lance foreign table", lb, n / lb
	printf "%-38s %10.2f %12.0f\n", "COPY BINARY into heap table", hb, n / hb
	printf "text COPY:   Lance / LanceDB add: %.2fx   Lance / heap: %.2fx   fast / standard path: %.2fx\n", d / l, h / l, ls / l
	printf "binary COPY: Lance / LanceDB add: %.2fx   Lance / heap: %.2fx\n", d / lb, hb / lb
}'

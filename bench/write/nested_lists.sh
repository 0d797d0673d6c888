#!/usr/bin/env bash
# bench/write/nested_lists.sh: COPY of N rows of lists of lists
# (list<list<int64>> and list<fixed_size_list<float, 4>>, written from
# jsonb) into a Lance foreign table in file versions 2.0 and 2.2,
# LanceDB's table.add() of the same rows in Node, and COPY of the same
# jsonb into a heap table; prints rows/s and the ratios.
#
#   bench/write/nested_lists.sh [ROWS]        (default 200000)
#
# Needs what run.sh needs (the extension installed in the pg_config on
# PATH, LanceDB in test/interop/.lancedb); starts its own cluster.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROWS=${1:-200000}
. bench/write/common.sh
bench_start nested
awk -v n="$ROWS" -f bench/write/gen_nested_rows.awk >"$WORK/rows.tsv"
chmod 644 "$WORK/rows.tsv"

# lance_create_table makes list<list<int64>> from bigint[][] and
# list<fixed_size_list<float, 4>> from vector(4)[]; the tables written
# then declare both jsonb
psql -XAtq <<SQL
CREATE EXTENSION lancedb_fdw;
CREATE TABLE heap (id bigint NOT NULL, ll jsonb, boxes jsonb);
CREATE SERVER lance FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri '$WORK/lance');
CREATE FOREIGN TABLE make_v2_0 (id bigint NOT NULL, ll bigint[][], boxes vector(4)[])
	SERVER lance OPTIONS (table 'v2_0');
CREATE FOREIGN TABLE make_v2_2 (id bigint NOT NULL, ll bigint[][], boxes vector(4)[])
	SERVER lance OPTIONS (table 'v2_2');
SELECT lance_create_table('make_v2_0', '2.0');
SELECT lance_create_table('make_v2_2', '2.2');
CREATE FOREIGN TABLE v2_0 (id bigint NOT NULL, ll jsonb, boxes jsonb) SERVER lance;
CREATE FOREIGN TABLE v2_2 (id bigint NOT NULL, ll jsonb, boxes jsonb) SERVER lance;
SQL
l20_s=$(timed "COPY v2_0 FROM '$WORK/rows.tsv'")
l22_s=$(timed "COPY v2_2 FROM '$WORK/rows.tsv'")
heap_s=$(timed "COPY heap FROM '$WORK/rows.tsv'")
check=$(psql -XAtq -c "SELECT count(*) FROM (SELECT * FROM v2_2 EXCEPT SELECT * FROM heap) d")
ldb_s=$(lancedb_add_seconds lancedb_add_nested.mjs "$ROWS")

awk -v n="$ROWS" -v load="$load" -v a="$l20_s" -v b="$l22_s" -v h="$heap_s" -v d="$ldb_s" \
	-v c="$check" 'BEGIN {
	printf "rows: %d (2.2 rows differing from the heap copy: %d), load average before: %s\n", n, c, load
	printf "%-40s %10s %12s\n", "writer", "seconds", "rows/s"
	printf "%-40s %10.2f %12.0f\n", "COPY into Lance foreign table (2.0)", a, n / a
	printf "%-40s %10.2f %12.0f\n", "COPY into Lance foreign table (2.2)", b, n / b
	printf "%-40s %10.2f %12.0f\n", "LanceDB table.add() in Node (2.2)", d, n / d
	printf "%-40s %10.2f %12.0f\n", "COPY of the jsonb into a heap table", h, n / h
	printf "2.2 COPY: Lance / LanceDB add: %.2fx   Lance / heap: %.2fx\n", d / b, h / b
}'

#!/usr/bin/env bash
#
# run.sh - lance_ivfpq against pgvector IVFFlat, side by side (issue #7).
#
#   IVFPQ_BENCH_CONN="host=/tmp/x port=5432 user=postgres" bench/ivfpq/run.sh [-n 100000] [-r 10]
#
# Drives the shared ANN harness (../shared/bench-ann, read-only: copied to
# a work directory and built there) on its synth128 data: the same rows,
# queries and lists = round(sqrt(n)) for both indexes.  pgvector must be
# installed in the server; it defines its own `vector` type, as lancedb_fdw
# does, so each extension gets a database of its own.  -r sets
# lancedb.ivfpq_refine_factor for the lance_ivfpq runs.  Results (CSV,
# Markdown, logs) go to $IVFPQ_BENCH_WORK/results; the table to report is
# printed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
HARNESS=${ANN_HARNESS:-$HERE/../../../shared/bench-ann}
WORK=${IVFPQ_BENCH_WORK:-/tmp/lancedb-ivfpq-bench}
CONN=${IVFPQ_BENCH_CONN:?set IVFPQ_BENCH_CONN to a libpq connection string without dbname}
N=100000
REFINE=10
MWM=1GB

while [ $# -gt 0 ]; do
	case $1 in
		-n) N=$2; shift 2 ;;
		-r) REFINE=$2; shift 2 ;;
		--mwm) MWM=$2; shift 2 ;;
		*) echo "usage: $0 [-n N] [-r REFINE_FACTOR] [--mwm SIZE]" >&2; exit 2 ;;
	esac
done

mkdir -p "$WORK"
if [ ! -x "$WORK/harness/annbench" ]; then
	rm -rf "$WORK/harness"
	cp -r "$HARNESS" "$WORK/harness"
	chmod -R u+w "$WORK/harness"
	make -C "$WORK/harness" >/dev/null
fi
export ANN_DATA=$WORK/data
[ -f "$ANN_DATA/synth128.base.fvecs" ] || "$WORK/harness/make-data.sh"

for db in ivfpq_bench_pgvector ivfpq_bench_lancedb; do
	psql -X -q "$CONN dbname=postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
		psql -X -q "$CONN dbname=postgres" -c "CREATE DATABASE $db"
done

cd "$WORK/harness"
# no throughput or filtered runs: one client, the unfiltered sweep
COMMON=(-n "$N" --mwm "$MWM" --clients 0 -o "$WORK/results")
./run.sh -p profiles/pgvector-ivfflat.sh -c "$CONN dbname=ivfpq_bench_pgvector" "${COMMON[@]}"
OURS_SESSION_SETUP="SET lancedb.ivfpq_refine_factor = $REFINE" \
	./run.sh -p profiles/ours-ivfpq.sh -c "$CONN dbname=ivfpq_bench_lancedb" "${COMMON[@]}"

awk -f wide.awk "$WORK"/results/*-"$N"-*.csv 2>/dev/null || awk -f csv2md.awk "$WORK"/results/*-"$N"-*.csv

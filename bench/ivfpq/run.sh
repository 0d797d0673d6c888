#!/usr/bin/env bash
#
# run.sh - lance_ivfpq against pgvector IVFFlat, side by side (issue #7).
#
#   IVFPQ_BENCH_CONN="host=/tmp/x port=5432 user=postgres" bench/ivfpq/run.sh [-n 100000]
#
# Drives the shared ANN harness (../shared/bench-ann, read-only: copied to
# a work directory and built there) on its synth128 data: the same rows,
# queries and lists = round(sqrt(n)) for both indexes.  pgvector must be
# installed in the server; it defines its own `vector` type, as lancedb_fdw
# does, so each extension gets a database of its own.  lance_ivfpq runs once
# per entry of IVFPQ_CONFIGS ("name|WITH options|refine_factor", see below).
# Results (CSV, Markdown, logs) go to $IVFPQ_BENCH_WORK/results; the table
# to report is printed at the end.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
HARNESS=${ANN_HARNESS:-$HERE/../../../shared/bench-ann}
WORK=${IVFPQ_BENCH_WORK:-/tmp/lancedb-ivfpq-bench}
CONN=${IVFPQ_BENCH_CONN:?set IVFPQ_BENCH_CONN to a libpq connection string without dbname}
N=100000
MWM=1GB
NQ=1000

while [ $# -gt 0 ]; do
	case $1 in
		-n) N=$2; shift 2 ;;
		--mwm) MWM=$2; shift 2 ;;
		--nq) NQ=$2; shift 2 ;;
		*) echo "usage: $0 [-n N] [--mwm SIZE] [--nq QUERIES]" >&2; exit 2 ;;
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

LISTS=$(awk -v n="$N" 'BEGIN { printf "%d", sqrt(n) + 0.5 }')
# LanceDB's defaults (num_sub_vectors = dim/16), dim/8 sub-vectors, and dim/8
# with a light training (a tenth of the sample, a fifth of the passes)
if [ -z "${IVFPQ_CONFIGS:-}" ]; then
	IVFPQ_CONFIGS=(
		"ours-ivfpq-m8-r10|lists = $LISTS|10"
		"ours-ivfpq-m8-r50|lists = $LISTS|50"
		"ours-ivfpq-m16-r20|lists = $LISTS, num_sub_vectors = 16|20"
		"ours-ivfpq-m16-light-r20|lists = $LISTS, num_sub_vectors = 16, sample_rate = 25, max_iterations = 10|20"
	)
else
	IFS=';' read -r -a IVFPQ_CONFIGS <<<"$IVFPQ_CONFIGS"
fi
export SEARCH_VALUES=${SEARCH_VALUES:-"8 16 32 64 128"}
# pgvector IVFFlat's own sweep (its probes cost more each)
IVFFLAT_SEARCH_VALUES=${IVFFLAT_SEARCH_VALUES:-$SEARCH_VALUES}

cd "$WORK/harness"
# one client, unfiltered: the figures the issue asks for
COMMON=(-n "$N" --mwm "$MWM" --nq "$NQ" --clients 0 --no-filter -o "$WORK/results")
IVF_LISTS=$LISTS SEARCH_VALUES=$IVFFLAT_SEARCH_VALUES ./run.sh -p profiles/pgvector-ivfflat.sh -c "$CONN dbname=ivfpq_bench_pgvector" "${COMMON[@]}"
for cfg in "${IVFPQ_CONFIGS[@]}"; do
	IFS='|' read -r name options refine <<<"$cfg"
	OURS_PROFILE=$name OURS_IVFPQ_OPTIONS=$options \
		OURS_SESSION_SETUP="SET lancedb.ivfpq_refine_factor = $refine" \
		./run.sh -p profiles/ours-ivfpq.sh -c "$CONN dbname=ivfpq_bench_lancedb" "${COMMON[@]}"
done

awk -f csv2md.awk "$WORK"/results/*-"$N"-*.csv

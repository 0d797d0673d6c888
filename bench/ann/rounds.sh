#!/usr/bin/env bash
#
# bench/ann/rounds.sh - lance_hnsw against pgvector's HNSW in interleaved rounds.
#
#   bench/ann/rounds.sh [-n 100000] [--ef "40"] [--pg-ef "40"] [--rounds 4] [--nq 1000]
#
# On a shared machine the load changes between two runs more than a change
# to the code does, so one run of each side says little.  This alternates
# the two, round after round, on the tables and indexes bench/ann/run.sh
# left (run it first: it keeps its indexes), and prints each round with
# its load average, for the 10%-filtered query (pgvector with
# hnsw.iterative_scan = relaxed_order) and the plain one.  --ef lists the
# lancedb.hnsw_ef_search values to run, --pg-ef pgvector's hnsw.ef_search
# values; each of ours is compared, in QPS and in server CPU per query,
# with pgvector at the first of --pg-ef in the same round.
# The annbench columns: recall, qps, p50_ms, p95_ms, p99_ms, mean_ms,
# cpu_ms (server CPU per query, steadier than QPS under load), avg_rows,
# queries.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$ROOT/.build/bench-ann
N=100000
EF=40
PG_EF=40
ROUNDS=4
NQ=1000
HOST=${ANN_HOST:-${PGHOST:-/tmp}}
PORT=${ANN_PORT:-${PGPORT:-5432}}
USER_=${ANN_USER:-${PGUSER:-postgres}}
DB_PG=${ANN_DB_PGVECTOR:-ann_pgvector}
DB_OURS=${ANN_DB_LANCE:-ann_lance}

while [ $# -gt 0 ]; do
	case $1 in
		-n) N=$2; shift 2 ;;
		--ef) EF=$2; shift 2 ;;
		--pg-ef) PG_EF=$2; shift 2 ;;
		--rounds) ROUNDS=$2; shift 2 ;;
		--nq) NQ=$2; shift 2 ;;
		*) echo "usage: $0 [-n N] [--ef \"EF ...\"] [--pg-ef \"EF ...\"] [--rounds R] [--nq N]" >&2; exit 2 ;;
	esac
done

ANNBENCH=${ANNBENCH:-$WORK/annbench}
DATA=${ANN_DATA:-$WORK/data}/synth128
TABLE=ann_synth128_${N}_vector
if [ ! -x "$ANNBENCH" ] || [ ! -f "$DATA.gtf.l2.$N.ivecs" ]; then
	echo "$0: run bench/ann/run.sh -n $N first" >&2
	exit 1
fi

# query DB SETUP filtered|plain: one annbench run, its CSV line
query() {
	local where="" gt=$DATA.gt.l2.$N.ivecs extra=()
	if [ "$3" = filtered ]; then
		where="WHERE category = \$2"
		gt=$DATA.gtf.l2.$N.ivecs
		extra=(--filter-cat "$DATA.query.cat.ivecs")
	fi
	"$ANNBENCH" query --conn "host=$HOST port=$PORT user=$USER_ dbname=$1" --setup "$2" \
		--sql "SELECT id FROM $TABLE $where ORDER BY embedding <-> \$1::vector LIMIT 10" \
		--query "$DATA.query.fvecs" --k 10 --clients 1 --gt "$gt" --nq "$NQ" "${extra[@]}" 2>/dev/null
}

# ratio OURS PGVECTOR: QPS ours / pgvector, and server CPU ours / pgvector
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		split(a, x, ","); split(b, y, ",");
		printf "QPS %.2f, CPU %.2f", x[2] / y[2], x[7] / y[7] }'
}

echo "lance_hnsw vs pgvector, synth128 n=$N, $NQ queries a run, $(nproc) cores"
echo "ours: lancedb.hnsw_ef_search in ($EF); pgvector: hnsw.ef_search in ($PG_EF)"
"$ANNBENCH" query --header
for r in $(seq 1 "$ROUNDS"); do
	echo "round $r, load average $(cut -d' ' -f1 /proc/loadavg)"
	for mode in filtered plain; do
		iter=""
		[ "$mode" = filtered ] && iter="; SET hnsw.iterative_scan = relaxed_order"
		base=""
		for ef in $PG_EF; do
			pg=$(query "$DB_PG" "SET hnsw.ef_search = $ef$iter" $mode)
			[ -n "$base" ] || base=$pg
			printf '  %-8s pgvector   ef %-4s %s\n' "$mode" "$ef" "$pg"
			# the plain query is compared at pgvector's first ef only
			[ "$mode" = plain ] && break
		done
		for ef in $EF; do
			ours=$(query "$DB_OURS" "SET lancedb.hnsw_ef_search = $ef" $mode)
			printf '  %-8s lance_hnsw ef %-4s %s  (%s)\n' "$mode" "$ef" "$ours" "$(ratio "$ours" "$base")"
		done
	done
done

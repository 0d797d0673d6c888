#!/usr/bin/env bash
#
# bench/ann/rounds.sh - lance_hnsw against pgvector's HNSW in interleaved rounds.
#
#   bench/ann/rounds.sh [-n 100000] [--ef 40] [--rounds 4] [--nq 1000]
#
# On a shared machine the load changes between two runs more than a change
# to the code does, so one run of each side says little.  This alternates
# the two, round after round, on the tables and indexes bench/ann/run.sh
# left (run it first: it keeps its indexes), and prints each round with
# its load average and the ratio of the QPS, for the 10%-filtered query
# (pgvector with hnsw.iterative_scan = relaxed_order) and the plain one.
# The annbench columns: recall, qps, p50_ms, p95_ms, p99_ms, mean_ms,
# cpu_ms (server CPU per query, steadier than QPS under load), avg_rows,
# queries.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$ROOT/.build/bench-ann
N=100000
EF=40
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
		--rounds) ROUNDS=$2; shift 2 ;;
		--nq) NQ=$2; shift 2 ;;
		*) echo "usage: $0 [-n N] [--ef EF] [--rounds R] [--nq N]" >&2; exit 2 ;;
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

qps() { cut -d, -f2 <<<"$1"; }

echo "lance_hnsw vs pgvector, synth128 n=$N, ef_search=$EF, $NQ queries a run, $(nproc) cores"
"$ANNBENCH" query --header
for r in $(seq 1 "$ROUNDS"); do
	echo "round $r, load average $(cut -d' ' -f1 /proc/loadavg)"
	for mode in filtered plain; do
		iter=""
		[ "$mode" = filtered ] && iter="; SET hnsw.iterative_scan = relaxed_order"
		pg=$(query "$DB_PG" "SET hnsw.ef_search = $EF$iter" $mode)
		ours=$(query "$DB_OURS" "SET lancedb.hnsw_ef_search = $EF" $mode)
		printf '  %-8s pgvector   %s\n  %-8s lance_hnsw %s\n  %-8s QPS ratio  %s\n' \
			"$mode" "$pg" "$mode" "$ours" "$mode" \
			"$(awk -v a="$(qps "$ours")" -v b="$(qps "$pg")" 'BEGIN { printf "%.2f", a / b }')"
	done
done

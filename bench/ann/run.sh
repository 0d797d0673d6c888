#!/usr/bin/env bash
#
# bench/ann/run.sh - lance_hnsw against pgvector's HNSW, side by side.
#
#   bench/ann/run.sh [-n 100000] [--values "20 40 80 120 200"] [--nq 1000] [--reps 1]
#
# Uses the shared harness (../shared/bench-ann, see its README): builds its
# annbench helper into .build/bench-ann (git-ignored), makes the synthetic
# data set there (synth128: 128 dims, 10 categories, seed 42), then runs the
# pgvector-hnsw profile in database ann_pgvector and the ours-hnsw profile
# in database ann_lance (both extensions define `vector`, so they cannot
# share a database), and prints one table with our figures, pgvector's and
# the ratios: build time, index size, then recall@10, QPS and p50/p99 per
# ef_search, for plain and 10%-filtered queries.
#
# Needs a running server reachable through the usual PG* environment (or
# ANN_HOST/ANN_PORT), with lancedb_fdw and pgvector (`vector`) installed.
# pgvector is not part of this repository: build it from its source
# outside the tree and `make install` it into the same server.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
HARNESS=${BENCH_ANN:-$ROOT/../shared/bench-ann}
WORK=$ROOT/.build/bench-ann
N=100000
NQ=1000
VALUES="20 40 80 120 200"
REPS=1
HOST=${ANN_HOST:-${PGHOST:-/tmp}}
PORT=${ANN_PORT:-${PGPORT:-5432}}
USER_=${ANN_USER:-${PGUSER:-postgres}}

while [ $# -gt 0 ]; do
	case $1 in
		-n) N=$2; shift 2 ;;
		--nq) NQ=$2; shift 2 ;;
		--values) VALUES=$2; shift 2 ;;
		--reps) REPS=$2; shift 2 ;;
		*) echo "usage: $0 [-n N] [--nq N] [--values \"ef ...\"] [--reps R]" >&2; exit 2 ;;
	esac
done

mkdir -p "$WORK"
[ -x "$WORK/annbench" ] ||
	gcc -O3 -march=native -I"$(pg_config --includedir)" -o "$WORK/annbench" \
		"$HARNESS/annbench.c" -L"$(pg_config --libdir)" -lpq -lpthread -lm
export ANNBENCH=$WORK/annbench ANN_DATA=$WORK/data
[ -f "$ANN_DATA/synth128.base.fvecs" ] || "$HARNESS/make-data.sh" -n "$N" >/dev/null

conn() { echo "host=$HOST port=$PORT user=$USER_ dbname=$1"; }
for db in ann_pgvector ann_lance; do
	psql -X -q -h "$HOST" -p "$PORT" -U "$USER_" -d postgres -tAc \
		"SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1 ||
		psql -X -q -h "$HOST" -p "$PORT" -U "$USER_" -d postgres -c "CREATE DATABASE $db"
done

export SEARCH_VALUES=$VALUES
common=(-n "$N" --nq "$NQ" --reps "$REPS" --clients 0 -o "$WORK/results")
"$HARNESS/run.sh" -p "$HARNESS/profiles/pgvector-hnsw.sh" -c "$(conn ann_pgvector)" "${common[@]}"
"$HARNESS/run.sh" -p "$HARNESS/profiles/ours-hnsw.sh" -c "$(conn ann_lance)" "${common[@]}"

pg=$(ls -t "$WORK"/results/pgvector-hnsw-synth128-"$N"-*.csv | head -1)
ours=$(ls -t "$WORK"/results/ours-hnsw-synth128-"$N"-*.csv | head -1)
echo
echo "lance_hnsw vs pgvector HNSW (m=16, ef_construction=64), synth128 n=$N, $(nproc) cores"
awk -f "$ROOT/bench/ann/side_by_side.awk" "$pg" "$ours"

#!/usr/bin/env bash
# BM25 benchmark: lance_bm25 against GIN + ts_rank_cd (and LanceDB's FTS)
# on the shared GCIDE corpus, with ../shared/bench-bm25/run_bench.py.
#
#   bench/bm25/run.sh              lance_bm25 and GIN + ts_rank_cd
#   LANCE_MODULES=/path/to/node_modules bench/bm25/run.sh
#                                  ... and LanceDB (needs @lancedb/lancedb)
#   INSERTS=2000 bench/bm25/run.sh ... and 2,000 single-row inserts, then
#                                  the queries again
#   SCALE=4 bench/bm25/run.sh      the corpus loaded 4 times (ids shifted)
#   PROFILES="ours" bench/bm25/run.sh   only some of: ours ours_english gin
#
# Starts a throwaway cluster (scripts/cluster.sh) with the extension as
# installed, prints the harness's Markdown tables, and leaves the JSON
# results in $OUT (default /tmp/lancedb_bm25_bench).  One run, one client:
# figures from a busy machine are noisy; compare runs on the same machine.
set -euo pipefail
cd "$(dirname "$0")/../.."
SHARED=${LANCEDB_SHARED:-$PWD/../shared}
BENCH=$SHARED/bench-bm25
DATA=$SHARED/data/bm25
OUT=${OUT:-/tmp/lancedb_bm25_bench}
SCALE=${SCALE:-1}
INSERTS=${INSERTS:-0}
PROFILES=${PROFILES:-ours ours_english gin}
mkdir -p "$OUT"

. scripts/cluster.sh
cluster_start
trap cluster_stop EXIT
psql -X -q -c "ALTER SYSTEM SET shared_buffers = '512MB'" -c "ALTER SYSTEM SET maintenance_work_mem = '256MB'"
_cluster_as_owner "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -w restart >/dev/null

# the corpus, SCALE times with ids shifted by 1,000,000 per copy
python3 bench/bm25/corpus.py "$DATA/gcide.csv.gz" "$OUT/corpus.csv" "$SCALE"
python3 "$BENCH/run_bench.py" --db bench load --csv "$OUT/corpus.csv"

run() {
	python3 "$BENCH/run_bench.py" --db bench run --queries "$DATA/queries.tsv" "$@"
}
ins=()
[ "$INSERTS" -gt 0 ] && ins=(--insert-rows "$INSERTS" --insert-offset 10000000)

want() { [[ " $PROFILES " == *" $1 "* ]]; }
rm -f "$OUT"/*.json
# the references hold for the corpus loaded once; at SCALE > 1 only speed counts
ref=(--ref "$DATA/ref_top10.tsv")
ref_en=(--ref "$DATA/ref_top10_english.tsv")
[ "$SCALE" -eq 1 ] || { ref=(); ref_en=(); }
want ours && run --profiles ours "${ref[@]}" --out "$OUT/ours.json" \
	--per-query "$OUT/ours_per_query.tsv" "${ins[@]}"
want ours_english && run --profiles ours --set "with=WITH (text_config = 'english')" "${ref_en[@]}" \
	--out "$OUT/ours_english.json"
want gin && run --profiles pg_gin_or "${ref_en[@]}" --out "$OUT/gin.json" "${ins[@]}"
if [ -n "${LANCE_MODULES:-}" ]; then
	mkdir -p "$OUT/lance"
	run --profiles lance "${ref[@]}" --out "$OUT/lance.json" \
		--csv "$OUT/corpus.csv" --lance-modules "$LANCE_MODULES" --lance-tmp "$OUT/lance" "${ins[@]}"
fi
python3 "$BENCH/run_bench.py" report "$OUT"/*.json

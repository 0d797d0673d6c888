#!/usr/bin/env bash
# Latency inside each engine, fastest of REPS runs per query, so that a
# busy shared machine's scheduling noise (and psql's socket round trip)
# stays out of the comparison: lance_bm25 timed by PL/pgSQL in the backend
# (parse, plan and execute of the benchmark's query, every row fetched),
# LanceDB's FTS timed in its Node process (bench/bm25/lance_inproc.cjs).
#
#   bench/bm25/inproc.sh CORPUS.csv     a corpus CSV that run.sh wrote
#                                       ($OUT/corpus.csv, SCALE as it was)
#   LANCE_MODULES=/path/to/node_modules adds LanceDB; REPS=3 by default
#   TEXT_CONFIG=english                 the index's text_config (simple)
#   SAVE=FILE.json                      keep lance_bm25's time per query
#
# Prints p50, p95, p99, max and the sum over the 200 queries per engine.
set -euo pipefail
cd "$(dirname "$0")/../.."
CORPUS=$(realpath "$1")
SHARED=${LANCEDB_SHARED:-$PWD/../shared}
QUERIES=$SHARED/data/bm25/queries.tsv
REPS=${REPS:-3}
TEXT_CONFIG=${TEXT_CONFIG:-simple}
OUT=$(mktemp -d /tmp/lancedb_bm25_inproc.XXXXXX)

. scripts/cluster.sh
cluster_start
trap 'cluster_stop; rm -rf "$OUT"' EXIT
psql -X -q -c "ALTER SYSTEM SET shared_buffers = '512MB'" -c "ALTER SYSTEM SET maintenance_work_mem = '256MB'"
_cluster_as_owner "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -w restart >/dev/null
python3 "$SHARED/bench-bm25/run_bench.py" --db bench load --csv "$CORPUS" >/dev/null
export PGDATABASE=bench
psql -X -q <<SQL
CREATE EXTENSION lancedb_fdw;
CREATE INDEX docs_ours ON docs USING lance_bm25 (body) WITH (text_config = '$TEXT_CONFIG');
CREATE TEMP TABLE q (qid text, kind text, text text, src_doc text, df_min text, df_max text);
\copy q FROM '$QUERIES' WITH (FORMAT csv, DELIMITER E'\t', HEADER true, QUOTE E'\x01')
CREATE FUNCTION pg_temp.fastest(reps int) RETURNS TABLE (qid text, ms float8)
LANGUAGE plpgsql AS \$\$
DECLARE
	r record;
	x record;
	t0 timestamptz;
BEGIN
	FOR r IN SELECT * FROM q ORDER BY q.qid LOOP
		FOR x IN SELECT id FROM docs ORDER BY body <@> r.text LIMIT 10 LOOP END LOOP;
		ms := 'infinity';
		FOR i IN 1..reps LOOP
			t0 := clock_timestamp();
			FOR x IN EXECUTE 'SELECT id, body <@> \$1 AS s FROM docs ORDER BY body <@> \$1 LIMIT 10'
				USING r.text LOOP
			END LOOP;
			ms := least(ms, extract(epoch FROM clock_timestamp() - t0) * 1000);
		END LOOP;
		qid := r.qid;
		RETURN NEXT;
	END LOOP;
END
\$\$;
\copy (SELECT json_build_object('ms', json_object_agg(qid, ms)) FROM pg_temp.fastest($REPS)) TO '$OUT/ours.json'
SQL
[ -z "${SAVE:-}" ] || cp "$OUT/ours.json" "$SAVE"
if [ -n "${LANCE_MODULES:-}" ]; then
	NODE_PATH=$LANCE_MODULES node bench/bm25/lance_inproc.cjs "$CORPUS" "$QUERIES" "$OUT/lance" "$REPS" \
		2>/dev/null >"$OUT/lance.json"
fi
python3 - "$OUT" "$REPS" <<'PY'
import json, os, sys
out, reps = sys.argv[1], sys.argv[2]
def pct(v, p):
    v = sorted(v)
    k = (len(v) - 1) * p / 100
    f = int(k)
    return v[f] + (v[min(f + 1, len(v) - 1)] - v[f]) * (k - f)
print(f"| engine | p50 ms | p95 ms | p99 ms | max ms | sum of 200 ms |  (fastest of {reps} runs per query)")
print("|---|---|---|---|---|---|")
for name in ("ours", "lance"):
    path = os.path.join(out, name + ".json")
    if not os.path.exists(path):
        continue
    ms = list(json.load(open(path))["ms"].values())
    label = {"ours": "lance_bm25 (in the backend)", "lance": "LanceDB FTS (in Node)"}[name]
    print(f"| {label} | {pct(ms, 50):.2f} | {pct(ms, 95):.2f} | {pct(ms, 99):.2f} | {max(ms):.2f} | {sum(ms):.0f} |")
PY

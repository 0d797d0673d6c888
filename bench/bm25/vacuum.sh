#!/usr/bin/env bash
# VACUUM of a lance_bm25 index after 10% of the rows are deleted, on the
# shared GCIDE corpus (126,236 documents), in a throwaway cluster with the
# extension as installed:
#
#   random   the index built over every row, then every 10th row deleted:
#            the dead rows are spread over the whole index
#   recent   the index built over 90% of the rows, the other 10% inserted
#            one row at a time, then those deleted: the dead rows are all
#            in segments written after the build
#
# Prints the VACUUM time (heap and index), the segments before and after,
# and whether the top 10 of three queries equal a fresh build's after it.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${LANCEDB_SHARED:-$PWD/../shared}/data/bm25

. scripts/cluster.sh
cluster_start
trap cluster_stop EXIT
psql -X -q -c "ALTER SYSTEM SET shared_buffers = '512MB'" -c "ALTER SYSTEM SET maintenance_work_mem = '256MB'" \
	-c "ALTER SYSTEM SET autovacuum = off"
_cluster_as_owner "$PG_BINDIR/pg_ctl" -D "$CLUSTER_DIR/data" -w restart >/dev/null
psql -X -q -c "CREATE EXTENSION lancedb_fdw" -c "CREATE TABLE src (id int, title text, body text)"
gzip -dc "$DATA/gcide.csv.gz" | psql -X -q -c "COPY src FROM STDIN WITH (FORMAT csv, HEADER true)"

# segment sizes (docs/dead), docs alone on a build without the dead column,
# or n/a without lance_bm25_segments
segments() {
	psql -XAtc "SELECT string_agg(docs || '/' || coalesce(dead, 0), ' ' ORDER BY serial)
		FROM lance_bm25_segments('docs_idx')" 2>/dev/null ||
		psql -XAtc "SELECT string_agg(docs::text, ' ' ORDER BY serial) FROM lance_bm25_segments('docs_idx')" \
			2>/dev/null || echo n/a
}

scenario() {
	local name=$1 setup=$2
	psql -X -q -c "DROP TABLE IF EXISTS docs" -c "CREATE TABLE docs (id int, body text)"
	psql -X -q -c "$setup"
	echo "== $name: segments (docs/dead) before: $(segments)"
	psql -XAt -c '\timing on' -c 'VACUUM docs' | sed -n 's/^Time: /VACUUM: /p'
	echo "   segments (docs/dead) after: $(segments)"
	psql -XAtq -c "
		CREATE TABLE got AS SELECT q, r.id, -(r.s) AS s FROM unnest(ARRAY['the', 'ocean wave', 'of the epicureans']) q,
			LATERAL (SELECT id, body <@> q AS s FROM docs ORDER BY body <@> q LIMIT 10) r;
		REINDEX INDEX docs_idx;
		SELECT 'top 10 equal a fresh build: ' || (count(*) = 30)::text FROM got g
			JOIN LATERAL (SELECT id, -(body <@> g.q) AS s FROM docs ORDER BY body <@> g.q LIMIT 10) f
			ON f.id = g.id AND abs(f.s - g.s) <= 1e-9 * f.s;
		DROP TABLE got;"
}

scenario random "INSERT INTO docs SELECT id, body FROM src;
	CREATE INDEX docs_idx ON docs USING lance_bm25 (body);
	DELETE FROM docs WHERE id % 10 = 0;"
scenario recent "INSERT INTO docs SELECT id, body FROM src WHERE id % 10 <> 0;
	CREATE INDEX docs_idx ON docs USING lance_bm25 (body);
	INSERT INTO docs SELECT id, body FROM src WHERE id % 10 = 0;
	DELETE FROM docs WHERE id % 10 = 0;"

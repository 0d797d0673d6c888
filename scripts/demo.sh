#!/usr/bin/env bash
# Install, build and try lancedb_fdw on a throwaway cluster that is removed
# at the end: a Lance dataset written by LanceDB as a foreign table, a
# vector search over it, and the vector type on an ordinary table.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
make -j"$(nproc)" >/dev/null
$sudo make install >/dev/null

. scripts/cluster.sh
cluster_start
trap cluster_stop EXIT

# The sample dataset was written by LanceDB (demo/make_sample.mjs); the
# server reads it as its own user, so it goes into the cluster's folder.
mkdir -p "$CLUSTER_DIR/lancedb"
cp -r demo/items.lance "$CLUSTER_DIR/lancedb/"
[ "$(id -u)" -eq 0 ] && chown -R postgres "$CLUSTER_DIR/lancedb"

psql -X -v ON_ERROR_STOP=1 --echo-queries -v lancedb="$CLUSTER_DIR/lancedb" <<'SQL'
CREATE EXTENSION lancedb_fdw;

-- a LanceDB database folder as a server, its datasets as foreign tables
CREATE SERVER lance FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'lancedb');
IMPORT FOREIGN SCHEMA lance FROM SERVER lance INTO public;
\d items
SELECT category, count(*), round(avg(price)::numeric, 2) AS avg_price FROM items GROUP BY category ORDER BY 1;

-- the ten products nearest to product 7, by Euclidean and by cosine distance
SELECT id, name, round((embedding <-> (SELECT embedding FROM items WHERE id = 7))::numeric, 4) AS l2
FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 7) LIMIT 10;
SELECT id, name, round((embedding <=> (SELECT embedding FROM items WHERE id = 7))::numeric, 4) AS cosine
FROM items WHERE category <> 'music'
ORDER BY embedding <=> (SELECT embedding FROM items WHERE id = 7) LIMIT 5;
SELECT version, rows, fragments FROM lance_versions('items');

-- the vector type on an ordinary table: 10,000 random 64-dimensional vectors
CREATE TABLE random_items AS
SELECT i AS id, array_agg(random())::real[]::vector(64) AS embedding
FROM generate_series(1, 10000) i, generate_series(1, 64)
GROUP BY i;

SELECT id, round((embedding <-> (SELECT embedding FROM random_items WHERE id = 1))::numeric, 4) AS l2
FROM random_items ORDER BY embedding <-> (SELECT embedding FROM random_items WHERE id = 1) LIMIT 5;

SELECT '[1,2,3]'::vector <-> '[4,5,6]' AS l2, '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip,
       vector_dims(avg(embedding)) AS dims FROM random_items;
SQL

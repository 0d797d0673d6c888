#!/usr/bin/env bash
# Install, build and try lancedb_fdw on a throwaway cluster that is removed
# at the end.
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

psql -X -v ON_ERROR_STOP=1 --echo-queries <<'SQL'
CREATE EXTENSION lancedb_fdw;

-- 10,000 random 64-dimensional vectors in an ordinary table
CREATE TABLE items AS
SELECT i AS id, array_agg(random())::real[]::vector(64) AS embedding
FROM generate_series(1, 10000) i, generate_series(1, 64)
GROUP BY i;

-- the five nearest neighbours of item 1, by each distance
SELECT id, round((embedding <-> (SELECT embedding FROM items WHERE id = 1))::numeric, 4) AS l2
FROM items ORDER BY embedding <-> (SELECT embedding FROM items WHERE id = 1) LIMIT 5;

SELECT id, round((embedding <=> (SELECT embedding FROM items WHERE id = 1))::numeric, 4) AS cosine
FROM items ORDER BY embedding <=> (SELECT embedding FROM items WHERE id = 1) LIMIT 5;

SELECT '[1,2,3]'::vector <-> '[4,5,6]' AS l2, '[1,2,3]'::vector <#> '[4,5,6]' AS neg_ip,
       vector_dims(avg(embedding)) AS dims FROM items;
SQL

-- lance_hnsw searches keep their visited marks in a table that starts
-- small and grows with the pages a search touches.  A scan at ef_search 1
-- over many pages outgrows it several times over and still returns every
-- row exactly once.

CREATE TABLE hnsw_vis (id int, v vector(64));
INSERT INTO hnsw_vis SELECT i, (SELECT array_agg(sin(i * d) + cos(i + d)) FROM generate_series(1, 64) d)::vector
	FROM generate_series(1, 5000) i;
CREATE INDEX hnsw_vis_idx ON hnsw_vis USING lance_hnsw (v) WITH (m = 2, ef_construction = 4);
SELECT pg_relation_size('hnsw_vis_idx') / 8192 > 40 AS many_pages;

SET enable_seqscan = off;
SET lancedb.hnsw_ef_search = 1;
EXPLAIN (COSTS OFF)
SELECT id FROM hnsw_vis ORDER BY v <-> (SELECT v FROM hnsw_vis WHERE id = 1) LIMIT 5000;
SELECT count(*) AS returned, count(DISTINCT id) AS distinct_rows
	FROM (SELECT id FROM hnsw_vis ORDER BY v <-> (SELECT v FROM hnsw_vis WHERE id = 1) LIMIT 5000) s;
-- the nearest row still comes first
SELECT id FROM hnsw_vis ORDER BY v <-> (SELECT v FROM hnsw_vis WHERE id = 1) LIMIT 1;
RESET lancedb.hnsw_ef_search;
RESET enable_seqscan;

DROP TABLE hnsw_vis;

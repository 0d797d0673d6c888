-- An unfiltered lance_hnsw query asking for more rows than ef_search: the
-- re-rank window stays ef_search rows wide, and keeps re-ranking (by the
-- exact distance) every row it returns, the 11th to the 60th included.
-- On these 300 points the 8-bit order puts no row more than ten places
-- from its exact one, so the rows come back in exact order; with a window
-- of one they do not.
SELECT setseed(0.3);
CREATE TABLE hnsw_ll AS
	SELECT i AS id, (SELECT array_agg(random() ORDER BY d)
					 FROM generate_series(1, 8) d WHERE i > 0)::vector(8) AS v
	FROM generate_series(1, 300) i;
CREATE INDEX hnsw_ll_idx ON hnsw_ll USING lance_hnsw (v) WITH (m = 4);

SET enable_seqscan = off;
SET lancedb.hnsw_ef_search = 10;
EXPLAIN (COSTS OFF)
SELECT id FROM hnsw_ll ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 60;
-- "+ 0" keeps the index out of the second, exact, order
SELECT (SELECT array_agg(id) FROM
			(SELECT id FROM hnsw_ll
			 ORDER BY v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]' LIMIT 60) s) =
	(SELECT array_agg(id) FROM
			(SELECT id FROM hnsw_ll
			 ORDER BY (v <-> '[0.5,0.5,0.5,0.5,0.5,0.5,0.5,0.5]') + 0 LIMIT 60) s)
	AS exact_order;
RESET lancedb.hnsw_ef_search;
RESET enable_seqscan;

DROP TABLE hnsw_ll;

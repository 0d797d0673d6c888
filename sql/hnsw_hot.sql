-- HOT updates: the index keeps a chain's root TID.  The scan re-ranks by
-- fetching the row, which finds the chain member its snapshot sees; the
-- executor must still be handed the root, or it would not find the row
-- again and the updated rows would silently drop out of the results.
CREATE TABLE hnsw_hot (id int PRIMARY KEY, note text, v vector(4)) WITH (fillfactor = 50);
INSERT INTO hnsw_hot
SELECT i, 'a', ARRAY[sin(i * 0.1), cos(i * 0.13), sin(i * 0.7 + 1), cos(i * 0.29)]::vector(4)
FROM generate_series(1, 300) i;
CREATE INDEX hnsw_hot_idx ON hnsw_hot USING lance_hnsw (v vector_l2_ops);
-- the updates stay on their pages (HOT), or this test tests nothing
BEGIN;
UPDATE hnsw_hot SET note = 'b' WHERE id % 7 = 0;
SELECT n_tup_hot_upd = 42 AS all_hot
FROM pg_stat_xact_user_tables WHERE relname = 'hnsw_hot';
COMMIT;

SET enable_seqscan = off;
SET lancedb.hnsw_ef_search = 400;
SELECT count(*) AS rows, count(*) FILTER (WHERE note = 'b') AS updated
FROM (SELECT id, note FROM hnsw_hot
	  ORDER BY v <-> '[0.5,0,0.5,0]' LIMIT 300) s;
RESET lancedb.hnsw_ef_search;
RESET enable_seqscan;
SELECT lance_hnsw_check('hnsw_hot_idx');
DROP TABLE hnsw_hot;

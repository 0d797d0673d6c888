-- lance_hnsw remembers which shared buffer held each index page it read.
-- A scan left open (a cursor) must keep reading its own index's pages even
-- while queries on several other lance_hnsw indexes run in between.

CREATE TABLE hnsw_h (id int, a vector(3), b vector(3), c vector(3), d vector(3), e vector(3));
INSERT INTO hnsw_h SELECT i,
	ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) + 0.1]::vector,
	ARRAY[cos(i * 0.9), sin(i * 1.7), cos(i * 0.3)]::vector,
	ARRAY[sin(i * 2.1), sin(i * 0.4), cos(i * 1.1)]::vector,
	ARRAY[cos(i * 1.9), cos(i * 0.6), sin(i * 2.3)]::vector,
	ARRAY[sin(i * 0.2), cos(i * 2.7), sin(i * 1.5)]::vector
	FROM generate_series(1, 300) i;
CREATE INDEX hnsw_h_a ON hnsw_h USING lance_hnsw (a);
CREATE INDEX hnsw_h_b ON hnsw_h USING lance_hnsw (b);
CREATE INDEX hnsw_h_c ON hnsw_h USING lance_hnsw (c);
CREATE INDEX hnsw_h_d ON hnsw_h USING lance_hnsw (d);
CREATE INDEX hnsw_h_e ON hnsw_h USING lance_hnsw (e);

-- Fetch a few rows through the index on a, query the four others (each
-- reads all of its pages), then fetch the rest: every row comes back in
-- the order a sequential scan sorts them in.
CREATE FUNCTION hnsw_h_cursor() RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	cur refcursor;
	by_index int[] := '{}';
	by_seq int[];
	row_id int;
	col text;
BEGIN
	SET LOCAL enable_seqscan = off;
	SET LOCAL enable_sort = off;
	OPEN cur FOR SELECT id FROM hnsw_h ORDER BY a <-> '[0.3,-0.2,0.5]' LIMIT 300;
	FOR i IN 1..3 LOOP
		FETCH cur INTO row_id;
		by_index := by_index || row_id;
	END LOOP;
	FOREACH col IN ARRAY ARRAY['b', 'c', 'd', 'e'] LOOP
		EXECUTE format('SELECT count(*) FROM (SELECT id FROM hnsw_h ORDER BY %I <-> %L LIMIT 300) s',
					   col, '[0.3,-0.2,0.5]');
	END LOOP;
	LOOP
		FETCH cur INTO row_id;
		EXIT WHEN NOT FOUND;
		by_index := by_index || row_id;
	END LOOP;
	CLOSE cur;
	SET LOCAL enable_seqscan = on;
	SET LOCAL enable_sort = on;
	SET LOCAL enable_indexscan = off;
	SELECT array_agg(id) INTO by_seq
		FROM (SELECT id FROM hnsw_h ORDER BY a <-> '[0.3,-0.2,0.5]' LIMIT 300) s;
	RETURN by_index = by_seq;
END $$;

SELECT hnsw_h_cursor();

-- The same while the rows the scan returns are inserted into a table with
-- four lance_hnsw indexes of its own: each insert reads those indexes.
CREATE TABLE hnsw_h_copy (n serial, id int, b vector(3), c vector(3), d vector(3), e vector(3));
CREATE INDEX ON hnsw_h_copy USING lance_hnsw (b);
CREATE INDEX ON hnsw_h_copy USING lance_hnsw (c);
CREATE INDEX ON hnsw_h_copy USING lance_hnsw (d);
CREATE INDEX ON hnsw_h_copy USING lance_hnsw (e);
SET enable_seqscan = off;
SET enable_sort = off;
INSERT INTO hnsw_h_copy (id, b, c, d, e)
	SELECT id, b, c, d, e FROM hnsw_h ORDER BY a <-> '[0.3,-0.2,0.5]' LIMIT 300;
RESET enable_seqscan;
RESET enable_sort;
SET enable_indexscan = off;
SELECT (SELECT array_agg(id ORDER BY n) FROM hnsw_h_copy) =
	(SELECT array_agg(id) FROM (SELECT id FROM hnsw_h ORDER BY a <-> '[0.3,-0.2,0.5]' LIMIT 300) s)
	AS copied_in_order;
RESET enable_indexscan;

-- Reads through remembered buffers count in the index's statistics like
-- any other read: a scan that finds every page where it was last (the
-- first scan remembered them) still adds at least the pages it visits.
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM hnsw_h ORDER BY a <-> '[0.3,-0.2,0.5]' LIMIT 300) s;
SELECT pg_stat_force_next_flush();
SELECT idx_blks_read + idx_blks_hit AS a_before
	FROM pg_statio_user_indexes WHERE indexrelname = 'hnsw_h_a' \gset
SELECT count(*) FROM (SELECT id FROM hnsw_h ORDER BY a <-> '[0.3,-0.2,0.5]' LIMIT 300) s;
RESET enable_seqscan;
SELECT pg_stat_force_next_flush();
SELECT idx_blks_read + idx_blks_hit - :a_before >= pg_relation_size('hnsw_h_a') / 8192 AS counted
	FROM pg_statio_user_indexes WHERE indexrelname = 'hnsw_h_a';

DROP TABLE hnsw_h, hnsw_h_copy;
DROP FUNCTION hnsw_h_cursor;

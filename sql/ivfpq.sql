-- lance_ivfpq: build, exact results with full probing and refine, every
-- opclass, inserts after build, delete + VACUUM, filters, errors.

SET client_min_messages = warning;

CREATE TABLE ivfpq_t (id int PRIMARY KEY, v vector(8));
-- deterministic, well-spread vectors with no tied distances
INSERT INTO ivfpq_t
SELECT i, ARRAY[sin(i * 0.1), cos(i * 0.13), sin(i * 0.7 + 1), cos(i * 0.29),
                sin(i * 1.1), cos(i * 0.03 + 2), sin(i * 0.53), cos(i * 0.91)]::vector(8)
FROM generate_series(1, 1000) i;

-- Whether the index scan returns the same rows in the same order as an
-- exact sort, and whether the index was used at all.
CREATE FUNCTION ivfpq_matches_exact(op text, q text, lim int, filter text DEFAULT 'true',
									tbl text DEFAULT 'ivfpq_t')
RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
	sql text := format('SELECT array_agg(id) FROM (SELECT id FROM %I WHERE %s ORDER BY v %s %L::vector LIMIT %s) s',
					   tbl, filter, op, q, lim);
	got int[];
	want int[];
	used boolean := false;
	line text;
BEGIN
	PERFORM set_config('enable_seqscan', 'off', true);
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || sql LOOP
		used := used OR line LIKE '%Index Scan using%ivfpq%';
	END LOOP;
	EXECUTE sql INTO got;
	PERFORM set_config('enable_seqscan', 'on', true);
	PERFORM set_config('enable_indexscan', 'off', true);
	EXECUTE sql INTO want;
	PERFORM set_config('enable_indexscan', 'on', true);
	IF NOT used THEN
		RAISE NOTICE 'index not used';
	END IF;
	RETURN used AND got = want;
END $$;

-- L2
CREATE INDEX ivfpq_l2 ON ivfpq_t USING lance_ivfpq (v vector_l2_ops)
	WITH (lists = 4, num_sub_vectors = 4);
SELECT lance_ivfpq_check('ivfpq_l2');
SET lancedb.ivfpq_nprobes = 4;
SET lancedb.ivfpq_refine_factor = 100;
EXPLAIN (COSTS OFF) SELECT id FROM ivfpq_t ORDER BY v <-> '[1,0,1,0,1,0,1,0]' LIMIT 5;
SELECT ivfpq_matches_exact('<->', '[1,0,1,0,1,0,1,0]', 10);
SELECT ivfpq_matches_exact('<->', '[-0.5,0.2,0.9,-1,0,0.3,0.3,-0.1]', 50);
-- every row, in exact order
SELECT ivfpq_matches_exact('<->', '[0,0,0,0,0,0,0,0]', 1000);

-- with few probes and no refinement the scan still returns LIMIT rows
SET lancedb.ivfpq_nprobes = 1;
SET lancedb.ivfpq_refine_factor = 1;
SELECT count(*) FROM (SELECT id FROM ivfpq_t ORDER BY v <-> '[1,0,1,0,1,0,1,0]' LIMIT 25) s;
-- a filter that keeps 1 row in 50 still fills the LIMIT: the scan moves on
-- to further batches and lists
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ivfpq_t WHERE id % 50 = 0
					  ORDER BY v <-> '[1,0,1,0,1,0,1,0]' LIMIT 15) s;
RESET enable_seqscan;
-- and with full probing and refinement the filtered result is exact
SET lancedb.ivfpq_nprobes = 4;
SET lancedb.ivfpq_refine_factor = 100;
SELECT ivfpq_matches_exact('<->', '[1,0,1,0,1,0,1,0]', 15, 'id % 50 = 0');

-- inserts after the build go to their nearest list
INSERT INTO ivfpq_t
SELECT i, ARRAY[cos(i * 0.2), sin(i * 0.17), cos(i * 0.6), sin(i * 0.31),
                cos(i * 1.3), sin(i * 0.05), cos(i * 0.47), sin(i * 0.83)]::vector(8)
FROM generate_series(1001, 1300) i;
INSERT INTO ivfpq_t VALUES (1301, NULL);
SELECT lance_ivfpq_check('ivfpq_l2');
SELECT ivfpq_matches_exact('<->', '[1,0,1,0,1,0,1,0]', 20);
-- a batch re-ranks 10 x refine_factor rows: 2000 cover the whole table
SET lancedb.ivfpq_refine_factor = 200;
SELECT ivfpq_matches_exact('<->', '[0,0,0,0,0,0,0,0]', 1300);

-- delete + VACUUM removes the entries; nothing deleted comes back
DELETE FROM ivfpq_t WHERE id % 3 = 0;
VACUUM ivfpq_t;
SELECT lance_ivfpq_check('ivfpq_l2');
-- (the index holds no NULLs; an exact sort would put the NULL row last)
SELECT ivfpq_matches_exact('<->', '[0,0,0,0,0,0,0,0]', 1000, 'v IS NOT NULL');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ivfpq_t ORDER BY v <-> '[1,1,1,1,1,1,1,1]' LIMIT 2000) s
WHERE id % 3 = 0;
RESET enable_seqscan;
DROP INDEX ivfpq_l2;

-- inner product
CREATE INDEX ivfpq_ip ON ivfpq_t USING lance_ivfpq (v vector_ip_ops)
	WITH (lists = 3, num_sub_vectors = 2);
SELECT lance_ivfpq_check('ivfpq_ip');
SET lancedb.ivfpq_nprobes = 3;
SELECT ivfpq_matches_exact('<#>', '[1,0,1,0,1,0,1,0]', 10);
SELECT ivfpq_matches_exact('<#>', '[0.3,-2,0.5,0.1,0,1,-1,0.2]', 100);
DROP INDEX ivfpq_ip;

-- cosine
CREATE INDEX ivfpq_cos ON ivfpq_t USING lance_ivfpq (v vector_cosine_ops)
	WITH (lists = 5, num_sub_vectors = 8);
SELECT lance_ivfpq_check('ivfpq_cos');
SET lancedb.ivfpq_nprobes = 5;
SELECT ivfpq_matches_exact('<=>', '[1,0,1,0,1,0,1,0]', 10);
SELECT ivfpq_matches_exact('<=>', '[0.3,-2,0.5,0.1,0,1,-1,0.2]', 100);
DROP INDEX ivfpq_cos;

-- defaults: lists = round(sqrt(rows)), num_sub_vectors = dim / 8 here
CREATE INDEX ivfpq_default ON ivfpq_t USING lance_ivfpq (v vector_l2_ops);
SELECT lance_ivfpq_check('ivfpq_default');
SET lancedb.ivfpq_nprobes = 1000;
SELECT ivfpq_matches_exact('<->', '[1,0,1,0,1,0,1,0]', 10);
DROP INDEX ivfpq_default;

-- an expression index: re-ranking evaluates the expression on each row
CREATE TABLE ivfpq_expr (id int, a real[]);
INSERT INTO ivfpq_expr
SELECT i, ARRAY[sin(i), cos(i * 0.3), sin(i * 0.7), cos(i * 1.7)] FROM generate_series(1, 300) i;
CREATE INDEX ivfpq_expr_idx ON ivfpq_expr USING lance_ivfpq ((a::vector(4)) vector_l2_ops)
	WITH (lists = 2, num_sub_vectors = 2);
SET lancedb.ivfpq_nprobes = 2;
SET lancedb.ivfpq_refine_factor = 100;
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM ivfpq_expr ORDER BY a::vector(4) <-> '[1,1,0,0]' LIMIT 8;
SELECT array_agg(id) FROM (SELECT id FROM ivfpq_expr ORDER BY a::vector(4) <-> '[1,1,0,0]' LIMIT 8) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT array_agg(id) FROM (SELECT id FROM ivfpq_expr ORDER BY a::vector(4) <-> '[1,1,0,0]' LIMIT 8) s;
RESET enable_indexscan;
DROP TABLE ivfpq_expr;

-- errors
CREATE INDEX ON ivfpq_t USING lance_ivfpq (v vector_l2_ops) WITH (num_sub_vectors = 3);
CREATE INDEX ON ivfpq_t USING lance_ivfpq (v vector_l2_ops) WITH (num_bits = 4);
CREATE INDEX ON ivfpq_t USING lance_ivfpq (v vector_l2_ops) WITH (lists = 40000);
CREATE TABLE ivfpq_small (v vector(4));
INSERT INTO ivfpq_small SELECT ARRAY[i, i * 2, 1, 0]::vector(4) FROM generate_series(1, 100) i;
CREATE INDEX ON ivfpq_small USING lance_ivfpq ((v::vector) vector_l2_ops);

-- too few rows to train: the build says so and the rows stand in for
-- centroids and codewords, which makes a small table's codes exact
SET client_min_messages = notice;
CREATE INDEX ivfpq_small_idx ON ivfpq_small USING lance_ivfpq (v vector_l2_ops) WITH (lists = 3);
RESET client_min_messages;
SELECT lance_ivfpq_check('ivfpq_small_idx');
SET enable_seqscan = off;
SET lancedb.ivfpq_nprobes = 1;
SET lancedb.ivfpq_refine_factor = 1;
SELECT v FROM ivfpq_small ORDER BY v <-> '[50,100,1,0]' LIMIT 3;
-- TRUNCATE rebuilds the index on an empty table; inserts then work
TRUNCATE ivfpq_small;
SELECT lance_ivfpq_check('ivfpq_small_idx');
INSERT INTO ivfpq_small SELECT ARRAY[i, -i, 0, 1]::vector(4) FROM generate_series(1, 50) i;
SELECT lance_ivfpq_check('ivfpq_small_idx');
SET lancedb.ivfpq_nprobes = 3;
SET lancedb.ivfpq_refine_factor = 10;
SELECT v FROM ivfpq_small ORDER BY v <-> '[7,-7,0,1]' LIMIT 3;
RESET enable_seqscan;
CREATE UNLOGGED TABLE ivfpq_unlogged (v vector(4));
INSERT INTO ivfpq_unlogged SELECT ARRAY[i, i * 2, 1, 0]::vector(4) FROM generate_series(1, 300) i;
CREATE INDEX ON ivfpq_unlogged USING lance_ivfpq (v vector_l2_ops);
SELECT lance_ivfpq_check('ivfpq_t_pkey');

-- the smallest maintenance_work_mem: the training sample shrinks to fit
-- (the NOTICE says by how much), yet the index holds every row and full
-- probing finds the exact neighbours
CREATE TABLE ivfpq_big (id int, v vector(16));
INSERT INTO ivfpq_big
SELECT i, (SELECT array_agg(sin(i * (j + 1) * 0.37 + j)) FROM generate_series(0, 15) j)::vector(16)
FROM generate_series(1, 20000) i;
SET maintenance_work_mem = '1MB';
SET client_min_messages = notice;
CREATE INDEX ivfpq_big_idx ON ivfpq_big USING lance_ivfpq (v vector_l2_ops)
	WITH (lists = 20, num_sub_vectors = 4);
SET client_min_messages = warning;
RESET maintenance_work_mem;
SELECT lance_ivfpq_check('ivfpq_big_idx');
SET lancedb.ivfpq_nprobes = 20;
SET lancedb.ivfpq_refine_factor = 100;
SELECT ivfpq_matches_exact('<->', '[0.5,0,0.5,0,0.5,0,0.5,0,0.5,0,0.5,0,0.5,0,0.5,0]', 10, tbl => 'ivfpq_big');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ivfpq_big ORDER BY v <-> '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]' LIMIT 20000) s;
RESET enable_seqscan;

-- entries beyond the memory maintenance_work_mem leaves them go through a
-- tuplesort (the DEBUG line says which way they went); the index still
-- holds every row and full probing finds the exact neighbours
CREATE TABLE ivfpq_spill (id int, v vector(4));
INSERT INTO ivfpq_spill
SELECT i, ARRAY[sin(i), cos(i * 0.7), sin(i * 0.3), cos(i * 1.1)]::vector(4)
FROM generate_series(1, 60000) i;
SET maintenance_work_mem = '1MB';
SET client_min_messages = debug1;
CREATE INDEX ivfpq_spill_idx ON ivfpq_spill USING lance_ivfpq (v vector_l2_ops)
	WITH (lists = 16, num_sub_vectors = 4);
SET client_min_messages = warning;
RESET maintenance_work_mem;
SELECT lance_ivfpq_check('ivfpq_spill_idx');
SET lancedb.ivfpq_nprobes = 16;
SET lancedb.ivfpq_refine_factor = 100;
SELECT ivfpq_matches_exact('<->', '[0.5,0,0.5,0]', 10, tbl => 'ivfpq_spill');
SET enable_seqscan = off;
SELECT count(*) FROM (SELECT id FROM ivfpq_spill ORDER BY v <-> '[0,0,0,0]' LIMIT 60000) s;
RESET enable_seqscan;
-- the same rows with the default maintenance_work_mem stay in memory
SET client_min_messages = debug1;
REINDEX INDEX ivfpq_spill_idx;
SET client_min_messages = warning;
SELECT lance_ivfpq_check('ivfpq_spill_idx');
SELECT ivfpq_matches_exact('<->', '[0.5,0,0.5,0]', 10, tbl => 'ivfpq_spill');
DROP TABLE ivfpq_spill;

-- HOT updates: the index keeps the chain's root TID, and the scan must hand
-- that back, not the TID of the member it re-ranked.  A REINDEX then sees
-- each updated row with its root TID, which precedes TIDs already delivered
-- on its page: the list's TIDs need a sort of their own (the DEBUG line
-- says so; one list, so that which list holds the rows does not depend on
-- training).
CREATE TABLE ivfpq_hot (id int PRIMARY KEY, note text, v vector(4)) WITH (fillfactor = 50);
INSERT INTO ivfpq_hot
SELECT i, 'a', ARRAY[sin(i * 0.1), cos(i * 0.13), sin(i * 0.7 + 1), cos(i * 0.29)]::vector(4)
FROM generate_series(1, 300) i;
CREATE INDEX ivfpq_hot_idx ON ivfpq_hot USING lance_ivfpq (v vector_l2_ops)
	WITH (lists = 1, num_sub_vectors = 2);
UPDATE ivfpq_hot SET note = 'b' WHERE id % 7 = 0;
SET lancedb.ivfpq_nprobes = 1;
SET lancedb.ivfpq_refine_factor = 100;
SELECT ivfpq_matches_exact('<->', '[0.5,0,0.5,0]', 300, tbl => 'ivfpq_hot');
SET client_min_messages = debug1;
REINDEX INDEX ivfpq_hot_idx;
SET client_min_messages = warning;
SELECT lance_ivfpq_check('ivfpq_hot_idx');
SELECT ivfpq_matches_exact('<->', '[0.5,0,0.5,0]', 300, tbl => 'ivfpq_hot');
DROP TABLE ivfpq_hot;

-- more than 256 lists: the centroids are trained hierarchically (16
-- clusters, each split further), and the index still holds every row and
-- finds the exact neighbours with full probing
CREATE INDEX ivfpq_hier_idx ON ivfpq_big USING lance_ivfpq (v vector_l2_ops)
	WITH (lists = 300, num_sub_vectors = 4, sample_rate = 8);
SELECT lance_ivfpq_check('ivfpq_hier_idx');
DROP INDEX ivfpq_big_idx;
SET lancedb.ivfpq_nprobes = 300;
SELECT ivfpq_matches_exact('<->', '[0.5,0,0.5,0,0.5,0,0.5,0,0.5,0,0.5,0,0.5,0,0.5,0]', 10, tbl => 'ivfpq_big');
SELECT ivfpq_matches_exact('<->', '[-1,0.3,0,0.2,1,0,-0.5,0,0.5,0,0.1,0,0.5,-0.7,0.5,0]', 10, tbl => 'ivfpq_big');

DROP TABLE ivfpq_t, ivfpq_small, ivfpq_unlogged, ivfpq_big;
DROP FUNCTION ivfpq_matches_exact;

-- lance_hnsw: exact answers on small tables for every opclass, inserts after
-- the build, DELETE + VACUUM, NULLs, options and errors.

-- Small tables search their whole graph, so the index must return exactly
-- what a sequential scan returns.  Distances are distinct (no ties).
CREATE TABLE hnsw_t (id int, v vector(3));
INSERT INTO hnsw_t SELECT i, ARRAY[sin(i), cos(i * 1.3), sin(i * 0.7) + 0.1]::vector
	FROM generate_series(1, 300) i;

-- compare index and seq scan for one operator and query vector
CREATE FUNCTION hnsw_same(op text, q text, lim int DEFAULT 10) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	by_index int[];
	by_seq int[];
	sql text := format('SELECT array_agg(id) FROM (SELECT id FROM hnsw_t ORDER BY v %s %L LIMIT %s) s', op, q, lim);
BEGIN
	SET LOCAL enable_seqscan = off;
	EXECUTE sql INTO by_index;
	SET LOCAL enable_seqscan = on;
	SET LOCAL enable_indexscan = off;
	EXECUTE sql INTO by_seq;
	RESET enable_indexscan;
	RETURN by_index = by_seq;
END $$;

CREATE INDEX hnsw_l2 ON hnsw_t USING lance_hnsw (v vector_l2_ops);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_t ORDER BY v <-> '[1,0,0]' LIMIT 5;
RESET enable_seqscan;
SELECT hnsw_same('<->', '[1,0,0]'), hnsw_same('<->', '[-0.5,0.2,0.9]', 300);
DROP INDEX hnsw_l2;

CREATE INDEX hnsw_ip ON hnsw_t USING lance_hnsw (v vector_ip_ops);
SELECT hnsw_same('<#>', '[1,0,0]'), hnsw_same('<#>', '[-0.5,0.2,0.9]', 50);
DROP INDEX hnsw_ip;

CREATE INDEX hnsw_cos ON hnsw_t USING lance_hnsw (v vector_cosine_ops);
SELECT hnsw_same('<=>', '[1,0,0]'), hnsw_same('<=>', '[-0.5,0.2,0.9]', 50);
DROP INDEX hnsw_cos;

CREATE INDEX hnsw_l1 ON hnsw_t USING lance_hnsw (v vector_l1_ops) WITH (m = 4, ef_construction = 16);
SELECT hnsw_same('<+>', '[1,0,0]'), hnsw_same('<+>', '[-0.5,0.2,0.9]', 50);
SELECT elements, deleted, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_l1');
DROP INDEX hnsw_l1;

-- The index answers only ORDER BY a distance: a plain WHERE never uses it.
CREATE INDEX hnsw_l2 ON hnsw_t USING lance_hnsw (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM hnsw_t WHERE v = '[1,0,0]';
RESET enable_seqscan;

-- Inserts after the build, into an index built on an empty table.
CREATE TABLE hnsw_ins (id int, v vector(3));
CREATE INDEX hnsw_ins_idx ON hnsw_ins USING lance_hnsw (v vector_l2_ops) WITH (m = 4, ef_construction = 8);
SELECT elements, entry_level, ok FROM lance_hnsw_check('hnsw_ins_idx');
INSERT INTO hnsw_ins SELECT id, v FROM hnsw_t;
SELECT elements, deleted, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_ins_idx');
SET enable_seqscan = off;
SELECT array_agg(id) AS by_index FROM (SELECT id FROM hnsw_ins ORDER BY v <-> '[0.3,0.3,0.3]' LIMIT 10) s \gset
RESET enable_seqscan;
SET enable_indexscan = off;
SELECT array_agg(id) = :'by_index' AS inserts_found
	FROM (SELECT id FROM hnsw_ins ORDER BY v <-> '[0.3,0.3,0.3]' LIMIT 10) s;
RESET enable_indexscan;

-- DELETE + VACUUM: dead rows leave the graph, the rest stays connected and
-- is still found exactly.
DELETE FROM hnsw_t WHERE id % 3 = 0;
VACUUM hnsw_t;
SELECT elements, deleted, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_l2');
SELECT hnsw_same('<->', '[1,0,0]'), hnsw_same('<->', '[-0.5,0.2,0.9]', 200);
SET enable_seqscan = off;
SELECT count(*) FILTER (WHERE id % 3 = 0) AS deleted_returned, count(*) AS returned
	FROM (SELECT id FROM hnsw_t ORDER BY v <-> '[0,0,0]') s;
RESET enable_seqscan;
-- space freed by VACUUM is reused by later inserts
SELECT pg_relation_size('hnsw_l2') AS size_before \gset
INSERT INTO hnsw_t SELECT i, ARRAY[cos(i), sin(i * 1.1), 0.5]::vector FROM generate_series(301, 350) i;
SELECT pg_relation_size('hnsw_l2') = :size_before AS space_reused;
SELECT hnsw_same('<->', '[0.2,0.1,0.5]');

-- Deleting everything empties the graph; it then grows again.
DELETE FROM hnsw_t;
VACUUM hnsw_t;
SELECT elements, deleted, entry_level, ok FROM lance_hnsw_check('hnsw_l2');
INSERT INTO hnsw_t VALUES (1, '[1,1,1]'), (2, '[2,2,2]');
SELECT hnsw_same('<->', '[0,0,0]');

-- NULLs are not indexed; zero vectors under cosine are not either.
CREATE TABLE hnsw_null (id int, v vector(2));
INSERT INTO hnsw_null VALUES (1, '[1,0]'), (2, NULL), (3, '[0,0]'), (4, '[0,1]');
CREATE INDEX hnsw_null_l2 ON hnsw_null USING lance_hnsw (v vector_l2_ops);
CREATE INDEX hnsw_null_cos ON hnsw_null USING lance_hnsw (v vector_cosine_ops);
INSERT INTO hnsw_null VALUES (5, NULL), (6, '[0,0]');
SELECT elements FROM lance_hnsw_check('hnsw_null_l2');
SELECT elements FROM lance_hnsw_check('hnsw_null_cos');
SET enable_seqscan = off;
-- (rows 3 and 6 tie, so list the set)
SELECT id FROM (SELECT id FROM hnsw_null ORDER BY v <-> '[1,0.1]' LIMIT 10) s ORDER BY id;
DROP INDEX hnsw_null_l2;
SELECT id FROM (SELECT id FROM hnsw_null ORDER BY v <=> '[1,0.1]' LIMIT 10) s ORDER BY id;
RESET enable_seqscan;

-- A column without a declared dimension takes the first vector's.
CREATE TABLE hnsw_free (id int, v vector);
CREATE INDEX hnsw_free_idx ON hnsw_free USING lance_hnsw (v);
INSERT INTO hnsw_free VALUES (1, '[1,2]');
INSERT INTO hnsw_free VALUES (2, '[1,2,3]');
SET enable_seqscan = off;
SELECT id FROM hnsw_free ORDER BY v <-> '[1,2,3]' LIMIT 1;
RESET enable_seqscan;

-- Options and their limits.
CREATE INDEX ON hnsw_t USING lance_hnsw (v) WITH (m = 1);
CREATE INDEX ON hnsw_t USING lance_hnsw (v) WITH (m = 101);
CREATE INDEX ON hnsw_t USING lance_hnsw (v) WITH (ef_construction = 3);
CREATE INDEX ON hnsw_t USING lance_hnsw (v) WITH (m = 16, ef_construction = 20);
CREATE INDEX ON hnsw_t USING lance_hnsw (v) WITH (lists = 4);
SET lancedb.hnsw_ef_search = 0;
SET lancedb.hnsw_ef_search = 1001;
SET lancedb.hnsw_ef_search = 100;
SHOW lancedb.hnsw_ef_search;
RESET lancedb.hnsw_ef_search;

-- Dimension limits.
CREATE TABLE hnsw_wide (v vector(7600));
CREATE INDEX ON hnsw_wide USING lance_hnsw (v);
CREATE INDEX ON hnsw_wide USING lance_hnsw (v) WITH (m = 8);
CREATE TABLE hnsw_notvec (x int);
CREATE INDEX ON hnsw_notvec USING lance_hnsw (x);
SELECT * FROM lance_hnsw_check('hnsw_t');

-- Filtered queries keep producing past ef_search until LIMIT is met.
CREATE TABLE hnsw_f (id int, v vector(2));
INSERT INTO hnsw_f SELECT i, ARRAY[cos(i * 0.01), sin(i * 0.01)]::vector FROM generate_series(1, 2000) i;
CREATE INDEX ON hnsw_f USING lance_hnsw (v);
SET enable_seqscan = off;
SET lancedb.hnsw_ef_search = 10;
SELECT count(*) FROM (SELECT id FROM hnsw_f WHERE id % 20 = 0 ORDER BY v <-> '[1,0]' LIMIT 30) s;
RESET lancedb.hnsw_ef_search;
RESET enable_seqscan;

-- A graph that outgrows maintenance_work_mem is written out and the rest
-- of the rows are inserted on disk; the index is complete either way.
CREATE TABLE hnsw_mwm (id int, v vector(64));
INSERT INTO hnsw_mwm SELECT i, (SELECT array_agg(sin(i * d) + cos(i + d)) FROM generate_series(1, 64) d)::vector
	FROM generate_series(1, 6000) i;
SET maintenance_work_mem = '1MB';
CREATE INDEX hnsw_mwm_idx ON hnsw_mwm USING lance_hnsw (v) WITH (m = 16, ef_construction = 32);
RESET maintenance_work_mem;
SELECT elements, unreachable, bad_links, bad_levels, ok FROM lance_hnsw_check('hnsw_mwm_idx');
SET enable_seqscan = off;
SET lancedb.hnsw_ef_search = 100;
SELECT count(*) AS not_found_by_own_vector FROM hnsw_mwm
	WHERE id % 5 = 0 AND id <> (SELECT m.id FROM hnsw_mwm m ORDER BY m.v <-> hnsw_mwm.v LIMIT 1);
RESET lancedb.hnsw_ef_search;
RESET enable_seqscan;

DROP TABLE hnsw_t, hnsw_ins, hnsw_null, hnsw_free, hnsw_wide, hnsw_notvec, hnsw_f, hnsw_mwm;
DROP FUNCTION hnsw_same;

-- duplicates (14 copies of each of 350 vectors): pruning cuts whole groups
-- of copies off, and the build links them back, so every row is reachable
CREATE TABLE hnsw_dup (id int, v vector(8));
INSERT INTO hnsw_dup
	SELECT i, ARRAY[i % 50, (i % 50) * 2, 1, 2, 3, 4, 5, i % 7]::float4[]::vector
	FROM generate_series(1, 5000) i;
CREATE INDEX hnsw_dup_idx ON hnsw_dup USING lance_hnsw (v) WITH (m = 4, ef_construction = 8);
SELECT elements, unreachable, ok FROM lance_hnsw_check('hnsw_dup_idx');
DROP TABLE hnsw_dup;

--
-- Writing Lance foreign tables: lance_create_table, INSERT, UPDATE, DELETE,
-- one version per transaction, ROLLBACK, bad input, privileges, restore.
-- Datasets live in $LANCEDB_SCRATCH (a folder the server may write);
-- LanceDB-made fixtures are copied there before they are changed.
--
\getenv fixtures LANCEDB_FIXTURES
\getenv scratch LANCEDB_SCRATCH
SELECT set_config('lance_test.scratch', :'scratch', false) IS NOT NULL AS scratch_set;

CREATE FUNCTION mask_scratch(t text) RETURNS text LANGUAGE sql AS $$
	SELECT replace(t, current_setting('lance_test.scratch'), '<scratch>')
$$;
CREATE FUNCTION try_write(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || mask_scratch(SQLERRM) ||
		CASE WHEN detail <> '' THEN E'\nDETAIL: ' || mask_scratch(detail) ELSE '' END;
END
$$;

\! rm -rf "$LANCEDB_SCRATCH/write"; mkdir -p "$LANCEDB_SCRATCH/write"; chmod 777 "$LANCEDB_SCRATCH/write"
SELECT :'scratch' || '/write' AS write_root \gset
CREATE SERVER ws FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'write_root');

--
-- Creating a dataset from a foreign table's columns
--
CREATE FOREIGN TABLE items (
	id bigint NOT NULL,
	name text,
	score double precision,
	emb vector(3),
	ok boolean,
	ts timestamp,
	d date
) SERVER ws;
SELECT try_write($$SELECT lance_create_table('items', '3.0')$$);
SELECT lance_create_table('items', '2.1');
SELECT try_write($$SELECT lance_create_table('items')$$);
SELECT count(*) FROM items;

--
-- INSERT, and one version per transaction
--
INSERT INTO items VALUES
	(1, 'one', 1.5, '[1,2,3]', true, '2024-01-02 03:04:05.678901', '2024-01-02'),
	(2, NULL, NULL, NULL, NULL, NULL, NULL);
SELECT * FROM items ORDER BY id;
BEGIN;
INSERT INTO items SELECT g, 'n' || g, g / 4.0, ARRAY[g, g + 1, g + 2]::real[]::vector, g % 2 = 0,
	'2000-01-01'::timestamp + g * interval '1 hour', '2000-01-01'::date + g
	FROM generate_series(3, 2000) g;
DELETE FROM items WHERE id = 1;
INSERT INTO items VALUES (2001, 'last');
COMMIT;
SELECT version, rows, fragments FROM lance_versions('items') ORDER BY version;
SELECT count(*), sum(id), count(name), count(emb) FROM items;

--
-- UPDATE is a delete and an append; DELETE writes deletion files
--
UPDATE items SET name = 'changed', emb = '[9,9,9]' WHERE id IN (2, 3, 1000);
SELECT id, name, emb FROM items WHERE id IN (2, 3, 1000) ORDER BY id;
DELETE FROM items WHERE id % 100 = 7;
SELECT count(*), sum(id) FROM items;
SELECT version, rows FROM lance_versions('items') ORDER BY version DESC LIMIT 1;
-- a later statement changing a row this transaction updated changes its
-- newest version: the row ends as the last statement left it
BEGIN;
UPDATE items SET name = 'first' WHERE id = 5;
UPDATE items SET name = 'second' WHERE id = 5;
UPDATE items SET name = 'gone' WHERE id = 6;
DELETE FROM items WHERE id = 6;
COMMIT;
SELECT id, name FROM items WHERE id IN (4, 5, 6) ORDER BY id;
SELECT count(*) FROM items WHERE name IN ('first', 'gone');

--
-- A transaction reads its own changes
--
CREATE FOREIGN TABLE counters (k int NOT NULL, n bigint, note text) SERVER ws;
SELECT lance_create_table('counters', '2.2');
INSERT INTO counters SELECT g, 0, 'start' FROM generate_series(1, 5) g;
BEGIN;
INSERT INTO counters VALUES (6, 0, 'new');
-- the inserted row, still buffered, and count(*) from the staged manifest
SELECT k, n, note FROM counters WHERE k >= 5 ORDER BY k;
SELECT count(*) FROM counters;
-- two increments in one transaction add two, on old and new rows alike
UPDATE counters SET n = n + 1;
UPDATE counters SET n = n + 1 WHERE k IN (1, 6);
SELECT k, n FROM counters ORDER BY k;
-- a deleted row is gone for the next statement, and for count(*)
DELETE FROM counters WHERE k = 2;
DELETE FROM counters WHERE k = 6;
SELECT count(*) FROM counters;
SELECT k, n FROM counters ORDER BY k;
-- a row matched twice by one DELETE is deleted once, as in a heap table
DO $$
DECLARE
	n bigint;
BEGIN
	DELETE FROM counters c USING (VALUES (4), (4)) v(k) WHERE c.k = v.k;
	GET DIAGNOSTICS n = ROW_COUNT;
	RAISE NOTICE 'rows deleted: %', n;
END
$$;
UPDATE counters SET n = n + 10 WHERE k = 3;
COMMIT;
SELECT k, n, note FROM counters ORDER BY k;
SELECT version, rows FROM lance_versions('counters') ORDER BY version DESC LIMIT 1;
-- ROLLBACK leaves nothing, though the transaction saw its changes
BEGIN;
INSERT INTO counters VALUES (7, 0, 'rolled back');
UPDATE counters SET n = n + 100;
DELETE FROM counters WHERE k = 1;
SELECT count(*), sum(n) FROM counters;
ROLLBACK;
SELECT count(*), sum(n) FROM counters;
-- one statement (a DO block) that writes, reads, writes and deletes: each
-- read sees the changes made before it, and the DELETE finds the row's
-- updated version
DO $$
DECLARE
	c bigint;
	v bigint;
BEGIN
	INSERT INTO counters VALUES (8, 0, 'in a block');
	SELECT count(*) INTO c FROM counters;
	UPDATE counters SET n = n + 5 WHERE k = 8;
	SELECT n INTO v FROM counters WHERE k = 8;
	DELETE FROM counters WHERE k = 8;
	RAISE NOTICE '% rows, then n = %, then % rows with k = 8', c, v,
		(SELECT count(*) FROM counters WHERE k = 8);
END
$$;
-- a vector search in the writing transaction ranks its own rows
BEGIN;
INSERT INTO items VALUES (9000, 'nearest', 0, '[1000,1000,1000]');
DELETE FROM items WHERE id = 9;
SELECT id, name FROM items ORDER BY emb <-> '[1000,1000,1000]' LIMIT 1;
SELECT id FROM items ORDER BY emb <-> '[9,10,11.4]' LIMIT 1;
ROLLBACK;
-- savepoints: fdw_savepoint.sql
SELECT k, n FROM counters ORDER BY k;

--
-- ROLLBACK makes no version
--
BEGIN;
INSERT INTO items VALUES (5000, 'rolled back');
DELETE FROM items WHERE id < 100;
ROLLBACK;
SELECT max(version) AS version_after_rollback FROM lance_versions('items');
SELECT count(*) FROM items;

--
-- Bad input: clear errors, and the dataset stays at its version
--
SELECT try_write($$INSERT INTO items (id, name) VALUES (NULL, 'no id')$$);
SELECT try_write($$INSERT INTO items (id, emb) VALUES (7000, '[1,2]')$$);
CREATE FOREIGN TABLE items_loose (id bigint, name text, emb vector) SERVER ws
	OPTIONS (table 'items');
SELECT try_write($$INSERT INTO items_loose (id, emb) VALUES (7001, '[1,2,3,4]')$$);
SELECT try_write($$INSERT INTO items_loose (name) VALUES ('no id column value')$$);
CREATE FOREIGN TABLE narrow (v smallint NOT NULL) SERVER ws;
SELECT lance_create_table('narrow', '2.0');
CREATE FOREIGN TABLE narrow_wide (v bigint) SERVER ws OPTIONS (table 'narrow');
SELECT try_write($$INSERT INTO narrow_wide VALUES (40000)$$);
INSERT INTO narrow_wide VALUES (-32768), (32767);
SELECT * FROM narrow ORDER BY v;
SELECT max(version) AS items_version_after_errors FROM lance_versions('items');
-- a failed statement inside a savepoint is taken back, half-written rows
-- included; the row before the savepoint commits
BEGIN;
INSERT INTO items VALUES (8000, 'before savepoint');
SAVEPOINT s;
SELECT try_write($$INSERT INTO items (id, emb) VALUES (8001, '[1,2,3]'), (NULL, NULL)$$);
ROLLBACK TO SAVEPOINT s;
COMMIT;
SELECT id, name FROM items WHERE id >= 8000;

--
-- Tables pinned to a version are read-only
--
CREATE FOREIGN TABLE items_v2 (id bigint, name text) SERVER ws
	OPTIONS (table 'items', version '2');
SELECT try_write($$INSERT INTO items_v2 VALUES (1, 'x')$$);
SELECT try_write($$DELETE FROM items_v2$$);

--
-- Datasets LanceDB made: delete, insert and update in its own file
-- version; structs are written from a composite type naming their members
--
\! cp -r "$LANCEDB_FIXTURES/types_v2_2.lance" "$LANCEDB_SCRATCH/write/types_v2_2.lance"; chmod -R a+rwX "$LANCEDB_SCRATCH/write/types_v2_2.lance"
\! cp -r "$LANCEDB_FIXTURES/scalars_50k_v2_0.lance" "$LANCEDB_SCRATCH/write/scalars.lance"; chmod -R a+rwX "$LANCEDB_SCRATCH/write/scalars.lance"
IMPORT FOREIGN SCHEMA lance LIMIT TO (types_v2_2, scalars) FROM SERVER ws INTO public;
SELECT count(*) FROM types_v2_2;
DELETE FROM types_v2_2 WHERE id < 20;
SELECT count(*) FROM types_v2_2;
SELECT try_write($$INSERT INTO types_v2_2 (id) VALUES (100000)$$);
SELECT try_write($$INSERT INTO types_v2_2 (id, st) VALUES (100001, '{"x": 1}')$$);
CREATE TYPE st_xy AS (x integer, y text);
CREATE FOREIGN TABLE types_st (id integer NOT NULL, st st_xy, lstr text[]) SERVER ws
	OPTIONS (table 'types_v2_2');
INSERT INTO types_st VALUES (100002, ROW(7, 'seven'), '{a,NULL,b}'), (100003, NULL, '{}'),
	(100004, ROW(NULL, NULL), NULL);
SELECT id, (st).x, (st).y, coalesce(st::text, 'null struct') AS st, lstr FROM types_st
	WHERE id >= 100000 ORDER BY id;
UPDATE types_st SET st = ROW((st).x + 1, (st).y || '!') WHERE id = 100002;
SELECT id, st FROM types_st WHERE id = 100002;
CREATE TYPE st_xz AS (x integer, z text);
CREATE FOREIGN TABLE types_xz (id integer NOT NULL, st st_xz) SERVER ws
	OPTIONS (table 'types_v2_2');
SELECT try_write($$SELECT * FROM types_xz$$);
-- lance_create_table makes lists from arrays and structs from composite types
CREATE FOREIGN TABLE made_nested (id bigint NOT NULL, tags text[], pt st_xy) SERVER ws;
SELECT lance_create_table('made_nested', '2.1');
INSERT INTO made_nested VALUES (1, '{a,NULL}', ROW(1, 'one')), (2, NULL, NULL), (3, '{}', ROW(NULL, 'x'));
SELECT id, tags, coalesce(pt::text, 'null struct') AS pt FROM made_nested ORDER BY id;
CREATE TYPE st_nested AS (x integer, tags text[]);
CREATE FOREIGN TABLE made_deeper (id bigint, pt st_nested) SERVER ws;
SELECT try_write($$SELECT lance_create_table('made_deeper')$$);
INSERT INTO made_deeper VALUES (1, ROW(1, '{a,b}')), (2, ROW(2, NULL)), (3, NULL);
SELECT * FROM made_deeper ORDER BY id;
SELECT count(*), sum(id) FROM scalars;
UPDATE scalars SET txt = 'updated' WHERE id < 10;
INSERT INTO scalars SELECT id + 100000, small, wide, f64, f32, flag, cat, txt, runs, allnull
	FROM scalars WHERE id < 1000;
SELECT count(*), sum(id), count(*) FILTER (WHERE txt = 'updated') AS updated FROM scalars;
-- compaction: every fragment here is small or has deletions
SELECT fragments AS fragments_before FROM lance_versions('scalars') ORDER BY version DESC LIMIT 1;
SELECT lance_compact('scalars') AS rows_moved;
SELECT count(*), sum(id), count(*) FILTER (WHERE txt = 'updated') AS updated FROM scalars;
SELECT fragments AS fragments_after FROM lance_versions('scalars') ORDER BY version DESC LIMIT 1;
SELECT lance_compact('scalars') AS nothing_to_do;

--
-- Merge insert: matched keys are updated, the others inserted, one version
--
CREATE FOREIGN TABLE kv (k integer NOT NULL, v text) SERVER ws;
SELECT lance_create_table('kv', '2.2');
INSERT INTO kv VALUES (1, 'a'), (2, 'b'), (3, 'c');
SELECT * FROM lance_merge_insert('kv', $$SELECT * FROM (VALUES (2, 'B'), (3, 'C'), (4, 'D')) x(k, v)$$, '{k}');
SELECT * FROM kv ORDER BY k;
SELECT max(version) AS one_version_more FROM lance_versions('kv');
-- a key matched by two source rows is an error, and nothing is merged
\set VERBOSITY terse
SELECT lance_merge_insert('kv', 'SELECT 1 AS k, ''z'' AS v UNION ALL SELECT 1, ''y''', '{k}');
\set VERBOSITY default
SELECT * FROM kv ORDER BY k;
SELECT try_write($$SELECT lance_merge_insert('kv', 'SELECT 1 AS key', '{k}')$$);

--
-- Restore: a new version equal to an old one
--
SELECT lance_restore('items', 2);
SELECT id, name FROM items ORDER BY id;
SELECT try_write($$SELECT lance_restore('items', 999)$$);

--
-- Cleanup: old versions and the files only they needed; the newest stays
--
SELECT versions_removed, files_removed FROM lance_cleanup('items', now() - interval '1 day');
SELECT versions_removed > 0 AS versions_gone, files_removed > 0 AS files_gone
	FROM lance_cleanup('items', now() + interval '1 day');
SELECT version FROM lance_versions('items');
SELECT id, name FROM items ORDER BY id;

--
-- Writing local datasets needs pg_write_server_files
--
CREATE ROLE lance_reader;
GRANT pg_read_server_files TO lance_reader;
GRANT SELECT, INSERT ON items TO lance_reader;
SET ROLE lance_reader;
SELECT count(*) FROM items;
SELECT try_write($$INSERT INTO items VALUES (9000, 'not allowed')$$);
SELECT try_write($$SELECT lance_compact('items')$$);
RESET ROLE;
GRANT pg_write_server_files TO lance_reader;
SET ROLE lance_reader;
INSERT INTO items VALUES (9000, 'allowed');
RESET ROLE;
SELECT id, name FROM items WHERE id = 9000;
REVOKE ALL ON items FROM lance_reader;
DROP ROLE lance_reader;

DROP SERVER ws CASCADE;
\! rm -rf "$LANCEDB_SCRATCH/write"

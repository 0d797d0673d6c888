--
-- Writing nested structs from composite types whose attributes are
-- composite types in turn, and lists of structs from arrays of composite
-- types, and lists as struct members, in every file version; what cannot
-- be written (null structs in 2.0, lists in a list's items) is refused
-- with a clear error.
--
\getenv scratch LANCEDB_SCRATCH
\! rm -rf "$LANCEDB_SCRATCH/struct"; mkdir -p "$LANCEDB_SCRATCH/struct"; chmod 777 "$LANCEDB_SCRATCH/struct"
SELECT :'scratch' || '/struct' AS st_root \gset
CREATE SERVER sts FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'st_root');
CREATE FUNCTION try_st(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '"[^"]*/struct/', '"<scratch>/') ||
		CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END;
END
$$;

CREATE TYPE st_point AS (x integer, label text);
CREATE TYPE st_box AS (corner st_point, size numeric(6, 2), deep st_point);
CREATE TYPE st_outer AS (box st_box, ok boolean);
CREATE FOREIGN TABLE st_v2_0 (id int NOT NULL, o st_outer) SERVER sts;
CREATE FOREIGN TABLE st_v2_1 (id int NOT NULL, o st_outer) SERVER sts;
CREATE FOREIGN TABLE st_v2_2 (id int NOT NULL, o st_outer) SERVER sts;
SELECT lance_create_table('st_v2_0', '2.0');
SELECT lance_create_table('st_v2_1', '2.1');
SELECT lance_create_table('st_v2_2', '2.2');

-- nulls at every depth where the file version has them
CREATE TEMP TABLE st_rows (id int, o st_outer);
INSERT INTO st_rows VALUES
	(1, ROW(ROW(ROW(1, 'a'), 1.25, ROW(2, 'b')), true)),
	(2, ROW(ROW(ROW(NULL, NULL), NULL, ROW(3, NULL)), NULL)),
	(3, ROW(ROW(NULL, 2.5, ROW(4, 'd')), false)),
	(4, ROW(NULL, true)),
	(5, NULL);
INSERT INTO st_v2_1 SELECT * FROM st_rows;
INSERT INTO st_v2_2 SELECT * FROM st_rows;
SELECT * FROM st_v2_2 ORDER BY id;
SELECT id, (o).box IS NULL AS box_null, ((o).box).corner IS NULL AS corner_null,
	(((o).box).deep).x AS deep_x FROM st_v2_1 ORDER BY id;
SELECT count(*) AS rows_differing FROM (
	SELECT * FROM st_v2_1 EXCEPT SELECT * FROM st_v2_2) d;

-- 2.0 stores no null structs, at any depth: the row is refused as written
INSERT INTO st_v2_0 SELECT * FROM st_rows WHERE id <= 2;
SELECT try_st($$INSERT INTO st_v2_0 SELECT * FROM st_rows WHERE id = 3$$);
SELECT try_st($$INSERT INTO st_v2_0 SELECT * FROM st_rows WHERE id = 4$$);
SELECT try_st($$INSERT INTO st_v2_0 SELECT * FROM st_rows WHERE id = 5$$);
SELECT * FROM st_v2_0 ORDER BY id;

-- an UPDATE of a nested member rewrites the row
UPDATE st_v2_2 SET o.box.corner.label = 'changed' WHERE id = 1;
SELECT id, (((o).box).corner).label FROM st_v2_2 WHERE id = 1;

-- lists of structs from arrays of a composite type, nested structs and
-- decimals in the items; null lists, empty lists, null items
CREATE TYPE st_item AS (p st_point, amount numeric(8, 3), flag boolean);
CREATE FOREIGN TABLE stl_v2_0 (id int NOT NULL, items st_item[], nums numeric(5, 2)[]) SERVER sts;
CREATE FOREIGN TABLE stl_v2_1 (id int NOT NULL, items st_item[], nums numeric(5, 2)[]) SERVER sts;
CREATE FOREIGN TABLE stl_v2_2 (id int NOT NULL, items st_item[], nums numeric(5, 2)[]) SERVER sts;
SELECT lance_create_table('stl_v2_0', '2.0');
SELECT lance_create_table('stl_v2_1', '2.1');
SELECT lance_create_table('stl_v2_2', '2.2');
CREATE TEMP TABLE stl_rows AS
	SELECT g AS id,
		CASE WHEN g % 7 = 0 THEN NULL WHEN g % 11 = 0 THEN '{}' ELSE
			ARRAY(SELECT CASE WHEN (g + j) % 5 = 0 THEN NULL ELSE
					ROW(CASE WHEN j % 3 = 0 THEN NULL ELSE ROW(g * j, 'p' || j)::st_point END,
						g * 1.5 + j, CASE WHEN j % 4 = 1 THEN NULL ELSE (g + j) % 2 = 0 END)::st_item END
				  FROM generate_series(1, g % 6) j) END AS items,
		CASE WHEN g % 3 = 0 THEN NULL ELSE ARRAY[g / 100.0, NULL, -1.005] END::numeric(5, 2)[] AS nums
	FROM generate_series(1, 3000) g;
-- 2.0 has no null structs, as items either
SELECT try_st($$INSERT INTO stl_v2_0 SELECT * FROM stl_rows$$);
CREATE TEMP VIEW stl_rows_v2_0 AS
	SELECT id, ARRAY(SELECT ROW(coalesce((i).p, ROW(0, 'none')::st_point), (i).amount, (i).flag)::st_item
					 FROM unnest(items) i WHERE NOT (i IS NULL)), nums
	FROM stl_rows WHERE items IS NOT NULL;
INSERT INTO stl_v2_0 SELECT * FROM stl_rows_v2_0;
INSERT INTO stl_v2_1 SELECT * FROM stl_rows;
INSERT INTO stl_v2_2 SELECT * FROM stl_rows;
SELECT * FROM stl_v2_2 WHERE id IN (1, 5, 7, 11, 13) ORDER BY id;
SELECT id, items FROM stl_v2_0 WHERE id IN (5, 13) ORDER BY id;
SELECT count(*), sum(cardinality(items)) AS items, count(*) FILTER (WHERE items IS NULL) AS null_lists
	FROM stl_v2_1;
SELECT count(*) AS rows_differing FROM (
	(SELECT * FROM stl_v2_0 EXCEPT SELECT * FROM stl_rows_v2_0)
	UNION ALL (SELECT * FROM stl_v2_1 EXCEPT SELECT * FROM stl_rows)
	UNION ALL (SELECT * FROM stl_v2_2 EXCEPT SELECT * FROM stl_rows)) d;
-- a member of an item changes through UPDATE
UPDATE stl_v2_1 SET items[1].amount = 0 WHERE id = 5;
SELECT items[1] FROM stl_v2_1 WHERE id = 5;

-- lists of scalars as members of (nested) structs
CREATE TYPE st_tagged AS (n integer, tags text[], nums integer[]);
CREATE TYPE st_wrap AS (t st_tagged, z boolean);
CREATE FOREIGN TABLE stm_v2_0 (id int NOT NULL, w st_wrap) SERVER sts;
CREATE FOREIGN TABLE stm_v2_1 (id int NOT NULL, w st_wrap) SERVER sts;
CREATE FOREIGN TABLE stm_v2_2 (id int NOT NULL, w st_wrap) SERVER sts;
SELECT lance_create_table('stm_v2_0', '2.0');
SELECT lance_create_table('stm_v2_1', '2.1');
SELECT lance_create_table('stm_v2_2', '2.2');
CREATE TEMP TABLE stm_rows AS
	SELECT g AS id,
		CASE WHEN g % 13 = 0 THEN NULL ELSE
			ROW(CASE WHEN g % 5 = 0 THEN NULL ELSE
					ROW(g, CASE WHEN g % 3 = 0 THEN NULL WHEN g % 7 = 0 THEN '{}' ELSE
							ARRAY(SELECT 't' || g || '-' || j FROM generate_series(1, g % 4) j) END,
						CASE WHEN g % 2 = 0 THEN NULL ELSE ARRAY[g, NULL, g + 1] END)::st_tagged END,
				g % 2 = 0)::st_wrap END AS w
	FROM generate_series(1, 3000) g;
INSERT INTO stm_v2_1 SELECT * FROM stm_rows;
INSERT INTO stm_v2_2 SELECT * FROM stm_rows;
-- 2.0: no null structs
INSERT INTO stm_v2_0 SELECT id, w FROM stm_rows WHERE (w).t IS DISTINCT FROM NULL AND w IS DISTINCT FROM NULL;
SELECT * FROM stm_v2_2 WHERE id IN (1, 3, 5, 7, 13) ORDER BY id;
SELECT count(*) AS rows_differing FROM (
	(SELECT * FROM stm_v2_0 EXCEPT SELECT * FROM stm_rows)
	UNION ALL (SELECT * FROM stm_v2_1 EXCEPT SELECT * FROM stm_rows)
	UNION ALL (SELECT * FROM stm_v2_2 EXCEPT SELECT * FROM stm_rows)) d;
SELECT (SELECT count(*) FROM stm_v2_0) AS rows_v2_0, (SELECT count(*) FROM stm_v2_2) AS rows_v2_2;

-- lists in the structs of a list's items are not written
CREATE TYPE st_deep AS (n integer, tags text[]);
CREATE FOREIGN TABLE st_list_in_items (id int, ds st_deep[]) SERVER sts;
SELECT try_st($$SELECT lance_create_table('st_list_in_items', '2.2')$$);

DROP SERVER sts CASCADE;
DROP TABLE st_rows;
DROP VIEW stl_rows_v2_0;
DROP TABLE stl_rows;
DROP TABLE stm_rows;
DROP TYPE st_outer;
DROP TYPE st_item;
DROP TYPE st_box;
DROP TYPE st_point;
DROP TYPE st_wrap;
DROP TYPE st_tagged;
DROP TYPE st_deep;
DROP FUNCTION try_st(text);
\! rm -rf "$LANCEDB_SCRATCH/struct"

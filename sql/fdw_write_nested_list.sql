--
-- Writing lists of lists (list<list<int64>>, list<list<utf8>>,
-- list<fixed_size_list<float, 4>>) from jsonb, the type they read as, in
-- every file version: nulls and empty lists at both levels and null items
-- read back equal; a wrong dimension, a null where a level holds none, or
-- JSON of the wrong shape is refused and the dataset keeps its version.
--
\getenv scratch LANCEDB_SCRATCH
\! rm -rf "$LANCEDB_SCRATCH/nested_list"; mkdir -p "$LANCEDB_SCRATCH/nested_list"; chmod 777 "$LANCEDB_SCRATCH/nested_list"
SELECT :'scratch' || '/nested_list' AS nl_root \gset
CREATE SERVER nls FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'nl_root');
-- q's error with the data file name masked; a read of then_read after q
-- writes the rows q buffered, so an error in writing them is q's too
CREATE FUNCTION try_nl(q text, then_read regclass DEFAULT NULL) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
	context text;
BEGIN
	EXECUTE q;
	IF then_read IS NOT NULL THEN
		EXECUTE format('SELECT count(*) FROM %s', then_read);
	END IF;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, context = PG_EXCEPTION_CONTEXT;
	RETURN SQLSTATE || ': ' ||
		regexp_replace(SQLERRM, 'data/[0-9a-f]{20,}\.lance', 'data/<file>.lance', 'g') ||
		CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END ||
		coalesce(E'\nCONTEXT: ' || substring(context from 'element [0-9]+ of the jsonb [^\n]*'), '');
END
$$;

-- a two-dimensional array column makes a list of lists, a vector array a
-- list of fixed-size lists; both read and write as jsonb
CREATE FOREIGN TABLE nl_make (id int NOT NULL, ll bigint[][], ls text[][], boxes vector(4)[])
	SERVER nls OPTIONS (table 'nl_v2_0');
SELECT lance_create_table('nl_make', '2.0');
ALTER FOREIGN TABLE nl_make OPTIONS (SET table 'nl_v2_1');
SELECT lance_create_table('nl_make', '2.1');
ALTER FOREIGN TABLE nl_make OPTIONS (SET table 'nl_v2_2');
SELECT lance_create_table('nl_make', '2.2');
DROP FOREIGN TABLE nl_make;
IMPORT FOREIGN SCHEMA lance LIMIT TO (nl_v2_0, nl_v2_1, nl_v2_2) FROM SERVER nls INTO public;
\d nl_v2_2

CREATE TEMP TABLE nl_rows (id int, ll jsonb, ls jsonb, boxes jsonb);
INSERT INTO nl_rows VALUES
	(1, '[[1, 2, 3], [4], [-9223372036854775808, 9223372036854775807]]',
		'[["a", "bb"], ["", "ccc", "d"]]', '[[0.5, 1, 2.25, -3], [4, 5, 6, 7]]'),
	(2, NULL, NULL, NULL),
	(3, '[]', '[]', '[]'),
	(4, '[null, [], [null], [5, null, 6]]', '[null, [], [null, "x"]]', '[null, [1, 2, 3, 4], null]'),
	(5, '[[7]]', '[["é ü"]]', '[["NaN", "Infinity", "-Infinity", -0.0]]');
INSERT INTO nl_v2_0 SELECT * FROM nl_rows;
INSERT INTO nl_v2_1 SELECT * FROM nl_rows;
INSERT INTO nl_v2_2 SELECT * FROM nl_rows;
SELECT * FROM nl_v2_2 ORDER BY id;
SELECT 'nl_v2_0' AS t, count(*) AS rows_differing FROM (
	SELECT * FROM nl_v2_0 EXCEPT SELECT * FROM nl_rows) d
UNION ALL SELECT 'nl_v2_1', count(*) FROM (
	SELECT * FROM nl_v2_1 EXCEPT SELECT * FROM nl_rows) d
UNION ALL SELECT 'nl_v2_2', count(*) FROM (
	SELECT * FROM nl_v2_2 EXCEPT SELECT * FROM nl_rows) d;

-- COPY, and an UPDATE that rewrites the rows (2.1: several pages)
COPY nl_v2_1 (id, ll, ls) FROM STDIN;
6	[[1, 2], [3]]	[["copy"]]
7	\N	[[], null]
\.
INSERT INTO nl_v2_1 (id, ll, ls)
	SELECT g, jsonb_build_array(jsonb_build_array(g, g + 1), '[]'::jsonb, NULL),
		jsonb_build_array(jsonb_build_array('s' || g))
	FROM generate_series(100, 5099) g;
UPDATE nl_v2_1 SET ll = ll || '[[0]]'::jsonb WHERE id % 1000 = 1 OR id = 4;
SELECT id, ll, ls FROM nl_v2_1 WHERE id < 10 OR id % 1000 = 1 ORDER BY id;
SELECT count(*) AS rows, sum((ll -> 0 ->> 1)::bigint) AS sum_second FROM nl_v2_1 WHERE id >= 100;

-- bad input: an error, and no new version
SELECT max(version) AS v2_0_before FROM lance_versions('nl_v2_0') \gset
SELECT try_nl($$INSERT INTO nl_v2_0 (id, boxes) VALUES (10, '[[1, 2, 3]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, boxes) VALUES (10, '[[1, 2, 3, null]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ll) VALUES (10, '{"a": 1}')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ll) VALUES (10, '[[1], 2]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ll) VALUES (10, '[[1], [[2]]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ll) VALUES (10, '[[1.5]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ll) VALUES (10, '[["x"]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ll) VALUES (10, '[[9223372036854775808]]')$$);
SELECT max(version) = :v2_0_before AS v2_0_unchanged FROM lance_versions('nl_v2_0');
SELECT count(*) AS v2_0_rows FROM nl_v2_0;

-- a row with more level pairs than one mini-block chunk of a list page
-- holds: refused when its file is written, and no version is made
SELECT max(version) AS v2_1_before FROM lance_versions('nl_v2_1') \gset
SELECT try_nl($$INSERT INTO nl_v2_1 (id, ll)
	SELECT 20, jsonb_agg(jsonb_build_array(g, g)) FROM generate_series(1, 2100) g$$, 'nl_v2_1');
SELECT max(version) = :v2_1_before AS v2_1_unchanged FROM lance_versions('nl_v2_1');
SELECT count(*) AS v2_1_rows FROM nl_v2_1;
-- the same row fits a 2.2 page
INSERT INTO nl_v2_2 (id, ll)
	SELECT 20, jsonb_agg(jsonb_build_array(g, g)) FROM generate_series(1, 2100) g;
SELECT jsonb_array_length(ll) AS inner_lists, ll -> 2099 AS last FROM nl_v2_2 WHERE id = 20;

DROP SERVER nls CASCADE;
DROP FUNCTION try_nl(text, regclass);

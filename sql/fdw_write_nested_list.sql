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
-- q's error, with its detail, hint and the context line that names the
-- inner list or the COPY line
CREATE FUNCTION try_nl(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
	hint text;
	context text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT,
		context = PG_EXCEPTION_CONTEXT;
	RETURN SQLSTATE || ': ' || SQLERRM ||
		CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END ||
		CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END ||
		coalesce(E'\nCONTEXT: ' || coalesce(substring(context from 'element [0-9]+ of the jsonb [^\n]*'),
											substring(context from 'COPY [a-z_0-9]+, line [0-9]+')), '');
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
	(5, '[[7]]', '[["é ü"]]', '[["NaN", "Infinity", "-Infinity", 16777216]]');
INSERT INTO nl_v2_0 SELECT * FROM nl_rows;
INSERT INTO nl_v2_1 SELECT * FROM nl_rows;
INSERT INTO nl_v2_2 SELECT * FROM nl_rows;
SELECT * FROM nl_v2_2 ORDER BY id;
-- rows in each table and not in nl_rows, and the other way round
CREATE FUNCTION nl_differing(t regclass) RETURNS TABLE (rows bigint, only_there bigint, only_here bigint)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY EXECUTE format(
		'SELECT (SELECT count(*) FROM %1$s),
				(SELECT count(*) FROM (SELECT * FROM %1$s EXCEPT ALL SELECT * FROM nl_rows) d),
				(SELECT count(*) FROM (SELECT * FROM nl_rows EXCEPT ALL SELECT * FROM %1$s) d)', t);
END
$$;
SELECT t, d.* FROM unnest(ARRAY['nl_v2_0', 'nl_v2_1', 'nl_v2_2']::regclass[]) t, nl_differing(t) d;

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
-- an item's JSON type must be its type's: no strings for numbers, no
-- numbers or booleans for text, no objects anywhere
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ll) VALUES (10, '[["12"]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ls) VALUES (10, '[[1e2]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ls) VALUES (10, '[["a", true]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, ll) VALUES (10, '[[{"a": 1}]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, boxes) VALUES (10, '[[1, 2, 3, "4"]]')$$);
SELECT try_nl($$INSERT INTO nl_v2_0 (id, boxes) VALUES (10, '[[1, 2, 3, 3.5e38]]')$$);
SELECT max(version) = :v2_0_before AS v2_0_unchanged FROM lance_versions('nl_v2_0');
SELECT count(*) AS v2_0_rows FROM nl_v2_0;
-- an integral number with a zero fraction is an integer
INSERT INTO nl_v2_0 (id, ll) VALUES (11, '[[1.0, -2.000, 3e2]]');
SELECT ll FROM nl_v2_0 WHERE id = 11;

-- a row with more level pairs or value bytes than one mini-block chunk
-- of a list page holds is refused as it is given (COPY names its line),
-- and no version is made: 2100 inner lists of two items (4200 pairs,
-- 33600 bytes), 5000 empty inner lists (5000 pairs, no bytes)
SELECT max(version) AS v2_1_before FROM lance_versions('nl_v2_1') \gset
SELECT try_nl($$INSERT INTO nl_v2_1 (id, ll)
	SELECT 20, jsonb_agg(jsonb_build_array(g, g)) FROM generate_series(1, 2100) g$$);
SELECT try_nl($$INSERT INTO nl_v2_1 (id, ll)
	SELECT 21, jsonb_agg('[]'::jsonb) FROM generate_series(1, 5000) g$$);
SELECT try_nl($$COPY nl_v2_1 (id, ll) FROM PROGRAM 'printf "22\\t[[1]]\\n23\\t[%s[]]\\n" "$(yes "[]," | head -4999 | tr -d "\\n")"'$$);
SELECT max(version) = :v2_1_before AS v2_1_unchanged FROM lance_versions('nl_v2_1');
SELECT count(*) AS v2_1_rows FROM nl_v2_1;
-- the same row fits a 2.2 page
INSERT INTO nl_v2_2 (id, ll)
	SELECT 20, jsonb_agg(jsonb_build_array(g, g)) FROM generate_series(1, 2100) g;
SELECT jsonb_array_length(ll) AS inner_lists, ll -> 2099 AS last FROM nl_v2_2 WHERE id = 20;

-- dates and times in lists of lists and in lists (date[] columns)
CREATE FOREIGN TABLE nl_make (id int, d date[], dd date[][], tt timestamp[][])
	SERVER nls OPTIONS (table 'nl_dates');
SELECT lance_create_table('nl_make', '2.1');
DROP FOREIGN TABLE nl_make;
IMPORT FOREIGN SCHEMA lance LIMIT TO (nl_dates) FROM SERVER nls INTO public;
INSERT INTO nl_dates VALUES
	(1, '{2024-02-29,NULL,1970-01-01}', '[["2024-02-29", null], [], null, ["1969-12-31"]]',
		'[["2024-02-29 12:34:56.789012", null]]'),
	(2, '{}', '[]', '[[]]');
-- JSON dates and times are ISO 8601 whatever the DateStyle, as to_jsonb's
SET DateStyle = 'SQL, DMY';
SELECT * FROM nl_dates ORDER BY id;
RESET DateStyle;
SELECT try_nl($$INSERT INTO nl_dates (id, dd) VALUES (3, '[["infinity"]]')$$);
SELECT try_nl($$INSERT INTO nl_dates (id, dd) VALUES (3, '[[20240229]]')$$);

-- declared dimensions decide the dataset's shape: more than two, or two
-- of vectors, are refused; a two-dimensional array column cannot read a
-- list of lists, which reads as jsonb
CREATE FOREIGN TABLE nl_make (id int, lll bigint[][][]) SERVER nls OPTIONS (table 'nl_bad');
SELECT try_nl($$SELECT lance_create_table('nl_make', '2.1')$$);
DROP FOREIGN TABLE nl_make;
CREATE FOREIGN TABLE nl_make (id int, vv vector(4)[][]) SERVER nls OPTIONS (table 'nl_bad');
SELECT try_nl($$SELECT lance_create_table('nl_make', '2.1')$$);
DROP FOREIGN TABLE nl_make;
CREATE FOREIGN TABLE nl_arr (id int, ll bigint[][]) SERVER nls OPTIONS (table 'nl_v2_2');
SELECT try_nl($$SELECT ll FROM nl_arr$$);

DROP SERVER nls CASCADE;
DROP FUNCTION try_nl(text);
DROP FUNCTION nl_differing(regclass);

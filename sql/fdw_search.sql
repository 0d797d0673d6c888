--
-- ORDER BY vector distance ... LIMIT on Lance foreign tables: the flat
-- top-k search pushed into the scan.  Its rows and distances must be the
-- ones Postgres' own scan and sort give (lancedb.search_pushdown = off).
-- The fixtures are made by the real LanceDB before the suite runs.
--
\getenv fixtures LANCEDB_FIXTURES
SELECT set_config('lance_test.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set;

CREATE FUNCTION search_explain(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF, VERBOSE) ' || q LOOP
		RETURN NEXT replace(line, current_setting('lance_test.fixtures'), '<fixtures>');
	END LOOP;
END
$$;

-- Run q (columns id and d, the query vector as $1) with the search pushed
-- down and again with Postgres' scan and sort, and compare: the distances
-- in the order returned, and the rows (rows of equal distance may come in
-- either order, Postgres' sort being unstable).
CREATE FUNCTION same_as_sort(q text, v vector) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	r record;
	plan text := '';
	pushed_d text[] := '{}';
	pushed_rows text[] := '{}';
	sorted_d text[] := '{}';
	sorted_rows text[] := '{}';
BEGIN
	FOR r IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q USING v LOOP
		plan := plan || r."QUERY PLAN";
	END LOOP;
	IF plan NOT LIKE '%Lance Order By%' THEN
		RETURN 'not pushed down';
	END IF;
	FOR r IN EXECUTE q USING v LOOP
		pushed_d := pushed_d || format('%s', r.d);
		pushed_rows := pushed_rows || format('%s:%s', r.id, r.d);
	END LOOP;
	PERFORM set_config('lancedb.search_pushdown', 'off', true);
	FOR r IN EXECUTE q USING v LOOP
		sorted_d := sorted_d || format('%s', r.d);
		sorted_rows := sorted_rows || format('%s:%s', r.id, r.d);
	END LOOP;
	PERFORM set_config('lancedb.search_pushdown', 'on', true);
	IF pushed_d = sorted_d AND
		(SELECT array_agg(x ORDER BY x) FROM unnest(pushed_rows) x) IS NOT DISTINCT FROM
		(SELECT array_agg(x ORDER BY x) FROM unnest(sorted_rows) x) THEN
		RETURN format('%s rows, same as sort', cardinality(pushed_d));
	END IF;
	RETURN format(E'DIFFERENT\npushed: %s\nsorted: %s', pushed_rows, sorted_rows);
END
$$;

CREATE SERVER search_fx FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'fixtures');
CREATE SCHEMA search;
IMPORT FOREIGN SCHEMA lance LIMIT TO (vectors_10k, vectors_small_v2_0, types_v2_1)
	FROM SERVER search_fx INTO search;
SET search_path = search, public;

--
-- Plans: every metric, filters, OFFSET; the scan reads only what it ranks
--
SELECT search_explain($$SELECT id, vec <-> '[1,0,0,0]' AS d FROM vectors_small_v2_0 ORDER BY d LIMIT 3$$);
SELECT search_explain($$SELECT id FROM vectors_small_v2_0 ORDER BY vec <=> '[1,0,0,0]' LIMIT 3$$);
SELECT search_explain($$SELECT id FROM vectors_small_v2_0 ORDER BY '[1,0,0,0]' <#> vec LIMIT 3$$);
SELECT search_explain($$SELECT * FROM vectors_small_v2_0 WHERE label = 'v3' AND id > 10
	ORDER BY vec <+> '[1,0,0,0]' LIMIT 3 OFFSET 2$$);

-- the query vector from an uncorrelated sub-select (an initplan) is pushed
SELECT search_explain($$SELECT id FROM vectors_small_v2_0
	ORDER BY vec <-> (SELECT vec FROM vectors_small_v2_0 WHERE id = 5) LIMIT 3$$);
SELECT id, vec <-> (SELECT vec FROM vectors_small_v2_0 WHERE id = 5) AS d
FROM vectors_small_v2_0 ORDER BY d LIMIT 3;
-- a correlated one, different for every outer row, is not
SELECT search_explain($$SELECT v.id, (SELECT s.id FROM vectors_small_v2_0 s
	ORDER BY s.vec <-> v.vec LIMIT 1) FROM vectors_small_v2_0 v LIMIT 2$$);

-- not pushed: no LIMIT, descending, a second sort key, a qual the scan
-- cannot run, a join, two columns, WITH TIES, grouping, switched off
SELECT search_explain($$SELECT id FROM vectors_small_v2_0 ORDER BY vec <-> '[1,0,0,0]'$$);
SELECT search_explain($$SELECT id FROM vectors_small_v2_0 ORDER BY vec <-> '[1,0,0,0]' DESC LIMIT 3$$);
SELECT search_explain($$SELECT id FROM vectors_small_v2_0 ORDER BY vec <-> '[1,0,0,0]', id LIMIT 3$$);
SELECT search_explain($$SELECT id FROM vectors_small_v2_0 WHERE id % 2 = 0 ORDER BY vec <-> '[1,0,0,0]' LIMIT 3$$);
SELECT search_explain($$SELECT a.id FROM vectors_small_v2_0 a, vectors_small_v2_0 b
	WHERE a.id = b.id ORDER BY a.vec <-> '[1,0,0,0]' LIMIT 3$$);
SELECT search_explain($$SELECT id FROM vectors_small_v2_0 ORDER BY vec <-> vec LIMIT 3$$);
SELECT search_explain($$SELECT id FROM vectors_small_v2_0 ORDER BY vec <-> '[1,0,0,0]'
	FETCH FIRST 3 ROWS WITH TIES$$);
SELECT search_explain($$SELECT label, min(vec <-> '[1,0,0,0]') FROM vectors_small_v2_0 GROUP BY label
	ORDER BY 2 LIMIT 3$$);
SET lancedb.search_pushdown = off;
SELECT search_explain($$SELECT id FROM vectors_small_v2_0 ORDER BY vec <-> '[1,0,0,0]' LIMIT 3$$);
RESET lancedb.search_pushdown;

--
-- Results: the same rows and distances as Postgres' sort, for every
-- metric, across both fragments of vectors_10k, with and without filters
--
SELECT op, qid, k, same_as_sort(format(
	'SELECT id, vec %s $1 AS d FROM vectors_10k ORDER BY d LIMIT %s', op, k),
	(SELECT vec FROM vectors_10k WHERE id = qid)) AS result
FROM unnest(ARRAY['<->', '<=>', '<#>', '<+>']) op, unnest(ARRAY[0, 4999, 5000, 9999]) qid,
	unnest(ARRAY[1, 10, 100]) k
ORDER BY 1, 2, 3;

SELECT op, filter, same_as_sort(format(
	'SELECT id, $1 %s vec AS d FROM vectors_10k WHERE %s ORDER BY d LIMIT 10 OFFSET 3', op, filter),
	(SELECT vec FROM vectors_10k WHERE id = 1234)) AS result
FROM unnest(ARRAY['<->', '<=>', '<#>', '<+>']) op,
	unnest(ARRAY['label = ''v7''', 'id >= 9990', 'label IN (''v1'', ''v2'') AND id < 3000',
				 'label = ''none''']) filter
ORDER BY 1, 2;

-- a LIMIT past the table: the winners' vectors are too many to keep and
-- are read again by row address
SELECT same_as_sort('SELECT id, vec <-> $1 AS d FROM vectors_10k ORDER BY d LIMIT 200000',
	(SELECT vec FROM vectors_10k WHERE id = 3));

-- a filter is applied before ranking: 10 rows when 10 match
SELECT count(*), min(label), max(label)
FROM (SELECT label FROM vectors_10k WHERE label = 'v3'
	  ORDER BY vec <-> (SELECT vec FROM vectors_10k WHERE id = 7) LIMIT 10) s;
SELECT count(*), min(label), max(label)
FROM (SELECT label FROM vectors_10k WHERE label = 'v3'
	  ORDER BY vec <-> array_fill(0.5, ARRAY[128])::vector LIMIT 10) s;

--
-- Parameters: a prepared query vector and LIMIT
--
PREPARE nearest(vector, int) AS
	SELECT id, label, vec <=> $1 AS d FROM vectors_small_v2_0 ORDER BY d LIMIT $2;
EXECUTE nearest('[0.25,-0.85,-0.57,0.44]', 3);
EXECUTE nearest('[1,1,1,1]', 2);
SELECT search_explain('EXECUTE nearest(''[1,1,1,1]'', 2)');
-- a generic plan knows no LIMIT: not pushed, same rows
SET plan_cache_mode = force_generic_plan;
SELECT search_explain('EXECUTE nearest(''[1,1,1,1]'', 2)');
EXECUTE nearest('[1,1,1,1]', 2);
PREPARE nearest5(vector) AS
	SELECT id, vec <-> $1 AS d FROM vectors_small_v2_0 ORDER BY d LIMIT 5;
SELECT search_explain('EXECUTE nearest5(''[1,1,1,1]'')');
EXECUTE nearest5('[1,1,1,1]');
RESET plan_cache_mode;
DEALLOCATE nearest;
DEALLOCATE nearest5;

--
-- Ties keep scan order; NaN ranks after numbers, NULL after NaN
--
SELECT id, vec <#> '[0,0,0,0]' AS d FROM vectors_small_v2_0 ORDER BY d LIMIT 4;
SELECT id, vec <=> '[0,0,0,0]' AS d FROM vectors_small_v2_0 ORDER BY d LIMIT 4;
SELECT id, vec <-> NULL::vector AS d FROM vectors_small_v2_0 ORDER BY d LIMIT 3;

-- types_v2_1: deleted rows (407, 420 to 439), four fragments (10 was
-- updated into the fourth), NULL vectors (id % 16 = 0); the elements of
-- rows id % 17 = 0 hold a NULL, which type vector cannot store
SELECT id, v4, v4 <-> '[1,1,1,1]' AS d FROM types_v2_1 WHERE id < 17 ORDER BY d LIMIT 20;
SELECT id, v4 <-> '[25,25.5,-25,0]' AS d FROM types_v2_1 WHERE id BETWEEN 18 AND 33 ORDER BY d LIMIT 20;
SELECT same_as_sort('SELECT id, v4 <+> $1 AS d FROM types_v2_1 WHERE id > 408 AND id < 425 ORDER BY d LIMIT 30',
	'[416,416.5,-416,0]');

-- more rows asked for than there are; LIMIT 0
SELECT count(*) FROM (SELECT id FROM vectors_small_v2_0 ORDER BY vec <-> '[0,0,0,1]' LIMIT 1000) s;
SELECT id FROM vectors_small_v2_0 ORDER BY vec <-> '[0,0,0,1]' LIMIT 0;

-- errors the operator would raise: other dimensions, a value vector cannot
-- hold (terse: the context names the run's fixtures folder)
\set VERBOSITY terse
SELECT id FROM vectors_small_v2_0 ORDER BY vec <-> '[1,2,3]' LIMIT 1;
-- (not when no row passes the quals, as in the plain scan)
SELECT id FROM vectors_small_v2_0 WHERE label = 'none' ORDER BY vec <-> '[1,2,3]' LIMIT 1;
SELECT id FROM types_v2_1 ORDER BY v4 <-> '[1,1,1,1]' LIMIT 20;
\set VERBOSITY default

--
-- lance_indexes: what LanceDB indexed, and which fragments it covers
--
SELECT name, columns, index_type, uuid ~ '^[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}$' AS uuid_ok,
	dataset_version, fragments, unindexed_fragments
FROM lance_indexes('vectors_10k');
SELECT count(*) FROM lance_indexes('vectors_small_v2_0');
SELECT * FROM lance_indexes('pg_class');

RESET search_path;
DROP SCHEMA search CASCADE;
DROP SERVER search_fx CASCADE;
DROP FUNCTION search_explain, same_as_sort;

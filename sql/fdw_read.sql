--
-- Lance foreign tables: options, privileges, IMPORT FOREIGN SCHEMA, reading,
-- pushed-down quals and count(*), time travel, type mapping and errors.
-- The fixtures are made by the real LanceDB before the suite runs
-- ($LANCEDB_FIXTURES); $LANCEDB_SCRATCH is a folder the server may write.
--
\getenv fixtures LANCEDB_FIXTURES
\getenv scratch LANCEDB_SCRATCH
SELECT set_config('lance_test.fixtures', :'fixtures', false) IS NOT NULL AS fixtures_set,
       set_config('lance_test.scratch', :'scratch', false) IS NOT NULL AS scratch_set;

-- EXPLAIN and error messages with the run's folders and data file names masked
CREATE FUNCTION mask_paths(t text) RETURNS text LANGUAGE sql AS $$
	SELECT regexp_replace(
		replace(replace(t, current_setting('lance_test.fixtures'), '<fixtures>'),
				current_setting('lance_test.scratch'), '<scratch>'),
		'data/[0-9a-f]{20,}\.lance', 'data/<file>.lance', 'g')
$$;
CREATE FUNCTION explain_lance(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	line text;
BEGIN
	FOR line IN EXECUTE 'EXPLAIN (COSTS OFF, VERBOSE) ' || q LOOP
		RETURN NEXT mask_paths(line);
	END LOOP;
END
$$;
CREATE FUNCTION try_lance(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
	hint text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN SQLSTATE || ': ' || mask_paths(SQLERRM) ||
		CASE WHEN detail <> '' THEN E'\nDETAIL: ' || mask_paths(detail) ELSE '' END ||
		CASE WHEN hint <> '' THEN E'\nHINT: ' || hint ELSE '' END;
END
$$;

CREATE SERVER fixtures FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'fixtures');

--
-- Options
--
CREATE SERVER bad FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (bogus 'x');
CREATE SERVER bad FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri '');
CREATE FOREIGN TABLE o1 (id int) SERVER fixtures OPTIONS (table '../escape');
CREATE FOREIGN TABLE o1 (id int) SERVER fixtures OPTIONS (table 'a/../../escape');
CREATE FOREIGN TABLE o1 (id int) SERVER fixtures OPTIONS (table '/abs/path');
CREATE FOREIGN TABLE o1 (id int) SERVER fixtures OPTIONS (table 'a', path '/b');
CREATE FOREIGN TABLE o1 (id int) SERVER fixtures OPTIONS (version '0');
CREATE FOREIGN TABLE o1 (id int) SERVER fixtures OPTIONS (version 'abc');
CREATE FOREIGN TABLE o1 (id int) SERVER fixtures OPTIONS (version '-3');
CREATE FOREIGN TABLE o1 (id int OPTIONS (bogus 'x')) SERVER fixtures;
CREATE FOREIGN TABLE o1 (id int) SERVER fixtures OPTIONS (uri '/tmp');
CREATE USER MAPPING FOR CURRENT_USER SERVER fixtures OPTIONS (uri '/tmp');

--
-- Privileges: setting a local location needs pg_read_server_files; a server
-- is a grant of its directory to roles with USAGE on it
--
CREATE ROLE lance_reader;
GRANT USAGE ON FOREIGN SERVER fixtures TO lance_reader;
GRANT CREATE ON SCHEMA public TO lance_reader;
SET ROLE lance_reader;
CREATE FOREIGN TABLE priv_path (id int) SERVER fixtures OPTIONS (path '/etc');
CREATE FOREIGN TABLE priv_table (id int) SERVER fixtures OPTIONS (table 'types_v2_2');
SELECT count(*) FROM priv_table;
RESET ROLE;
GRANT pg_read_server_files TO lance_reader;
SET ROLE lance_reader;
\set types_path :fixtures '/types_v2_2.lance'
CREATE FOREIGN TABLE priv_path (id int) SERVER fixtures OPTIONS (path :'types_path');
SELECT count(*) FROM priv_path;
RESET ROLE;
DROP FOREIGN TABLE priv_path, priv_table;
REVOKE CREATE ON SCHEMA public FROM lance_reader;
REVOKE USAGE ON FOREIGN SERVER fixtures FROM lance_reader;
DROP ROLE lance_reader;

--
-- IMPORT FOREIGN SCHEMA
--
CREATE SCHEMA lf;
IMPORT FOREIGN SCHEMA lance LIMIT TO (types_v2_2, types_v2_0, vectors_small_v2_0, evolved, empty)
	FROM SERVER fixtures INTO lf;
\det lf.*
\d lf.types_v2_2
\d lf.vectors_small_v2_0
CREATE SCHEMA lf_except;
IMPORT FOREIGN SCHEMA lance EXCEPT (types_v2_0, types_v2_1, types_v2_2)
	FROM SERVER fixtures INTO lf_except;
SELECT count(*) AS imported, bool_or(relname LIKE 'types%') AS any_types
FROM pg_class WHERE relnamespace = 'lf_except'::regnamespace;
DROP SCHEMA lf_except CASCADE;
SELECT try_lance('IMPORT FOREIGN SCHEMA no_such_namespace FROM SERVER fixtures INTO lf');
SELECT try_lance('IMPORT FOREIGN SCHEMA "../up" FROM SERVER fixtures INTO lf');

--
-- Reading every type
--
SET TimeZone = 'UTC';
SELECT id, i32, i64, f32, f64, b, s, ls, bin, ts, tsz, d, li, lstr, st
FROM lf.types_v2_2 WHERE id < 5 OR id IN (399, 957);
SELECT id, i32, s, li, st FROM lf.types_v2_0 WHERE id BETWEEN 1 AND 3;
-- v4 has null elements: type vector refuses them, real[] reads them
SELECT id, v4 FROM lf.types_v2_2 WHERE id = 3;
SELECT try_lance('SELECT v4 FROM lf.types_v2_2');
ALTER FOREIGN TABLE lf.types_v2_2 ALTER COLUMN v4 TYPE real[];
SELECT id, v4 FROM lf.types_v2_2 WHERE id < 4 ORDER BY id;
SELECT count(*) FROM lf.types_v2_2 WHERE v4[3] IS NULL AND v4 IS NOT NULL;

-- vectors read as vector(d) and work with the operators
SELECT id, label, vec FROM lf.vectors_small_v2_0 ORDER BY vec <-> '[0,0,0,0]', id LIMIT 3;

--
-- count(*), pushed quals, EXPLAIN
--
SELECT count(*) FROM lf.types_v2_2;
SELECT * FROM explain_lance('SELECT count(*) FROM lf.types_v2_2');
SELECT count(*) FROM lf.types_v2_2 WHERE i32 > 0;
SELECT * FROM explain_lance('SELECT count(*) FROM lf.types_v2_2 WHERE i32 > 0');
SELECT * FROM explain_lance('SELECT id, s FROM lf.types_v2_2 WHERE id < 5 AND s IS NOT NULL AND s LIKE ''s%''');
SELECT id, s FROM lf.types_v2_2 WHERE id < 5 AND s IS NOT NULL AND s LIKE 's%';
SELECT * FROM explain_lance('SELECT id FROM lf.types_v2_2 WHERE s = ANY (ARRAY[''s_7'', ''s_9''])');
SELECT id FROM lf.types_v2_2 WHERE s = ANY (ARRAY['s_7', 's_9']) ORDER BY id;
-- parameters are pushed too
PREPARE by_id(int) AS SELECT id, s FROM lf.types_v2_2 WHERE id = $1;
EXECUTE by_id(42);
-- no column needed at all
SELECT count(*) FROM (SELECT 1 FROM lf.types_v2_2 LIMIT 7) s;
SELECT * FROM explain_lance('SELECT 1 FROM lf.types_v2_2');

-- ANALYZE samples every row of a small dataset
ANALYZE lf.types_v2_2;
SELECT reltuples FROM pg_class WHERE oid = 'lf.types_v2_2'::regclass;
SELECT attname, null_frac > 0 AS has_nulls, n_distinct
FROM pg_stats WHERE schemaname = 'lf' AND tablename = 'types_v2_2' AND attname IN ('id', 'b')
ORDER BY attname;

--
-- Time travel and versions
--
SELECT version, rows, fragments FROM lance_versions('lf.types_v2_2');
ALTER FOREIGN TABLE lf.types_v2_2 OPTIONS (ADD version '1');
SELECT count(*), max(id) FROM lf.types_v2_2;
SELECT * FROM explain_lance('SELECT count(*) FROM lf.types_v2_2');
ALTER FOREIGN TABLE lf.types_v2_2 OPTIONS (SET version '4');
SELECT count(*) FROM lf.types_v2_2 WHERE id IN (10, 710);
ALTER FOREIGN TABLE lf.types_v2_2 OPTIONS (SET version '5');
SELECT id, i32 FROM lf.types_v2_2 WHERE id IN (10, 710) ORDER BY id;
ALTER FOREIGN TABLE lf.types_v2_2 OPTIONS (SET version '99');
SELECT try_lance('SELECT count(*) FROM lf.types_v2_2');
ALTER FOREIGN TABLE lf.types_v2_2 OPTIONS (DROP version);
SELECT lance_versions('pg_class');

-- schema evolution: a column added later reads as stored in each fragment
SELECT count(*), count(double_id), sum(double_id - 2 * id) AS mismatches FROM lf.evolved;
SELECT count(*) FROM lf.empty;
SELECT * FROM lf.empty;

--
-- Declared columns against the dataset
--
CREATE FOREIGN TABLE widened (id bigint, i32 numeric, f32 double precision, tsz timestamptz)
	SERVER fixtures OPTIONS (table 'types_v2_2');
SELECT * FROM widened WHERE id = 1;
CREATE FOREIGN TABLE narrowed (i64 integer) SERVER fixtures OPTIONS (table 'types_v2_2');
SELECT try_lance('SELECT * FROM narrowed');
CREATE FOREIGN TABLE misnamed (nope integer) SERVER fixtures OPTIONS (table 'types_v2_2');
SELECT try_lance('SELECT * FROM misnamed');
CREATE FOREIGN TABLE renamed (ident integer OPTIONS (column_name 'id'))
	SERVER fixtures OPTIONS (table 'types_v2_2');
SELECT ident FROM renamed WHERE ident < 3 ORDER BY ident;
CREATE FOREIGN TABLE vec_dims (vec vector(3)) SERVER fixtures OPTIONS (table 'vectors_small_v2_0');
SELECT try_lance('SELECT * FROM vec_dims');
DROP FOREIGN TABLE widened, narrowed, misnamed, renamed, vec_dims;

--
-- Missing and damaged datasets are errors that say what and where
--
CREATE FOREIGN TABLE nowhere (id int) SERVER fixtures OPTIONS (table 'no_such_table');
SELECT try_lance('SELECT * FROM nowhere');
DROP FOREIGN TABLE nowhere;

CREATE SERVER scratch FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'scratch');
\! cp -r "$LANCEDB_FIXTURES/types_v2_2.lance" "$LANCEDB_SCRATCH/truncated.lance"
\! for f in "$LANCEDB_SCRATCH"/truncated.lance/data/*.lance; do truncate -s 100 "$f"; done
\! cp -r "$LANCEDB_FIXTURES/types_v2_2.lance" "$LANCEDB_SCRATCH/missing_file.lance"
\! rm "$LANCEDB_SCRATCH"/missing_file.lance/data/*.lance
\! cp -r "$LANCEDB_FIXTURES/types_v2_2.lance" "$LANCEDB_SCRATCH/bad_manifest.lance"
\! for f in "$LANCEDB_SCRATCH"/bad_manifest.lance/_versions/*.manifest; do truncate -s 20 "$f"; done
\! cp -r "$LANCEDB_FIXTURES/types_v2_2.lance" "$LANCEDB_SCRATCH/bad_magic.lance"
\! for f in "$LANCEDB_SCRATCH"/bad_magic.lance/data/*.lance; do s=$(stat -c %s "$f"); printf 'JUNK' | dd of="$f" bs=1 seek=$((s - 4)) conv=notrunc status=none; done
CREATE FOREIGN TABLE truncated (id int) SERVER scratch;
CREATE FOREIGN TABLE missing_file (id int) SERVER scratch;
CREATE FOREIGN TABLE bad_manifest (id int) SERVER scratch;
CREATE FOREIGN TABLE bad_magic (id int) SERVER scratch;
SELECT try_lance('SELECT * FROM truncated');
SELECT try_lance('SELECT * FROM missing_file');
SELECT try_lance('SELECT * FROM bad_manifest');
SELECT try_lance('SELECT * FROM bad_magic');
-- count(*) needs only the manifest, so a damaged data file does not matter
SELECT count(*) FROM truncated;
DROP SERVER scratch CASCADE;

DROP SCHEMA lf CASCADE;
DROP SERVER fixtures CASCADE;
DROP FUNCTION mask_paths, explain_lance, try_lance;

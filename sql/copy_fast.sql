--
-- COPY FROM's fast path into Lance foreign tables (src/fdw/copy_fast.c):
-- the same rows and the same errors as the standard path, on tricky text;
-- transactions and savepoints; privileges; the COPYs it leaves to the
-- standard path.  Each input is written to a file once, then copied with
-- lancedb.copy_fast_path off (into "slow") and on (into "fast").  It
-- expects no other extension's ProcessUtility hook loaded before ours
-- (pg_stat_statements in shared_preload_libraries turns the fast path
-- off, and the DEBUG1 lines that say it ran go), and it reads
-- /proc/<pid>/status, so it runs on Linux only.
--
\getenv scratch LANCEDB_SCRATCH
\! rm -rf "$LANCEDB_SCRATCH/copy"; mkdir -p "$LANCEDB_SCRATCH/copy"; chmod 777 "$LANCEDB_SCRATCH/copy"
SELECT :'scratch' || '/copy' AS copy_root \gset
SELECT set_config('lance_test.copy_root', :'copy_root', false) IS NOT NULL AS root_set;
CREATE SERVER cs FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'copy_root');

-- a file of lines, '|' standing for a tab; backslashes are written as is
CREATE FUNCTION write_lines(name text, lines text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	lo oid := lo_from_bytea(0, convert_to(
		replace(array_to_string(lines, E'\n'), '|', E'\t') || E'\n', 'UTF8'));
BEGIN
	PERFORM lo_export(lo, current_setting('lance_test.copy_root') || '/' || name);
	PERFORM lo_unlink(lo);
END
$$;
-- What a COPY left behind: parse threads nothing joined, and its memory
-- contexts (run as the superuser, for pg_backend_memory_contexts)
CREATE FUNCTION copy_leftovers() RETURNS text LANGUAGE sql SECURITY DEFINER AS $$
	SELECT concat_ws(', ',
		nullif(current_setting('lancedb.copy_parse_threads_unjoined'), '0') || ' unjoined threads',
		(SELECT nullif(count(*), 0) || ' COPY contexts' FROM pg_backend_memory_contexts
		 WHERE name LIKE 'lancedb_fdw COPY%'))
$$;
-- COPY a file into a table with the fast path on or off; the row count
-- COPY reports, or the error with its SQLSTATE and COPY's context.  DEBUG1
-- shows each COPY the fast path runs, so every case says which path ran.
-- A failed COPY must leave nothing behind once its subtransaction is gone:
-- a WARNING says what it left.
CREATE FUNCTION copy_file(tbl text, name text, fast boolean, opts text DEFAULT '')
RETURNS text LANGUAGE plpgsql SET client_min_messages = debug1 AS $$
DECLARE
	n bigint;
	ctx text;
BEGIN
	PERFORM set_config('lancedb.copy_fast_path', fast::text, true);
	EXECUTE format('COPY %s FROM %L %s', tbl,
				   current_setting('lance_test.copy_root') || '/' || name, opts);
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN 'COPY ' || n;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS ctx = PG_EXCEPTION_CONTEXT;
	IF copy_leftovers() <> '' THEN
		RAISE WARNING 'a failed COPY left %', copy_leftovers();
	END IF;
	RETURN SQLSTATE || ': ' || SQLERRM || E'\n' ||
		replace(split_part(ctx, E'\n', 1), current_setting('lance_test.copy_root'), '<root>');
END
$$;
-- both paths side by side: the same outcome, and what it was
CREATE FUNCTION copy_both(name text, opts text DEFAULT '', cols text DEFAULT '')
RETURNS TABLE (same boolean, outcome text) LANGUAGE plpgsql AS $$
DECLARE
	a text := copy_file('slow ' || cols, name, false, opts);
	b text := copy_file('fast ' || cols, name, true, opts);
BEGIN
	RETURN QUERY SELECT a = replace(b, 'COPY fast', 'COPY slow'), a;
END
$$;

CREATE FOREIGN TABLE slow (id bigint NOT NULL, i2 smallint, i4 integer, i8 bigint,
	f4 real, f8 double precision, b boolean, t text, ts timestamp, v vector(3), d date)
	SERVER cs;
CREATE FOREIGN TABLE fast (id bigint NOT NULL, i2 smallint, i4 integer, i8 bigint,
	f4 real, f8 double precision, b boolean, t text, ts timestamp, v vector(3), d date)
	SERVER cs;
SELECT lance_create_table('slow'), lance_create_table('fast');
-- rows of both tables that differ, as text (shortest round-trip floats)
CREATE VIEW differ AS
	(SELECT 'slow only' AS side, s::text FROM slow s EXCEPT ALL SELECT 'slow only', f::text FROM fast f)
	UNION ALL
	(SELECT 'fast only', f::text FROM fast f EXCEPT ALL SELECT 'fast only', s::text FROM slow s);

--
-- Tricky text: escapes, NULLs, empty strings, spaces, signs, exponents,
-- special floats, rounding, other spellings of every type
--
SELECT write_lines('tricky.tsv', ARRAY[
	'1|+1|-2147483648|9223372036854775807|1e3|0.1|t|tab\there|2024-01-01 00:00:00|[1,2,3]|2024-01-01',
	'2| 3 |  7|  -0|-0|-0|f|new\nline back\\slash \N|2024-02-29 23:59:59.999999|[ 1 , 2 , 3 ]|2024-02-29',
	'3|\N|\N|\N|NaN|Infinity|true|\N|2024-01-01 00:00:00.1234567|[1e-3,-0,0.30000001192092896]|\N',
	'4|0|0|0|-Infinity|1.7976931348623157e308|yes|octal\101\102 hex\x41\x4a|1999-12-31 23:59:60|[3.4028234e38,1,1]|epoch',
	'5|-32768|2147483647|-9223372036854775808|1.000000059604644775390625|4.35|0|  spaces  |2024-01-01 24:00:00|[0.1,0.2,0.3]|2000-01-01',
	'6|32767|+0|00012|1.5e-45|2.2250738585072014e-308|F|\q|2024-01-01T10:00:00|[1, 2,3 ]|2000-01-01',
	'7|1|1|1| 1.5 | 2.5 |t||0001-01-01 00:00:00|[1,2,3]|2000-01-01',
	'8|1|1|1|16777217|9007199254740993|on|ünïcödé|2024-01-01 00:00:00 BC|[16777217,1.5e-45,1e-40]|2000-01-01',
	'9|1|1|1|3.4028235e38|1e23|off|x|2024-01-01 00:00:00+05|[1,2,3]|2000-01-01'
]);
SELECT * FROM copy_both('tricky.tsv');
SELECT count(*) AS rows, (SELECT count(*) FROM differ) AS differing FROM fast;
SELECT * FROM fast ORDER BY id;

--
-- Errors: the same SQLSTATE, message, line and column on both paths
--
SELECT write_lines('good.tsv', ARRAY[
	'100|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01',
	'101|1|1|1|1|1|t|b|2024-01-01 00:00:00|[1,2,3]|2000-01-01']);
CREATE FUNCTION bad_line(field int, val text) RETURNS text[] LANGUAGE sql AS $$
	SELECT ARRAY[l[1], l[2], array_to_string(
		(string_to_array(replace(l[1], '100|', '102|'), '|'))[1:field - 1] || val ||
		(string_to_array(l[1], '|'))[field + 1:11], '|')]
	FROM (SELECT ARRAY['100|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01',
					   '101|1|1|1|1|1|t|b|2024-01-01 00:00:00|[1,2,3]|2000-01-01']) s(l)
$$;
CREATE TABLE bad_cases (n serial, field int, val text);
INSERT INTO bad_cases (field, val) VALUES
	(2, '32768'), (2, '1e3'), (3, '1.5'), (3, ' '), (4, '99999999999999999999'),
	(5, '1e40'), (5, 'abc'), (6, '1e400'), (6, '0x'), (7, 'maybe'),
	(9, '2024-13-01 00:00:00'), (9, '2024-02-30 00:00:00'), (9, 'soon'),
	(10, '[1,2]'), (10, '[1,2,3,4]'), (10, '[1,NaN,3]'), (10, '[1,2,3'), (10, '1,2,3'),
	(10, '[1e39,1,1]'), (10, '[]'), (11, 'never'), (1, '\N');
SELECT n, field, val, (copy_both('bad' || n || '.tsv')).*
	FROM bad_cases, LATERAL write_lines('bad' || n || '.tsv', bad_line(field, val))
	ORDER BY n;
SELECT write_lines('short.tsv', ARRAY['103|1|1']), write_lines('long.tsv', ARRAY['104|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01|extra']);
SELECT * FROM copy_both('short.tsv');
SELECT * FROM copy_both('long.tsv');
SELECT count(*) FROM fast WHERE id >= 100;
-- an error while splitting a line (extra data, an unterminated CSV quote)
-- comes after an earlier line's error, as rows are converted in order
SELECT write_lines('two_errors.tsv', ARRAY[
	'105|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01',
	'106|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2]|2000-01-01',
	'107|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01|extra']);
SELECT * FROM copy_both('two_errors.tsv');
SELECT write_lines('null_then_quote.csv', ARRAY['108,a', ',b', '109,"c']);
SELECT * FROM copy_both('null_then_quote.csv', '(FORMAT csv)', '(id, t)');
-- a short line fails at its first missing column, after the fields before it
SELECT write_lines('short_bad.tsv', ARRAY['110|x|1']);
SELECT * FROM copy_both('short_bad.tsv');
-- thousands of rows cross the batches the fast path parses on a thread:
-- the same rows, and the first error by line across a batch boundary
SELECT write_lines('many.tsv', array_agg(format('%s|%s|%s|%s|%s|%s|%s|row %s|2024-01-01 00:00:%s|[%s,%s,-%s]|2000-01-01',
	1000 + g, g % 30000, g * 7, g::bigint * 1000003, g / 7.0, g / 3.0, CASE WHEN g % 2 = 0 THEN 't' ELSE 'f' END,
	g, lpad((g % 60)::text, 2, '0'), g % 97, (g % 89) / 8.0, g / 1000.0) ORDER BY g))
	FROM generate_series(1, 5000) g;
SELECT * FROM copy_both('many.tsv');
SELECT count(*) AS rows, (SELECT count(*) FROM differ) AS differing FROM fast WHERE id > 1000;
SELECT write_lines('many_bad.tsv', array_agg(CASE
		WHEN g = 4000 THEN format('%s|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,oops]|2000-01-01', g)
		WHEN g = 4200 THEN format('%s|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01|extra', g)
		ELSE format('%s|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01', g) END ORDER BY g))
	FROM generate_series(1, 5000) g;
SELECT * FROM copy_both('many_bad.tsv');

--
-- CSV: HEADER, quotes, quoted and unquoted empty strings, FORCE_NULL,
-- FORCE_NOT_NULL, another delimiter and NULL string; a column list that
-- leaves out nullable columns
--
SELECT write_lines('quoted.csv', ARRAY[
	'id;t;v;f8',
	'20;"semi;colon";"[1,2,3]";1.5',
	'21;"";[4,5,6];',
	'22;;"[7,8,9]";"-0"',
	'23;"say ""hi""";[1,1,1];" 2e2"',
	'24;"multi',
	'line";[2,2,2];-1e-5']);
SELECT * FROM copy_both('quoted.csv', $$(FORMAT csv, HEADER, DELIMITER ';')$$, '(id, t, v, f8)');
SELECT * FROM copy_both('quoted.csv', $$(FORMAT csv, HEADER, DELIMITER ';', FORCE_NOT_NULL (t))$$,
	'(id, t, v, f8)');
SELECT * FROM copy_both('quoted.csv', $$(FORMAT csv, HEADER, DELIMITER ';', FORCE_NULL (t))$$,
	'(id, t, v, f8)');
SELECT * FROM copy_both('quoted.csv', $$(FORMAT csv, HEADER match, DELIMITER ';')$$,
	'(id, t, v, f8)');
SELECT * FROM copy_both('quoted.csv', $$(FORMAT csv, HEADER, DELIMITER ';', NULL 'NULL')$$,
	'(id, t, v, f8)');
SELECT * FROM copy_both('quoted.csv', $$(FORMAT csv, HEADER match, DELIMITER ';')$$,
	'(id, t, f8, v)');
SELECT count(*) AS rows, (SELECT count(*) FROM differ) AS differing FROM fast;
SELECT id, t, t IS NULL AS null_t, v, f8, i2 FROM fast WHERE id BETWEEN 20 AND 29 ORDER BY id, t;

--
-- Transactions: ROLLBACK makes no version; a COPY in a savepoint rolled
-- back is undone; two COPYs in one transaction make one version
--
SELECT write_lines('one.tsv', ARRAY['30|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01']);
SELECT write_lines('two.tsv', ARRAY['31|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01',
	'32|1|1|1|1|1|t|a|2024-01-01 00:00:00|[1,2,3]|2000-01-01']);
SELECT count(*) AS versions_before FROM lance_versions('fast') \gset
BEGIN;
SELECT copy_file('fast', 'two.tsv', true);
SELECT count(*) FROM fast WHERE id BETWEEN 30 AND 39;
ROLLBACK;
SELECT count(*) - :versions_before AS new_versions, (SELECT count(*) FROM fast WHERE id BETWEEN 30 AND 39) AS rows
	FROM lance_versions('fast');
BEGIN;
SELECT copy_file('fast', 'one.tsv', true);
SAVEPOINT s;
SELECT copy_file('fast', 'two.tsv', true);
ROLLBACK TO SAVEPOINT s;
SELECT copy_file('fast', 'two.tsv', true);
SELECT copy_file('fast', 'one.tsv', true);
COMMIT;
SELECT count(*) - :versions_before AS new_versions FROM lance_versions('fast');
SELECT id, count(*) FROM fast WHERE id BETWEEN 30 AND 39 GROUP BY id ORDER BY id;
-- a failed COPY in a savepoint leaves the earlier rows
BEGIN;
SELECT copy_file('fast', 'one.tsv', true);
SELECT copy_file('fast', 'bad1.tsv', true);
COMMIT;
SELECT count(*) - :versions_before AS new_versions FROM lance_versions('fast');
SELECT id, count(*) FROM fast WHERE id BETWEEN 30 AND 39 GROUP BY id ORDER BY id;

--
-- COPY FROM STDIN, and the command tag
--
\set QUIET off
COPY fast (id, t) FROM STDIN;
40	from stdin
41	\N
\.
\set QUIET on
SELECT id, t FROM fast WHERE id BETWEEN 40 AND 49 ORDER BY id;

--
-- Privileges: reading a server file needs pg_read_server_files; writing
-- needs INSERT on the table
--
CREATE ROLE copy_user;
GRANT USAGE ON FOREIGN SERVER cs TO copy_user;
GRANT pg_write_server_files TO copy_user;
GRANT EXECUTE ON FUNCTION copy_file(text, text, boolean, text) TO copy_user;
SELECT write_lines('granted.tsv', ARRAY['60|granted']);
SET ROLE copy_user;
SELECT copy_file('fast', 'one.tsv', true);
SELECT copy_file('fast', 'one.tsv', false);
RESET ROLE;
GRANT pg_read_server_files TO copy_user;
-- a table whose options the writer would refuse: the privilege is checked first
CREATE SERVER nowhere FOREIGN DATA WRAPPER lancedb_fdw;
CREATE FOREIGN TABLE nowhere (id bigint) SERVER nowhere;
SET ROLE copy_user;
SELECT copy_file('fast', 'one.tsv', true);
SELECT copy_file('fast (id)', 'one.tsv', true);
SELECT copy_file('nowhere', 'one.tsv', true);
RESET ROLE;
SELECT copy_file('nowhere', 'one.tsv', true);
GRANT INSERT (id, t) ON fast TO copy_user;
SET ROLE copy_user;
SELECT copy_file('fast', 'one.tsv', true);
SELECT copy_file('fast (id, t)', 'granted.tsv', true);
RESET ROLE;

--
-- What the fast path leaves to the standard path still works: a trigger,
-- WHERE, a default, binary format, a table pinned to a version, the GUC
--
CREATE FOREIGN TABLE fallback (id bigint NOT NULL, t text DEFAULT 'filled in', v vector(3)) SERVER cs;
SELECT lance_create_table('fallback');
SELECT write_lines('three.tsv', ARRAY['50|a|[1,2,3]', '51|b|[4,5,6]', '52|c|[7,8,9]']);
SELECT copy_file('fallback', 'three.tsv', true, 'WHERE false');
SELECT copy_file('fallback', 'three.tsv', true, 'WHERE id <> 51');
SELECT write_lines('ids.tsv', ARRAY['53|[0,0,0]']);
SELECT copy_file('fallback (id, v)', 'ids.tsv', true);
CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.t := upper(NEW.t);
	RETURN NEW;
END
$$;
CREATE TRIGGER shout BEFORE INSERT ON fallback FOR EACH ROW EXECUTE FUNCTION shout();
SELECT write_lines('four.tsv', ARRAY['54|d|[1,1,1]']);
SELECT copy_file('fallback', 'four.tsv', true);
DROP TRIGGER shout ON fallback;
SELECT * FROM fallback ORDER BY id;
\set binfile :copy_root/fallback.bin
COPY (SELECT 55::bigint AS id, 'binary'::text AS t, '[5,5,5]'::vector(3) AS v)
	TO :'binfile' (FORMAT binary);
SELECT copy_file('fallback', 'fallback.bin', true, '(FORMAT binary)');
SELECT id, t FROM fallback WHERE id = 55;
SET lancedb.copy_fast_path = off;
SET client_min_messages = debug1;
COPY fast (id) FROM STDIN;
56
\.
RESET client_min_messages;
RESET lancedb.copy_fast_path;
SELECT id, t FROM fast WHERE id = 56;
CREATE FOREIGN TABLE pinned (id bigint NOT NULL, t text, v vector(3))
	SERVER cs OPTIONS (table 'fallback', version '1');
SELECT copy_file('pinned', 'three.tsv', true);
-- an identity column left out of the column list: its sequence fills it
CREATE FOREIGN TABLE ident (id bigint GENERATED ALWAYS AS IDENTITY, v vector(3)) SERVER cs;
SELECT lance_create_table('ident');
SELECT write_lines('vectors.tsv', ARRAY['[1,2,3]', '[4,5,6]']);
SELECT copy_file('ident (v)', 'vectors.tsv', true);
SELECT * FROM ident ORDER BY id;
-- a view, and a foreign table of another wrapper: the standard path's errors
CREATE VIEW fast_view AS SELECT * FROM fast;
SELECT copy_file('fast_view', 'one.tsv', true);
CREATE FOREIGN DATA WRAPPER no_handler;
CREATE SERVER other FOREIGN DATA WRAPPER no_handler;
CREATE FOREIGN TABLE not_lance (id bigint) SERVER other;
SELECT copy_file('not_lance', 'ids.tsv', true);
-- another wrapper's handler is not called before the privilege check: this
-- one returns no routine, which would fail the COPY with XX000, not 42501
CREATE FUNCTION void_handler() RETURNS fdw_handler LANGUAGE internal
	AS 'pg_stat_clear_snapshot';
CREATE FOREIGN DATA WRAPPER void_handler HANDLER void_handler;
CREATE SERVER void_server FOREIGN DATA WRAPPER void_handler;
CREATE FOREIGN TABLE void_table (id bigint) SERVER void_server;
SET ROLE copy_user;
SELECT copy_file('void_table', 'ids.tsv', true);
RESET ROLE;

--
-- A cancel while a row waits in the batches ends the COPY with the cancel,
-- and line 1's bad value is never converted.  The program's output reaches
-- COPY only when its pipe ends: the timeout's SIGINT, sent to the backend's
-- process group, ends the program after about 1 s, and the cancel is
-- raised at the next interrupt check after line 1 is split.  (The standard
-- path converts line 1 as soon as it is read, before any interrupt check,
-- and reports its 22P02.)  The 5 s pause only keeps the timeout from
-- missing the COPY on a loaded machine; the test does not wait for it.
--
SET statement_timeout = '1s';
SET client_min_messages = debug1;
\set VERBOSITY terse
COPY fast (id, i4) FROM PROGRAM 'printf "70\tbad\n"; sleep 5; printf "71\t1\n"';
\set VERBOSITY default
RESET client_min_messages;
RESET statement_timeout;
SELECT copy_leftovers() = '' AS nothing_left;
-- failing COPYs in a row, with the parse thread under way, leave no thread
-- unjoined and none of their memory (copy_file checks after each)
SELECT outcome, count(*) FROM generate_series(1, 10) g,
	LATERAL split_part(copy_file('fast', 'many_bad.tsv', g > 0), E'\n', 1) outcome
	GROUP BY outcome;

--
-- A COPY into a wide vector column takes memory for the rows it has, not
-- for two full batches of 2048 rows of 64 kB; and batches of fewer rows
-- take the rows in order.  (A new session, the library loaded, so that
-- VmPeak grows only with the COPY.)
--
-- the backend's peak virtual memory, in kB
CREATE FUNCTION vm_peak_kb() RETURNS bigint LANGUAGE sql AS $$
	SELECT (regexp_match(pg_read_file('/proc/' || pg_backend_pid() || '/status'),
		'VmPeak:\s+(\d+)'))[1]::bigint
$$;
CREATE FOREIGN TABLE wide (id bigint, v vector(16000)) SERVER cs;
SELECT lance_create_table('wide');
\c
SELECT count(*) FROM wide;
SELECT vm_peak_kb() AS peak_before \gset
-- (before the commit, where the writer takes memory for the data file)
BEGIN;
SET LOCAL client_min_messages = debug1;
-- (no parse thread: a thread's first malloc may map a 128 MB arena)
SET LOCAL lancedb.copy_parse_thread = off;
COPY wide FROM PROGRAM 'printf "1\t[%s]\n" "$(seq -s, 16000)"';
RESET client_min_messages;
SELECT vm_peak_kb() - :peak_before < 64 * 1024 AS under_64mb;
COMMIT;
-- each row's first element is its id, so rows mixed up between batches show
COPY wide FROM PROGRAM 'v=$(seq -s, 2 16000); seq 2 300 | sed "s/.*/&\t[&,$v]/"';
SELECT count(*), sum(id), count(DISTINCT v),
	count(*) FILTER (WHERE (v::real[])[1] <> id) AS mixed_up FROM wide;
-- a row of 100 vector(16000) columns takes one row's room in each batch,
-- not a floor of rows that never come (16 rows would be 205 MB)
CREATE FOREIGN TABLE wider (id bigint) SERVER cs;
DO $$ BEGIN EXECUTE (SELECT 'ALTER FOREIGN TABLE wider ' ||
	string_agg(format('ADD COLUMN v%s vector(16000)', g), ', ') FROM generate_series(1, 100) g);
END $$;
SELECT lance_create_table('wider');
\c
SELECT count(*) FROM wider;
SELECT vm_peak_kb() AS peak_before \gset
BEGIN;
SET LOCAL client_min_messages = debug1;
SET LOCAL lancedb.copy_parse_thread = off;
COPY wider FROM PROGRAM '{ printf "1\t[%s]\t" "$(seq -s, 16000)"; yes "\\N" | head -99 | paste -s; }';
RESET client_min_messages;
SELECT vm_peak_kb() - :peak_before < 64 * 1024 AS under_64mb;
COMMIT;
SELECT id, (v1::real[])[16000], v100 IS NULL AS v100_null FROM wider;

DROP VIEW fast_view;
DROP FUNCTION vm_peak_kb();
DROP FOREIGN TABLE slow, fast, fallback, pinned, ident, not_lance, wide, wider CASCADE;
DROP FOREIGN TABLE nowhere;
DROP SERVER other, nowhere;
DROP FOREIGN DATA WRAPPER no_handler;
DROP FOREIGN DATA WRAPPER void_handler CASCADE;
DROP FUNCTION void_handler();
DROP TABLE bad_cases;
DROP FUNCTION copy_leftovers();
DROP SERVER cs;
DROP OWNED BY copy_user;
DROP ROLE copy_user;

--
-- Writing numeric columns into Lance decimal fields (Arrow decimal128 up
-- to 38 digits, decimal256 up to 76): values rounded to the field's
-- scale as a numeric(p, s) column rounds, out-of-range values refused.
--
\getenv scratch LANCEDB_SCRATCH
\! rm -rf "$LANCEDB_SCRATCH/decimal"; mkdir -p "$LANCEDB_SCRATCH/decimal"; chmod 777 "$LANCEDB_SCRATCH/decimal"
SELECT :'scratch' || '/decimal' AS dec_root \gset
CREATE SERVER decs FOREIGN DATA WRAPPER lancedb_fdw OPTIONS (uri :'dec_root');
CREATE FUNCTION try_dec(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	detail text;
BEGIN
	EXECUTE q;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
	RETURN SQLSTATE || ': ' || SQLERRM ||
		CASE WHEN detail <> '' THEN E'\nDETAIL: ' || detail ELSE '' END;
END
$$;

-- one table per file version; decimal128, decimal256 and a negative scale
CREATE FOREIGN TABLE dec_v2_0 (id int NOT NULL, price numeric(10, 2), big numeric(40, 5),
	hundreds numeric(5, -2), whole numeric(38, 0)) SERVER decs;
CREATE FOREIGN TABLE dec_v2_1 (id int NOT NULL, price numeric(10, 2), big numeric(40, 5),
	hundreds numeric(5, -2), whole numeric(38, 0)) SERVER decs;
CREATE FOREIGN TABLE dec_v2_2 (id int NOT NULL, price numeric(10, 2), big numeric(40, 5),
	hundreds numeric(5, -2), whole numeric(38, 0)) SERVER decs;
SELECT lance_create_table('dec_v2_0', '2.0');
SELECT lance_create_table('dec_v2_1', '2.1');
SELECT lance_create_table('dec_v2_2', '2.2');
CREATE SCHEMA dec_import;
IMPORT FOREIGN SCHEMA lance LIMIT TO (dec_v2_2) FROM SERVER decs INTO dec_import;
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
	WHERE attrelid = 'dec_import.dec_v2_2'::regclass AND attnum > 0 ORDER BY attnum;

CREATE TEMP TABLE dec_rows (id int, price numeric, big numeric, hundreds numeric, whole numeric);
INSERT INTO dec_rows VALUES
	(1, 12345678.99, 123456789012345678901234567890.12345, 1234500, 1),
	(2, -99999999.99, -1, -50, -99999999999999999999999999999999999999),
	(3, NULL, NULL, NULL, NULL),
	(4, 0, 0.000001, 149, 99999999999999999999999999999999999999),
	(5, 0.005, -0.000005, -9999949, 0),
	(6, -0.005, 0.000005, 0, -1);
INSERT INTO dec_v2_0 SELECT * FROM dec_rows;
INSERT INTO dec_v2_1 SELECT * FROM dec_rows;
INSERT INTO dec_v2_2 SELECT * FROM dec_rows;
SELECT * FROM dec_v2_2 ORDER BY id;
-- every file version stores the same values
SELECT count(*) AS rows_differing FROM (
	(SELECT * FROM dec_v2_0 EXCEPT SELECT * FROM dec_v2_2)
	UNION ALL (SELECT * FROM dec_v2_1 EXCEPT SELECT * FROM dec_v2_2)) d;

-- a column wider than its field: values the field cannot hold are refused
CREATE FOREIGN TABLE dec_loose (id int, price numeric, hundreds numeric) SERVER decs
	OPTIONS (table 'dec_v2_2');
SELECT try_dec($$INSERT INTO dec_loose (id, price) VALUES (7, 100000000)$$);
SELECT try_dec($$INSERT INTO dec_loose (id, price) VALUES (7, 99999999.995)$$);
SELECT try_dec($$INSERT INTO dec_loose (id, price) VALUES (7, 'NaN')$$);
SELECT try_dec($$INSERT INTO dec_loose (id, price) VALUES (7, '-Infinity')$$);
SELECT try_dec($$INSERT INTO dec_loose (id, hundreds) VALUES (7, 9999950)$$);
INSERT INTO dec_loose VALUES (8, 99999999.994, 9999949.9);
SELECT id, price, hundreds FROM dec_v2_2 WHERE id > 6 ORDER BY id;

-- a decimal member of a struct
CREATE TYPE dec_amount AS (amount numeric(6, 3), currency text);
CREATE FOREIGN TABLE dec_struct (id int NOT NULL, cost dec_amount) SERVER decs;
SELECT lance_create_table('dec_struct', '2.1');
INSERT INTO dec_struct VALUES (1, ROW(123.4567, 'EUR')), (2, ROW(NULL, 'USD')), (3, NULL),
	(4, ROW(-999.999, NULL));
SELECT * FROM dec_struct ORDER BY id;
SELECT try_dec($$INSERT INTO dec_struct VALUES (5, ROW(1000, 'EUR'))$$);

-- a value out of range inside a struct or a list names the field by its path
CREATE TYPE dec_amount_loose AS (amount numeric, currency text);
CREATE FOREIGN TABLE dec_struct_loose (id int, cost dec_amount_loose) SERVER decs
	OPTIONS (table 'dec_struct');
SELECT try_dec($$INSERT INTO dec_struct_loose VALUES (5, ROW(1000, 'EUR'))$$);
CREATE TYPE dec_line AS (price numeric(4, 1));
CREATE FOREIGN TABLE dec_lists (id int, ns numeric(4, 1)[], lines dec_line[]) SERVER decs;
SELECT lance_create_table('dec_lists', '2.2');
CREATE TYPE dec_line_loose AS (price numeric);
CREATE FOREIGN TABLE dec_lists_loose (id int, ns numeric[], lines dec_line_loose[]) SERVER decs
	OPTIONS (table 'dec_lists');
SELECT try_dec($$INSERT INTO dec_lists_loose (id, ns) VALUES (1, ARRAY[1, 1000])$$);
SELECT try_dec($$INSERT INTO dec_lists_loose (id, lines)
	VALUES (1, ARRAY[ROW(2)::dec_line_loose, ROW(-1000)::dec_line_loose])$$);
INSERT INTO dec_lists_loose VALUES (2, ARRAY[999.94], ARRAY[ROW(-999.94)::dec_line_loose]);
SELECT * FROM dec_lists ORDER BY id;

-- columns that make no decimal field
CREATE FOREIGN TABLE dec_bad (n numeric) SERVER decs;
SELECT try_dec($$SELECT lance_create_table('dec_bad', '2.2')$$);
CREATE FOREIGN TABLE dec_wide (n numeric(80, 2)) SERVER decs;
SELECT try_dec($$SELECT lance_create_table('dec_wide', '2.2')$$);
-- scales Arrow's decimals cannot hold: above the precision, or negative past the width
CREATE FOREIGN TABLE dec_fine (n numeric(10, 11)) SERVER decs;
SELECT try_dec($$SELECT lance_create_table('dec_fine', '2.2')$$);
CREATE FOREIGN TABLE dec_coarse (n numeric(20, -39)) SERVER decs;
SELECT try_dec($$SELECT lance_create_table('dec_coarse', '2.2')$$);
CREATE FOREIGN TABLE dec_coarse256 (n numeric(40, -77)) SERVER decs;
SELECT try_dec($$SELECT lance_create_table('dec_coarse256', '2.2')$$);
CREATE FOREIGN TABLE dec_fine_list (id int, ns numeric(3, 4)[]) SERVER decs;
SELECT try_dec($$SELECT lance_create_table('dec_fine_list', '2.2')$$);

DROP SCHEMA dec_import CASCADE;
DROP SERVER decs CASCADE;
DROP TYPE dec_amount;
DROP TYPE dec_amount_loose;
DROP TYPE dec_line;
DROP TYPE dec_line_loose;
DROP FUNCTION try_dec(text);
\! rm -rf "$LANCEDB_SCRATCH/decimal"

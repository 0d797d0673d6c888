--
-- vector: text and binary input/output, type modifiers, storage.
--

-- Text form: brackets, commas, whitespace tolerated around every token.
SELECT '[1,2,3]'::vector;
SELECT '  [ 1 ,2 ,  3 ]  '::vector;
SELECT E'[\t1,\n2\r,3\f]'::vector;
SELECT '[-1.5,+2,3.]'::vector;
SELECT '[1e3,1E-3,.5]'::vector;

-- Output is the shortest text that reads back to the same float4, written
-- as pgvector writes it, whatever extra_float_digits says.
SELECT '[0.1,1e20,-0,123456789,1.5e-38]'::vector;
SELECT '[3.4028235e38,-3.4028235e38,1.4e-45]'::vector;
SET extra_float_digits = 3;
SELECT '[0.1,0.2]'::vector;
SET extra_float_digits = -15;
SELECT '[0.1,0.2]'::vector;
RESET extra_float_digits;

-- A literal rounds once, straight to the nearest float4.
SELECT '[1.00000001,16777217]'::vector;

-- Underflow to zero is accepted (as pgvector does); the sign is kept.
SELECT '[1e-50,-1e-50]'::vector;

-- Printing and reading back gives the same vector, for many values.
SELECT count(*) AS mismatches
FROM (SELECT ('[' || sin(i)::real * 10 ^ (i % 20 - 10) || ','
              || cos(i)::real || ']')::vector AS v
      FROM generate_series(1, 1000) i) s
WHERE v::text::vector <> v;

-- Malformed text is an error naming the input.
SELECT '[1,2'::vector;
SELECT '[1,2,'::vector;
SELECT '['::vector;
SELECT ''::vector;
SELECT 'abc'::vector;
SELECT '1,2,3'::vector;
SELECT '[1,,2]'::vector;
SELECT '[,1]'::vector;
SELECT '[1 2]'::vector;
SELECT '[1,2]]'::vector;
SELECT '[1,2] x'::vector;
SELECT '[1a]'::vector;
SELECT '[[1,2]]'::vector;
SELECT '{1,2}'::vector;

-- A vector has at least one dimension.
SELECT '[]'::vector;
SELECT '[  ]'::vector;

-- Elements must be finite and fit a float4.
SELECT '[NaN]'::vector;
SELECT '[1,nan]'::vector;
SELECT '[Infinity]'::vector;
SELECT '[-inf,1]'::vector;
SELECT '[1e39]'::vector;
SELECT '[1,-4e38]'::vector;

-- At most 16000 dimensions.
SELECT vector_dims(('[' || array_to_string(array_fill(1, ARRAY[16000]), ',') || ']')::vector);
SELECT ('[' || array_to_string(array_fill(1, ARRAY[16001]), ',') || ']')::vector;

-- Type modifier: vector(n), 1 <= n <= 16000.
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2,3]'::vector(2);
SELECT '[1,2,3]'::vector(3, 2);
SELECT '[1,2,3]'::vector('a');
SELECT '[1,2,3]'::vector(0);
SELECT '[1,2,3]'::vector(-1);
SELECT '[1,2,3]'::vector(16001);
SELECT format_type('vector'::regtype, 16000), format_type('vector'::regtype, -1);
SELECT '{"[1,2]","[3,4]"}'::vector(2)[];
SELECT '{"[1,2]","[3,4,5]"}'::vector(2)[];

-- A column's vector(n) holds on INSERT, UPDATE and COPY.
CREATE TABLE vector_io_t (id int, v vector(3));
INSERT INTO vector_io_t VALUES (1, '[1,2,3]');
INSERT INTO vector_io_t VALUES (2, '[1,2,3,4]');
INSERT INTO vector_io_t VALUES (2, '[1,2]'::vector);
INSERT INTO vector_io_t VALUES (2, '[1,2]'::vector || '[3,4]');
UPDATE vector_io_t SET v = v || '[4]';
COPY vector_io_t FROM stdin;
3	[4,5,6]
\.
COPY vector_io_t FROM stdin;
4	[4,5]
\.
SELECT * FROM vector_io_t ORDER BY id;
\d vector_io_t
DROP TABLE vector_io_t;

-- Binary form: int16 dim, int16 zero, float4 values, network byte order.
SELECT vector_send('[1,2,3]');
SELECT vector_send('[-0,0.1,-3.4028235e38]');

-- Binary input comes through COPY ... (FORMAT binary); this writes a
-- one-column binary COPY file holding one field into the data directory.
CREATE FUNCTION vector_io_copy_file(field bytea) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	lo oid;
BEGIN
	lo := lo_from_bytea(0,
		'\x5047434f50590aff0d0a00'::bytea	-- signature
		|| '\x0000000000000000'::bytea		-- flags, header extension length
		|| '\x0001'::bytea					-- one field
		|| int4send(length(field)) || field
		|| '\xffff'::bytea);				-- trailer
	PERFORM lo_export(lo, 'lancedb_vector_io.bin');
	PERFORM lo_unlink(lo);
END
$$;
CREATE TABLE vector_io_bin (v vector);
CREATE TABLE vector_io_bin3 (v vector(3));

-- What vector_send writes, vector_recv reads back unchanged.
SELECT vector_io_copy_file(vector_send('[1,-2.5,3e-7]'));
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
SELECT v FROM vector_io_bin;

-- A malformed binary value is an error, never a crash or a truncation.
\set VERBOSITY terse
-- reserved field not zero
SELECT vector_io_copy_file('\x000100013f800000');
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
-- zero dimensions
SELECT vector_io_copy_file('\x00000000');
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
-- more than 16000 dimensions (0x3e81 = 16001, 0xffff read as 65535)
SELECT vector_io_copy_file('\x3e810000');
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
SELECT vector_io_copy_file('\xffff0000');
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
-- fewer values than the header says
SELECT vector_io_copy_file('\x000300003f8000004000');
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
-- more bytes than the header says
SELECT vector_io_copy_file('\x000100003f80000040000000');
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
-- a header cut short
SELECT vector_io_copy_file('\x0001');
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
-- NaN, +Infinity
SELECT vector_io_copy_file('\x000200003f8000007fc00000');
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
SELECT vector_io_copy_file('\x000100007f800000');
COPY vector_io_bin FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
-- dimensions that break the column's vector(3)
SELECT vector_io_copy_file(vector_send('[1,2]'));
COPY vector_io_bin3 FROM 'lancedb_vector_io.bin' WITH (FORMAT binary);
\set VERBOSITY default
SELECT count(*) FROM vector_io_bin3;
DROP TABLE vector_io_bin, vector_io_bin3;
DROP FUNCTION vector_io_copy_file(bytea);

-- Storage: external (out of line, uncompressed) like pgvector, and the
-- on-disk size is 8 bytes of header plus 4 per dimension.
SELECT typstorage, typalign, typlen FROM pg_type WHERE typname = 'vector';
SELECT pg_column_size('[1,2,3]'::vector);
CREATE TABLE vector_io_big (v vector(2000));
INSERT INTO vector_io_big
SELECT array_agg(i * 0.5)::vector FROM generate_series(1, 2000) i;
SELECT vector_dims(v), v = (SELECT array_agg(i * 0.5)::vector FROM generate_series(1, 2000) i),
       pg_column_size(v)
FROM vector_io_big;
DROP TABLE vector_io_big;

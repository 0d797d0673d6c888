--
-- vector: casts from and to arrays.
--

-- integer[], real[], double precision[] and numeric[] cast to vector.
SELECT ARRAY[1,2,3]::vector;
SELECT ARRAY[1.5,-2,3]::real[]::vector;
SELECT ARRAY[0.1,1e20]::double precision[]::vector;
SELECT ARRAY[1.25,2,3]::numeric[]::vector;
SELECT '{1,2,3}'::int[]::vector(3);
SELECT '{1,2,3}'::real[]::vector(2);
SELECT '{1,2,3}'::float8[]::vector(4);
SELECT '{1,2,3}'::numeric[]::vector(1);

-- float8 and numeric elements round to the nearest float4.
SELECT ARRAY[0.1::float8, 16777217]::vector, ARRAY[16777217::numeric]::vector;
-- an int beyond float4's 24-bit mantissa rounds too
SELECT ARRAY[2147483647]::vector;
-- underflow to zero is accepted, keeping the sign
SELECT ARRAY[1e-50::float8, -1e-50::float8]::vector;

-- The casts are assignment casts: an array can be stored in a vector column.
CREATE TABLE vector_cast_t (v vector(3));
INSERT INTO vector_cast_t VALUES (ARRAY[1,2,3]), (ARRAY[1.5,2.5,3.5]),
	('{4,5,6}'::real[]), ('{7,8,9}'::float8[]);
INSERT INTO vector_cast_t VALUES (ARRAY[1,2]);
SELECT * FROM vector_cast_t;
DROP TABLE vector_cast_t;

-- An array must be one-dimensional, non-empty, free of NULLs.
SELECT '{{1,2},{3,4}}'::int[]::vector;
SELECT '{}'::int[]::vector;
SELECT '{1,NULL,3}'::int[]::vector;
SELECT '{NULL}'::real[]::vector;
SELECT ARRAY[NULL, 1.0]::numeric[]::vector;
SELECT array_fill(1, ARRAY[16001])::vector;

-- Elements must be finite and fit a float4.
SELECT '{1,NaN}'::real[]::vector;
SELECT '{Infinity}'::real[]::vector;
SELECT '{-Infinity,1}'::float8[]::vector;
SELECT '{NaN}'::float8[]::vector;
SELECT '{NaN}'::numeric[]::vector;
SELECT '{1e39}'::float8[]::vector;
SELECT '{-1e300}'::float8[]::vector;
SELECT '{1e39}'::numeric[]::vector;

-- Other element types have no cast.
SELECT '{1,2}'::text[]::vector;
SELECT '{1,2}'::bigint[]::vector;

-- vector casts to real[]; the cast is implicit, so a vector can be stored in
-- a real[] column or passed where real[] is expected.
SELECT '[1,2.5,-3]'::vector::real[];
SELECT array_length('[1,2,3,4]'::vector::real[], 1);
CREATE TABLE vector_cast_r (a real[]);
INSERT INTO vector_cast_r VALUES ('[1,2]'::vector);
SELECT a FROM vector_cast_r;
DROP TABLE vector_cast_r;
SELECT unnest('[1e-45,3.4028235e38]'::vector::real[]);
-- and a vector survives the round trip through real[] unchanged
SELECT count(*) AS mismatches
FROM (SELECT ('[' || i * 0.37 || ',' || -i / 7.0 || ']')::vector AS v
      FROM generate_series(1, 500) i) s
WHERE v::real[]::vector <> v;

-- Text casts go through the I/O functions.
SELECT '[1,2,3]'::vector::text, '[1,2,3]'::text::vector;
SELECT CAST('[1,2]' AS vector(2)), CAST('[1,2]'::vector AS vector(3));

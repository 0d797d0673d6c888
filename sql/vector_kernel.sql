--
-- lancedb.kernel: forcing a distance kernel path changes speed, not answers.
--
-- The SIMD paths exist on the machines these tests run on (x86-64 with
-- AVX-512); a machine without them refuses the SET instead.
--

-- The parameter exists once the library is loaded (by the first call of
-- any of its functions, or by LOAD); before that a SET only makes a
-- placeholder, which is checked when the library loads.
LOAD 'lancedb_fdw';

-- "auto" by default; the known paths by name, in any case; nothing else.
SHOW lancedb.kernel;
SET lancedb.kernel = 'scalar';
SHOW lancedb.kernel;
SET lancedb.kernel = 'AVX2';
SHOW lancedb.kernel;
SET lancedb.kernel = 'neon';
SET lancedb.kernel = '';
SHOW lancedb.kernel;
RESET lancedb.kernel;
SHOW lancedb.kernel;

-- A SET LOCAL ends with its transaction.
BEGIN;
SET LOCAL lancedb.kernel = 'scalar';
SHOW lancedb.kernel;
COMMIT;
SHOW lancedb.kernel;

-- Small integer vectors sum exactly, so every path gives the same bits.
CREATE TEMP VIEW kernel_exact AS
SELECT current_setting('lancedb.kernel') AS path,
       '[1,2,3]'::vector <-> '[4,5,6]' AS l2,
       '[1,2,3]'::vector <#> '[4,5,6]' AS nip,
       '[1,2,3]'::vector <=> '[4,5,6]' AS cos,
       '[1,2,3]'::vector <+> '[4,5,6]' AS l1,
       cosine_distance('[0,0,0]', '[1,2,3]') AS cos_zero,
       l2_distance(array_fill(1, ARRAY[37])::vector, array_fill(3, ARRAY[37])::vector) AS l2_37;
SET lancedb.kernel = 'scalar';
SELECT * FROM kernel_exact;
SET lancedb.kernel = 'avx2';
SELECT * FROM kernel_exact;
SET lancedb.kernel = 'avx512';
SELECT * FROM kernel_exact;
RESET lancedb.kernel;
SELECT * FROM kernel_exact;

-- On general values every path stays within float4 rounding of a float8
-- reference computed in SQL, over lengths that exercise each path's
-- blocks and tails.
CREATE TEMP TABLE kernel_vec AS
SELECT d, k,
       (SELECT array_agg(sin(d * 31 + k * 7 + i) * (1 + i % 5))
        FROM generate_series(1, d) i)::vector AS v
FROM unnest(ARRAY[1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32,
                  33, 47, 48, 49, 63, 64, 65, 127, 128, 129, 255, 256, 257,
                  1000, 1536, 16000]) d,
     generate_series(1, 3) k;

CREATE TEMP TABLE kernel_ref AS
SELECT a.d, a.v AS a, b.v AS b, r.*
FROM kernel_vec a
JOIN kernel_vec b ON a.d = b.d AND a.k < b.k
CROSS JOIN LATERAL (
	SELECT sum((x::float8 - y::float8) ^ 2) AS l2sq,
	       sum(x::float8 * y::float8) AS ip,
	       sum(abs(x::float8 - y::float8)) AS l1,
	       sqrt(sum(x::float8 ^ 2) * sum(y::float8 ^ 2)) AS norms
	FROM unnest(a.v::real[], b.v::real[]) u(x, y)) r;

-- Each column counts the pairs whose result is off; all must be zero.
CREATE TEMP VIEW kernel_off AS
SELECT current_setting('lancedb.kernel') AS path,
       count(*) AS pairs,
       count(*) FILTER (WHERE abs(vector_l2_squared_distance(a, b) - l2sq) > 1e-4 * l2sq) AS l2sq,
       count(*) FILTER (WHERE abs((a <-> b) - sqrt(l2sq)) > 1e-4 * sqrt(l2sq)) AS l2,
       count(*) FILTER (WHERE abs(inner_product(a, b) - ip) > 1e-4 * norms) AS ip,
       count(*) FILTER (WHERE abs((a <#> b) + ip) > 1e-4 * norms) AS nip,
       count(*) FILTER (WHERE abs((a <=> b) - (1 - ip / norms)) > 1e-4) AS cos,
       count(*) FILTER (WHERE abs((a <+> b) - l1) > 1e-4 * l1) AS l1
FROM kernel_ref;
SET lancedb.kernel = 'scalar';
SELECT * FROM kernel_off;
SET lancedb.kernel = 'avx2';
SELECT * FROM kernel_off;
SET lancedb.kernel = 'avx512';
SELECT * FROM kernel_off;
RESET lancedb.kernel;
SELECT * FROM kernel_off;

-- The paths also agree with each other, closer than with the reference.
SET lancedb.kernel = 'scalar';
CREATE TEMP TABLE kernel_scalar AS
SELECT d, a, b, norms, a <-> b AS l2, a <#> b AS nip, a <=> b AS cos, a <+> b AS l1
FROM kernel_ref;
SET lancedb.kernel = 'avx512';
SELECT count(*) FILTER (WHERE abs((a <-> b) - l2) > 1e-5 * l2) AS l2,
       count(*) FILTER (WHERE abs((a <#> b) - nip) > 1e-5 * norms) AS nip,
       count(*) FILTER (WHERE abs((a <=> b) - cos) > 1e-5) AS cos,
       count(*) FILTER (WHERE abs((a <+> b) - l1) > 1e-5 * l1) AS l1
FROM kernel_scalar
WHERE d <= 1536;
RESET lancedb.kernel;

-- And the setting really switches paths: their different order of
-- summation shows in the last bits of some results.
SET lancedb.kernel = 'avx512';
SELECT count(*) FILTER (WHERE l2 <> (a <-> b) OR nip <> (a <#> b)) > 0 AS differs
FROM kernel_scalar;
RESET lancedb.kernel;

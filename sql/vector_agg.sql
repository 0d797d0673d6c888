--
-- vector: avg(vector) and sum(vector).
--

-- Elementwise mean and sum; NULL rows are skipped.
SELECT avg(v), sum(v)
FROM (VALUES ('[1,2,3]'::vector), ('[3,5,7]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (VALUES ('[1.5,-2]'::vector)) t(v);

-- No rows, or only NULLs, give NULL, as avg and sum of numbers do.
SELECT avg(v), sum(v) FROM (SELECT '[1]'::vector WHERE false) t(v);
SELECT avg(v) IS NULL, sum(v) IS NULL FROM (VALUES (NULL::vector), (NULL)) t(v);

-- Every row must have the same dimensions.
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[3]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2]'::vector), ('[3]')) t(v);

-- avg sums in float8, so an intermediate past float4's range is fine as
-- long as the mean fits; sum works in float4 and overflows.
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);

-- avg's float8 sums keep small values that a float4 running sum would
-- lose against a large one: (1e8 + 1000 * 1) / 1001, not 1e8 / 1001.
SELECT avg(v) FROM (SELECT '[1e8]'::vector
                    UNION ALL
                    SELECT '[1]' FROM generate_series(1, 1000)) t(v);

-- With GROUP BY.
SELECT g, avg(v), sum(v)
FROM (VALUES (1, '[1,1]'::vector), (1, '[3,3]'), (2, '[10,20]')) t(g, v)
GROUP BY g ORDER BY g;

-- Parallel aggregation combines partial states and gives the same result.
-- (The values keep every float4 sum exact, so the order rows are added in
-- cannot change it.)
CREATE TABLE vector_agg_t (v vector(3));
INSERT INTO vector_agg_t
SELECT ARRAY[i % 100, i % 7, -(i % 100)]::vector FROM generate_series(1, 20000) i;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM vector_agg_t;
SELECT avg(v), sum(v) FROM vector_agg_t;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
RESET parallel_leader_participation;
SELECT avg(v), sum(v) FROM vector_agg_t;
DROP TABLE vector_agg_t;

-- The state functions check what they are handed, since SQL can call them.
-- A state is {count, sum_1, ..., sum_dim}; '{0}' has no dimensions yet.
SELECT vector_accum('{0}', '[1,2,3]');
SELECT vector_accum('{2,4,6,8}', '[1,2,3]');
SELECT vector_accum('{1,2}', '[1,2,3]');
SELECT vector_accum('{}', '[1]');
SELECT vector_accum('{{0}}', '[1]');
SELECT vector_accum('{NULL,1}', '[1]');
SELECT vector_combine('{1,1,2}', '{2,3,4}');
SELECT vector_combine('{0}', '{2,3,4}'), vector_combine('{2,3,4}', '{0}'),
       vector_combine('{0}', '{0}');
SELECT vector_combine('{1,1,2}', '{1,1}');
SELECT vector_combine('{1,2}', '{}');
SELECT vector_combine('{1,1e308}', '{1,1e308}');
SELECT vector_avg('{4,2,4,-8}');
SELECT vector_avg('{0}') IS NULL;
SELECT vector_avg('{1}');
SELECT vector_avg('{1,NaN}');
SELECT vector_avg('{1,1e300}');
SELECT vector_avg(array_prepend(1::float8, array_fill(1::float8, ARRAY[16001])));

--
-- vector: distances, arithmetic, comparison, utility functions, btree.
--

-- Euclidean distance, <->: the root of the sum of squared differences.
SELECT '[1,2,3]'::vector <-> '[4,5,6]';
SELECT l2_distance('[0,0]', '[3,4]'), l2_distance('[1,1]', '[1,1]');
SELECT vector_l2_squared_distance('[1,2,3]', '[4,5,6]');
-- a sum past float4's range is Infinity, not an error
SELECT l2_distance('[3e38]', '[-3e38]');

-- Inner product; <#> is its negation, so ascending order is most similar first.
SELECT inner_product('[1,2,3]', '[4,5,6]');
SELECT '[1,2,3]'::vector <#> '[4,5,6]', vector_negative_inner_product('[1,2,3]', '[4,5,6]');
SELECT inner_product('[3e38]', '[3e38]');

-- Cosine distance, <=>: 1 - cos(angle), between 0 and 2.
SELECT '[1,2,3]'::vector <=> '[4,5,6]';
SELECT cosine_distance('[1,2]', '[2,4]'), cosine_distance('[1,0]', '[0,7]'),
       cosine_distance('[1,1]', '[-2,-2]');
-- the angle to a zero vector is undefined
SELECT cosine_distance('[0,0]', '[1,1]'), cosine_distance('[0,0]', '[0,0]');
-- rounding never takes it below 0 or above 2
SELECT cosine_distance('[0.1,0.2,0.3]', '[0.1,0.2,0.3]') >= 0,
       cosine_distance('[0.1,0.2,0.3]', '[-0.1,-0.2,-0.3]') <= 2;

-- Taxicab distance, <+>.
SELECT '[1,2,3]'::vector <+> '[4,5,6]', l1_distance('[0,0]', '[-3,4]');
SELECT l1_distance('[3e38]', '[-3e38]');

-- Angle between unit vectors as a fraction of pi.
SELECT vector_spherical_distance('[1,0]', '[0,1]'),
       vector_spherical_distance('[1,0]', '[-1,0]'),
       vector_spherical_distance('[1,0]', '[1,0]');
-- a dot product just past 1 from rounding still gives a number
SELECT vector_spherical_distance('[1.0000001,0]', '[1.0000001,0]');

-- Every distance needs vectors of the same size.
SELECT '[1,2,3]'::vector <-> '[1,2,3,4]';
SELECT '[1,2,3]'::vector <#> '[1,2]';
SELECT '[1,2,3]'::vector <=> '[1]';
SELECT '[1,2,3]'::vector <+> '[1,2]';
SELECT vector_l2_squared_distance('[1]', '[1,2]');
SELECT vector_spherical_distance('[1]', '[1,2]');
SELECT inner_product('[1]', '[1,2]');

-- Distances are strict: NULL in, NULL out.
SELECT l2_distance(NULL, '[1]') IS NULL, ('[1]'::vector <=> NULL) IS NULL;

-- Longer vectors, across the kernels' block sizes and tails.
SELECT d,
       round(l2_distance(a, b)::numeric, 3) AS l2,
       round(inner_product(a, b)::numeric, 3) AS ip,
       round(cosine_distance(a, b)::numeric, 6) AS cos,
       round(l1_distance(a, b)::numeric, 3) AS l1
FROM (SELECT d,
             (SELECT array_agg(i)::vector FROM generate_series(1, d) i) AS a,
             (SELECT array_agg(d - i)::vector FROM generate_series(1, d) i) AS b
      FROM unnest(ARRAY[1, 7, 8, 15, 16, 17, 31, 33, 64, 100]) d) s
ORDER BY d;

-- Elementwise arithmetic.
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]',
       '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1,2]'::vector + '[1,2,3]';
SELECT '[1,2]'::vector - '[1]';
SELECT '[1,2]'::vector * '[1]';
-- a result past float4's range is an error, not an infinity
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e20]'::vector * '[1e20]';
-- as is a product of nonzeros that rounds to zero
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT '[0,1e-30]'::vector * '[1e-30,0]';

-- Concatenation, up to 16000 dimensions.
SELECT '[1,2]'::vector || '[3]';
SELECT vector_dims(array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8000])::vector);
SELECT array_fill(1, ARRAY[16000])::vector || '[1]';

-- Dimensions, norm, normalization.
SELECT vector_dims('[1,2,3]'), vector_dims('[0]');
SELECT vector_norm('[3,4]'), vector_norm('[0,0]'), vector_norm('[-2]');
-- the norm is summed in float8, so it neither overflows nor underflows
SELECT vector_norm('[3e38,3e38]'), vector_norm('[1e-30,1e-30]');
SELECT l2_normalize('[3,4]'), l2_normalize('[0,-5]'), l2_normalize('[0,0]');
SELECT l2_normalize('[3e38,3e38]'), l2_normalize('[1e-40]');
SELECT round(vector_norm(l2_normalize('[1,2,3,4,5]'))::numeric, 6);

-- subvector(v, start, count): 1-based, clipped like substring().
SELECT subvector('[1,2,3,4,5]', 2, 3), subvector('[1,2,3,4,5]', 1, 5),
       subvector('[1,2,3,4,5]', 4, 10), subvector('[1,2,3,4,5]', 0, 2),
       subvector('[1,2,3,4,5]', -2, 4);
SELECT subvector('[1,2,3,4,5]', 2147483647, 2147483647);
SELECT subvector('[1,2,3,4,5]', -2147483648, 2147483647);
SELECT subvector('[1,2,3,4,5]', 3, 0);
SELECT subvector('[1,2,3,4,5]', 3, -1);
SELECT subvector('[1,2,3,4,5]', 6, 1);
SELECT subvector('[1,2,3,4,5]', -1, 2);
SELECT subvector('[1,2,3,4,5]', 2147483647, 1);

-- binary_quantize: one bit per element, set where positive.
SELECT binary_quantize('[1,0,-1,0.5]');
SELECT binary_quantize('[1,1,1,1,1,1,1,1,-1,1]');
SELECT length(binary_quantize(array_fill(1, ARRAY[17])::vector));

-- Comparison: element by element, then the shorter vector first.
SELECT '[1,2,3]'::vector = '[1,2,3]', '[1,2,3]'::vector = '[1,2]',
       '[1,2,3]'::vector <> '[1,2,4]', '[1,2,3]'::vector <> '[1,2,3]';
SELECT '[1,2]'::vector < '[1,3]', '[1,2]'::vector < '[1,2,0]',
       '[2]'::vector < '[1,9]', '[1,2]'::vector <= '[1,2]';
SELECT '[1,3]'::vector > '[1,2]', '[1,2,0]'::vector > '[1,2]',
       '[1,2]'::vector >= '[1,2]', '[1,2]'::vector >= '[1,3]';
SELECT vector_cmp('[1,2]', '[1,2]'), vector_cmp('[1,2]', '[1,3]'),
       vector_cmp('[1,3]', '[1,2]'), vector_cmp('[1]', '[1,0]'),
       vector_cmp('[1,0]', '[1]'), vector_cmp('[-0]', '[0]');

-- A btree index orders vectors the same way, for ORDER BY, DISTINCT and
-- UNIQUE.
CREATE TABLE vector_ops_t (id int, v vector);
INSERT INTO vector_ops_t VALUES
	(1, '[3,1]'), (2, '[1,2,3]'), (3, '[1,2]'), (4, '[-1,5]'), (5, '[1,2]'),
	(6, NULL), (7, '[1,2,-1]'), (8, '[0.5]');
SELECT id, v FROM vector_ops_t ORDER BY v, id;
SELECT id, v FROM vector_ops_t ORDER BY v DESC NULLS LAST, id;
SELECT DISTINCT v FROM vector_ops_t ORDER BY v;
CREATE INDEX vector_ops_t_v ON vector_ops_t (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT v FROM vector_ops_t WHERE v >= '[1,2]' ORDER BY v;
SELECT v FROM vector_ops_t WHERE v >= '[1,2]' ORDER BY v;
SELECT id FROM vector_ops_t WHERE v = '[1,2]' ORDER BY id;
RESET enable_seqscan;
CREATE UNIQUE INDEX vector_ops_t_u ON vector_ops_t (v);
DELETE FROM vector_ops_t WHERE id = 5;
CREATE UNIQUE INDEX vector_ops_t_u ON vector_ops_t (v);
INSERT INTO vector_ops_t VALUES (9, '[3,1]');
DROP TABLE vector_ops_t;

-- Nearest neighbours by each operator, without an index.
CREATE TABLE vector_ops_nn (id int, v vector(2));
INSERT INTO vector_ops_nn VALUES
	(1, '[1,0]'), (2, '[0,1]'), (3, '[1,1]'), (4, '[10,10]'), (5, '[-1,-1]');
SELECT id FROM vector_ops_nn ORDER BY v <-> '[2,2]', id LIMIT 3;
SELECT id FROM vector_ops_nn ORDER BY v <#> '[2,2]', id LIMIT 3;
SELECT id FROM vector_ops_nn ORDER BY v <=> '[2,2]', id LIMIT 3;
SELECT id FROM vector_ops_nn ORDER BY v <+> '[2,2]', id LIMIT 3;
DROP TABLE vector_ops_nn;

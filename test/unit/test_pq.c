/*-------------------------------------------------------------------------
 *
 * test_pq.c
 *	  Unit tests for product quantization, ADC scanning and the top-k heap.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/distance.h"
#include "kernels/pq.h"
#include "kernels/pq_impl.h"
#include "unit.h"

static float *
random_rows(size_t n, size_t dim, uint64_t seed)
{
	float	   *x = malloc(n * dim * sizeof(float));
	uint64_t	state = seed;

	for (size_t i = 0; i < n * dim; i++)
		x[i] = (float) ((kmeans_random(&state) >> 40) / (double) (1 << 24)) - 0.5f;
	return x;
}

/* Mean squared reconstruction error of x through a codebook. */
static double
reconstruction_error(const float *cb, size_t dim, size_t m, const float *x, size_t n)
{
	uint8_t    *codes = malloc(n * m);
	float	   *y = malloc(n * dim * sizeof(float));
	CoreError	err;
	double		e = 0.0;

	if (pq_encode(cb, dim, m, x, n, codes, &err) != CORE_OK)
		e = INFINITY;
	else
	{
		pq_decode(cb, dim, m, codes, n, y);
		for (size_t i = 0; i < n; i++)
			e += distance_kernels()->l2sq(x + i * dim, y + i * dim, dim);
		e /= n;
	}
	free(codes);
	free(y);
	return e;
}

UNIT_TEST(pq_more_iterations_lower_quantization_error)
{
	size_t		n = 2000,
				dim = 32,
				m = 4;
	float	   *x = random_rows(n, dim, 11);
	float	   *cb1 = malloc(m * PQ_KSUB * (dim / m) * sizeof(float));
	float	   *cb2 = malloc(m * PQ_KSUB * (dim / m) * sizeof(float));
	KmeansOptions one = {.max_iterations = 1,.seed = 5};
	KmeansOptions many = {.max_iterations = 20,.seed = 5};
	CoreError	err;
	double		e1,
				e2;

	CHECK(pq_train(x, n, dim, m, &one, cb1, &err) == CORE_OK);
	CHECK(pq_train(x, n, dim, m, &many, cb2, &err) == CORE_OK);
	e1 = reconstruction_error(cb1, dim, m, x, n);
	e2 = reconstruction_error(cb2, dim, m, x, n);
	free(x);
	free(cb1);
	free(cb2);
	CHECK_MSG(e2 < e1, "error after 20 passes %g, after 1 pass %g", e2, e1);
}

UNIT_TEST(pq_decode_of_encode_is_the_nearest_codeword_per_subspace)
{
	size_t		n = 600,
				dim = 24,
				m = 3,
				dsub = 8;
	float	   *x = random_rows(n, dim, 12);
	float	   *cb = malloc(m * PQ_KSUB * dsub * sizeof(float));
	uint8_t    *codes = malloc(n * m);
	float	   *y = malloc(n * dim * sizeof(float));
	KmeansOptions opts = {.max_iterations = 10,.seed = 3};
	const DistanceKernels *dk = distance_kernels();
	CoreError	err;
	size_t		bad = 0;

	CHECK(pq_train(x, n, dim, m, &opts, cb, &err) == CORE_OK);
	CHECK(pq_encode(cb, dim, m, x, n, codes, &err) == CORE_OK);
	pq_decode(cb, dim, m, codes, n, y);
	/* each decoded sub-vector is within the best codeword's error */
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++)
		{
			float		got = dk->l2sq(x + i * dim + j * dsub, y + i * dim + j * dsub, dsub);
			float		best = INFINITY;

			for (size_t c = 0; c < PQ_KSUB; c++)
			{
				float		d = dk->l2sq(x + i * dim + j * dsub, cb + (j * PQ_KSUB + c) * dsub, dsub);

				best = d < best ? d : best;
			}
			if (got > best * (1 + 1e-4f) + 1e-6f)
				bad++;
		}
	free(x);
	free(cb);
	free(codes);
	free(y);
	CHECK_MSG(bad == 0, "%zu sub-vectors decoded farther than their best codeword", bad);
}

/*
 * Sub-vectors whose codes in a and b differ by more than a tie within
 * rounding: a's codeword farther than b's, or b's than a's.
 */
static size_t
codes_farther(const float *x, size_t n, size_t dim, size_t m, const float *cb,
			  const uint8_t *a, const uint8_t *b)
{
	const DistanceKernels *dk = distance_kernels();
	size_t		dsub = dim / m;
	size_t		bad = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++)
		{
			const float *xs = x + i * dim + j * dsub;
			const float *cbj = cb + j * PQ_KSUB * dsub;
			float		da = dk->l2sq(xs, cbj + a[i * m + j] * dsub, dsub);
			float		db = dk->l2sq(xs, cbj + b[i * m + j] * dsub, dsub);

			if (a[i * m + j] != b[i * m + j] && fabsf(da - db) > 1e-4f * (da + db) + 1e-6f)
				bad++;
		}
	return bad;
}

/*
 * Encode n rows both ways: in a batch on two threads (a build) into batch,
 * and one row at a time (an insert) into one.
 */
static bool
encode_batch_and_alone(const float *cb, size_t dim, size_t m, const float *x, size_t n,
					   uint8_t *batch, uint8_t *one, CoreError *err)
{
	if (pq_encode_threads(cb, dim, m, x, n, 2, batch, err) != CORE_OK)
		return false;
	for (size_t i = 0; i < n; i++)
		if (pq_encode(cb, dim, m, x + i * dim, 1, one + i * m, err) != CORE_OK)
			return false;
	return true;
}

UNIT_TEST(pq_batch_encoding_picks_the_codewords_one_row_encoding_picks)
{
	/*
	 * A build encodes rows in batches (SIMD searches of the codebooks), an
	 * insert one row at a time (the distance kernels): both must pick the
	 * same codeword, up to ties within rounding.  3000 rows make three
	 * tasks of PQ_ENCODE_TASK_ROWS on two threads.
	 */
	size_t		n = 3000,
				dim = 32,
				m = 4,
				dsub = 8;
	float	   *x = random_rows(n, dim, 21);
	float	   *cb = malloc(m * PQ_KSUB * dsub * sizeof(float));
	uint8_t    *batch = malloc(n * m);
	uint8_t    *one = malloc(n * m);
	KmeansOptions opts = {.max_iterations = 5,.seed = 4};
	CoreError	err;
	bool		ok;
	size_t		bad = 0;

	ok = pq_train(x, n, dim, m, &opts, cb, &err) == CORE_OK &&
		encode_batch_and_alone(cb, dim, m, x, n, batch, one, &err);
	CHECK(ok);
	if (ok)
		bad = codes_farther(x, n, dim, m, cb, batch, one);
	CHECK_MSG(bad == 0, "%zu sub-vectors encoded to a farther codeword in a batch than alone", bad);
	free(x);
	free(cb);
	free(batch);
	free(one);
}

UNIT_TEST(pq_duplicated_codewords_encode_to_the_first_copy_in_batch_and_alone)
{
	/*
	 * Codeword 2c + 1 a copy of codeword 2c: both searches meet two equal
	 * distances, bit for bit, and must keep the first, so every code is
	 * even, and the batch and one-row codes are the same up to ties between
	 * different codewords within rounding.
	 */
	size_t		n = 3000,
				dim = 32,
				m = 4,
				dsub = 8;
	float	   *x = random_rows(n, dim, 22);
	float	   *cb = malloc(m * PQ_KSUB * dsub * sizeof(float));
	uint8_t    *batch = malloc(n * m);
	uint8_t    *one = malloc(n * m);
	KmeansOptions opts = {.max_iterations = 5,.seed = 5};
	CoreError	err;
	bool		ok;
	size_t		odd = 0;

	ok = pq_train(x, n, dim, m, &opts, cb, &err) == CORE_OK;
	for (size_t j = 0; j < m; j++)
		for (size_t c = 0; c < PQ_KSUB; c += 2)
			memcpy(cb + (j * PQ_KSUB + c + 1) * dsub, cb + (j * PQ_KSUB + c) * dsub,
				   dsub * sizeof(float));
	ok = ok && encode_batch_and_alone(cb, dim, m, x, n, batch, one, &err);
	CHECK(ok);
	for (size_t i = 0; ok && i < n * m; i++)
		odd += (batch[i] & 1) + (one[i] & 1);
	CHECK_MSG(odd == 0, "%zu codes name the second copy of a codeword", odd);
	CHECK(ok && codes_farther(x, n, dim, m, cb, batch, one) == 0);
	free(x);
	free(cb);
	free(batch);
	free(one);
}

UNIT_TEST(pq_dimension_not_divisible_is_an_error)
{
	float		x[PQ_KSUB * 10] = {0};
	float		cb[10];
	KmeansOptions opts = {.max_iterations = 1,.seed = 1};
	CoreError	err;

	CHECK(pq_train(x, PQ_KSUB, 10, 3, &opts, cb, &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "not a multiple") != NULL);
}

UNIT_TEST(pq_adc_equals_distance_to_decoded_vector)
{
	size_t		n = 300,
				dim = 16,
				m = 4;
	float	   *x = random_rows(n, dim, 13);
	float	   *q = random_rows(1, dim, 14);
	float	   *cb = malloc(m * PQ_KSUB * (dim / m) * sizeof(float));
	uint8_t    *codes = malloc(n * m);
	uint8_t    *codes_t = malloc(n * m);
	float	   *y = malloc(n * dim * sizeof(float));
	float		table[4 * PQ_KSUB];
	float	   *adc = malloc(n * sizeof(float));
	KmeansOptions opts = {.max_iterations = 5,.seed = 3};
	CoreError	err;
	size_t		bad = 0;

	CHECK(pq_train(x, n, dim, m, &opts, cb, &err) == CORE_OK);
	CHECK(pq_encode(cb, dim, m, x, n, codes, &err) == CORE_OK);
	pq_decode(cb, dim, m, codes, n, y);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++)
			codes_t[j * n + i] = codes[i * m + j];
	for (int metric = PQ_METRIC_L2; metric <= PQ_METRIC_DOT; metric++)
	{
		pq_table(cb, dim, m, (PqMetric) metric, q, table);
		pq_scan(table, m, codes_t, n, adc);
		for (size_t i = 0; i < n; i++)
		{
			float		exact = metric == PQ_METRIC_L2
				? distance_kernels()->l2sq(q, y + i * dim, dim)
				: -distance_kernels()->dot(q, y + i * dim, dim);

			if (fabsf(adc[i] - exact) > 1e-4f * (1.0f + fabsf(exact)))
				bad++;
		}
	}
	free(x);
	free(q);
	free(cb);
	free(codes);
	free(codes_t);
	free(y);
	free(adc);
	CHECK_MSG(bad == 0, "%zu ADC distances differ from the decoded vectors'", bad);
}

UNIT_TEST(pq_simd_scans_equal_scalar_scan_bit_for_bit)
{
	/* n not a multiple of 8 or 16 exercises the tails */
	size_t		n = 1003,
				m = 7;
	float	   *table = random_rows(m, PQ_KSUB, 21);
	uint8_t    *codes_t = malloc(n * m);
	float	   *want = malloc(n * sizeof(float));
	float	   *got = malloc(n * sizeof(float));
	uint64_t	state = 5;
	bool		ok = true;

	for (size_t i = 0; i < n * m; i++)
		codes_t[i] = (uint8_t) kmeans_random(&state);
	pq_scan_scalar(table, m, codes_t, n, want);
	if (distance_isa_supported(KERNEL_ISA_AVX2))
	{
		pq_scan_avx2(table, m, codes_t, n, got);
		ok = ok && memcmp(want, got, n * sizeof(float)) == 0;
	}
	if (distance_isa_supported(KERNEL_ISA_AVX512))
	{
		pq_scan_avx512(table, m, codes_t, n, got);
		ok = ok && memcmp(want, got, n * sizeof(float)) == 0;
	}
	free(table);
	free(codes_t);
	free(want);
	free(got);
	CHECK(ok);
}

UNIT_TEST(pq_threaded_training_and_encoding_equal_one_thread)
{
	size_t		n = 2000,
				dim = 16,
				m = 4;
	float	   *x = random_rows(n, dim, 21);
	float	   *cb1 = malloc(PQ_KSUB * dim * sizeof(float));
	float	   *cb3 = malloc(PQ_KSUB * dim * sizeof(float));
	uint8_t    *c1 = malloc(n * m);
	uint8_t    *c3 = malloc(n * m);
	KmeansOptions one = {.max_iterations = 5,.seed = 3};
	KmeansOptions three = {.max_iterations = 5,.seed = 3,.threads = 3};
	CoreError	err;
	bool		ok;

	ok = pq_train(x, n, dim, m, &one, cb1, &err) == CORE_OK &&
		pq_train(x, n, dim, m, &three, cb3, &err) == CORE_OK &&
		pq_encode(cb1, dim, m, x, n, c1, &err) == CORE_OK &&
		pq_encode_threads(cb1, dim, m, x, n, 3, c3, &err) == CORE_OK;
	CHECK(ok);
	/* every subspace's k-means is the same computation on any thread */
	CHECK(ok && memcmp(cb1, cb3, PQ_KSUB * dim * sizeof(float)) == 0);
	CHECK(ok && memcmp(c1, c3, n * m) == 0);
	CHECK(one.iterations_run == three.iterations_run);
	free(x);
	free(cb1);
	free(cb3);
	free(c1);
	free(c3);
}

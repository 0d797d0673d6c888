/*-------------------------------------------------------------------------
 *
 * test_kmeans.c
 *	  Unit tests for k-means: sgemm and scalar paths, convergence, seeds.
 *
 * The data is a mixture of well-separated Gaussian-ish blobs made with the
 * module's own seeded generator, so every run sees the same numbers.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/distance.h"
#include "kernels/kmeans.h"
#include "kernels/kmeans_bounds.h"
#include "kernels/kmeans_impl.h"
#include "kernels/kmeans_neighbours.h"
#include "unit.h"

/* A uniform float in [-1, 1). */
static float
uniform(uint64_t *state)
{
	return (float) ((kmeans_random(state) >> 40) / (double) (1 << 24)) * 2.0f - 1.0f;
}

#if defined(__x86_64__) || defined(__i386__)
/*
 * Whether the SIMD versions for isa can run here; where they cannot, says
 * so, as the test then checks less than its name claims.
 */
static bool
isa_testable(KernelIsa isa)
{
	if (distance_isa_supported(isa))
		return true;
	printf("    (skipped: no %s on this machine)\n",
		   isa == KERNEL_ISA_AVX512 ? "AVX-512" : "AVX2");
	return false;
}
#endif

/* n rows around `blobs` random centres with spread 0.1 of the centres' range. */
static float *
make_blobs(size_t n, size_t dim, size_t blobs, uint64_t seed)
{
	float	   *centres = malloc(blobs * dim * sizeof(float));
	float	   *x = malloc(n * dim * sizeof(float));
	uint64_t	state = seed;

	for (size_t i = 0; i < blobs * dim; i++)
		centres[i] = uniform(&state) * 10.0f;
	for (size_t i = 0; i < n; i++)
	{
		size_t		b = kmeans_random(&state) % blobs;

		for (size_t d = 0; d < dim; d++)
			x[i * dim + d] = centres[b * dim + d] + uniform(&state);
	}
	free(centres);
	return x;
}

UNIT_TEST(kmeans_sgemm_assignment_matches_scalar_path)
{
	size_t		n = 3000,
				dim = 37,
				k = 50;
	float	   *x = make_blobs(n, dim, 20, 1);
	float	   *c = make_blobs(k, dim, 20, 2);
	int32_t    *a1 = malloc(n * sizeof(int32_t));
	int32_t    *a2 = malloc(n * sizeof(int32_t));
	float	   *d1 = malloc(n * sizeof(float));
	float	   *d2 = malloc(n * sizeof(float));
	const DistanceKernels *dk = distance_kernels();
	CoreError	err;
	size_t		bad = 0;

	CHECK(kmeans_assign(x, n, dim, c, k, true, a1, d1, NULL, NULL, &err) == CORE_OK);
	CHECK(kmeans_assign(x, n, dim, c, k, false, a2, d2, NULL, NULL, &err) == CORE_OK);
	for (size_t i = 0; i < n; i++)
	{
		/* a near-tie may pick another centroid; then both must be as near */
		float		e1 = dk->l2sq(x + i * dim, c + (size_t) a1[i] * dim, dim);
		float		e2 = dk->l2sq(x + i * dim, c + (size_t) a2[i] * dim, dim);

		if (fabsf(e1 - e2) > 1e-3f * (1.0f + e2) ||
			fabsf(d1[i] - d2[i]) > 1e-3f * (1.0f + d2[i]))
			bad++;
	}
	free(x);
	free(c);
	free(a1);
	free(a2);
	free(d1);
	free(d2);
	CHECK_MSG(bad == 0, "%zu rows differ between the sgemm and scalar paths", bad);
}

UNIT_TEST(kmeans_error_never_increases_between_passes)
{
	size_t		n = 4000,
				dim = 16,
				k = 32;
	float	   *x = make_blobs(n, dim, 64, 3);
	float	   *c = malloc(k * dim * sizeof(float));
	double		sse[25];
	KmeansOptions opts = {.max_iterations = 25,.seed = 7,.sse_out = sse};
	CoreError	err;
	CoreStatus	st = kmeans_train(x, n, dim, k, &opts, c, &err);

	free(x);
	free(c);
	CHECK(st == CORE_OK);
	CHECK(opts.iterations_run >= 2);
	for (int i = 1; i < opts.iterations_run; i++)
		CHECK_MSG(sse[i] <= sse[i - 1] * (1 + 1e-6), "pass %d: error %g after %g", i, sse[i], sse[i - 1]);
	CHECK_MSG(sse[opts.iterations_run - 1] < 0.9 * sse[0],
			  "training did not reduce the error: %g -> %g", sse[0], sse[opts.iterations_run - 1]);
}

UNIT_TEST(kmeans_same_seed_gives_same_centroids)
{
	size_t		n = 1000,
				dim = 8,
				k = 10;
	float	   *x = make_blobs(n, dim, 10, 4);
	float	   *c1 = malloc(k * dim * sizeof(float));
	float	   *c2 = malloc(k * dim * sizeof(float));
	KmeansOptions opts = {.max_iterations = 10,.seed = 42};
	CoreError	err;
	bool		same;

	CHECK(kmeans_train(x, n, dim, k, &opts, c1, &err) == CORE_OK);
	CHECK(kmeans_train(x, n, dim, k, &opts, c2, &err) == CORE_OK);
	same = memcmp(c1, c2, k * dim * sizeof(float)) == 0;
	free(x);
	free(c1);
	free(c2);
	CHECK(same);
}

UNIT_TEST(kmeans_repairs_empty_clusters_from_duplicate_rows)
{
	/* 200 copies of 2 distinct rows: most initial centroids coincide */
	size_t		n = 200,
				dim = 4,
				k = 4;
	float	   *x = malloc(n * dim * sizeof(float));
	float	   *c = malloc(k * dim * sizeof(float));
	int32_t    *a = malloc(n * sizeof(int32_t));
	KmeansOptions opts = {.max_iterations = 10,.seed = 1};
	CoreError	err;
	int			used[4] = {0};

	for (size_t i = 0; i < n; i++)
		for (size_t d = 0; d < dim; d++)
			x[i * dim + d] = (i % 2 == 0) ? 1.0f + d : -1.0f - d;
	CHECK(kmeans_train(x, n, dim, k, &opts, c, &err) == CORE_OK);
	CHECK(kmeans_assign(x, n, dim, c, k, false, a, NULL, NULL, NULL, &err) == CORE_OK);
	for (size_t i = 0; i < n; i++)
		used[a[i]] = 1;
	free(x);
	free(c);
	free(a);
	/* both distinct rows have a centroid of their own */
	CHECK(used[0] + used[1] + used[2] + used[3] >= 2);
}

UNIT_TEST(kmeans_too_few_rows_is_an_error_naming_both_counts)
{
	float		x[8] = {0};
	float		c[16];
	KmeansOptions opts = {.max_iterations = 5,.seed = 1};
	CoreError	err;

	CHECK(kmeans_train(x, 2, 4, 4, &opts, c, &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "2 rows") != NULL && strstr(err.msg, "4 centroids") != NULL);
}

static bool
cancel_now(void *arg)
{
	return true;
}

UNIT_TEST(kmeans_cancel_stops_training)
{
	size_t		n = 500,
				dim = 4,
				k = 5;
	float	   *x = make_blobs(n, dim, 5, 9);
	float	   *c = malloc(k * dim * sizeof(float));
	KmeansOptions opts = {.max_iterations = 5,.seed = 1,.cancel = cancel_now};
	CoreError	err;
	CoreStatus	st = kmeans_train(x, n, dim, k, &opts, c, &err);

	free(x);
	free(c);
	CHECK(st == CORE_ERR_CANCELED);
}

UNIT_TEST(kmeans_simd_argmin_equals_scalar_including_ties)
{
#if defined(__x86_64__) || defined(__i386__)
	bool		testable[KERNEL_ISA_AVX512 + 1] = {false};

	for (int isa = KERNEL_ISA_AVX2; isa <= KERNEL_ISA_AVX512; isa++)
		testable[isa] = isa_testable((KernelIsa) isa);
	/* lengths around the lane widths; values with many exact ties */
	for (size_t k = 1; k <= 70; k++)
	{
		float		g[70];
		float		cn[70];
		uint64_t	state = k;
		float		want_d;
		size_t		want;

		for (size_t j = 0; j < k; j++)
		{
			g[j] = (float) (kmeans_random(&state) % 5);
			cn[j] = (float) (kmeans_random(&state) % 3);
		}
		want = kmeans_argmin_scalar(g, cn, k, &want_d);
		for (int isa = KERNEL_ISA_AVX2; isa <= KERNEL_ISA_AVX512; isa++)
		{
			float		d;
			size_t		got;

			if (!testable[isa])
				continue;
			got = isa == KERNEL_ISA_AVX2 ? kmeans_argmin_avx2(g, cn, k, &d)
				: kmeans_argmin_avx512(g, cn, k, &d);
			CHECK_MSG(got == want && d == want_d, "k %zu isa %d: %zu (%g), want %zu (%g)",
					  k, isa, got, d, want, want_d);
		}
	}
#else
	printf("    (skipped: no x86 SIMD versions on this machine)\n");
#endif
}

UNIT_TEST(kmeans_simd_centroid_sums_equal_scalar_to_the_bit)
{
#if defined(__x86_64__) || defined(__i386__)
	/* runs of dimensions around the lane widths, at any offset; values of
	 * mixed magnitude so that the order of additions shows in the bits */
	bool		testable[KERNEL_ISA_AVX512 + 1] = {false};
	size_t		n = 300;
	size_t		dim = 40;
	size_t		k = 7;
	float	   *x = malloc(n * dim * sizeof(float));
	int32_t    *assign = malloc(n * sizeof(int32_t));
	double	   *want = malloc(k * dim * sizeof(double));
	double	   *got = malloc(k * dim * sizeof(double));
	uint64_t	state = 99;

	for (size_t i = 0; i < n * dim; i++)
		x[i] = uniform(&state) * (float) (1 << (kmeans_random(&state) % 24));
	for (size_t i = 0; i < n; i++)
		assign[i] = (int32_t) (kmeans_random(&state) % k);
	for (int isa = KERNEL_ISA_AVX2; isa <= KERNEL_ISA_AVX512; isa++)
		testable[isa] = isa_testable((KernelIsa) isa);
	for (size_t d0 = 0; d0 < 12; d0++)
		for (size_t d1 = d0; d1 <= dim; d1++)
			for (int isa = KERNEL_ISA_AVX2; isa <= KERNEL_ISA_AVX512; isa++)
			{
				if (!testable[isa])
					continue;
				for (size_t j = 0; j < k * dim; j++)
					want[j] = got[j] = (double) j / 3.0;
				kmeans_sum_rows_scalar(x, n, dim, assign, want, d0, d1);
				if (isa == KERNEL_ISA_AVX2)
					kmeans_sum_rows_avx2(x, n, dim, assign, got, d0, d1);
				else
					kmeans_sum_rows_avx512(x, n, dim, assign, got, d0, d1);
				CHECK_MSG(memcmp(want, got, k * dim * sizeof(double)) == 0,
						  "isa %d, dimensions [%zu, %zu): sums differ", isa, d0, d1);
			}
	free(x);
	free(assign);
	free(want);
	free(got);
#else
	printf("    (skipped: no x86 SIMD versions on this machine)\n");
#endif
}

/* The first of n rows whose dist differs in a bit from the kernel's, or n. */
static size_t
first_wrong_own_dist(const float *x, size_t n, size_t dim, const float *c,
					 const int32_t *assign, const float *dist)
{
	const DistanceKernels *dk = distance_kernels();

	for (size_t i = 0; i < n; i++)
	{
		float		want = dk->l2sq(x + i * dim, c + (size_t) assign[i] * dim, dim);

		if (memcmp(&want, &dist[i], sizeof(float)) != 0)
			return i;
	}
	return n;
}

UNIT_TEST(kmeans_own_centroid_distances_equal_the_distance_kernel_to_the_bit)
{
	/*
	 * every dimension the batched version takes, and past it: the selected
	 * version and, where it runs, the AVX-512 one called past its width
	 */
	size_t		n = 200;
	size_t		k = 9;
	float	   *x = malloc(n * 24 * sizeof(float));
	float	   *c = malloc(k * 24 * sizeof(float));
	int32_t    *assign = malloc(n * sizeof(int32_t));
	float	   *got = malloc(n * sizeof(float));
	uint64_t	state = 5;
#if defined(__x86_64__) || defined(__i386__)
	bool		avx512 = isa_testable(KERNEL_ISA_AVX512);
#endif

	for (size_t i = 0; i < n * 24; i++)
		x[i] = uniform(&state) * (float) (1 << (kmeans_random(&state) % 16));
	for (size_t i = 0; i < k * 24; i++)
		c[i] = uniform(&state) * 100.0f;
	for (size_t i = 0; i < n; i++)
		assign[i] = (int32_t) (kmeans_random(&state) % k);
	for (size_t dim = 1; dim <= 24; dim++)
	{
		size_t		i;

		kmeans_select_own_dist(dim) (x, n, dim, c, assign, got);
		i = first_wrong_own_dist(x, n, dim, c, assign, got);
		CHECK_MSG(i == n, "dim %zu row %zu: %.9g differs from the kernel's",
				  dim, i, i < n ? got[i] : 0.0f);
#if defined(__x86_64__) || defined(__i386__)
		if (avx512)
		{
			kmeans_own_dist_avx512(x, n, dim, c, assign, got);
			i = first_wrong_own_dist(x, n, dim, c, assign, got);
			CHECK_MSG(i == n, "dim %zu row %zu: AVX-512 %.9g differs from the kernel's",
					  dim, i, i < n ? got[i] : 0.0f);
		}
#endif
	}
	free(x);
	free(c);
	free(assign);
	free(got);
}

UNIT_TEST(kmeans_sgemm_path_matches_scalar_path_at_pq_subspace_dimensions)
{
	static const size_t dims[] = {1, 4, 16, 31, 32};
	const DistanceKernels *dk = distance_kernels();

	for (size_t t = 0; t < sizeof(dims) / sizeof(dims[0]); t++)
	{
		size_t		n = 2000,
					dim = dims[t],
					k = 250;	/* not a multiple of any SIMD width */
		float	   *x = make_blobs(n, dim, 30, 10 + t);
		float	   *c = make_blobs(k, dim, 30, 20 + t);
		int32_t    *a1 = malloc(n * sizeof(int32_t));
		int32_t    *a2 = malloc(n * sizeof(int32_t));
		float	   *d1 = malloc(n * sizeof(float));
		float	   *d2 = malloc(n * sizeof(float));
		CoreError	err;
		size_t		bad = 0;
		bool		ok1 = kmeans_assign(x, n, dim, c, k, true, a1, d1, NULL, NULL, &err) == CORE_OK;
		bool		ok2 = kmeans_assign(x, n, dim, c, k, false, a2, d2, NULL, NULL, &err) == CORE_OK;

		for (size_t i = 0; ok1 && ok2 && i < n; i++)
		{
			float		e1 = dk->l2sq(x + i * dim, c + (size_t) a1[i] * dim, dim);
			float		e2 = dk->l2sq(x + i * dim, c + (size_t) a2[i] * dim, dim);

			if (a1[i] < 0 || a1[i] >= (int32_t) k ||
				fabsf(e1 - e2) > 1e-3f * (1.0f + e2) ||
				fabsf(d1[i] - d2[i]) > 1e-3f * (1.0f + d2[i]))
				bad++;
		}
		free(x);
		free(c);
		free(a1);
		free(a2);
		free(d1);
		free(d2);
		CHECK(ok1 && ok2);
		CHECK_MSG(bad == 0, "dim %zu: %zu rows differ from the scalar path", dim, bad);
	}
}

UNIT_TEST(kmeans_threaded_assignment_and_training_equal_one_thread)
{
	size_t		n = 5000,
				dim = 24,
				k = 40;
	float	   *x = make_blobs(n, dim, 30, 31);
	float	   *c1 = malloc(k * dim * sizeof(float));
	float	   *c4 = malloc(k * dim * sizeof(float));
	int32_t    *a1 = malloc(n * sizeof(int32_t));
	int32_t    *a4 = malloc(n * sizeof(int32_t));
	KmeansOptions one = {.max_iterations = 8,.seed = 5};
	KmeansOptions four = {.max_iterations = 8,.seed = 5,.threads = 4};
	CoreError	err;
	bool		ok;

	ok = kmeans_train(x, n, dim, k, &one, c1, &err) == CORE_OK &&
		kmeans_train(x, n, dim, k, &four, c4, &err) == CORE_OK &&
		kmeans_assign(x, n, dim, c1, k, true, a1, NULL, NULL, NULL, &err) == CORE_OK &&
		kmeans_assign_threads(x, n, dim, c1, k, 4, a4, NULL, &err) == CORE_OK;
	CHECK(ok);
	/* rows are assigned independently, so splitting them changes nothing */
	CHECK(ok && memcmp(c1, c4, k * dim * sizeof(float)) == 0);
	CHECK(ok && memcmp(a1, a4, n * sizeof(int32_t)) == 0);
	free(x);
	free(c1);
	free(c4);
	free(a1);
	free(a4);
}

UNIT_TEST(kmeans_threaded_centroid_update_equals_one_thread_on_rows_past_its_threshold)
{
	/*
	 * 1.6M floats: past the size where the update's sums are split by
	 * dimensions over the threads; 40 floats a row leave the last thread a
	 * partial cache line.
	 */
	size_t		n = 40000,
				dim = 40,
				k = 20;
	float	   *x = make_blobs(n, dim, 20, 41);
	float	   *c1 = malloc(k * dim * sizeof(float));
	float	   *c3 = malloc(k * dim * sizeof(float));
	KmeansOptions one = {.max_iterations = 4,.seed = 6};
	KmeansOptions three = {.max_iterations = 4,.seed = 6,.threads = 3};
	CoreError	err;
	bool		ok;

	ok = kmeans_train(x, n, dim, k, &one, c1, &err) == CORE_OK &&
		kmeans_train(x, n, dim, k, &three, c3, &err) == CORE_OK;
	CHECK(ok);
	CHECK(ok && one.iterations_run == three.iterations_run && one.iterations_run > 1);
	CHECK(ok && memcmp(c1, c3, k * dim * sizeof(float)) == 0);
	free(x);
	free(c1);
	free(c3);
}

static bool
cancel_now_threaded(void *arg)
{
	return true;
}

UNIT_TEST(kmeans_threaded_training_still_honours_cancel)
{
	size_t		n = 2000,
				dim = 4,
				k = 5;
	float	   *x = make_blobs(n, dim, 5, 12);
	float	   *c = malloc(k * dim * sizeof(float));
	KmeansOptions opts = {.max_iterations = 5,.seed = 1,.threads = 2,.cancel = cancel_now_threaded};
	CoreError	err;
	CoreStatus	st = kmeans_train(x, n, dim, k, &opts, c, &err);

	free(x);
	free(c);
	CHECK(st == CORE_ERR_CANCELED);
}

UNIT_TEST(kmeans_simd_nearest_two_equals_scalar_including_ties_and_padding)
{
#if defined(__x86_64__) || defined(__i386__)
	if (!isa_testable(KERNEL_ISA_AVX512))
		return;

	/*
	 * centroid counts around the lane width and the four blocks the SIMD
	 * search takes at once, small integer values with ties; two rows, as
	 * the SIMD searches take them in pairs (a lone row in both places), and
	 * every answer compared with the scalar search's
	 */
	for (size_t k = 1; k <= 70; k++)
		for (size_t dim = 1; dim <= KMEANS_NEAREST2_MAX_DIM; dim += 7)
		{
			size_t		kpad = (k + KMEANS_NEAREST2_LANES - 1) / KMEANS_NEAREST2_LANES * KMEANS_NEAREST2_LANES;
			float		ct[80 * KMEANS_NEAREST2_MAX_DIM];
			float		cn[80];
			float		x[KMEANS_NEAREST2_MAX_DIM];
			float		y[KMEANS_NEAREST2_MAX_DIM];
			uint64_t	state = k * 100 + dim;
			float		want_b,
						want_s,
						want_yb,
						want_ys,
						b,
						s,
						yb,
						ys;
			size_t		want,
						want_y,
						got,
						got_y;

			for (size_t j = 0; j < kpad; j++)
			{
				cn[j] = j < k ? (float) (kmeans_random(&state) % 4) : INFINITY;
				for (size_t d = 0; d < dim; d++)
					ct[d * kpad + j] = j < k ? (float) (kmeans_random(&state) % 3) : 0.0f;
			}
			for (size_t d = 0; d < dim; d++)
				x[d] = (float) (kmeans_random(&state) % 2);
			for (size_t d = 0; d < dim; d++)
				y[d] = (float) (kmeans_random(&state) % 3);
			want = kmeans_nearest2_scalar(x, ct, cn, kpad, dim, &want_b, &want_s);
			want_y = kmeans_nearest2_scalar(y, ct, cn, kpad, dim, &want_yb, &want_ys);

			/* a lone row */
			got = kmeans_nearest2_avx512(x, ct, cn, kpad, dim, &b, &s);
			CHECK_MSG(got == want && b == want_b && s == want_s,
					  "k %zu dim %zu: %zu (%g, %g), want %zu (%g, %g)",
					  k, dim, got, b, s, want, want_b, want_s);
			/* the nearest-only search encoding uses: the same index */
			got = kmeans_nearest_avx512(x, ct, cn, kpad, dim);
			CHECK_MSG(got == want, "k %zu dim %zu: nearest only %zu, want %zu",
					  k, dim, got, want);

			/* a pair, each row either side */
			kmeans_nearest_pair_avx512(x, y, ct, cn, kpad, dim, &got, &got_y);
			CHECK_MSG(got == want && got_y == want_y,
					  "k %zu dim %zu: pair %zu %zu, want %zu %zu",
					  k, dim, got, got_y, want, want_y);
			kmeans_nearest_pair_avx512(y, x, ct, cn, kpad, dim, &got_y, &got);
			CHECK_MSG(got == want && got_y == want_y,
					  "k %zu dim %zu: swapped pair %zu %zu, want %zu %zu",
					  k, dim, got_y, got, want_y, want);
			got = kmeans_nearest2_pair_avx512(x, y, ct, cn, kpad, dim,
											  &b, &s, &got_y, &yb, &ys);
			CHECK_MSG(got == want && b == want_b && s == want_s &&
					  got_y == want_y && yb == want_yb && ys == want_ys,
					  "k %zu dim %zu: nearest-two pair %zu (%g, %g) %zu (%g, %g), want %zu (%g, %g) %zu (%g, %g)",
					  k, dim, got, b, s, got_y, yb, ys,
					  want, want_b, want_s, want_y, want_yb, want_ys);
		}
#else
	printf("    (skipped: no x86 SIMD versions on this machine)\n");
#endif
}

UNIT_TEST(kmeans_nearest_two_is_the_two_smallest_distances)
{
	size_t		k = 37,
				dim = 8,
				kpad = 48;
	float	   *c = make_blobs(k, dim, k, 21);
	float		ct[48 * 8] = {0};
	float		cn[48];
	float		x[8];
	float		d[37];
	uint64_t	state = 4;
	float		b,
				s,
				want_s = INFINITY;
	size_t		got;

	for (size_t j = 0; j < kpad; j++)
	{
		cn[j] = j < k ? distance_kernels()->dot(c + j * dim, c + j * dim, dim) : INFINITY;
		for (size_t i = 0; j < k && i < dim; i++)
			ct[i * kpad + j] = c[j * dim + i];
	}
	for (size_t i = 0; i < dim; i++)
		x[i] = uniform(&state) * 10.0f;
	got = kmeans_nearest2_scalar(x, ct, cn, kpad, dim, &b, &s);
	distance_kernels()->l2sq_many(x, c, k, dim, d);
	for (size_t j = 0; j < k; j++)
		if (j != got && d[j] < want_s)
			want_s = d[j];
	for (size_t j = 0; j < k; j++)
		CHECK_MSG(d[got] <= d[j], "centroid %zu is nearer than %zu", j, got);
	CHECK(fabsf(b + distance_kernels()->dot(x, x, dim) - d[got]) < 1e-3f * (1.0f + d[got]));
	CHECK(fabsf(s + distance_kernels()->dot(x, x, dim) - want_s) < 1e-3f * (1.0f + want_s));
	free(c);
}

UNIT_TEST(kmeans_passes_with_bounds_equal_passes_without)
{
	size_t		n = 6000,
				dim = 8,
				k = 64;
	float	   *x = make_blobs(n, dim, 40, 17);
	float	   *plain = malloc(k * dim * sizeof(float));
	float	   *bounded = malloc(k * dim * sizeof(float));
	double		sse_plain[30];
	double		sse_bounded[30];
	KmeansOptions p = {.max_iterations = 30,.seed = 8,.sse_out = sse_plain,.bounds = KMEANS_BOUNDS_NEVER};
	KmeansOptions b = {.max_iterations = 30,.seed = 8,.sse_out = sse_bounded,.bounds = KMEANS_BOUNDS_ALWAYS};
	CoreError	err;
	float		worst = 0.0f;

	CHECK(kmeans_train(x, n, dim, k, &p, plain, &err) == CORE_OK);
	CHECK(kmeans_train(x, n, dim, k, &b, bounded, &err) == CORE_OK);

	/*
	 * The two differ in rounding only (sgemm against the per-row search), so
	 * a pass may end on the error rule with one and not the other: compare
	 * the passes both ran, and the centroids.
	 */
	for (int i = 0; i < p.iterations_run && i < b.iterations_run; i++)
		CHECK_MSG(fabs(sse_plain[i] - sse_bounded[i]) <= 1e-5 * sse_plain[i],
				  "pass %d: error %g with bounds, %g without", i, sse_bounded[i], sse_plain[i]);
	for (size_t i = 0; i < k * dim; i++)
		worst = fmaxf(worst, fabsf(plain[i] - bounded[i]));
	CHECK_MSG(worst < 1e-4f, "centroids differ by %g", worst);
	/* the point of the bounds: most rows were settled without a search */
	CHECK_MSG(b.rows_compared < n * (uint64_t) b.iterations_run / 2,
			  "%llu of %llu rows compared with every centroid",
			  (unsigned long long) b.rows_compared,
			  (unsigned long long) (n * (uint64_t) b.iterations_run));
	CHECK(p.rows_compared == n * (uint64_t) p.iterations_run);
	free(x);
	free(plain);
	free(bounded);
}

UNIT_TEST(kmeans_stops_at_the_first_pass_that_moves_no_row)
{
	/* well separated blobs: the passes settle long before the error stalls */
	size_t		n = 3000,
				dim = 4,
				k = 6;
	float	   *x = make_blobs(n, dim, 6, 2);
	float	   *c = malloc(k * dim * sizeof(float));

	for (int bounds = KMEANS_BOUNDS_NEVER; bounds <= KMEANS_BOUNDS_ALWAYS; bounds++)
	{
		double		sse[50];
		KmeansOptions opts = {.max_iterations = 50,.seed = 3,.sse_out = sse,.bounds = (KmeansBoundsUse) bounds};
		CoreError	err;
		int			last;

		CHECK(kmeans_train(x, n, dim, k, &opts, c, &err) == CORE_OK);
		last = opts.iterations_run - 1;
		CHECK_MSG(last >= 1 && last < 49, "%d passes", opts.iterations_run);
		/* the error still fell by more than the tolerance's 1e-4 */
		CHECK_MSG(last >= 1 && sse[last] < sse[last - 1] * (1.0 - 1e-4),
				  "bounds %d: stopped on the error rule: %g after %g", bounds,
				  sse[last], sse[last - 1]);
	}
	free(x);
	free(c);
}

UNIT_TEST(kmeans_neighbour_passes_over_all_centroids_equal_full_passes)
{
	size_t		n = 6000,
				dim = 40,
				k = 48;
	float	   *x = make_blobs(n, dim, 30, 21);
	float	   *full = malloc(k * dim * sizeof(float));
	float	   *near = malloc(k * dim * sizeof(float));
	double		sse_full[20];
	double		sse_near[20];
	KmeansOptions f = {.max_iterations = 20,.seed = 4,.sse_out = sse_full,.threads = 2};
	KmeansOptions c = {.max_iterations = 20,.seed = 4,.sse_out = sse_near,.threads = 2,.neighbours = k};
	CoreError	err;
	float		worst = 0.0f;

	CHECK(kmeans_train(x, n, dim, k, &f, full, &err) == CORE_OK);
	CHECK(kmeans_train(x, n, dim, k, &c, near, &err) == CORE_OK);
	CHECK_MSG(f.iterations_run == c.iterations_run, "%d passes against %d",
			  c.iterations_run, f.iterations_run);
	for (int i = 0; i < f.iterations_run && i < c.iterations_run; i++)
		CHECK_MSG(fabs(sse_full[i] - sse_near[i]) <= 1e-5 * sse_full[i],
				  "pass %d: error %g over neighbours, %g over all", i, sse_near[i], sse_full[i]);
	for (size_t i = 0; i < k * dim; i++)
		worst = fmaxf(worst, fabsf(full[i] - near[i]));
	CHECK_MSG(worst < 1e-3f, "centroids differ by %g", worst);
	free(x);
	free(full);
	free(near);
}

UNIT_TEST(kmeans_neighbour_passes_never_raise_the_error)
{
	/* more blobs than centroids: rows keep moving between near centroids */
	size_t		n = 8000,
				dim = 48,
				k = 96;
	float	   *x = make_blobs(n, dim, 200, 23);
	float	   *c = malloc(k * dim * sizeof(float));
	double		sse[30];
	KmeansOptions opts = {.max_iterations = 30,.seed = 5,.sse_out = sse,.neighbours = 6};
	CoreError	err;

	CHECK(kmeans_train(x, n, dim, k, &opts, c, &err) == CORE_OK);
	CHECK_MSG(opts.iterations_run > KMEANS_NEIGHBOURS_FULL_PASSES + 2, "%d passes",
			  opts.iterations_run);
	for (int i = 1; i < opts.iterations_run; i++)
		CHECK_MSG(sse[i] <= sse[i - 1] * (1 + 1e-6), "pass %d: error %g after %g", i, sse[i], sse[i - 1]);
	free(x);
	free(c);
}

UNIT_TEST(kmeans_neighbour_passes_give_the_same_centroids_on_any_thread_count)
{
	size_t		n = 7000,
				dim = 24,
				k = 80;
	float	   *x = make_blobs(n, dim, 120, 29);
	float	   *c1 = malloc(k * dim * sizeof(float));
	float	   *c3 = malloc(k * dim * sizeof(float));
	KmeansOptions one = {.max_iterations = 12,.seed = 6,.threads = 1,.neighbours = 10};
	KmeansOptions three = {.max_iterations = 12,.seed = 6,.threads = 3,.neighbours = 10};
	CoreError	err;

	CHECK(kmeans_train(x, n, dim, k, &one, c1, &err) == CORE_OK);
	CHECK(kmeans_train(x, n, dim, k, &three, c3, &err) == CORE_OK);
	CHECK(one.iterations_run == three.iterations_run);
	CHECK(memcmp(c1, c3, k * dim * sizeof(float)) == 0);
	free(x);
	free(c1);
	free(c3);
}

UNIT_TEST(kmeans_bounds_settle_only_rows_whose_centroid_is_still_nearest_far_from_the_origin)
{
	/*
	 * Rows and centroids near (0.5, ..., 0.5), centroids about 0.005 apart:
	 * |c|^2 - 2 x.c + |x|^2 cancels |x|^2 = 4 down to about 4e-5 and keeps
	 * only a few digits, so bounds taken from it as it is overstate the
	 * distances by percents.  One full pass, a small move of the
	 * centroids, then the rows the bounds settle must have no nearer
	 * centroid.  (The allowance for rounding leaves few rows settled at
	 * this scale; bounds taken without it settle most, some wrongly.)
	 */
	enum
	{
		N = 4000, DIM = 16, K = 32
	};
	const DistanceKernels *dk = distance_kernels();
	float	   *x = malloc(N * DIM * sizeof(float));
	float		base[DIM];
	float		c[K * DIM];
	float		moved_c[K * DIM];
	float		ct[K * DIM];
	float		cn[K];
	float		d[K];
	int32_t    *assign = malloc(N * sizeof(int32_t));
	float	   *dist = malloc(N * sizeof(float));
	uint32_t   *pending = malloc(N * sizeof(uint32_t));
	bool	   *is_pending = calloc(N, sizeof(bool));
	KmeansBounds *b = kmeans_bounds_create(N, K, DIM);
	uint64_t	state = 31;
	size_t		npending;
	size_t		wrong = 0;
	float		cmax2 = 0.0f;

	for (size_t t = 0; t < DIM; t++)
		base[t] = 0.5f + 0.1f * uniform(&state);
	for (size_t j = 0; j < K; j++)
		for (size_t t = 0; t < DIM; t++)
		{
			c[j * DIM + t] = base[t] + 0.002f * uniform(&state);
			moved_c[j * DIM + t] = c[j * DIM + t] + 2e-5f * uniform(&state);
		}
	for (size_t i = 0; i < N * DIM; i++)
		x[i] = base[i % DIM] + 0.002f * uniform(&state);
	for (size_t j = 0; j < K; j++)
	{
		cn[j] = dk->dot(c + j * DIM, c + j * DIM, DIM);
		for (size_t t = 0; t < DIM; t++)
			ct[t * K + j] = c[j * DIM + t];
	}
	for (size_t j = 0; j < K; j++)
		cmax2 = fmaxf(cmax2, cn[j]);
	for (size_t i = 0; i < N; i++)
	{
		float		best,
					second;

		assign[i] = (int32_t) kmeans_nearest2_scalar(x + i * DIM, ct, cn, K, DIM,
													 &best, &second);
		kmeans_bounds_reset(b, i, dk->dot(x + i * DIM, x + i * DIM, DIM), second, cmax2);
	}
	kmeans_bounds_moved(b, c, moved_c, assign, N);
	npending = kmeans_bounds_settle(b, x, N, moved_c, assign, dist, pending);
	for (size_t p = 0; p < npending; p++)
		is_pending[pending[p]] = true;
	for (size_t i = 0; i < N; i++)
	{
		if (is_pending[i])
			continue;
		dk->l2sq_many(x + i * DIM, moved_c, K, DIM, d);
		for (size_t j = 0; j < K; j++)
			if (d[j] < d[assign[i]])
			{
				wrong++;
				break;
			}
	}
	CHECK_MSG(wrong == 0, "%zu of %zu settled rows have a nearer centroid",
			  wrong, N - npending);
	/* and the check saw settled rows */
	CHECK_MSG(npending < N, "all %d rows pending", N);
	kmeans_bounds_free(b);
	free(x);
	free(assign);
	free(dist);
	free(pending);
	free(is_pending);
}

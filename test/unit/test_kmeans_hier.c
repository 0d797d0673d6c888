/*-------------------------------------------------------------------------
 *
 * test_kmeans_hier.c
 *	  Unit tests for hierarchical k-means: as good as flat k-means, every
 *	  centroid used, deterministic, rows put back.
 *
 * The data is a mixture of blobs of unequal sizes (so the first level's
 * clusters differ in size and the centroids' shares do too), made with the
 * module's seeded generator.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "kernels/kmeans.h"
#include "kernels/kmeans_hier.h"
#include "unit.h"

/* A uniform float in [-1, 1). */
static float
uniform(uint64_t *state)
{
	return (float) ((kmeans_random(state) >> 40) / (double) (1 << 24)) * 2.0f - 1.0f;
}

/*
 * n rows around `blobs` centres; blob b is drawn with weight b + 1, so the
 * last blobs hold many times the rows of the first.
 */
static float *
make_skewed_blobs(size_t n, size_t dim, size_t blobs, uint64_t seed)
{
	float	   *centres = malloc(blobs * dim * sizeof(float));
	float	   *x = malloc(n * dim * sizeof(float));
	uint64_t	state = seed;
	size_t		weights = blobs * (blobs + 1) / 2;

	for (size_t i = 0; i < blobs * dim; i++)
		centres[i] = uniform(&state) * 10.0f;
	for (size_t i = 0; i < n; i++)
	{
		size_t		w = kmeans_random(&state) % weights;
		size_t		b = 0;

		while (w >= b + 1)
		{
			w -= b + 1;
			b++;
		}
		for (size_t d = 0; d < dim; d++)
			x[i * dim + d] = centres[b * dim + d] + uniform(&state);
	}
	free(centres);
	return x;
}

/* Total squared distance of the rows to their nearest centroid. */
static double
objective(const float *x, size_t n, size_t dim, const float *c, size_t k)
{
	float	   *dist = malloc(n * sizeof(float));
	int32_t    *assign = malloc(n * sizeof(int32_t));
	CoreError	err;
	double		sum = 0.0;

	if (kmeans_assign(x, n, dim, c, k, true, assign, dist, NULL, NULL, &err) != CORE_OK)
		sum = -1.0;
	for (size_t i = 0; sum >= 0.0 && i < n; i++)
		sum += dist[i];
	free(dist);
	free(assign);
	return sum;
}

UNIT_TEST(kmeans_hier_objective_within_three_percent_of_flat_kmeans)
{
	size_t		n = 30000,
				dim = 16,
				k = 400;
	float	   *x = make_skewed_blobs(n, dim, 600, 1);
	float	   *flat = malloc(k * dim * sizeof(float));
	float	   *hier = malloc(k * dim * sizeof(float));
	KmeansOptions opts = {.max_iterations = 50,.seed = 3};
	CoreError	err;
	double		e_flat = -1.0;
	double		e_hier = -1.0;

	if (kmeans_train(x, n, dim, k, &opts, flat, &err) == CORE_OK &&
		kmeans_train_hierarchical(x, n, dim, k, KMEANS_HIER_REFINE_PASSES,
								  &opts, hier, &err) == CORE_OK)
	{
		e_flat = objective(x, n, dim, flat, k);
		e_hier = objective(x, n, dim, hier, k);
	}
	free(x);
	free(flat);
	free(hier);
	CHECK(e_flat > 0.0 && e_hier > 0.0);
	CHECK_MSG(e_hier <= 1.03 * e_flat, "hierarchical %g against flat %g", e_hier, e_flat);
}

UNIT_TEST(kmeans_hier_every_centroid_is_some_rows_nearest)
{
	/* with and without the flat passes after the levels */
	for (int refine = 0; refine <= KMEANS_HIER_REFINE_PASSES; refine += KMEANS_HIER_REFINE_PASSES)
	{
		size_t		n = 20000,
					dim = 8,
					k = 1000;
		float	   *x = make_skewed_blobs(n, dim, 50, 2);
		float	   *c = malloc(k * dim * sizeof(float));
		int32_t    *assign = malloc(n * sizeof(int32_t));
		size_t	   *rows = calloc(k, sizeof(size_t));
		KmeansOptions opts = {.max_iterations = 20,.seed = 5};
		CoreError	err;
		size_t		empty = 0;
		bool		ok;

		ok = kmeans_train_hierarchical(x, n, dim, k, refine, &opts, c, &err) == CORE_OK &&
			kmeans_assign(x, n, dim, c, k, true, assign, NULL, NULL, NULL, &err) == CORE_OK;
		for (size_t i = 0; ok && i < n; i++)
			rows[assign[i]]++;
		for (size_t j = 0; ok && j < k; j++)
			empty += rows[j] == 0;
		free(x);
		free(c);
		free(assign);
		free(rows);
		CHECK(ok);
		CHECK_MSG(empty == 0, "refine %d: %zu of %zu centroids nearest to no row", refine, empty, k);
	}
}

UNIT_TEST(kmeans_hier_same_seed_same_centroids_for_any_thread_count)
{
	size_t		n = 12000,
				dim = 12,
				k = 300;
	float	   *x = make_skewed_blobs(n, dim, 100, 4);
	float	   *c1 = malloc(k * dim * sizeof(float));
	float	   *c2 = malloc(k * dim * sizeof(float));
	float	   *c3 = malloc(k * dim * sizeof(float));
	KmeansOptions one = {.max_iterations = 10,.seed = 9};
	KmeansOptions three = {.max_iterations = 10,.seed = 9,.threads = 3};
	KmeansOptions other = {.max_iterations = 10,.seed = 10};
	CoreError	err;
	bool		ok;

	ok = kmeans_train_hierarchical(x, n, dim, k, 2, &one, c1, &err) == CORE_OK &&
		kmeans_train_hierarchical(x, n, dim, k, 2, &three, c2, &err) == CORE_OK &&
		kmeans_train_hierarchical(x, n, dim, k, 2, &other, c3, &err) == CORE_OK;
	CHECK(ok);
	CHECK(ok && memcmp(c1, c2, k * dim * sizeof(float)) == 0);
	/* and the seed matters: another one starts from other rows */
	CHECK(ok && memcmp(c1, c3, k * dim * sizeof(float)) != 0);
	free(x);
	free(c1);
	free(c2);
	free(c3);
}

UNIT_TEST(kmeans_hier_few_lists_train_flat_in_full_passes)
{
	/*
	 * At most KMEANS_HIER_MIN_K lists there are no levels: every pass
	 * compares with every centroid, whatever opts->neighbours asks of the
	 * passes after the levels.  40 dimensions keep the bounds out.
	 */
	size_t		n = 6000,
				dim = 40,
				k = 200;
	float	   *x = make_skewed_blobs(n, dim, 150, 8);
	float	   *flat = malloc(k * dim * sizeof(float));
	float	   *hier = malloc(k * dim * sizeof(float));
	KmeansOptions f = {.max_iterations = 15,.seed = 3};
	KmeansOptions h = {.max_iterations = 15,.seed = 3,.neighbours = 8};
	CoreError	err;
	bool		ok;

	ok = kmeans_train(x, n, dim, k, &f, flat, &err) == CORE_OK &&
		kmeans_train_hierarchical(x, n, dim, k, KMEANS_HIER_REFINE_PASSES, &h, hier, &err) == CORE_OK;
	CHECK(ok);
	CHECK(ok && memcmp(flat, hier, k * dim * sizeof(float)) == 0);
	CHECK_MSG(h.iterations_run == f.iterations_run, "%d passes against %d",
			  h.iterations_run, f.iterations_run);
	free(x);
	free(flat);
	free(hier);
}

UNIT_TEST(kmeans_hier_puts_the_rows_back_in_their_order)
{
	size_t		n = 9000,
				dim = 6,
				k = 500;
	float	   *x = make_skewed_blobs(n, dim, 40, 6);
	float	   *copy = malloc(n * dim * sizeof(float));
	float	   *c = malloc(k * dim * sizeof(float));
	KmeansOptions opts = {.max_iterations = 8,.seed = 1};
	CoreError	err;
	CoreStatus	st;

	memcpy(copy, x, n * dim * sizeof(float));
	st = kmeans_train_hierarchical(x, n, dim, k, 1, &opts, c, &err);
	CHECK(st == CORE_OK);
	CHECK(memcmp(copy, x, n * dim * sizeof(float)) == 0);
	free(x);
	free(copy);
	free(c);
}

static int	cancel_calls;

/* Cancel on the tenth call: inside a level, after rows were reordered. */
static bool
cancel_later(void *arg)
{
	return ++cancel_calls >= 10;
}

UNIT_TEST(kmeans_hier_cancel_stops_training_and_still_restores_rows)
{
	size_t		n = 9000,
				dim = 6,
				k = 500;
	float	   *x = make_skewed_blobs(n, dim, 40, 7);
	float	   *copy = malloc(n * dim * sizeof(float));
	float	   *c = malloc(k * dim * sizeof(float));
	KmeansOptions opts = {.max_iterations = 8,.seed = 1,.cancel = cancel_later};
	CoreError	err;
	CoreStatus	st;

	memcpy(copy, x, n * dim * sizeof(float));
	cancel_calls = 0;
	st = kmeans_train_hierarchical(x, n, dim, k, 1, &opts, c, &err);
	CHECK(st == CORE_ERR_CANCELED);
	CHECK(memcmp(copy, x, n * dim * sizeof(float)) == 0);
	free(x);
	free(copy);
	free(c);
}

/* Counts its calls; cancels from call cancel_at on (never when 0). */
static int	count_calls;
static int	cancel_at;

static bool
cancel_counted(void *arg)
{
	return ++count_calls >= cancel_at && cancel_at > 0;
}

/*
 * Below the root split, threaded training runs the clusters as tasks on
 * other threads; the caller's callback must still be polled while they run
 * and stop them.  Cancel on the second call after the root split's own
 * calls (counted by training the root alone the same way): the clusters'
 * passes are the only work left to poll during.
 */
UNIT_TEST(kmeans_hier_threaded_cancel_below_the_root_split_stops_training)
{
	size_t		n = 20000,
				dim = 8,
				k = 600;
	float	   *x = make_skewed_blobs(n, dim, 40, 8);
	float	   *copy = malloc(n * dim * sizeof(float));
	float	   *c = malloc(k * dim * sizeof(float));
	KmeansOptions opts = {.max_iterations = 20,.seed = 3,.threads = 4,.cancel = cancel_counted};
	KmeansOptions root = opts;
	CoreError	err;
	CoreStatus	st;
	int			root_calls;

	memcpy(copy, x, n * dim * sizeof(float));
	count_calls = 0;
	cancel_at = 0;
	CHECK(kmeans_train(copy, n, dim, KMEANS_HIER_BRANCH, &root, c, &err) == CORE_OK);
	root_calls = count_calls;

	count_calls = 0;
	cancel_at = root_calls + 2;
	st = kmeans_train_hierarchical(x, n, dim, k, 0, &opts, c, &err);
	CHECK_MSG(st == CORE_ERR_CANCELED, "status %d after %d calls, %d in the root split",
			  (int) st, count_calls, root_calls);
	CHECK(count_calls == cancel_at);
	CHECK(memcmp(copy, x, n * dim * sizeof(float)) == 0);
	free(x);
	free(copy);
	free(c);
}

UNIT_TEST(kmeans_hier_too_few_rows_is_kmeans_error)
{
	float		x[40] = {0};
	float	   *c = malloc(300 * 4 * sizeof(float));
	KmeansOptions opts = {.max_iterations = 5,.seed = 1};
	CoreError	err;

	CHECK(kmeans_train_hierarchical(x, 10, 4, 300, 1, &opts, c, &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "10 rows") != NULL && strstr(err.msg, "300 centroids") != NULL);
	free(c);
}

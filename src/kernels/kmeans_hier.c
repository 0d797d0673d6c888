/*-------------------------------------------------------------------------
 *
 * kmeans_hier.c
 *	  Hierarchical k-means: 16 clusters, then each split in proportion to
 *	  its rows (see kmeans_hier.h).
 *
 * Each level sorts its rows by cluster in place, so a cluster's rows are
 * contiguous and the next level trains on them directly; a permutation
 * array follows the rows and puts them back at the end.  That keeps the
 * extra memory to a few integers per row, where a copy of each cluster's
 * rows would be another sample's worth of floats.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "kernels/kmeans.h"
#include "kernels/kmeans_hier.h"

/*
 * Move row i to position dest[i] for every i, in place, swapping through
 * tmp (one row); carry, if not NULL, is permuted alongside.  dest must be a
 * permutation; it becomes the identity.
 */
static void
permute_rows(float *x, size_t n, size_t dim, uint32_t *dest, uint32_t *carry,
			 float *tmp)
{
	size_t		bytes = dim * sizeof(float);

	for (size_t i = 0; i < n; i++)
	{
		/* each swap puts one row in its final place */
		while (dest[i] != i)
		{
			size_t		t = dest[i];
			uint32_t	u;

			memcpy(tmp, x + t * dim, bytes);
			memcpy(x + t * dim, x + i * dim, bytes);
			memcpy(x + i * dim, tmp, bytes);
			dest[i] = dest[t];
			dest[t] = (uint32_t) t;
			if (carry)
			{
				u = carry[i];
				carry[i] = carry[t];
				carry[t] = u;
			}
		}
	}
}

/*
 * Split k centroids over clusters of rows[j] rows (n in all, n >= k) in
 * proportion to their rows: at least one for a cluster with rows, never
 * more than its rows.  The rounding is settled one centroid at a time,
 * where rows per centroid is highest (or, taking back, lowest).
 */
static void
share_centroids(const size_t *rows, size_t parts, size_t n, size_t k,
				size_t *share)
{
	size_t		total = 0;

	for (size_t j = 0; j < parts; j++)
	{
		size_t		s = rows[j] * k / n;

		if (rows[j] > 0 && s == 0)
			s = 1;
		share[j] = s < rows[j] ? s : rows[j];
		total += share[j];
	}
	while (total < k)
	{
		size_t		best = parts;

		for (size_t j = 0; j < parts; j++)
			if (share[j] < rows[j] &&
				(best == parts ||
				 (double) rows[j] * share[best] > (double) rows[best] * share[j]))
				best = j;
		share[best]++;
		total++;
	}
	while (total > k)
	{
		size_t		best = parts;

		for (size_t j = 0; j < parts; j++)
			if (share[j] > 1 &&
				(best == parts ||
				 (double) rows[j] * share[best] < (double) rows[best] * share[j]))
				best = j;
		if (best == parts)
			break;				/* more non-empty clusters than k: not reached
								 * for k > KMEANS_HIER_BRANCH */
		share[best]--;
		total--;
	}
}

static CoreStatus train_level(float *x, uint32_t *perm, size_t n, size_t dim,
							  size_t k, const KmeansOptions *base,
							  uint64_t seed, float *centroids, float *tmp,
							  CoreError *err);

/* A level's clusters, trained as tasks (core/parallel.h). */
typedef struct LevelRun
{
	float	   *x;
	uint32_t   *perm;
	size_t		dim;
	KmeansOptions opts;			/* one thread, cancel asks the run's cancel */
	CoreCancel	cancel;
	float	   *centroids;
	float	   *tmp;			/* one row per cluster */
	size_t		row_start[KMEANS_HIER_BRANCH];
	size_t		rows[KMEANS_HIER_BRANCH];
	size_t		k_start[KMEANS_HIER_BRANCH];
	size_t		share[KMEANS_HIER_BRANCH];
	uint64_t	seed[KMEANS_HIER_BRANCH];
	size_t		order[KMEANS_HIER_BRANCH];	/* clusters to train, largest
											 * first */
} LevelRun;

/* One task: a cluster's rows and share of the centroids. */
static CoreStatus
level_task(void *arg, size_t task, CoreError *err)
{
	LevelRun   *run = (LevelRun *) arg;
	size_t		j = run->order[task];

	return train_level(run->x + run->row_start[j] * run->dim,
					   run->perm + run->row_start[j], run->rows[j], run->dim,
					   run->share[j], &run->opts, run->seed[j],
					   run->centroids + run->k_start[j] * run->dim,
					   run->tmp + j * run->dim, err);
}

/*
 * Train k centroids on n rows of x, hierarchically while k is above the
 * threshold; perm follows the rows as they are sorted, tmp holds one row.
 */
static CoreStatus
train_level(float *x, uint32_t *perm, size_t n, size_t dim, size_t k,
			const KmeansOptions *base, uint64_t seed, float *centroids,
			float *tmp, CoreError *err)
{
	KmeansOptions opts = *base;
	size_t		parts = KMEANS_HIER_BRANCH;
	float	   *top = NULL;
	int32_t    *assign = NULL;
	LevelRun   *run = NULL;
	size_t		next[KMEANS_HIER_BRANCH];
	size_t		ntrain = 0;
	size_t		row_start = 0;
	size_t		k_start = 0;
	CoreStatus	st;

	opts.seed = seed;
	opts.sse_out = NULL;
	/* the levels' own k-means run in full: only the last passes may not */
	opts.neighbours = 0;
	if (k <= KMEANS_HIER_MIN_K)
		return kmeans_train(x, n, dim, k, &opts, centroids, err);

	top = core_mallocarray(parts * dim, sizeof(float));
	run = core_calloc(1, sizeof(LevelRun));
	if (top == NULL || run == NULL ||
		(run->tmp = core_mallocarray(parts * dim, sizeof(float))) == NULL)
	{
		st = core_error(err, CORE_ERR_NOMEM,
						"k-means: out of memory for a level of %zu rows", n);
		goto done;
	}
	st = kmeans_train(x, n, dim, parts, &opts, top, err);
	if (st != CORE_OK)
		goto done;

	/*
	 * Only now the level's own word per row: during the run above it would
	 * add to that run's k-means state, a word more than the build budgets
	 * per sampled row (ivfpq_build.c).
	 */
	assign = core_mallocarray(n, sizeof(int32_t));
	if (assign == NULL)
	{
		st = core_error(err, CORE_ERR_NOMEM,
						"k-means: out of memory for a level of %zu rows", n);
		goto done;
	}
	st = kmeans_assign_threads(x, n, dim, top, parts, opts.threads, assign,
							   NULL, err);
	if (st != CORE_OK)
		goto done;

	/* sort the rows by cluster: assign becomes each row's destination */
	for (size_t i = 0; i < n; i++)
		run->rows[assign[i]]++;
	for (size_t j = 0; j < parts; j++)
	{
		next[j] = row_start;
		row_start += run->rows[j];
	}
	for (size_t i = 0; i < n; i++)
		assign[i] = (int32_t) next[assign[i]]++;
	permute_rows(x, n, dim, (uint32_t *) assign, perm, tmp);
	core_free(assign);
	assign = NULL;

	share_centroids(run->rows, parts, n, k, run->share);
	row_start = 0;
	for (size_t j = 0; j < parts; j++)
	{
		run->row_start[j] = row_start;
		run->k_start[j] = k_start;
		if (run->share[j] > 0)
		{
			/* drawn in cluster order whatever the order of training */
			run->seed[j] = kmeans_random(&seed);
			run->order[ntrain++] = j;
		}
		row_start += run->rows[j];
		k_start += run->share[j];
	}
	/* largest first, so the last tasks to start are short */
	for (size_t a = 1; a < ntrain; a++)
		for (size_t b = a; b > 0 && run->rows[run->order[b]] > run->rows[run->order[b - 1]]; b--)
		{
			size_t		t = run->order[b];

			run->order[b] = run->order[b - 1];
			run->order[b - 1] = t;
		}

	/*
	 * The clusters train side by side, each on one thread (so each runs its
	 * update and bookkeeping on its own, where one k-means on all threads
	 * would run those alone between its threaded searches).  The caller's
	 * callback may be called on its own thread only: the tasks ask the
	 * run's cancel flag, which this thread raises when it polls the
	 * callback, between its tasks and while it waits for the others.
	 */
	run->x = x;
	run->perm = perm;
	run->dim = dim;
	run->opts = *base;
	run->opts.threads = 1;
	core_cancel_init(&run->cancel, base->cancel, base->cancel_arg);
	run->opts.cancel = core_cancel_requested;
	run->opts.cancel_arg = &run->cancel;
	run->centroids = centroids;
	st = core_parallel_run_cancel(base->threads, ntrain, level_task, run,
								  &run->cancel, err);

done:
	core_free(top);
	core_free(assign);
	if (run)
		core_free(run->tmp);
	core_free(run);
	return st;
}

CoreStatus
kmeans_train_hierarchical(float *x, size_t n, size_t dim, size_t k,
						  int refine_passes, KmeansOptions *opts,
						  float *centroids, CoreError *err)
{
	uint32_t   *perm;
	float	   *tmp;
	CoreStatus	st;

	if (k <= KMEANS_HIER_MIN_K || n < k)
	{
		/* flat training: every pass compares with every centroid */
		KmeansOptions flat = *opts;

		flat.neighbours = 0;
		st = kmeans_train(x, n, dim, k, &flat, centroids, err);
		opts->iterations_run = flat.iterations_run;
		opts->rows_compared = flat.rows_compared;
		return st;
	}
	if (n > UINT32_MAX || dim == 0)
		return core_error(err, CORE_ERR_INVALID,
						  "k-means: %zu rows of dimension %zu are beyond hierarchical training", n, dim);
	if (opts->max_iterations < 1)
		return core_error(err, CORE_ERR_INVALID,
						  "k-means: max_iterations must be at least 1, not %d", opts->max_iterations);

	perm = core_mallocarray(n, sizeof(uint32_t));
	tmp = core_mallocarray(dim, sizeof(float));
	if (perm == NULL || tmp == NULL)
	{
		core_free(perm);
		core_free(tmp);
		return core_error(err, CORE_ERR_NOMEM, "k-means: out of memory for %zu row numbers", n);
	}
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t) i;

	opts->iterations_run = 0;
	opts->rows_compared = 0;
	st = train_level(x, perm, n, dim, k, opts, opts->seed, centroids, tmp, err);
	if (st == CORE_OK && refine_passes > 0)
	{
		KmeansOptions refine = *opts;

		refine.max_iterations = refine_passes;
		st = kmeans_refine(x, n, dim, k, &refine, centroids, err);
		opts->iterations_run = refine.iterations_run;
		opts->rows_compared = refine.rows_compared;
	}

	/* perm[i] is where the row now at i started */
	permute_rows(x, n, dim, perm, NULL, tmp);
	core_free(perm);
	core_free(tmp);
	return st;
}

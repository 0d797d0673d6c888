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
	size_t		rows[KMEANS_HIER_BRANCH] = {0};
	size_t		share[KMEANS_HIER_BRANCH];
	size_t		next[KMEANS_HIER_BRANCH];
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
	assign = core_mallocarray(n, sizeof(int32_t));
	if (top == NULL || assign == NULL)
	{
		st = core_error(err, CORE_ERR_NOMEM,
						"k-means: out of memory for a level of %zu rows", n);
		goto done;
	}
	st = kmeans_train(x, n, dim, parts, &opts, top, err);
	if (st == CORE_OK)
		st = kmeans_assign_threads(x, n, dim, top, parts, opts.threads,
								   assign, NULL, err);
	if (st != CORE_OK)
		goto done;

	/* sort the rows by cluster: assign becomes each row's destination */
	for (size_t i = 0; i < n; i++)
		rows[assign[i]]++;
	for (size_t j = 0; j < parts; j++)
	{
		next[j] = row_start;
		row_start += rows[j];
	}
	for (size_t i = 0; i < n; i++)
		assign[i] = (int32_t) next[assign[i]]++;
	permute_rows(x, n, dim, (uint32_t *) assign, perm, tmp);
	core_free(assign);
	assign = NULL;

	share_centroids(rows, parts, n, k, share);
	row_start = 0;
	for (size_t j = 0; j < parts; j++)
	{
		if (share[j] > 0)
		{
			if (base->cancel && base->cancel(base->cancel_arg))
			{
				st = core_error(err, CORE_ERR_CANCELED, "k-means: canceled");
				goto done;
			}
			st = train_level(x + row_start * dim, perm + row_start, rows[j], dim,
							 share[j], base, kmeans_random(&seed),
							 centroids + k_start * dim, tmp, err);
			if (st != CORE_OK)
				goto done;
		}
		row_start += rows[j];
		k_start += share[j];
	}

done:
	core_free(top);
	core_free(assign);
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

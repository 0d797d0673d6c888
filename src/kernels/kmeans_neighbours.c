/*-------------------------------------------------------------------------
 *
 * kmeans_neighbours.c
 *	  Lloyd passes over each centroid's nearest neighbours only (see
 *	  kmeans_neighbours.h).
 *
 *-------------------------------------------------------------------------
 */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "kernels/distance.h"
#include "kernels/kmeans_impl.h"
#include "kernels/kmeans_neighbours.h"
#include "kernels/topk.h"

/* Floats in one block of a distance matrix: 1 MiB stays in cache. */
#define NEIGHBOURS_BLOCK_FLOATS (1u << 18)

/* Centroids whose groups make one task of a pass. */
#define NEIGHBOURS_TASK_GROUPS 8

struct KmeansNeighbours
{
	size_t		count;			/* candidates per centroid, <= k */
	size_t		k;
	uint32_t   *lists;			/* k x count centroid numbers, ascending */
	uint32_t   *order;			/* the rows grouped by centroid */
	size_t	   *start;			/* group j is order[start[j] .. start[j+1]) */
	/* the pass under way, for its tasks */
	const float *x;
	size_t		dim;
	const float *centroids;
	int32_t    *next;
	float	   *dist;
	const float *xnorm;			/* the rows' squared norms */
};

KmeansNeighbours *
kmeans_neighbours_create(size_t n, size_t k, size_t count)
{
	KmeansNeighbours *nb = core_calloc(1, sizeof(KmeansNeighbours));

	if (nb == NULL)
		return NULL;
	nb->count = count < k ? count : k;
	nb->k = k;
	nb->lists = core_mallocarray(k, nb->count * sizeof(uint32_t));
	nb->order = core_mallocarray(n, sizeof(uint32_t));
	nb->start = core_mallocarray(k + 1, sizeof(size_t));
	if (nb->lists == NULL || nb->order == NULL || nb->start == NULL)
	{
		kmeans_neighbours_free(nb);
		return NULL;
	}
	return nb;
}

void
kmeans_neighbours_free(KmeansNeighbours *nb)
{
	if (nb == NULL)
		return;
	core_free(nb->lists);
	core_free(nb->order);
	core_free(nb->start);
	core_free(nb);
}

static int
compare_u32(const void *a, const void *b)
{
	uint32_t	x = *(const uint32_t *) a;
	uint32_t	y = *(const uint32_t *) b;

	return (x > y) - (x < y);
}

/*
 * Each centroid's `count` nearest centroids, itself first chosen, ties to
 * the lower number; each list is then sorted by number, so that with
 * count = k the pass breaks ties as a full pass does (the first centroid).
 */
static CoreStatus
find_neighbours(KmeansNeighbours *nb, const float *c, size_t k, size_t dim,
				CoreError *err)
{
	const DistanceKernels *dk = distance_kernels();
	size_t		block = NEIGHBOURS_BLOCK_FLOATS / k;
	float	   *cnorm = core_mallocarray(k, sizeof(float));
	float	   *g;
	TopK	   *top = topk_new((int64_t) nb->count);
	TopkEntry  *out = core_mallocarray(nb->count, sizeof(TopkEntry));
	CoreStatus	st = CORE_OK;

	if (block == 0)
		block = 1;
	if (block > k)
		block = k;
	g = core_mallocarray(block, k * sizeof(float));
	if (cnorm == NULL || g == NULL || top == NULL || out == NULL)
	{
		st = core_error(err, CORE_ERR_NOMEM,
						"k-means: out of memory for the neighbours of %zu centroids", k);
		goto done;
	}
	for (size_t j = 0; j < k; j++)
		cnorm[j] = dk->dot(c + j * dim, c + j * dim, dim);
	for (size_t first = 0; first < k; first += block)
	{
		size_t		rows = k - first < block ? k - first : block;

		/* -2 a.b + |b|^2 ranks b by distance to a */
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
					(int) rows, (int) k, (int) dim,
					-2.0f, c + first * dim, (int) dim, c, (int) dim,
					0.0f, g, (int) k);
		for (size_t r = 0; r < rows; r++)
		{
			size_t		a = first + r;
			uint32_t   *list = nb->lists + a * nb->count;

			topk_reset(top);
			for (size_t b = 0; b < k; b++)
			{
				/* a itself first, whatever the rounding */
				TopkEntry	e = {.key = b == a ? -INFINITY : g[r * k + b] + cnorm[b],
				.seq = b,.payload = b};

				if (isnan(e.key))
					e.key = INFINITY;
				if (!topk_push(top, &e))
				{
					st = core_error(err, CORE_ERR_NOMEM,
									"k-means: out of memory for the neighbours of %zu centroids", k);
					goto done;
				}
			}
			topk_drain_sorted(top, out);
			for (size_t i = 0; i < nb->count; i++)
				list[i] = (uint32_t) out[i].payload;
			qsort(list, nb->count, sizeof(uint32_t), compare_u32);
		}
	}

done:
	core_free(cnorm);
	core_free(g);
	core_free(out);
	topk_free(top);
	return st;
}

/* One task: the rows of NEIGHBOURS_TASK_GROUPS centroids. */
static CoreStatus
groups_task(void *arg, size_t task, CoreError *err)
{
	KmeansNeighbours *nb = (KmeansNeighbours *) arg;
	const DistanceKernels *dk = distance_kernels();
	KmeansArgminFn argmin = kmeans_select_argmin();
	size_t		dim = nb->dim;
	size_t		count = nb->count;
	/* the gathered rows and their distances fill about one block */
	size_t		block = NEIGHBOURS_BLOCK_FLOATS / (count + dim);
	size_t		first = task * NEIGHBOURS_TASK_GROUPS;
	size_t		last = first + NEIGHBOURS_TASK_GROUPS;
	float	   *cand = core_mallocarray(count, dim * sizeof(float));
	float	   *cnorm = core_mallocarray(count, sizeof(float));
	float	   *rows;
	float	   *g;

	if (block == 0)
		block = 1;
	rows = core_mallocarray(block, dim * sizeof(float));
	g = core_mallocarray(block, count * sizeof(float));

	if (cand == NULL || cnorm == NULL || rows == NULL || g == NULL)
	{
		core_free(cand);
		core_free(cnorm);
		core_free(rows);
		core_free(g);
		return core_error(err, CORE_ERR_NOMEM,
						  "k-means: out of memory for a %zu x %zu distance block", block, count);
	}
	if (last > nb->k)
		last = nb->k;
	for (size_t j = first; j < last; j++)
	{
		const uint32_t *list = nb->lists + j * count;

		for (size_t c = 0; c < count; c++)
		{
			memcpy(cand + c * dim, nb->centroids + (size_t) list[c] * dim,
				   dim * sizeof(float));
			cnorm[c] = dk->dot(cand + c * dim, cand + c * dim, dim);
		}
		for (size_t s = nb->start[j]; s < nb->start[j + 1]; s += block)
		{
			size_t		m = nb->start[j + 1] - s < block ? nb->start[j + 1] - s : block;

			for (size_t r = 0; r < m; r++)
				memcpy(rows + r * dim, nb->x + (size_t) nb->order[s + r] * dim,
					   dim * sizeof(float));
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
						(int) m, (int) count, (int) dim,
						-2.0f, rows, (int) dim, cand, (int) dim,
						0.0f, g, (int) count);
			for (size_t r = 0; r < m; r++)
			{
				size_t		i = nb->order[s + r];
				float		best;
				size_t		c = argmin(g + r * count, cnorm, count, &best);
				float		d = nb->xnorm[i] + best;

				nb->next[i] = (int32_t) list[c];
				/* cancellation can leave a tiny negative: clamp */
				nb->dist[i] = d > 0.0f ? d : 0.0f;
			}
		}
	}
	core_free(cand);
	core_free(cnorm);
	core_free(rows);
	core_free(g);
	return CORE_OK;
}

CoreStatus
kmeans_neighbours_pass(KmeansNeighbours *nb, const float *x, size_t n,
					   size_t dim, const float *centroids, size_t k,
					   int threads, const int32_t *assign, int32_t *next,
					   float *dist, const float *xnorm, CoreError *err)
{
	CoreStatus	st = find_neighbours(nb, centroids, k, dim, err);

	if (st != CORE_OK)
		return st;

	/*
	 * Group the rows by centroid, each group in row order: counted and
	 * summed, start[j] begins group j; placing a row advances it, so after
	 * all are placed start[j] ends group j and is moved up to start[j + 1].
	 */
	memset(nb->start, 0, (k + 1) * sizeof(size_t));
	for (size_t i = 0; i < n; i++)
		nb->start[assign[i] + 1]++;
	for (size_t j = 0; j < k; j++)
		nb->start[j + 1] += nb->start[j];
	for (size_t i = 0; i < n; i++)
		nb->order[nb->start[assign[i]]++] = (uint32_t) i;
	memmove(nb->start + 1, nb->start, k * sizeof(size_t));
	nb->start[0] = 0;

	nb->x = x;
	nb->dim = dim;
	nb->centroids = centroids;
	nb->next = next;
	nb->dist = dist;
	nb->xnorm = xnorm;
	return core_parallel_run(threads,
							 (k + NEIGHBOURS_TASK_GROUPS - 1) / NEIGHBOURS_TASK_GROUPS,
							 groups_task, nb, err);
}

/*-------------------------------------------------------------------------
 *
 * kmeans.c
 *	  Lloyd's k-means with an sgemm distance matrix (see kmeans.h).
 *
 *-------------------------------------------------------------------------
 */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "kernels/distance.h"
#include "kernels/kmeans.h"
#include "kernels/kmeans_bounds.h"
#include "kernels/kmeans_impl.h"
#include "kernels/kmeans_neighbours.h"

/* Floats in one block of the distance matrix: 1 MiB stays in cache. */
#define KMEANS_BLOCK_FLOATS (1u << 18)

/* Relative improvement of the total error below which training stops. */
#define KMEANS_TOLERANCE	1e-4

/* Fewest rows worth a task of their own in a threaded assignment. */
#define KMEANS_TASK_MIN_ROWS 256

/* How far a split moves the two halves apart (faiss uses the same). */
#define KMEANS_SPLIT_EPS	(1.0f / 1024.0f)

void
kmeans_blas_threads(int n)
{
	openblas_set_num_threads(n);
}

uint64_t
kmeans_random(uint64_t *state)
{
	uint64_t	z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Squared norm of each of n rows. */
static void
row_norms(const float *x, size_t n, size_t dim, float *norms)
{
	const DistanceKernels *dk = distance_kernels();

	for (size_t i = 0; i < n; i++)
		norms[i] = dk->dot(x + i * dim, x + i * dim, dim);
}

/* Floats of rows per task of a run's row norms: a few ms between polls. */
#define KMEANS_NORM_TASK_FLOATS (1u << 20)

/* A k-means run's row norms, in chunks (core/parallel.h). */
typedef struct NormRun
{
	const float *x;
	size_t		n;
	size_t		dim;
	size_t		chunk;			/* rows per task */
	float	   *norms;
} NormRun;

static CoreStatus
norm_task(void *arg, size_t task, CoreError *err)
{
	NormRun    *run = (NormRun *) arg;
	size_t		start = task * run->chunk;
	size_t		rows = run->n - start < run->chunk ? run->n - start : run->chunk;

	(void) err;
	row_norms(run->x + start * run->dim, rows, run->dim, run->norms + start);
	return CORE_OK;
}

/*
 * The squared norms of a run's n rows, kept for all its passes.  On a large
 * sample that is seconds of work: it goes on opts->threads threads, and
 * opts->cancel is polled between chunks.  Each norm is one dot call either
 * way, so the bits do not depend on the chunks.
 */
static CoreStatus
run_row_norms(const float *x, size_t n, size_t dim, const KmeansOptions *opts,
			  float *norms, CoreError *err)
{
	NormRun		run;
	CoreCancel	cancel;
	size_t		ntasks;
	CoreStatus	st;

	run.x = x;
	run.n = n;
	run.dim = dim;
	run.chunk = KMEANS_NORM_TASK_FLOATS / dim;
	if (run.chunk < KMEANS_TASK_MIN_ROWS)
		run.chunk = KMEANS_TASK_MIN_ROWS;
	run.norms = norms;
	ntasks = (n + run.chunk - 1) / run.chunk;
	core_cancel_init(&cancel, opts->cancel, opts->cancel_arg);
	st = core_parallel_run_cancel(opts->threads, ntasks, norm_task, &run,
								  &cancel, err);
	if (st == CORE_ERR_CANCELED)
		return core_error(err, CORE_ERR_CANCELED, "k-means: canceled");
	return st;
}

/* One distance kernel call per row. */
static CoreStatus
assign_scalar(const float *x, size_t n, size_t dim, const float *c, size_t k,
			  int32_t *assign, float *dist, KmeansCancelFn cancel, void *arg,
			  CoreError *err)
{
	const DistanceKernels *dk = distance_kernels();
	float	   *d = core_mallocarray(k, sizeof(float));

	if (d == NULL)
		return core_error(err, CORE_ERR_NOMEM, "k-means: out of memory for %zu distances", k);
	for (size_t i = 0; i < n; i++)
	{
		size_t		best = 0;

		if ((i & 1023) == 0 && cancel && cancel(arg))
		{
			core_free(d);
			return core_error(err, CORE_ERR_CANCELED, "k-means: canceled");
		}
		dk->l2sq_many(x + i * dim, c, k, dim, d);
		for (size_t j = 1; j < k; j++)
			if (d[j] < d[best])
				best = j;
		assign[i] = (int32_t) best;
		if (dist)
			dist[i] = d[best];
	}
	core_free(d);
	return CORE_OK;
}

size_t
kmeans_argmin_scalar(const float *g, const float *cnorm, size_t k, float *best)
{
	size_t		bi = 0;
	float		b = g[0] + cnorm[0];

	for (size_t j = 1; j < k; j++)
	{
		float		d = g[j] + cnorm[j];

		if (d < b)
		{
			b = d;
			bi = j;
		}
	}
	*best = b;
	return bi;
}

size_t
kmeans_nearest2_scalar(const float *x, const float *ct, const float *cnorm,
					   size_t kpad, size_t dim, float *best, float *second)
{
	float		b1 = INFINITY;
	float		b2 = INFINITY;
	size_t		bi = 0;

	for (size_t j = 0; j < kpad; j++)
	{
		float		acc = cnorm[j];

		for (size_t d = 0; d < dim; d++)
			acc = fmaf(-2.0f * x[d], ct[d * kpad + j], acc);
		if (acc < b1)
		{
			b2 = b1;
			b1 = acc;
			bi = j;
		}
		else if (acc < b2)
			b2 = acc;
	}
	*best = b1;
	*second = b2;
	return bi;
}

void
kmeans_sum_rows_scalar(const float *x, size_t n, size_t dim,
					   const int32_t *assign, double *sums, size_t d0,
					   size_t d1)
{
	for (size_t i = 0; i < n; i++)
	{
		double	   *s = sums + (size_t) assign[i] * dim;
		const float *xi = x + i * dim;

		for (size_t d = d0; d < d1; d++)
			s[d] += xi[d];
	}
}

KmeansSumRowsFn
kmeans_select_sum_rows(void)
{
	switch (distance_kernels()->isa)
	{
#if defined(__x86_64__) || defined(__i386__)
		case KERNEL_ISA_AVX512:
			return kmeans_sum_rows_avx512;
		case KERNEL_ISA_AVX2:
			return kmeans_sum_rows_avx2;
#endif
		default:
			return kmeans_sum_rows_scalar;
	}
}

void
kmeans_own_dist_generic(const float *x, size_t n, size_t dim,
						const float *centroids, const int32_t *assign,
						float *dist)
{
	const DistanceKernels *dk = distance_kernels();

	for (size_t i = 0; i < n; i++)
		dist[i] = dk->l2sq(x + i * dim, centroids + (size_t) assign[i] * dim, dim);
}

KmeansOwnDistFn
kmeans_select_own_dist(size_t dim)
{
#if defined(__x86_64__) || defined(__i386__)
	if (distance_kernels()->isa == KERNEL_ISA_AVX512 &&
		dim <= KMEANS_OWN_DIST_AVX512_MAX_DIM)
		return kmeans_own_dist_avx512;
#endif
	return kmeans_own_dist_generic;
}

KmeansArgminFn
kmeans_select_argmin(void)
{
	switch (distance_kernels()->isa)
	{
#if defined(__x86_64__) || defined(__i386__)
		case KERNEL_ISA_AVX512:
			return kmeans_argmin_avx512;
		case KERNEL_ISA_AVX2:
			return kmeans_argmin_avx2;
#endif
		default:
			return kmeans_argmin_scalar;
	}
}

/*
 * Blocks of rows against all centroids: G = X C^T by sgemm, then
 * |x|^2 - 2 g + |c|^2 and the minimum per row.  The rows' norms only serve
 * dist: from xnorm when the caller has them (k-means passes over the same
 * rows), else computed per block; none without dist.
 */
static CoreStatus
assign_blas(const float *x, size_t n, size_t dim, const float *c, size_t k,
			int32_t *assign, float *dist, const float *xnorm_in,
			KmeansCancelFn cancel, void *arg, CoreError *err)
{
	size_t		block = KMEANS_BLOCK_FLOATS / k;
	float	   *cnorm;
	float	   *xnorm = NULL;	/* the block's norms, where computed here */
	bool		own_norms = dist != NULL && xnorm_in == NULL;
	float	   *g;

	KmeansArgminFn argmin = kmeans_select_argmin();

	if (block == 0)
		block = 1;
	if (block > n)
		block = n;
	cnorm = core_mallocarray(k, sizeof(float));
	if (own_norms)
		xnorm = core_mallocarray(block, sizeof(float));
	g = core_mallocarray(block * k, sizeof(float));
	if (cnorm == NULL || (own_norms && xnorm == NULL) || g == NULL)
	{
		core_free(cnorm);
		core_free(xnorm);
		core_free(g);
		return core_error(err, CORE_ERR_NOMEM,
						  "k-means: out of memory for a %zu x %zu distance block", block, k);
	}
	row_norms(c, k, dim, cnorm);

	for (size_t start = 0; start < n; start += block)
	{
		size_t		rows = n - start < block ? n - start : block;
		const float *xb = x + start * dim;

		if (cancel && cancel(arg))
		{
			core_free(cnorm);
			core_free(xnorm);
			core_free(g);
			return core_error(err, CORE_ERR_CANCELED, "k-means: canceled");
		}
		if (own_norms)
			row_norms(xb, rows, dim, xnorm);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans,
					(int) rows, (int) k, (int) dim,
					-2.0f, xb, (int) dim, c, (int) dim,
					0.0f, g, (int) k);
		for (size_t i = 0; i < rows; i++)
		{
			float		bestd;
			size_t		best = argmin(g + i * k, cnorm, k, &bestd);

			assign[start + i] = (int32_t) best;
			if (dist)
			{
				/* cancellation can leave a tiny negative: clamp */
				float		d = (xnorm_in ? xnorm_in[start + i] : xnorm[i]) + bestd;

				dist[start + i] = d > 0.0f ? d : 0.0f;
			}
		}
	}
	core_free(cnorm);
	core_free(xnorm);
	core_free(g);
	return CORE_OK;
}

CoreStatus
kmeans_assign(const float *x, size_t n, size_t dim, const float *centroids,
			  size_t k, bool use_blas, int32_t *assign, float *dist,
			  KmeansCancelFn cancel, void *cancel_arg, CoreError *err)
{
	if (k == 0 || dim == 0)
		return core_error(err, CORE_ERR_INVALID, "k-means: %zu centroids of dimension %zu", k, dim);
	/* sgemm takes int sizes */
	if (k > INT32_MAX || dim > INT32_MAX)
		return core_error(err, CORE_ERR_INVALID, "k-means: %zu centroids of dimension %zu exceed int", k, dim);
	if (n == 0)
		return CORE_OK;
	if (use_blas)
		return assign_blas(x, n, dim, centroids, k, assign, dist, NULL,
						   cancel, cancel_arg, err);
	return assign_scalar(x, n, dim, centroids, k, assign, dist, cancel, cancel_arg, err);
}

typedef struct AssignRun
{
	const float *x;
	size_t		n;
	size_t		dim;
	const float *c;
	size_t		k;
	size_t		chunk;			/* rows per task */
	int32_t    *assign;
	float	   *dist;
	const float *xnorm;			/* the rows' norms, or NULL */
} AssignRun;

/* One task: its chunk of rows through the sgemm path. */
static CoreStatus
assign_task(void *arg, size_t task, CoreError *err)
{
	AssignRun  *run = (AssignRun *) arg;
	size_t		start = task * run->chunk;
	size_t		rows = run->n - start < run->chunk ? run->n - start : run->chunk;

	return assign_blas(run->x + start * run->dim, rows, run->dim, run->c, run->k,
					   run->assign + start, run->dist ? run->dist + start : NULL,
					   run->xnorm ? run->xnorm + start : NULL, NULL, NULL, err);
}

/*
 * kmeans_assign_threads with, if not NULL, the rows' norms for dist; the
 * caller has checked the sizes.
 */
static CoreStatus
assign_threads(const float *x, size_t n, size_t dim, const float *centroids,
			   size_t k, int threads, int32_t *assign, float *dist,
			   const float *xnorm, CoreError *err)
{
	AssignRun	run;
	size_t		tasks;

	if (threads <= 1 || n < 2 * KMEANS_TASK_MIN_ROWS)
		return assign_blas(x, n, dim, centroids, k, assign, dist, xnorm,
						   NULL, NULL, err);

	/* a few tasks per thread even out threads slowed by other processes */
	run.chunk = (n + (size_t) threads * 4 - 1) / ((size_t) threads * 4);
	if (run.chunk < KMEANS_TASK_MIN_ROWS)
		run.chunk = KMEANS_TASK_MIN_ROWS;
	tasks = (n + run.chunk - 1) / run.chunk;
	run.x = x;
	run.n = n;
	run.dim = dim;
	run.c = centroids;
	run.k = k;
	run.assign = assign;
	run.dist = dist;
	run.xnorm = xnorm;
	return core_parallel_run(threads, tasks, assign_task, &run, err);
}

CoreStatus
kmeans_assign_threads(const float *x, size_t n, size_t dim,
					  const float *centroids, size_t k, int threads,
					  int32_t *assign, float *dist, CoreError *err)
{
	/* sizes kmeans_assign rejects, with its message */
	if (n == 0 || k == 0 || dim == 0 || k > INT32_MAX || dim > INT32_MAX)
		return kmeans_assign(x, n, dim, centroids, k, true, assign, dist, NULL, NULL, err);
	return assign_threads(x, n, dim, centroids, k, threads, assign, dist,
						  NULL, err);
}

/* Start from k distinct rows (a partial Fisher-Yates shuffle). */
static CoreStatus
init_from_rows(const float *x, size_t n, size_t dim, size_t k, uint64_t seed,
			   float *centroids, CoreError *err)
{
	uint32_t   *idx = core_mallocarray(n, sizeof(uint32_t));
	uint64_t	state = seed;

	if (idx == NULL)
		return core_error(err, CORE_ERR_NOMEM, "k-means: out of memory for %zu row numbers", n);
	for (size_t i = 0; i < n; i++)
		idx[i] = (uint32_t) i;
	for (size_t i = 0; i < k; i++)
	{
		size_t		j = i + kmeans_random(&state) % (n - i);
		uint32_t	t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
		memcpy(centroids + i * dim, x + (size_t) idx[i] * dim, dim * sizeof(float));
	}
	core_free(idx);
	return CORE_OK;
}

/*
 * Give each empty cluster half of the largest one: both take the big
 * centroid, nudged in opposite directions, so the next pass splits its rows.
 */
static void
repair_empty(float *centroids, size_t k, size_t dim, size_t *counts)
{
	for (size_t e = 0; e < k; e++)
	{
		size_t		big = 0;
		float	   *ce;
		float	   *cb;

		if (counts[e] > 0)
			continue;
		for (size_t j = 1; j < k; j++)
			if (counts[j] > counts[big])
				big = j;
		if (counts[big] < 2)
			return;				/* nothing left to split */
		ce = centroids + e * dim;
		cb = centroids + big * dim;
		for (size_t d = 0; d < dim; d++)
		{
			float		sign = (d % 2 == 0) ? 1.0f : -1.0f;

			ce[d] = cb[d] * (1.0f + sign * KMEANS_SPLIT_EPS);
			cb[d] = cb[d] * (1.0f - sign * KMEANS_SPLIT_EPS);
		}
		counts[e] = counts[big] / 2;
		counts[big] -= counts[e];
	}
}

/* The sizes and options kmeans_train and kmeans_refine accept. */
static CoreStatus
check_args(size_t n, size_t dim, size_t k, KmeansOptions *opts, CoreError *err)
{
	opts->iterations_run = 0;
	if (k == 0 || dim == 0 || n < k)
		return core_error(err, CORE_ERR_INVALID,
						  "k-means: %zu rows cannot train %zu centroids", n, k);
	/* sgemm takes int sizes */
	if (k > INT32_MAX || dim > INT32_MAX)
		return core_error(err, CORE_ERR_INVALID, "k-means: %zu centroids of dimension %zu exceed int", k, dim);
	if (opts->max_iterations < 1)
		return core_error(err, CORE_ERR_INVALID,
						  "k-means: max_iterations must be at least 1, not %d", opts->max_iterations);
	return CORE_OK;
}

/*
 * A threaded centroid update gives each thread a run of each row's floats,
 * a multiple of 16 of them, so that threads mostly touch different cache
 * lines: the runs are whole lines (64 bytes of a row's floats, 128 of its
 * centroid's double sums) only where the rows start on line boundaries,
 * dim a multiple of 16 floats for the rows and of 8 for the sums; with
 * other dims, neighbouring runs share a line at their ends.  One run per
 * thread: narrower runs make every thread revisit every row's centroid
 * sums, which are scattered in memory (16 floats per task doubled the
 * update's CPU).
 */
#define KMEANS_UPDATE_LINE_FLOATS 16

/* Fewest row floats (n x dim) worth a threaded centroid update. */
#define KMEANS_UPDATE_MIN_FLOATS (1u << 20)

/* The sums of a centroid update, split by dimensions (core/parallel.h). */
typedef struct UpdateRun
{
	const float *x;
	size_t		n;
	size_t		dim;
	const int32_t *assign;
	double	   *sums;
	size_t		task_dims;		/* floats of each row per task */
	KmeansSumRowsFn sum_rows;
} UpdateRun;

/*
 * One task: every row's floats [d0, d0 + task_dims) added to
 * its centroid's sums, row after row, the order one thread adds them in:
 * any number of threads gives the same sums to the bit.
 */
static CoreStatus
update_task(void *arg, size_t task, CoreError *err)
{
	UpdateRun  *run = (UpdateRun *) arg;
	size_t		d0 = task * run->task_dims;
	size_t		d1 = d0 + run->task_dims < run->dim ? d0 + run->task_dims : run->dim;

	run->sum_rows(run->x, run->n, run->dim, run->assign, run->sums, d0, d1);
	return CORE_OK;
}

/*
 * Each centroid moves to the mean of its rows; empty ones are repaired.
 * The sums are split by dimensions over up to `threads` threads.
 */
static void
update_centroids(const float *x, size_t n, size_t dim, size_t k,
				 const int32_t *assign, int threads, double *sums,
				 size_t *counts, float *centroids)
{
	UpdateRun	run = {x, n, dim, assign, sums, dim, kmeans_select_sum_rows()};
	size_t		ntasks = 1;
	CoreError	err;

	memset(sums, 0, sizeof(double) * k * dim);
	memset(counts, 0, sizeof(size_t) * k);
	for (size_t i = 0; i < n; i++)
		counts[assign[i]]++;
	if (threads > 1 && n * dim >= KMEANS_UPDATE_MIN_FLOATS)
	{
		size_t		lines = (dim + KMEANS_UPDATE_LINE_FLOATS - 1) / KMEANS_UPDATE_LINE_FLOATS;

		run.task_dims = (lines + threads - 1) / threads * KMEANS_UPDATE_LINE_FLOATS;
		ntasks = (dim + run.task_dims - 1) / run.task_dims;
	}
	if (ntasks > 1)
		(void) core_parallel_run(threads, ntasks, update_task, &run, &err);
	else
		(void) update_task(&run, 0, &err);
	for (size_t j = 0; j < k; j++)
	{
		if (counts[j] == 0)
			continue;
		for (size_t d = 0; d < dim; d++)
			centroids[j * dim + d] = (float) (sums[j * dim + d] / counts[j]);
	}
	repair_empty(centroids, k, dim, counts);
}

/* Scratch of the passes with bounds. */
typedef struct BoundedPass
{
	KmeansBounds *bounds;
	KmeansNearest2Fn nearest2;
	size_t		kpad;			/* k rounded up to KMEANS_NEAREST2_LANES */
	float	   *ct;				/* the centroids transposed, dim x kpad */
	float	   *cnorm;			/* their squared norms, +inf past k */
	float	   *xnorm;			/* the rows' squared norms, once a run */
	float		cmax2;			/* the largest squared centroid norm */
	uint32_t   *pending;		/* rows to compare with every centroid */
	size_t	   *moved;			/* per task: pending rows that moved */
	/* the pass the tasks serve */
	const float *x;
	const float *centroids;
	size_t		dim;
	size_t		npending;
	bool		first;
	int32_t    *assign;
	float	   *dist;
} BoundedPass;

/* Pending rows per task of a pass with bounds. */
#define KMEANS_PENDING_TASK_ROWS 4096

/*
 * The automatic bounds keep the transposed centroids within this much, a
 * typical L2 cache: the nearest-two search reads them all for every pending
 * row, and past it sgemm's blocking wins (and bounds_moved's O(k^2 dim)
 * gaps, which run on one thread, start to count).
 */
#define KMEANS_BOUNDS_AUTO_BYTES (1u << 20)

_Static_assert(KMEANS_BOUNDS_MAX_DIM <= KMEANS_NEAREST2_MAX_DIM,
			   "passes with bounds search with the nearest-two kernels");

KmeansNearest2Fn
kmeans_select_nearest2(size_t dim)
{
#if defined(__x86_64__) || defined(__i386__)
	if (distance_kernels()->isa == KERNEL_ISA_AVX512 && dim <= KMEANS_NEAREST2_MAX_DIM)
		return kmeans_nearest2_avx512;
#endif
	return kmeans_nearest2_scalar;
}

size_t
kmeans_nearest_scalar(const float *x, const float *ct, const float *cnorm,
					  size_t kpad, size_t dim)
{
	float		best;
	float		second;

	return kmeans_nearest2_scalar(x, ct, cnorm, kpad, dim, &best, &second);
}

KmeansNearestFn
kmeans_select_nearest(size_t dim)
{
#if defined(__x86_64__) || defined(__i386__)
	if (kmeans_select_nearest2(dim) == kmeans_nearest2_avx512)
		return kmeans_nearest_avx512;
#endif
	return kmeans_nearest_scalar;
}

/* k rounded up to whole blocks of the nearest-two search. */
static size_t
nearest2_kpad(size_t k)
{
	return (k + KMEANS_NEAREST2_LANES - 1) / KMEANS_NEAREST2_LANES * KMEANS_NEAREST2_LANES;
}

/*
 * Whether the passes keep bounds: where they settle rows (few dimensions)
 * and the per-row search beats sgemm (AVX-512, centroids in cache), unless
 * told.  Not on the thread count: any number of threads gives the same
 * centroids.
 */
static bool
want_bounds(const KmeansOptions *opts, size_t dim, size_t k)
{
	if (opts->bounds != KMEANS_BOUNDS_AUTO)
		return opts->bounds == KMEANS_BOUNDS_ALWAYS;
	return dim <= KMEANS_BOUNDS_MAX_DIM &&
		nearest2_kpad(k) * dim * sizeof(float) <= KMEANS_BOUNDS_AUTO_BYTES &&
		kmeans_select_nearest2(dim) != kmeans_nearest2_scalar;
}

static void
bounded_pass_free(BoundedPass *bp)
{
	kmeans_bounds_free(bp->bounds);
	core_free(bp->ct);
	core_free(bp->cnorm);
	core_free(bp->xnorm);
	core_free(bp->pending);
	core_free(bp->moved);
	memset(bp, 0, sizeof(BoundedPass));
}

/* False when out of memory, with nothing left allocated. */
static bool
bounded_pass_init(BoundedPass *bp, size_t n, size_t dim, size_t k)
{
	size_t		ntasks = (n + KMEANS_PENDING_TASK_ROWS - 1) / KMEANS_PENDING_TASK_ROWS;

	bp->nearest2 = kmeans_select_nearest2(dim);
	bp->kpad = nearest2_kpad(k);
	bp->bounds = kmeans_bounds_create(n, k, dim);
	bp->ct = core_mallocarray(bp->kpad, dim * sizeof(float));
	bp->cnorm = core_mallocarray(bp->kpad, sizeof(float));
	bp->xnorm = core_mallocarray(n, sizeof(float));
	bp->pending = core_mallocarray(n, sizeof(uint32_t));
	bp->moved = core_mallocarray(ntasks, sizeof(size_t));
	if (bp->bounds && bp->ct && bp->cnorm && bp->xnorm && bp->pending && bp->moved)
		return true;
	bounded_pass_free(bp);
	return false;
}

/*
 * A pending row searched: it takes its nearest, its distance (computed
 * directly: the search's value loses digits on rows far from the origin)
 * and its bound; returns whether it moved.
 */
static inline bool
searched(BoundedPass *bp, size_t i, size_t found, float second)
{
	bool		moved = false;

	/* a row that stays has its distance from kmeans_bounds_settle */
	if (bp->first || (size_t) bp->assign[i] != found)
	{
		moved = true;
		bp->assign[i] = (int32_t) found;
		bp->dist[i] = distance_kernels()->l2sq(bp->x + i * bp->dim,
											   bp->centroids + found * bp->dim,
											   bp->dim);
	}
	kmeans_bounds_reset(bp->bounds, i, bp->xnorm[i], second, bp->cmax2);
	return moved;
}

/*
 * One task: a run of pending rows compared with every centroid, two at a
 * time where the search has a version for two.  The rows are distinct, so
 * tasks write apart.
 */
static CoreStatus
nearest2_task(void *arg, size_t task, CoreError *err)
{
	BoundedPass *bp = (BoundedPass *) arg;
	size_t		p = task * KMEANS_PENDING_TASK_ROWS;
	size_t		end = p + KMEANS_PENDING_TASK_ROWS < bp->npending ?
		p + KMEANS_PENDING_TASK_ROWS : bp->npending;
	size_t		moved = 0;

#if defined(__x86_64__) || defined(__i386__)
	if (bp->nearest2 == kmeans_nearest2_avx512)
		for (; p + 1 < end; p += 2)
		{
			size_t		i0 = bp->pending[p];
			size_t		i1 = bp->pending[p + 1];
			float		best0,
						second0,
						best1,
						second1;
			size_t		found1;
			size_t		found0 = kmeans_nearest2_pair_avx512(bp->x + i0 * bp->dim,
															 bp->x + i1 * bp->dim,
															 bp->ct, bp->cnorm,
															 bp->kpad, bp->dim,
															 &best0, &second0, &found1,
															 &best1, &second1);

			moved += searched(bp, i0, found0, second0);
			moved += searched(bp, i1, found1, second1);
		}
#endif
	for (; p < end; p++)
	{
		size_t		i = bp->pending[p];
		float		best;
		float		second;
		size_t		found = bp->nearest2(bp->x + i * bp->dim, bp->ct, bp->cnorm,
										 bp->kpad, bp->dim, &best, &second);

		moved += searched(bp, i, found, second);
	}
	bp->moved[task] = moved;
	return CORE_OK;
}

/*
 * An assignment pass with bounds: the rows they settle keep their
 * centroid, the others (every row in the first pass) are compared with all
 * centroids.  Counts the rows that moved into *moved.
 */
static CoreStatus
pass_bounded(BoundedPass *bp, bool first, const float *x, size_t n,
			 size_t dim, const float *centroids, size_t k,
			 KmeansOptions *opts, int32_t *assign, float *dist, size_t *moved,
			 CoreError *err)
{
	const DistanceKernels *dk = distance_kernels();
	size_t		ntasks;
	CoreStatus	st;

	bp->cmax2 = 0.0f;
	for (size_t j = 0; j < bp->kpad; j++)
	{
		bp->cnorm[j] = j < k ? dk->dot(centroids + j * dim, centroids + j * dim, dim) : INFINITY;
		if (j < k && bp->cnorm[j] > bp->cmax2)
			bp->cmax2 = bp->cnorm[j];
		for (size_t d = 0; d < dim; d++)
			bp->ct[d * bp->kpad + j] = j < k ? centroids[j * dim + d] : 0.0f;
	}
	if (first)
	{
		/* the rows stay put: their norms serve every pass's bounds */
		st = run_row_norms(x, n, dim, opts, bp->xnorm, err);
		if (st != CORE_OK)
			return st;
		for (size_t i = 0; i < n; i++)
			bp->pending[i] = (uint32_t) i;
		bp->npending = n;
	}
	else
		bp->npending = kmeans_bounds_settle(bp->bounds, x, n, centroids, assign,
											dist, bp->pending);
	opts->rows_compared += bp->npending;
	bp->x = x;
	bp->centroids = centroids;
	bp->dim = dim;
	bp->first = first;
	bp->assign = assign;
	bp->dist = dist;
	ntasks = (bp->npending + KMEANS_PENDING_TASK_ROWS - 1) / KMEANS_PENDING_TASK_ROWS;
	/* the search may run on threads, which never call back: check first */
	if (opts->cancel && opts->cancel(opts->cancel_arg))
		return core_error(err, CORE_ERR_CANCELED, "k-means: canceled");
	st = ntasks == 0 ? CORE_OK :
		core_parallel_run(opts->threads, ntasks, nearest2_task, bp, err);
	for (size_t t = 0; t < ntasks && st == CORE_OK; t++)
		*moved += bp->moved[t];
	return st;
}

/*
 * An assignment pass comparing every row with every centroid into next;
 * counts the rows whose centroid differs from assign into *moved.
 */
static CoreStatus
pass_full(const float *x, size_t n, size_t dim, const float *centroids,
		  size_t k, KmeansOptions *opts, bool first, const int32_t *assign,
		  int32_t *next, float *dist, const float *xnorm, size_t *moved,
		  CoreError *err)
{
	CoreStatus	st;

	if (opts->threads > 1)
	{
		/* threads never call back: check between passes */
		if (opts->cancel && opts->cancel(opts->cancel_arg))
			return core_error(err, CORE_ERR_CANCELED, "k-means: canceled");
		st = assign_threads(x, n, dim, centroids, k, opts->threads, next,
							dist, xnorm, err);
	}
	else
		st = assign_blas(x, n, dim, centroids, k, next, dist, xnorm,
						 opts->cancel, opts->cancel_arg, err);
	opts->rows_compared += n;
	for (size_t i = 0; i < n && st == CORE_OK; i++)
		if (first || next[i] != assign[i])
			(*moved)++;
	return st;
}

/*
 * An assignment pass comparing each row with its centroid's nearest
 * neighbours (kmeans_neighbours.h) into next; counts moved rows as
 * pass_full does.
 */
static CoreStatus
pass_neighbours(KmeansNeighbours *nb, const float *x, size_t n, size_t dim,
				const float *centroids, size_t k, KmeansOptions *opts,
				const int32_t *assign, int32_t *next, float *dist,
				const float *xnorm, size_t *moved, CoreError *err)
{
	CoreStatus	st;

	/* threads never call back: check between passes */
	if (opts->cancel && opts->cancel(opts->cancel_arg))
		return core_error(err, CORE_ERR_CANCELED, "k-means: canceled");
	st = kmeans_neighbours_pass(nb, x, n, dim, centroids, k, opts->threads,
								assign, next, dist, xnorm, err);
	for (size_t i = 0; i < n && st == CORE_OK; i++)
		if (next[i] != assign[i])
			(*moved)++;
	return st;
}

/*
 * Lloyd passes from the centroids as they are, until the error settles, a
 * pass moves no row, or opts->max_iterations passes have run.
 */
static CoreStatus
lloyd(const float *x, size_t n, size_t dim, size_t k, KmeansOptions *opts,
	  float *centroids, CoreError *err)
{
	int32_t    *assign = NULL;
	int32_t    *next = NULL;
	float	   *dist = NULL;
	float	   *xnorm = NULL;
	double	   *sums = NULL;
	size_t	   *counts = NULL;
	float	   *old = NULL;
	BoundedPass bp = {0};
	KmeansNeighbours *nb = NULL;
	/* pending and grouped rows are numbered in 32 bits */
	bool		use_bounds = want_bounds(opts, dim, k) && n <= UINT32_MAX;
	bool		use_neighbours;
	double		prev_sse = 0.0;
	CoreStatus	st;

	opts->rows_compared = 0;
	if (opts->sse_out)
		memset(opts->sse_out, 0, sizeof(double) * opts->max_iterations);
	/* the bounds only save work: without memory for them, do without */
	if (use_bounds)
	{
		old = core_mallocarray(k, dim * sizeof(float));
		use_bounds = old != NULL && bounded_pass_init(&bp, n, dim, k);
	}
	use_neighbours = !use_bounds && opts->neighbours > 0 && n <= UINT32_MAX;
	assign = core_mallocarray(n, sizeof(int32_t));
	/* a pass with bounds updates the assignments in place */
	if (!use_bounds)
		next = core_mallocarray(n, sizeof(int32_t));
	dist = core_mallocarray(n, sizeof(float));
	/* the rows stay put: their norms serve every pass (with bounds, bp's) */
	if (!use_bounds)
		xnorm = core_mallocarray(n, sizeof(float));
	sums = core_mallocarray(k * dim, sizeof(double));
	counts = core_mallocarray(k, sizeof(size_t));
	if (use_neighbours)
		nb = kmeans_neighbours_create(n, k, opts->neighbours);
	if (assign == NULL || (!use_bounds && (next == NULL || xnorm == NULL)) ||
		dist == NULL ||
		sums == NULL || counts == NULL || (use_neighbours && nb == NULL))
	{
		st = core_error(err, CORE_ERR_NOMEM, "k-means: out of memory for %zu rows", n);
		goto done;
	}
	if (xnorm && (st = run_row_norms(x, n, dim, opts, xnorm, err)) != CORE_OK)
		goto done;

	for (int it = 0; it < opts->max_iterations; it++)
	{
		double		sse = 0.0;
		size_t		moved = 0;

		if (use_bounds)
			st = pass_bounded(&bp, it == 0, x, n, dim, centroids, k, opts,
							  assign, dist, &moved, err);
		else if (use_neighbours && it >= KMEANS_NEIGHBOURS_FULL_PASSES)
		{
			int32_t    *t = assign;

			st = pass_neighbours(nb, x, n, dim, centroids, k, opts, assign,
								 next, dist, xnorm, &moved, err);
			assign = next;
			next = t;
		}
		else
		{
			int32_t    *t = assign;

			st = pass_full(x, n, dim, centroids, k, opts, it == 0, assign,
						   next, dist, xnorm, &moved, err);
			assign = next;
			next = t;
		}
		if (st != CORE_OK)
			goto done;
		for (size_t i = 0; i < n; i++)
			sse += dist[i];
		if (opts->sse_out)
			opts->sse_out[it] = sse;
		opts->iterations_run = it + 1;
		/* no row moved: the update would leave every centroid in place */
		if (moved == 0)
			break;
		if (it > 0 && prev_sse - sse <= KMEANS_TOLERANCE * prev_sse)
			break;
		prev_sse = sse;

		if (use_bounds)
			memcpy(old, centroids, k * dim * sizeof(float));
		update_centroids(x, n, dim, k, assign, opts->threads, sums, counts,
						 centroids);
		/* no pass follows the last update to use the bounds */
		if (use_bounds && it + 1 < opts->max_iterations)
			kmeans_bounds_moved(bp.bounds, old, centroids, assign, n);
	}
	st = CORE_OK;

done:
	core_free(assign);
	core_free(next);
	core_free(dist);
	core_free(xnorm);
	core_free(sums);
	core_free(counts);
	core_free(old);
	bounded_pass_free(&bp);
	kmeans_neighbours_free(nb);
	return st;
}

CoreStatus
kmeans_train(const float *x, size_t n, size_t dim, size_t k,
			 KmeansOptions *opts, float *centroids, CoreError *err)
{
	CoreStatus	st = check_args(n, dim, k, opts, err);

	if (st == CORE_OK)
		st = init_from_rows(x, n, dim, k, opts->seed, centroids, err);
	if (st == CORE_OK)
		st = lloyd(x, n, dim, k, opts, centroids, err);
	return st;
}

CoreStatus
kmeans_refine(const float *x, size_t n, size_t dim, size_t k,
			  KmeansOptions *opts, float *centroids, CoreError *err)
{
	CoreStatus	st = check_args(n, dim, k, opts, err);

	if (st == CORE_OK)
		st = lloyd(x, n, dim, k, opts, centroids, err);
	return st;
}

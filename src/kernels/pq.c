/*-------------------------------------------------------------------------
 *
 * pq.c
 *	  Product quantization: training, encoding, ADC tables (see pq.h).
 *
 * Training goes through k-means, one subspace at a time on a contiguous
 * copy of its sub-vectors (its passes keep bounds and search the rows they
 * cannot settle one by one, kmeans_bounds.h).  Batch encoding searches each
 * row's sub-vectors with the SIMD nearest-centroid kernel over codebooks laid
 * out for it on each call (sgemm's inner products of a few floats waste
 * most of its work, and its distance blocks, allocated per call, made
 * threads wait on the kernel's page faults).  Laying them out copies each
 * of the 256 x dim codebook floats once, what encoding one row multiplies:
 * a build's batches of thousands of rows do not notice it, so it is not
 * kept across calls.  Without that kernel, encoding goes through one sgemm
 * assignment per block of rows; a single row (an insert) is encoded with
 * the distance kernels, where either setup would cost more than the
 * arithmetic.  With threads, subspaces train side by side (they
 * are independent k-means runs) and encoding splits the rows into blocks.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "core/alloc.h"
#include "core/parallel.h"
#include "kernels/distance.h"
#include "kernels/kmeans_impl.h"
#include "kernels/pq.h"
#include "kernels/pq_impl.h"

/* Rows per block when encoding: the sub-vector copy stays in cache. */
#define PQ_ENCODE_BLOCK 4096

/* Rows per task when encoding on threads. */
#define PQ_ENCODE_TASK_ROWS 1024

/* Below this many rows, encode with the distance kernels, not sgemm. */
#define PQ_BLAS_MIN_ROWS 64

/* Copy subspace j of rows [0, n) into a contiguous n x dsub block. */
static void
gather_subspace(const float *x, size_t n, size_t dim, size_t dsub, size_t j,
				float *out)
{
	for (size_t i = 0; i < n; i++)
		memcpy(out + i * dsub, x + i * dim + j * dsub, dsub * sizeof(float));
}

typedef struct TrainRun
{
	const float *x;
	size_t		n;
	size_t		dim;
	size_t		m;
	size_t		dsub;
	KmeansOptions *opts;
	CoreCancel	cancel;			/* the tasks' passes ask this */
	float	   *codebook;
	int			last_iterations;	/* of the last subspace */
} TrainRun;

/*
 * Train one subspace's codebook on a copy of its sub-vectors.  Runs on any
 * thread: the cancel callback it passes on only reads the run's flag there.
 */
static CoreStatus
train_task(void *arg, size_t task, CoreError *err)
{
	TrainRun   *run = (TrainRun *) arg;
	size_t		j = task;
	KmeansOptions o = *run->opts;
	float	   *sub = core_mallocarray(run->n, run->dsub * sizeof(float));
	CoreStatus	st;

	if (sub == NULL)
		return core_error(err, CORE_ERR_NOMEM,
						  "product quantizer: out of memory for %zu sub-vectors", run->n);
	gather_subspace(run->x, run->n, run->dim, run->dsub, j, sub);
	o.seed = run->opts->seed + j;
	o.threads = 1;
	o.cancel = core_cancel_requested;
	o.cancel_arg = &run->cancel;
	o.sse_out = NULL;
	st = kmeans_train(sub, run->n, run->dsub, PQ_KSUB, &o,
					  run->codebook + j * PQ_KSUB * run->dsub, err);
	if (st != CORE_OK)
		core_error_prefix(err, "product quantizer: sub-vector %zu", j);
	if (j == run->m - 1)
		run->last_iterations = o.iterations_run;
	core_free(sub);
	return st;
}

/*
 * With threads, the subspaces train side by side, one task each, handed out
 * as threads come free (they stop after different numbers of passes, 44-50
 * on the bench data).  The caller's cancel callback is polled on its own
 * thread, between its tasks and while it waits, and raises the flag that
 * every task's passes ask.
 */
static CoreStatus
train_threads(const float *x, size_t n, size_t dim, size_t m,
			  KmeansOptions *opts, float *codebook, CoreError *err)
{
	TrainRun	run = {0};
	CoreStatus	st;

	run.x = x;
	run.n = n;
	run.dim = dim;
	run.m = m;
	run.dsub = dim / m;
	run.opts = opts;
	run.codebook = codebook;
	core_cancel_init(&run.cancel, opts->cancel, opts->cancel_arg);
	st = core_parallel_run_cancel(opts->threads, m, train_task, &run,
								  &run.cancel, err);
	if (st == CORE_OK)
		opts->iterations_run = run.last_iterations;
	return st;
}

CoreStatus
pq_train(const float *x, size_t n, size_t dim, size_t m, KmeansOptions *opts,
		 float *codebook, CoreError *err)
{
	size_t		dsub;
	float	   *sub;
	uint64_t	seed = opts->seed;
	CoreStatus	st = CORE_OK;

	if (m == 0 || dim % m != 0)
		return core_error(err, CORE_ERR_INVALID,
						  "product quantizer: dimension %zu is not a multiple of %zu sub-vectors", dim, m);
	if (n < PQ_KSUB)
		return core_error(err, CORE_ERR_INVALID,
						  "product quantizer: %zu rows cannot train %d centroids per sub-vector", n, PQ_KSUB);
	if (opts->threads > 1)
		return train_threads(x, n, dim, m, opts, codebook, err);
	dsub = dim / m;
	sub = core_mallocarray(n, dsub * sizeof(float));
	if (sub == NULL)
		return core_error(err, CORE_ERR_NOMEM, "product quantizer: out of memory for %zu sub-vectors", n);
	for (size_t j = 0; j < m && st == CORE_OK; j++)
	{
		gather_subspace(x, n, dim, dsub, j, sub);
		opts->seed = seed + j;
		st = kmeans_train(sub, n, dsub, PQ_KSUB, opts,
						  codebook + j * PQ_KSUB * dsub, err);
		if (st != CORE_OK)
			core_error_prefix(err, "product quantizer: sub-vector %zu", j);
	}
	opts->seed = seed;
	core_free(sub);
	return st;
}

/*
 * The codebooks laid out for the nearest-centroid search: subspace j's PQ_KSUB
 * codewords transposed, dimension by dimension, at ct + j * dsub * PQ_KSUB,
 * their squared norms at cnorm + j * PQ_KSUB.  ct is NULL where the search
 * has no SIMD version for dsub: then encoding goes through sgemm.
 */
typedef struct PqSearch
{
	KmeansNearestFn nearest;
	size_t		dsub;
	float	   *ct;
	float	   *cnorm;
} PqSearch;

_Static_assert(PQ_KSUB % KMEANS_NEAREST2_LANES == 0,
			   "a codebook fills whole blocks of the nearest-two search");

static CoreStatus
search_init(PqSearch *s, const float *codebook, size_t dim, size_t m,
			CoreError *err)
{
	const DistanceKernels *dk = distance_kernels();

	s->dsub = dim / m;
	s->nearest = kmeans_select_nearest(s->dsub);
	s->ct = NULL;
	s->cnorm = NULL;
	if (s->nearest == kmeans_nearest_scalar)
		return CORE_OK;
	s->ct = core_mallocarray(dim, PQ_KSUB * sizeof(float));
	s->cnorm = core_mallocarray(m, PQ_KSUB * sizeof(float));
	if (s->ct == NULL || s->cnorm == NULL)
	{
		core_free(s->ct);
		core_free(s->cnorm);
		return core_error(err, CORE_ERR_NOMEM,
						  "product quantizer: out of memory for %zu codebooks", m);
	}
	for (size_t j = 0; j < m; j++)
	{
		const float *cb = codebook + j * PQ_KSUB * s->dsub;
		float	   *ct = s->ct + j * s->dsub * PQ_KSUB;

		for (size_t c = 0; c < PQ_KSUB; c++)
		{
			s->cnorm[j * PQ_KSUB + c] = dk->dot(cb + c * s->dsub, cb + c * s->dsub, s->dsub);
			for (size_t d = 0; d < s->dsub; d++)
				ct[d * PQ_KSUB + c] = cb[c * s->dsub + d];
		}
	}
	return CORE_OK;
}

static void
search_free(PqSearch *s)
{
	core_free(s->ct);
	core_free(s->cnorm);
}

/* Encode n rows by the nearest-centroid search (s->ct set). */
static void
encode_search(const PqSearch *s, size_t m, const float *x, size_t n,
			  uint8_t *codes)
{
	size_t		dim = s->dsub * m;
	size_t		i = 0;

#if defined(__x86_64__) || defined(__i386__)
	/* two rows at a time where the search has a version for two */
	if (s->nearest == kmeans_nearest_avx512)
		for (; i + 1 < n; i += 2)
			for (size_t j = 0; j < m; j++)
			{
				size_t		c0;
				size_t		c1;

				kmeans_nearest_pair_avx512(x + i * dim + j * s->dsub,
										   x + (i + 1) * dim + j * s->dsub,
										   s->ct + j * s->dsub * PQ_KSUB,
										   s->cnorm + j * PQ_KSUB, PQ_KSUB,
										   s->dsub, &c0, &c1);
				codes[i * m + j] = (uint8_t) c0;
				codes[(i + 1) * m + j] = (uint8_t) c1;
			}
#endif
	for (; i < n; i++)
		for (size_t j = 0; j < m; j++)
			codes[i * m + j] = (uint8_t)
				s->nearest(x + i * dim + j * s->dsub, s->ct + j * s->dsub * PQ_KSUB,
						   s->cnorm + j * PQ_KSUB, PQ_KSUB, s->dsub);
}

/* Encode n rows through sgemm (or, for a few rows, the distance kernels). */
static CoreStatus
encode_assign(const float *codebook, size_t dim, size_t m, const float *x,
			  size_t n, uint8_t *codes, CoreError *err)
{
	size_t		dsub = dim / m;
	size_t		block = n < PQ_ENCODE_BLOCK ? n : PQ_ENCODE_BLOCK;
	float	   *sub;
	int32_t    *assign;
	CoreStatus	st = CORE_OK;

	sub = core_mallocarray(block, dsub * sizeof(float));
	assign = core_mallocarray(block, sizeof(int32_t));
	if (sub == NULL || assign == NULL)
	{
		core_free(sub);
		core_free(assign);
		return core_error(err, CORE_ERR_NOMEM, "product quantizer: out of memory encoding %zu rows", block);
	}
	for (size_t start = 0; start < n && st == CORE_OK; start += block)
	{
		size_t		rows = n - start < block ? n - start : block;

		for (size_t j = 0; j < m && st == CORE_OK; j++)
		{
			gather_subspace(x + start * dim, rows, dim, dsub, j, sub);
			st = kmeans_assign(sub, rows, dsub, codebook + j * PQ_KSUB * dsub,
							   PQ_KSUB, rows >= PQ_BLAS_MIN_ROWS, assign, NULL,
							   NULL, NULL, err);
			for (size_t i = 0; i < rows && st == CORE_OK; i++)
				codes[(start + i) * m + j] = (uint8_t) assign[i];
		}
	}
	core_free(sub);
	core_free(assign);
	return st;
}

typedef struct EncodeRun
{
	const float *codebook;
	const PqSearch *search;
	size_t		dim;
	size_t		m;
	const float *x;
	size_t		n;
	uint8_t    *codes;
} EncodeRun;

/* One task: PQ_ENCODE_TASK_ROWS rows. */
static CoreStatus
encode_task(void *arg, size_t task, CoreError *err)
{
	EncodeRun  *run = (EncodeRun *) arg;
	size_t		start = task * PQ_ENCODE_TASK_ROWS;
	size_t		rows = run->n - start < PQ_ENCODE_TASK_ROWS ? run->n - start : PQ_ENCODE_TASK_ROWS;

	if (run->search->ct)
	{
		encode_search(run->search, run->m, run->x + start * run->dim, rows,
					  run->codes + start * run->m);
		return CORE_OK;
	}
	return encode_assign(run->codebook, run->dim, run->m, run->x + start * run->dim,
						 rows, run->codes + start * run->m, err);
}

/*
 * Batches of PQ_BLAS_MIN_ROWS or more go through the nearest-centroid search or
 * sgemm, which minimise |c|^2 - 2 x.c; fewer rows (an insert's one) go
 * through the distance kernels' |x - c|^2.  The two agree up to rounding
 * only: where two codewords are nearly equally near, they may pick
 * different ones.
 */
CoreStatus
pq_encode_threads(const float *codebook, size_t dim, size_t m, const float *x,
				  size_t n, int threads, uint8_t *codes, CoreError *err)
{
	EncodeRun	run;
	PqSearch	search;
	CoreStatus	st;

	if (m == 0 || dim % m != 0)
		return core_error(err, CORE_ERR_INVALID,
						  "product quantizer: dimension %zu is not a multiple of %zu sub-vectors", dim, m);
	if (n == 0)
		return CORE_OK;
	/* a few rows (an insert): straight to the distance kernels */
	if (n < PQ_BLAS_MIN_ROWS)
		return encode_assign(codebook, dim, m, x, n, codes, err);
	st = search_init(&search, codebook, dim, m, err);
	if (st != CORE_OK)
		return st;
	run.codebook = codebook;
	run.search = &search;
	run.dim = dim;
	run.m = m;
	run.x = x;
	run.n = n;
	run.codes = codes;
	st = core_parallel_run(threads, (n + PQ_ENCODE_TASK_ROWS - 1) / PQ_ENCODE_TASK_ROWS,
						   encode_task, &run, err);
	search_free(&search);
	return st;
}

CoreStatus
pq_encode(const float *codebook, size_t dim, size_t m, const float *x,
		  size_t n, uint8_t *codes, CoreError *err)
{
	return pq_encode_threads(codebook, dim, m, x, n, 1, codes, err);
}

void
pq_decode(const float *codebook, size_t dim, size_t m, const uint8_t *codes,
		  size_t n, float *out)
{
	size_t		dsub = dim / m;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m; j++)
			memcpy(out + i * dim + j * dsub,
				   codebook + (j * PQ_KSUB + codes[i * m + j]) * dsub,
				   dsub * sizeof(float));
}

void
pq_table(const float *codebook, size_t dim, size_t m, PqMetric metric,
		 const float *q, float *table)
{
	const DistanceKernels *dk = distance_kernels();
	size_t		dsub = dim / m;

	for (size_t j = 0; j < m; j++)
	{
		const float *cb = codebook + j * PQ_KSUB * dsub;
		float	   *t = table + j * PQ_KSUB;

		if (metric == PQ_METRIC_L2)
			dk->l2sq_many(q + j * dsub, cb, PQ_KSUB, dsub, t);
		else
		{
			dk->dot_many(q + j * dsub, cb, PQ_KSUB, dsub, t);
			for (size_t c = 0; c < PQ_KSUB; c++)
				t[c] = -t[c];
		}
	}
}

void
pq_scan_scalar(const float *table, size_t m, const uint8_t *codes_t,
			   size_t n, float *out)
{
	for (size_t i = 0; i < n; i++)
		out[i] = 0.0f;
	for (size_t j = 0; j < m; j++)
	{
		const float *t = table + j * PQ_KSUB;
		const uint8_t *c = codes_t + j * n;

		for (size_t i = 0; i < n; i++)
			out[i] += t[c[i]];
	}
}

void
pq_scan(const float *table, size_t m, const uint8_t *codes_t, size_t n,
		float *out)
{
	/* follow the distance kernels' selection, so lancedb.kernel applies */
	switch (distance_kernels()->isa)
	{
#if defined(__x86_64__) || defined(__i386__)
		case KERNEL_ISA_AVX512:
			pq_scan_avx512(table, m, codes_t, n, out);
			return;
		case KERNEL_ISA_AVX2:
			pq_scan_avx2(table, m, codes_t, n, out);
			return;
#endif
		default:
			pq_scan_scalar(table, m, codes_t, n, out);
			return;
	}
}

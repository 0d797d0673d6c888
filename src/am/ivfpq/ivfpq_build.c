/*-------------------------------------------------------------------------
 *
 * ivfpq_build.c
 *	  lance_ivfpq: build an index from the table's rows.
 *
 * A build reads the table twice.  The first pass keeps a uniform sample
 * (reservoir sampling) of sample_rate rows per centroid, from which k-means
 * trains the lists' centroids (hierarchically above 256 lists, as LanceDB
 * does: kmeans_hier.h) and, on the residuals (row minus its centroid), the
 * PQ codebooks.  The second pass assigns every row to its
 * nearest centroid (sgemm) and encodes its residual (SIMD searches of the
 * codebooks), in batches, and collects the (list, TID, code) entries
 * (ivfpq_entries.c: in memory when they fit, else in a tuplesort).
 * Last, the sorted entries are written list after list, so each list is a
 * run of consecutive pages.
 *
 * Every page is written through generic WAL as a full image, as contrib/bloom
 * does, so a build is crash-safe and replicates.
 *
 * maintenance_work_mem bounds both passes: the sample is sized to leave
 * room for training beside it, and the entries stay in memory within what
 * the batch buffers leave, or spill to disk through a tuplesort.  The
 * arithmetic (k-means passes, PQ training, assigning and encoding) runs on
 * 1 + max_parallel_maintenance_workers threads, the CPU budget a parallel
 * build of another index method would take as worker processes; the
 * threads only compute (core/parallel.h).
 * A table with too few rows to train still gets an index (see Train).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/tableam.h"
#include "am/ivfpq/ivfpq.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "core/parallel.h"
#include "kernels/distance.h"
#include "kernels/kmeans.h"
#include "kernels/kmeans_hier.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "types/vector.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* rows assigned and encoded per batch and thread, at most */
#define IVFPQ_BATCH_PER_THREAD	4096

/* fewest rows per batch, whatever maintenance_work_mem says */
#define IVFPQ_MIN_BATCH		256

/* the smallest workMem tuplesort accepts, in kB */
#define IVFPQ_MIN_SORT_MEM	64

typedef struct IvfpqBuildState
{
	Relation	index;
	IvfpqMetric metric;
	int			dim;
	int			m;				/* num_sub_vectors */
	int			lists;
	Size		entry_size;		/* one IvfpqTupleData */
	int			threads;		/* for the arithmetic */

	/* first pass: the reservoir */
	float	   *sample;
	int64		sample_cap;
	int64		sample_len;
	int64		rows;			/* non-null rows seen */
	uint64		rng;

	/* second pass: trained model and the batch being encoded */
	float	   *centroids;
	float	   *codebook;
	int			batch_cap;
	float	   *batch;
	ItemPointerData *batch_tids;
	int			batch_len;
	int32	   *batch_lists;
	float	   *batch_resid;
	uint8	   *batch_codes;

	/* encoded entries, to be sorted by (list, TID) */
	IvfpqEntries *entries;
	int64		nentries;		/* their count, kept past IvfpqEntriesEnd */
	double		reltuples;		/* rows the second scan saw, NULLs included */

	MemoryContext tmpctx;		/* reset after each row */
} IvfpqBuildState;

/*
 * Pick num_sub_vectors when the user did not: dim / 16 when 16 divides dim,
 * else dim / 8 when 8 does (LanceDB's rule), else the largest divisor of dim
 * not above dim / 8 (at least 1), so any dimension gets a valid default.
 */
static int
DefaultSubVectors(int dim)
{
	if (dim % 16 == 0)
		return dim / 16;
	if (dim % 8 == 0)
		return dim / 8;
	for (int m = Max(dim / 8, 1); m > 1; m--)
		if (dim % m == 0)
			return m;
	return 1;
}

/*
 * Return the dimension fixed by the indexed column's typmod.
 */
static int
IndexDimensions(Relation index)
{
	int			dim = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column indexed by \"%s\" does not have dimensions",
						RelationGetRelationName(index)),
				 errhint("Declare the column as vector(n), or index an expression cast to vector(n).")));
	return dim;
}

/*
 * Read a row's vector, check its dimension and prepare it for the metric.
 */
static void
RowVector(IvfpqBuildState *bs, Datum value, float *out)
{
	Vector	   *v = DatumGetVector(value);

	if (v->dim != bs->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("index \"%s\" expects %d dimensions, not %d",
						RelationGetRelationName(bs->index), bs->dim, v->dim)));
	IvfpqPrepareVector(bs->metric, v->x, bs->dim, out);
}

/*
 * First pass: keep a uniform sample of the rows (Vitter's algorithm R).
 */
static void
SampleCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	IvfpqBuildState *bs = (IvfpqBuildState *) state;
	MemoryContext old;
	int64		slot;

	if (isnull[0])
		return;
	bs->rows++;
	if (bs->sample_len < bs->sample_cap)
		slot = bs->sample_len++;
	else
	{
		slot = (int64) (kmeans_random(&bs->rng) % (uint64) bs->rows);
		if (slot >= bs->sample_cap)
			return;
	}
	old = MemoryContextSwitchTo(bs->tmpctx);
	RowVector(bs, values[0], bs->sample + slot * bs->dim);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpctx);
}

/*
 * Assign the batched rows to lists, encode their residuals and append the
 * entries.
 */
static void
FlushBatch(IvfpqBuildState *bs)
{
	CoreError	err;
	int			n = bs->batch_len;

	if (n == 0)
		return;
	if (kmeans_assign_threads(bs->batch, n, bs->dim, bs->centroids, bs->lists,
							  bs->threads, bs->batch_lists, NULL, &err) != CORE_OK)
		IvfpqReportCoreError(&err, bs->index);
	for (int i = 0; i < n; i++)
	{
		const float *x = bs->batch + (Size) i * bs->dim;
		const float *c = bs->centroids + (Size) bs->batch_lists[i] * bs->dim;
		float	   *r = bs->batch_resid + (Size) i * bs->dim;

		for (int d = 0; d < bs->dim; d++)
			r[d] = x[d] - c[d];
	}
	if (pq_encode_threads(bs->codebook, bs->dim, bs->m, bs->batch_resid, n,
						  bs->threads, bs->batch_codes, &err) != CORE_OK)
		IvfpqReportCoreError(&err, bs->index);

	for (int i = 0; i < n; i++)
		IvfpqEntriesAdd(bs->entries, bs->batch_lists[i], &bs->batch_tids[i],
						bs->batch_codes + (Size) i * bs->m);
	bs->batch_len = 0;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
								 IvfpqEntriesCount(bs->entries));
}

/*
 * Second pass: batch each row for assignment and encoding.
 */
static void
AssignCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			   bool tupleIsAlive, void *state)
{
	IvfpqBuildState *bs = (IvfpqBuildState *) state;
	MemoryContext old;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpctx);
	RowVector(bs, values[0], bs->batch + (Size) bs->batch_len * bs->dim);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpctx);
	bs->batch_tids[bs->batch_len++] = *tid;
	if (bs->batch_len == bs->batch_cap)
		FlushBatch(bs);
}

/*
 * Write count floats to new pages; return the first block.
 */
static BlockNumber
WriteFloats(Relation index, ForkNumber forknum, const float *data, Size count)
{
	BlockNumber start = InvalidBlockNumber;

	do
	{
		Size		n = Min(count, IVFPQ_FLOATS_PER_PAGE);
		Buffer		buf = IvfpqNewBuffer(index, forknum);
		GenericXLogState *state = GenericXLogStart(index);
		Page		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);

		IvfpqInitPage(page, IVFPQ_PAGE_FLOATS);
		memcpy(PageGetContents(page), data, n * sizeof(float));
		((PageHeader) page)->pd_lower = (PageGetContents(page) + n * sizeof(float)) - (char *) page;
		count -= n;
		data += n;
		if (count > 0)
			IvfpqPageGetOpaque(page)->next = BufferGetBlockNumber(buf) + 1;
		if (start == InvalidBlockNumber)
			start = BufferGetBlockNumber(buf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
	} while (count > 0);
	return start;
}

/*
 * Write the lists' entry pages from the sorted entries, one chain of
 * consecutive pages per list, and record each list's head and tail.  A list
 * without entries still gets its (empty) head page, where inserts go.
 */
static void
WriteLists(IvfpqBuildState *bs, ForkNumber forknum, IvfpqListData *dir)
{
	IvfpqTuple	item = palloc(bs->entry_size);
	int64		done = 0;
	int32		list;
	const uint8 *codes;
	bool		have;

	IvfpqEntriesSort(bs->entries);
	have = IvfpqEntriesNext(bs->entries, &list, &item->heap_tid, &codes);
	for (int l = 0; l < bs->lists; l++)
	{
		Buffer		buf = IvfpqNewBuffer(bs->index, forknum);
		GenericXLogState *state = GenericXLogStart(bs->index);
		Page		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);

		IvfpqInitPage(page, IVFPQ_PAGE_ENTRIES);
		dir[l].head = BufferGetBlockNumber(buf);
		while (have && list == l)
		{
			memcpy(item->codes, codes, bs->m);
			if (PageAddItem(page, (Item) item, bs->entry_size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			{
				/* page full: chain a new one */
				Buffer		next = IvfpqNewBuffer(bs->index, forknum);

				IvfpqPageGetOpaque(page)->next = BufferGetBlockNumber(next);
				GenericXLogFinish(state);
				UnlockReleaseBuffer(buf);
				CHECK_FOR_INTERRUPTS();

				buf = next;
				state = GenericXLogStart(bs->index);
				page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
				IvfpqInitPage(page, IVFPQ_PAGE_ENTRIES);
				if (PageAddItem(page, (Item) item, bs->entry_size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
					elog(ERROR, "index entry of %zu bytes does not fit on an empty page", bs->entry_size);
			}
			done++;
			have = IvfpqEntriesNext(bs->entries, &list, &item->heap_tid, &codes);
		}
		dir[l].tail = BufferGetBlockNumber(buf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, done);
	}
	if (have)
		elog(ERROR, "lance_ivfpq build sorted entries past its last list");
	pfree(item);
}

/*
 * Fill the directory pages, which start at block first.
 */
static void
WriteDirectory(Relation index, ForkNumber forknum, BlockNumber first,
			   const IvfpqListData *dir, int lists)
{
	for (int l = 0; l < lists; l += IVFPQ_LISTS_PER_PAGE)
	{
		int			n = Min(lists - l, (int) IVFPQ_LISTS_PER_PAGE);
		Buffer		buf = ReadBufferExtended(index, forknum, first + l / IVFPQ_LISTS_PER_PAGE,
											 RBM_NORMAL, NULL);
		GenericXLogState *state;
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
		IvfpqInitPage(page, IVFPQ_PAGE_DIRECTORY);
		memcpy(PageGetContents(page), dir + l, n * sizeof(IvfpqListData));
		((PageHeader) page)->pd_lower = (PageGetContents(page) + n * sizeof(IvfpqListData)) - (char *) page;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
	}
}

/*
 * Reserve empty directory pages, to be filled once the lists are written;
 * return the first.
 */
static BlockNumber
ReserveDirectory(Relation index, ForkNumber forknum, int lists)
{
	BlockNumber first = InvalidBlockNumber;
	int			pages = (lists + IVFPQ_LISTS_PER_PAGE - 1) / IVFPQ_LISTS_PER_PAGE;

	for (int p = 0; p < pages; p++)
	{
		Buffer		buf = IvfpqNewBuffer(index, forknum);
		GenericXLogState *state = GenericXLogStart(index);
		Page		page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);

		IvfpqInitPage(page, IVFPQ_PAGE_DIRECTORY);
		if (first == InvalidBlockNumber)
			first = BufferGetBlockNumber(buf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
	}
	return first;
}

/*
 * Fill k centroids of dim floats from n rows without training: row i % k,
 * or zeros when there are no rows.  Used when a table has fewer rows than
 * centroids to train; with n <= k every row is its own centroid, exact.
 */
static void
UntrainedCentroids(const float *rows, int64 n, Size stride, Size dim, int k,
				   float *out)
{
	for (int c = 0; c < k; c++)
	{
		if (n == 0)
			memset(out + (Size) c * dim, 0, sizeof(float) * dim);
		else
			memcpy(out + (Size) c * dim, rows + (Size) (c % n) * stride, sizeof(float) * dim);
	}
}

/*
 * Train the centroids on the sample, then the codebooks on the residuals of
 * (part of) it, computed in place: the sample is not needed afterwards, and
 * a second copy would count against maintenance_work_mem.  Too few rows for
 * either is not an error (TRUNCATE rebuilds indexes on an empty table, and
 * ORMs create indexes before loading data): the rows themselves stand in for
 * centroids and the build says so.
 */
static void
Train(IvfpqBuildState *bs, int sample_rate, int max_iterations)
{
	KmeansOptions opts = {0};
	CoreError	err;
	int64		ivf_rows = Min(bs->sample_len, (int64) bs->lists * sample_rate);
	int64		pq_rows = Min(bs->sample_len, (int64) PQ_KSUB * sample_rate);
	Size		dsub = bs->dim / bs->m;
	int32	   *assign;
	float	   *resid = bs->sample;

	if (ivf_rows < bs->lists || pq_rows < PQ_KSUB)
		ereport(NOTICE,
				(errmsg("lance_ivfpq index \"%s\" created with %lld rows, too few to train",
						RelationGetRelationName(bs->index), (long long) bs->rows),
				 errdetail("Training needs at least %d rows: one per list (lists = %d) and %d per PQ codebook; "
						   "until then rows stand in for centroids and recall may be low.",
						   Max(bs->lists, PQ_KSUB), bs->lists, PQ_KSUB),
				 errhint("REINDEX the index once the table holds its data.")));

	opts.max_iterations = max_iterations;
	opts.seed = IVFPQ_SEED;
	opts.cancel = IvfpqCancelRequested;
	opts.threads = bs->threads;
	bs->centroids = palloc_extended(sizeof(float) * bs->lists * bs->dim, MCXT_ALLOC_HUGE);
	if (ivf_rows < bs->lists)
		UntrainedCentroids(bs->sample, ivf_rows, bs->dim, bs->dim, bs->lists, bs->centroids);
	else
	{
		opts.neighbours = KMEANS_HIER_REFINE_NEIGHBOURS;
		if (kmeans_train_hierarchical(bs->sample, ivf_rows, bs->dim, bs->lists,
									  KMEANS_HIER_REFINE_PASSES, &opts,
									  bs->centroids, &err) != CORE_OK)
			IvfpqReportCoreError(&err, bs->index);
		opts.neighbours = 0;
	}

	assign = palloc_extended(sizeof(int32) * Max(pq_rows, 1), MCXT_ALLOC_HUGE);
	if (kmeans_assign_threads(bs->sample, pq_rows, bs->dim, bs->centroids, bs->lists,
							  bs->threads, assign, NULL, &err) != CORE_OK)
		IvfpqReportCoreError(&err, bs->index);
	for (int64 i = 0; i < pq_rows; i++)
		for (int d = 0; d < bs->dim; d++)
			resid[i * bs->dim + d] -= bs->centroids[(Size) assign[i] * bs->dim + d];

	bs->codebook = palloc(sizeof(float) * PQ_KSUB * bs->dim);
	if (pq_rows < PQ_KSUB)
	{
		for (int j = 0; j < bs->m; j++)
			UntrainedCentroids(resid + j * dsub, pq_rows, bs->dim, dsub, PQ_KSUB,
							   bs->codebook + (Size) j * PQ_KSUB * dsub);
	}
	else if (pq_train(resid, pq_rows, bs->dim, bs->m, &opts, bs->codebook, &err) != CORE_OK)
		IvfpqReportCoreError(&err, bs->index);
	pfree(assign);
}

/*
 * Build the index: sample, train, assign and encode, write.
 */
static void
BuildIndex(Relation heap, Relation index, IndexInfo *indexInfo,
		   ForkNumber forknum, IvfpqBuildState *bs)
{
	IvfpqOptions *opts = (IvfpqOptions *) index->rd_options;
	int			sample_rate = opts ? opts->sample_rate : IVFPQ_DEFAULT_SAMPLE_RATE;
	int			max_iterations = opts ? opts->max_iterations : IVFPQ_DEFAULT_MAX_ITERATIONS;
	int			lists_opt = opts ? opts->lists : 0;
	int			m_opt = opts ? opts->num_sub_vectors : 0;
	int			nbits = opts ? opts->num_bits : PQ_NBITS;
	BlockNumber est_pages;
	double		est_rows;
	double		est_visfrac;
	int64		want;
	int64		cap_by_memory;
	int64		lists_est;
	Size		budget = (Size) maintenance_work_mem * 1024;
	Size		fixed;
	Size		per_row;
	Size		pq_per_row;
	int64		pq_rows;
	Size		batch_bytes;
	int			sort_kb;
	Buffer		metabuf;
	BlockNumber centroid_start;
	BlockNumber codebook_start;
	BlockNumber directory_start;
	IvfpqListData *dir;
	GenericXLogState *state;
	Page		page;
	IvfpqMetaPage meta;

	bs->index = index;
	bs->metric = IvfpqGetMetric(index);
	bs->dim = IndexDimensions(index);
	bs->m = m_opt > 0 ? m_opt : DefaultSubVectors(bs->dim);
	if (nbits != PQ_NBITS)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lance_ivfpq supports num_bits = %d only, not %d", PQ_NBITS, nbits)));
	if (bs->m > bs->dim || bs->dim % bs->m != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("vector dimension %d is not divisible by num_sub_vectors = %d",
						bs->dim, bs->m),
				 errhint("Choose num_sub_vectors among the divisors of %d.", bs->dim)));
	bs->entry_size = IVFPQ_TUPLE_SIZE(bs->m);
	bs->threads = Min(1 + max_parallel_maintenance_workers, CORE_PARALLEL_MAX_THREADS);
	/* each thread takes a 1 MB distance block: keep those to an eighth */
	bs->threads = Max(1, Min(bs->threads, maintenance_work_mem / (8 * 1024)));
	bs->rng = IVFPQ_SEED;
	bs->tmpctx = AllocSetContextCreate(CurrentMemoryContext, "lance_ivfpq build row",
									   ALLOCSET_DEFAULT_SIZES);

	/*
	 * Size the reservoir from the planner's estimate of the row count, and
	 * within maintenance_work_mem once training's own memory is set aside:
	 * centroids with their double sums and neighbour lists, the codebooks,
	 * and per sampled row six words of k-means state: its place when sorted
	 * by level, its assignment, its distance and its norm, and either the
	 * pass's assignment and its place when sorted by centroid, or, with
	 * bounds, a lower bound and a place in the pending list (kmeans.c; a
	 * level's own assignment is taken once its first k-means run is done,
	 * kmeans_hier.c).  The rows PQ trains on, at most PQ_KSUB * sample_rate,
	 * take one more word (their list) and, for each thread training a
	 * subspace, a copy of the row's sub-vector and five words of k-means
	 * state (four without bounds, as no rows are sorted by centroid there).
	 * The threads' distance blocks (kmeans.c) come on top, at most an eighth
	 * of maintenance_work_mem, or 1 MB with one thread.
	 */
	estimate_rel_size(heap, NULL, &est_pages, &est_rows, &est_visfrac);
	lists_est = lists_opt > 0 ? lists_opt : (int64) sqrt(Max(est_rows, 1.0)) + 1;
	want = (int64) sample_rate * Max(lists_est, PQ_KSUB);
	fixed = (Size) lists_est * bs->dim * (sizeof(float) + sizeof(double)) +
		(Size) lists_est * KMEANS_HIER_REFINE_NEIGHBOURS * sizeof(uint32) +
		(Size) PQ_KSUB * bs->dim * sizeof(float);
	per_row = sizeof(float) * bs->dim + 6 * sizeof(int32);
	pq_per_row = sizeof(int32) + (Size) bs->threads * sizeof(float) * (bs->dim / bs->m + 5);
	pq_rows = (int64) PQ_KSUB * sample_rate;
	if (budget <= fixed)
		cap_by_memory = 0;
	else if (budget - fixed >= (Size) pq_rows * (per_row + pq_per_row))
		cap_by_memory = pq_rows +
			(int64) ((budget - fixed - (Size) pq_rows * (per_row + pq_per_row)) / per_row);
	else
		cap_by_memory = (int64) ((budget - fixed) / (per_row + pq_per_row));
	if (want > cap_by_memory)
	{
		ereport(NOTICE,
				(errmsg("lance_ivfpq samples %lld rows instead of %lld to fit maintenance_work_mem",
						(long long) cap_by_memory, (long long) want),
				 errhint("Raise maintenance_work_mem for better centroids.")));
		want = cap_by_memory;
	}
	bs->sample_cap = Max(want, 1);
	bs->sample = palloc_extended(sizeof(float) * bs->sample_cap * bs->dim, MCXT_ALLOC_HUGE);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFPQ_PHASE_SAMPLE);
	table_index_build_scan(heap, index, indexInfo, true, true, SampleCallback, bs, NULL);

	bs->lists = lists_opt > 0 ? lists_opt : Max(1, (int) rint(sqrt((double) bs->rows)));
	bs->lists = Min(bs->lists, IVFPQ_MAX_LISTS);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFPQ_PHASE_KMEANS);
	Train(bs, sample_rate, max_iterations);
	pfree(bs->sample);
	bs->sample = NULL;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFPQ_PHASE_ASSIGN);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL, bs->rows);

	/*
	 * A quarter of maintenance_work_mem for the batch (its rows, their
	 * residuals, lists, TIDs and codes), the rest, less the model, for the
	 * sort of the entries.
	 */
	per_row = 2 * sizeof(float) * bs->dim + sizeof(int32) + sizeof(ItemPointerData) + bs->m;
	bs->batch_cap = (int) Max(Min(budget / 4 / per_row,
								  (Size) IVFPQ_BATCH_PER_THREAD * bs->threads),
							  IVFPQ_MIN_BATCH);
	bs->batch = palloc(sizeof(float) * bs->batch_cap * bs->dim);
	bs->batch_resid = palloc(sizeof(float) * bs->batch_cap * bs->dim);
	bs->batch_tids = palloc(sizeof(ItemPointerData) * bs->batch_cap);
	bs->batch_lists = palloc(sizeof(int32) * bs->batch_cap);
	bs->batch_codes = palloc(bs->batch_cap * bs->m);
	batch_bytes = per_row * bs->batch_cap +
		sizeof(float) * ((Size) bs->lists + PQ_KSUB) * bs->dim;
	sort_kb = (int) Max((int64) maintenance_work_mem - (int64) (batch_bytes / 1024),
						IVFPQ_MIN_SORT_MEM);

	bs->entries = IvfpqEntriesBegin(bs->m, bs->lists, bs->rows, sort_kb);
	bs->reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
										   AssignCallback, bs, NULL);
	FlushBatch(bs);
	pfree(bs->batch);
	pfree(bs->batch_resid);

	/* meta page first, so that it is block 0 */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_IVFPQ_PHASE_LOAD);
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, 0);
	metabuf = IvfpqNewBuffer(index, forknum);
	Assert(BufferGetBlockNumber(metabuf) == IVFPQ_METAPAGE_BLKNO);
	centroid_start = WriteFloats(index, forknum, bs->centroids, (Size) bs->lists * bs->dim);
	codebook_start = WriteFloats(index, forknum, bs->codebook, (Size) PQ_KSUB * bs->dim);
	directory_start = ReserveDirectory(index, forknum, bs->lists);
	dir = palloc(sizeof(IvfpqListData) * bs->lists);
	WriteLists(bs, forknum, dir);
	bs->nentries = IvfpqEntriesCount(bs->entries);
	IvfpqEntriesEnd(bs->entries);
	WriteDirectory(index, forknum, directory_start, dir, bs->lists);

	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, metabuf, GENERIC_XLOG_FULL_IMAGE);
	IvfpqInitPage(page, IVFPQ_PAGE_META);
	meta = IvfpqPageGetMeta(page);
	meta->magic = IVFPQ_MAGIC;
	meta->version = IVFPQ_VERSION;
	meta->dim = bs->dim;
	meta->lists = bs->lists;
	meta->num_sub_vectors = bs->m;
	meta->num_bits = PQ_NBITS;
	meta->metric = bs->metric;
	meta->centroid_start = centroid_start;
	meta->codebook_start = codebook_start;
	meta->directory_start = directory_start;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(IvfpqMetaPageData)) - (char *) page;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(metabuf);

	MemoryContextDelete(bs->tmpctx);
}

/*
 * ambuild: build the index from the table's rows.
 */
IndexBuildResult *
ivfpqbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	IvfpqBuildState bs = {0};

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	BuildIndex(heap, index, indexInfo, MAIN_FORKNUM, &bs);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = bs.reltuples;
	result->index_tuples = bs.nentries;
	return result;
}

/*
 * ambuildempty: an unlogged table's init fork would be an untrained index,
 * which could take no inserts after a crash reset it.
 */
void
ivfpqbuildempty(Relation index)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("lance_ivfpq indexes on unlogged tables are not supported"),
			 errdetail("After a crash the index would be reset to an untrained, unusable state.")));
}

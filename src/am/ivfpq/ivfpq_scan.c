/*-------------------------------------------------------------------------
 *
 * ivfpq_scan.c
 *	  lance_ivfpq: ordered scans (ORDER BY vector <op> query LIMIT k).
 *
 * A scan works in rounds and batches.
 *
 * A round probes the next lancedb.ivfpq_nprobes lists in order of their
 * centroids' distance to the query: for each list it builds the ADC table
 * (for L2 and cosine from the query's residual to the list's centroid, since
 * codes encode residuals; for inner product once per query, plus a
 * per-list constant -q.c), computes every code's approximate distance with
 * pq_scan, and keeps (distance, TID) candidates.
 *
 * A batch takes the next IVFPQ_BATCH_ROWS * lancedb.ivfpq_refine_factor
 * candidates by approximate distance (a bounded heap: O(n log k), not a sort
 * of every candidate), fetches their heap tuples, computes the exact
 * distance with the opclass's distance function, and returns them in exact
 * order.  Candidates whose tuples the snapshot cannot see are dropped there.
 *
 * When a filter above the scan discards rows and the executor keeps asking,
 * the scan moves to the next batch, and when the round's candidates run out,
 * to the next round's lists, until every list has been read: rows keep
 * coming, each batch in exact order, batches in approximate order.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "am/ivfpq/ivfpq.h"
#include "catalog/index.h"
#include "executor/executor.h"
#include "kernels/distance.h"
#include "kernels/topk.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "types/vector.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

/* one re-ranked row of a batch */
typedef struct IvfpqResult
{
	double		dist;			/* exact; NaN sorts last */
	ItemPointerData tid;
} IvfpqResult;

/* A candidate of the current round: its approximate distance and its row. */
typedef struct IvfpqCandidate
{
	float		dist;
	uint64		id;				/* the heap TID packed by TidToId */
} IvfpqCandidate;

typedef struct IvfpqScanOpaqueData
{
	MemoryContext scancxt;		/* the scan's lifetime */
	MemoryContext querycxt;		/* reset at each rescan */
	MemoryContext tuplecxt;		/* reset after each re-ranked tuple */
	bool		started;

	int			dim;
	int			m;
	int			lists;
	IvfpqMetric metric;
	Datum		query_datum;	/* as given, for the exact distance */
	bool		query_null;
	float	   *query;			/* prepared for the metric */
	int		   *probe_order;	/* lists by centroid distance */
	int			probes_done;	/* lists of probe_order already read */
	int			nprobes;
	float	   *ip_table;		/* inner product: the query's table */
	float	   *ip_bias;		/* inner product: -q.c per list */

	/* the current round's candidates */
	IvfpqCandidate *cands;
	int64		ncands;
	int64		cands_cap;
	bool		have_bound;		/* candidates up to the bound were batched */
	TopkEntry	bound;			/* the last one batched: (dist, id) */
	TopK	   *heap;			/* key = approximate distance, seq = id */
	TopkEntry  *selected;

	/* the current batch, re-ranked */
	IvfpqResult *batch;
	int			batch_len;
	int			batch_pos;

	/* page scanning buffers */
	uint8	   *codes_t;
	ItemPointerData *tids;
	float	   *dists;
	float	   *table;
	float	   *resid;

	/* exact distances */
	FmgrInfo   *distproc;
	Oid			collation;
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	IndexInfo  *indexInfo;
	EState	   *estate;			/* for expression indexes */
} IvfpqScanOpaqueData;

typedef IvfpqScanOpaqueData *IvfpqScanOpaque;

static inline uint64
TidToId(ItemPointer tid)
{
	return ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) |
		ItemPointerGetOffsetNumberNoCheck(tid);
}

static inline void
IdToTid(uint64 id, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (id >> 16), (OffsetNumber) (id & 0xFFFF));
}

/*
 * Free the core heap when the query's memory goes.
 */
static void
FreeHeap(void *arg)
{
	topk_free((TopK *) arg);
}

/*
 * ambeginscan
 */
IndexScanDesc
ivfpqbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IvfpqScanOpaque so = palloc0(sizeof(IvfpqScanOpaqueData));

	so->scancxt = CurrentMemoryContext;
	so->querycxt = AllocSetContextCreate(CurrentMemoryContext, "lance_ivfpq scan",
										 ALLOCSET_DEFAULT_SIZES);
	so->tuplecxt = AllocSetContextCreate(CurrentMemoryContext, "lance_ivfpq scan tuple",
										 ALLOCSET_DEFAULT_SIZES);
	so->distproc = index_getprocinfo(index, 1, IVFPQ_DISTANCE_PROC);
	so->collation = index->rd_indcollation[0];
	scan->opaque = so;
	return scan;
}

/*
 * amrescan: remember the query; the work starts at the first gettuple.
 */
void
ivfpqrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
			int norderbys)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	so->started = false;
	MemoryContextReset(so->querycxt);
}

/*
 * Rank the lists by their centroids' distance to the query and set up
 * everything the rounds need.
 */
static void
StartQuery(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	const IvfpqCache *cache;
	const DistanceKernels *dk = distance_kernels();
	MemoryContext old = MemoryContextSwitchTo(so->querycxt);
	Vector	   *q = NULL;
	TopkEntry  *order;
	TopK	   *rank;
	int			k;
	MemoryContextCallback *cb;

	if (scan->numberOfOrderBys != 1)
		elog(ERROR, "lance_ivfpq scans need exactly one ORDER BY distance");
	if (!IsMVCCSnapshot(scan->xs_snapshot))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lance_ivfpq scans need an MVCC snapshot")));

	/*
	 * Detoast the query before taking the cache: reading a toasted value can
	 * take a lock, process invalidations and free the relcache's copy.
	 */
	so->query_null = (scan->orderByData[0].sk_flags & SK_ISNULL) != 0;
	if (!so->query_null)
		q = DatumGetVector(scan->orderByData[0].sk_argument);

	cache = IvfpqGetCache(index);
	so->dim = cache->meta.dim;
	so->m = cache->meta.num_sub_vectors;
	so->lists = cache->meta.lists;
	so->metric = (IvfpqMetric) cache->meta.metric;
	so->nprobes = Min(ivfpq_nprobes, so->lists);

	/* a NULL query orders nothing: scan from the zero vector, unranked */
	if (so->query_null)
	{
		q = palloc0(VECTOR_SIZE(so->dim));
		SET_VARSIZE(q, VECTOR_SIZE(so->dim));
		q->dim = so->dim;
	}
	if (q->dim != so->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", so->dim, q->dim)));
	so->query_datum = PointerGetDatum(q);
	so->query = palloc(sizeof(float) * so->dim);
	IvfpqPrepareVector(so->metric, q->x, so->dim, so->query);

	/* probe order: nearest centroid first (largest dot for inner product) */
	so->dists = palloc(sizeof(float) * Max(so->lists, IVFPQ_MAX_ITEMS_PER_PAGE));
	if (so->metric == IVFPQ_METRIC_IP)
	{
		so->ip_bias = palloc(sizeof(float) * so->lists);
		dk->dot_many(so->query, cache->centroids, so->lists, so->dim, so->ip_bias);
		for (int i = 0; i < so->lists; i++)
		{
			so->ip_bias[i] = -so->ip_bias[i];
			so->dists[i] = so->ip_bias[i];
		}
		so->ip_table = palloc(sizeof(float) * so->m * PQ_KSUB);
		pq_table(cache->codebook, so->dim, so->m, PQ_METRIC_DOT, so->query, so->ip_table);
	}
	else
		dk->l2sq_many(so->query, cache->centroids, so->lists, so->dim, so->dists);
	rank = topk_new(so->lists);
	order = palloc(sizeof(TopkEntry) * so->lists);
	if (rank == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	for (int i = 0; i < so->lists; i++)
	{
		TopkEntry	e = {0, so->dists[i], (uint64) i, 0};

		topk_push(rank, &e);
	}
	topk_drain_sorted(rank, order);
	topk_free(rank);
	so->probe_order = palloc(sizeof(int) * so->lists);
	for (int i = 0; i < so->lists; i++)
		so->probe_order[i] = (int) order[i].seq;
	pfree(order);
	so->probes_done = 0;

	k = IVFPQ_BATCH_ROWS * ivfpq_refine_factor;
	so->heap = topk_new(k);
	if (so->heap == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	cb = palloc(sizeof(MemoryContextCallback));
	cb->func = FreeHeap;
	cb->arg = so->heap;
	MemoryContextRegisterResetCallback(so->querycxt, cb);
	so->selected = palloc(sizeof(TopkEntry) * k);
	so->batch = palloc(sizeof(IvfpqResult) * k);
	so->batch_len = so->batch_pos = 0;

	so->cands_cap = 1024;
	so->cands = palloc(sizeof(IvfpqCandidate) * so->cands_cap);
	so->ncands = 0;
	so->have_bound = false;

	so->codes_t = palloc(IVFPQ_MAX_ITEMS_PER_PAGE * so->m);
	so->tids = palloc(sizeof(ItemPointerData) * IVFPQ_MAX_ITEMS_PER_PAGE);
	so->table = palloc(sizeof(float) * so->m * PQ_KSUB);
	so->resid = palloc(sizeof(float) * so->dim);

	/* the heap is known only once the scan has begun */
	if (so->fetch == NULL)
	{
		MemoryContextSwitchTo(so->scancxt);
		so->fetch = table_index_fetch_begin(scan->heapRelation);
		so->slot = table_slot_create(scan->heapRelation, NULL);
		so->indexInfo = BuildIndexInfo(scan->indexRelation);
	}

	MemoryContextSwitchTo(old);
	so->started = true;
}

/*
 * Compute the approximate distance of every entry of one list and add them
 * to the candidates.
 */
static void
ScanList(IndexScanDesc scan, int list)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	const IvfpqCache *cache = IvfpqGetCache(index);
	const float *table;
	float		bias = 0.0f;
	BlockNumber blkno;
	Buffer		buf;

	if (so->metric == IVFPQ_METRIC_IP)
	{
		table = so->ip_table;
		bias = so->ip_bias[list];
	}
	else
	{
		const float *c = cache->centroids + (Size) list * so->dim;

		for (int d = 0; d < so->dim; d++)
			so->resid[d] = so->query[d] - c[d];
		pq_table(cache->codebook, so->dim, so->m, PQ_METRIC_L2, so->resid, so->table);
		table = so->table;
	}

	buf = ReadBuffer(index, cache->meta.directory_start + list / IVFPQ_LISTS_PER_PAGE);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	blkno = IvfpqDirectoryEntry(BufferGetPage(buf), list)->head;
	UnlockReleaseBuffer(buf);

	while (BlockNumberIsValid(blkno))
	{
		Page		page;
		OffsetNumber maxoff;
		int			n = 0;
		int			i = 0;

		CHECK_FOR_INTERRUPTS();
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		maxoff = PageGetMaxOffsetNumber(page);
		if (maxoff > IVFPQ_MAX_ITEMS_PER_PAGE)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\": block %u holds %u items, more than fit on a page",
							RelationGetRelationName(index), blkno, maxoff)));

		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
			if (ItemIdIsNormal(PageGetItemId(page, off)))
				n++;
		/* transpose the codes: pq_scan reads each sub-quantizer's bytes together */
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);
			IvfpqTuple	tup;

			if (!ItemIdIsNormal(iid))
				continue;
			tup = (IvfpqTuple) PageGetItem(page, iid);
			so->tids[i] = tup->heap_tid;
			for (int j = 0; j < so->m; j++)
				so->codes_t[(Size) j * n + i] = tup->codes[j];
			i++;
		}
		blkno = IvfpqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);

		pq_scan(table, so->m, so->codes_t, n, so->dists);
		if (so->ncands + n > so->cands_cap)
		{
			so->cands_cap = Max(so->cands_cap * 2, so->ncands + n);
			so->cands = repalloc_huge(so->cands, sizeof(IvfpqCandidate) * so->cands_cap);
		}
		for (i = 0; i < n; i++)
		{
			so->cands[so->ncands].dist = so->dists[i] + bias;
			so->cands[so->ncands].id = TidToId(&so->tids[i]);
			so->ncands++;
		}
	}
}

/*
 * Read the next round's lists; false when every list has been read.
 */
static bool
NextRound(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	int			end = Min(so->probes_done + so->nprobes, so->lists);

	if (so->probes_done >= so->lists)
		return false;
	so->ncands = 0;
	so->have_bound = false;
	for (; so->probes_done < end; so->probes_done++)
		ScanList(scan, so->probe_order[so->probes_done]);
	return true;
}

/*
 * Order re-ranked rows: exact distance, NaN last, then TID.
 */
static int
CompareResults(const void *a, const void *b)
{
	const IvfpqResult *ra = (const IvfpqResult *) a;
	const IvfpqResult *rb = (const IvfpqResult *) b;
	bool		nan_a = isnan(ra->dist);
	bool		nan_b = isnan(rb->dist);

	if (nan_a != nan_b)
		return nan_a ? 1 : -1;
	if (!nan_a && ra->dist != rb->dist)
		return ra->dist < rb->dist ? -1 : 1;
	return ItemPointerCompare((ItemPointer) &ra->tid, (ItemPointer) &rb->tid);
}

/*
 * Compute the exact distance of a heap row; false when the snapshot cannot
 * see it.  tid stays as the index has it: the fetch moves its own copy to
 * the HOT chain member it finds, and a heap-only member's TID handed back
 * to the executor would not be found again (a chain is only followed from
 * its root).
 */
static bool
ExactDistance(IndexScanDesc scan, ItemPointer index_tid, double *dist)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;
	ItemPointerData tid_copy = *index_tid;
	ItemPointer tid = &tid_copy;
	bool		call_again = false;
	bool		all_dead = false;
	Datum		value;
	bool		isnull;
	MemoryContext old;

	if (!table_index_fetch_tuple(so->fetch, tid, scan->xs_snapshot, so->slot,
								 &call_again, &all_dead))
		return false;

	old = MemoryContextSwitchTo(so->tuplecxt);
	if (so->indexInfo->ii_IndexAttrNumbers[0] != 0)
		value = slot_getattr(so->slot, so->indexInfo->ii_IndexAttrNumbers[0], &isnull);
	else
	{
		ExprContext *econtext;

		if (so->estate == NULL)
		{
			MemoryContextSwitchTo(so->scancxt);
			so->estate = CreateExecutorState();
			MemoryContextSwitchTo(so->tuplecxt);
		}
		econtext = GetPerTupleExprContext(so->estate);
		econtext->ecxt_scantuple = so->slot;
		FormIndexDatum(so->indexInfo, so->slot, so->estate, &value, &isnull);
	}
	if (!isnull)
		*dist = DatumGetFloat8(FunctionCall2Coll(so->distproc, so->collation,
												 value, so->query_datum));
	MemoryContextSwitchTo(old);
	if (so->estate)
		ResetPerTupleExprContext(so->estate);
	MemoryContextReset(so->tuplecxt);
	ExecClearTuple(so->slot);
	return !isnull;
}

/*
 * Fill the next batch; false when the index has no more rows.
 */
static bool
NextBatch(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	so->batch_len = so->batch_pos = 0;
	while (so->batch_len == 0)
	{
		int			nsel;

		/* the next candidates after the bound, by approximate distance */
		topk_reset(so->heap);
		for (int64 i = 0; i < so->ncands; i++)
		{
			TopkEntry	e = {0, so->cands[i].dist, so->cands[i].id, 0};

			if (so->have_bound && !topk_entry_less(&so->bound, &e))
				continue;
			topk_push(so->heap, &e);
		}
		nsel = (int) topk_drain_sorted(so->heap, so->selected);
		if (nsel == 0)
		{
			if (!NextRound(scan))
				return false;
			continue;
		}
		so->have_bound = true;
		so->bound = so->selected[nsel - 1];

		for (int i = 0; i < nsel; i++)
		{
			IvfpqResult *r = &so->batch[so->batch_len];

			CHECK_FOR_INTERRUPTS();
			IdToTid(so->selected[i].seq, &r->tid);
			if (so->query_null)
				r->dist = (float) so->selected[i].key;
			else if (!ExactDistance(scan, &r->tid, &r->dist))
				continue;
			so->batch_len++;
		}
		table_index_fetch_reset(so->fetch);
		if (!so->query_null)
			qsort(so->batch, so->batch_len, sizeof(IvfpqResult), CompareResults);
	}
	return true;
}

/*
 * amgettuple: return the next row in distance order.
 */
bool
ivfpqgettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	if (!so->started)
	{
		StartQuery(scan);
		if (!NextRound(scan))
			return false;
	}
	if (so->batch_pos >= so->batch_len && !NextBatch(scan))
		return false;

	scan->xs_heaptid = so->batch[so->batch_pos++].tid;
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	return true;
}

/*
 * amendscan
 */
void
ivfpqendscan(IndexScanDesc scan)
{
	IvfpqScanOpaque so = (IvfpqScanOpaque) scan->opaque;

	if (so->fetch)
	{
		table_index_fetch_end(so->fetch);
		ExecDropSingleTupleTableSlot(so->slot);
	}
	if (so->estate)
		FreeExecutorState(so->estate);
	MemoryContextDelete(so->querycxt);
	MemoryContextDelete(so->tuplecxt);
	pfree(so);
	scan->opaque = NULL;
}

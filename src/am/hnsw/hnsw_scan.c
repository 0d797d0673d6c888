/*-------------------------------------------------------------------------
 *
 * hnsw_scan.c
 *	  Index scans: ORDER BY col <op> const, nearest first.
 *
 * The scan descends greedily to level 0 and then runs one resumable
 * search there (hnsw_search.c) on the elements' 8-bit codes.  Candidates
 * are re-ranked on exact distances: each is looked up in the table, its
 * vector read, and the scan returns rows from a window of ef_search
 * candidates ordered by exact distance, refilling the window as rows leave
 * it.  So the first rows are exactly ordered among the candidates found,
 * and quantization error only decides which candidates are found, not
 * their order.  Rows the scan's snapshot cannot see are dropped here
 * rather than by the executor.
 *
 * The search keeps producing candidates for as long as the executor asks,
 * widening with the rows produced, so a query whose WHERE clause rejects
 * most rows still gets its LIMIT filled; nothing extra is paid when the
 * executor stops early.  lancedb.hnsw_max_scan_tuples bounds how many
 * elements a scan may visit once it is past its first ef_search rows.
 * Past the window, a row slightly closer than one already returned may
 * still follow it, as in pgvector's relaxed iterative scans.
 *
 * An index on an expression has no table column to re-rank from; it
 * returns rows in the order of the codes' distances.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/relscan.h"
#include "access/tableam.h"
#include "am/hnsw/hnsw.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "types/vector.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* a candidate with its exact distance, waiting to be returned */
typedef struct RankedRow
{
	double		dist;
	ItemPointerData tid;
} RankedRow;

typedef struct HnswScanOpaqueData
{
	MemoryContext scanCtx;		/* lives as long as the scan */
	MemoryContext ctx;			/* reset on every rescan */
	MemoryContext rowCtx;		/* reset after each table lookup */
	HnswShape	shape;
	float	   *query;			/* prepared query vector */
	float	   *exact;			/* scratch: a table row's prepared vector */
	HnswSearch *search;
	bool		started;
	bool		searchDone;		/* the search has no more candidates */
	int64		returned;

	/* re-ranking (when the indexed column is a table column) */
	AttrNumber	heapAttno;
	IndexFetchTableData *fetch;
	TupleTableSlot *slot;
	RankedRow  *window;			/* min-heap on dist */
	int			nwindow;
	int			windowSize;		/* ef_search when the scan started */
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

/* ambeginscan */
IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->scanCtx = CurrentMemoryContext;
	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "lance_hnsw scan",
									ALLOCSET_DEFAULT_SIZES);
	so->rowCtx = AllocSetContextCreate(CurrentMemoryContext, "lance_hnsw scan row",
									   ALLOCSET_SMALL_SIZES);
	so->heapAttno = index->rd_index->indkey.values[0];
	scan->opaque = so;
	return scan;
}

/* amrescan: take the new query vector; the search starts on first fetch */
void
hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
	MemoryContextReset(so->ctx);
	so->search = NULL;
	so->started = false;
	so->searchDone = false;
	so->returned = 0;
	so->window = NULL;
	so->nwindow = 0;
}

/*
 * Descend to level 0 and start the search there.  A NULL query orders
 * nothing, so every element is equally far: the scan then returns all of
 * them in graph order, like a sort of NULL keys would.
 */
static void
StartSearch(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	HnswMetaPageData meta;
	HnswGraphReader reader;
	HnswCandidate entry;

	if (scan->numberOfOrderBys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lance_hnsw index \"%s\" can only be scanned with ORDER BY a distance",
						RelationGetRelationName(scan->indexRelation))));

	so->started = true;
	HnswReadMeta(scan->indexRelation, &meta);
	if (meta.entryId == HNSW_INVALID_ID)
	{
		so->searchDone = true;
		return;
	}
	so->shape.dim = meta.dim;
	so->shape.m = meta.m;
	so->shape.efConstruction = meta.efConstruction;
	so->shape.metric = (HnswMetric) meta.metric;

	so->query = palloc0(sizeof(float) * so->shape.dim);
	so->exact = palloc(sizeof(float) * so->shape.dim);
	if (!(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		Vector	   *v = DatumGetVector(scan->orderByData[0].sk_argument);

		HnswCheckDims(scan->indexRelation, so->shape.dim, v->dim);
		/* a zero query under cosine stays zero: every distance ties */
		HnswPrepareVector(so->shape.metric, v->x, so->shape.dim, so->query);
	}

	reader = HnswDiskReader(scan->indexRelation, &so->shape);
	reader.visit(reader.arg, so->query, &meta.entryId, 1, &entry);
	if (entry.dist == FLT_MAX)
		elog(ERROR, "entry point of index \"%s\" is missing",
			 RelationGetRelationName(scan->indexRelation));
	entry = HnswGreedyDescend(reader, so->query, so->shape.dim, so->shape.m, entry,
							  meta.entryLevel, 1);
	so->search = HnswSearchBegin(reader, so->query, so->shape.dim, so->shape.m,
								 hnsw_ef_search, 0, &entry, 1, true);
	/* the setting may change while a cursor is open: fix it now */
	so->windowSize = Max(hnsw_ef_search, 1);
	so->window = palloc(sizeof(RankedRow) * so->windowSize);
}

/*
 * The next candidate the search produces that is not deleted, or false
 * when there are no more (or the scan has visited its budget).
 */
static bool
NextCandidate(HnswScanOpaque so, HnswCandidate *c)
{
	while (!so->searchDone)
	{
		if (so->returned >= so->windowSize &&
			so->search->visitedCount > hnsw_max_scan_tuples)
			so->searchDone = true;
		else if (!HnswSearchNext(so->search, c))
			so->searchDone = true;
		else if (!c->deleted)
			return true;
	}
	return false;
}

/*
 * The exact distance from the query to the row a candidate points at, or
 * false if the scan's snapshot does not see that row (or its vector is
 * NULL, or zero under cosine: such rows are not in the index's order).
 *
 * index_tid is left as the index has it.  The fetch moves the TID it is
 * given to the HOT chain member it finds, and the executor, handed a
 * heap-only member's TID, would not find the row again: chains are only
 * followed from their root.
 */
static bool
ExactDistance(IndexScanDesc scan, ItemPointer index_tid, double *dist)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	ItemPointerData tid_copy = *index_tid;
	ItemPointer tid = &tid_copy;
	bool		callAgain = false;
	bool		allDead = false;
	bool		found = false;
	bool		isnull;
	Datum		value;
	MemoryContext old;

	if (so->fetch == NULL)
	{
		/* kept across rescans, so not in the per-rescan context */
		old = MemoryContextSwitchTo(so->scanCtx);
		so->fetch = table_index_fetch_begin(scan->heapRelation);
		so->slot = table_slot_create(scan->heapRelation, NULL);
		MemoryContextSwitchTo(old);
	}
	if (!table_index_fetch_tuple(so->fetch, tid, scan->xs_snapshot, so->slot,
								 &callAgain, &allDead))
		return false;

	value = slot_getattr(so->slot, so->heapAttno, &isnull);
	if (!isnull)
	{
		old = MemoryContextSwitchTo(so->rowCtx);
		{
			Vector	   *v = DatumGetVector(value);

			if (v->dim == so->shape.dim &&
				HnswPrepareVector(so->shape.metric, v->x, so->shape.dim, so->exact))
			{
				*dist = HnswDistance(so->shape.metric, so->query, so->exact, so->shape.dim);
				found = true;
			}
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(so->rowCtx);
	}
	ExecClearTuple(so->slot);
	return found;
}

static void
WindowPush(HnswScanOpaque so, RankedRow row)
{
	int			i = so->nwindow++;

	while (i > 0 && so->window[(i - 1) / 2].dist > row.dist)
	{
		so->window[i] = so->window[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	so->window[i] = row;
}

static RankedRow
WindowPop(HnswScanOpaque so)
{
	RankedRow	top = so->window[0];
	RankedRow	last = so->window[--so->nwindow];
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= so->nwindow)
			break;
		if (child + 1 < so->nwindow && so->window[child + 1].dist < so->window[child].dist)
			child++;
		if (last.dist <= so->window[child].dist)
			break;
		so->window[i] = so->window[child];
		i = child;
	}
	if (so->nwindow > 0)
		so->window[i] = last;
	return top;
}

/* amgettuple: the next row, nearest first */
bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->ctx);
	bool		found = false;
	HnswCandidate c;

	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "lance_hnsw scans only go forward");

	if (!so->started)
	{
		StartSearch(scan);
		pgstat_count_index_scan(scan->indexRelation);
	}

	if (so->heapAttno != 0 && scan->heapRelation != NULL)
	{
		/*
		 * Fill the window of ef_search rows, then return its nearest row.
		 * Rows far down a filtered query's order are found by the search
		 * widening (HNSW_WINDOW_GROWTH) rather than by a re-rank window
		 * widening with them: per unit of recall, a candidate looked up in
		 * the table costs more than the visits that order it.
		 */
		while (so->nwindow < so->windowSize && NextCandidate(so, &c))
		{
			RankedRow	row;

			CHECK_FOR_INTERRUPTS();
			if (!ExactDistance(scan, &c.tid, &row.dist))
				continue;
			row.tid = c.tid;
			WindowPush(so, row);
		}
		if (so->nwindow > 0)
		{
			scan->xs_heaptid = WindowPop(so).tid;
			found = true;
		}
	}
	else if (NextCandidate(so, &c))
	{
		scan->xs_heaptid = c.tid;
		found = true;
	}

	if (found)
	{
		scan->xs_recheck = false;
		scan->xs_recheckorderby = false;
		so->returned++;
	}
	MemoryContextSwitchTo(old);
	return found;
}

/* amendscan */
void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	if (so->fetch != NULL)
	{
		table_index_fetch_end(so->fetch);
		ExecDropSingleTupleTableSlot(so->slot);
	}
	MemoryContextDelete(so->ctx);
	MemoryContextDelete(so->rowCtx);
	pfree(so);
	scan->opaque = NULL;
}

/*-------------------------------------------------------------------------
 *
 * hnsw_scan.c
 *	  Index scans: ORDER BY col <op> const, nearest first.
 *
 * The scan descends greedily to level 0 and then runs one resumable
 * search there (hnsw_search.c).  The first lancedb.hnsw_ef_search rows are
 * the paper's result for that ef; after them the search keeps widening by
 * one element per row returned, so a query whose WHERE clause rejects most
 * rows still gets its LIMIT filled.  Nothing extra is paid when the
 * executor stops early: the widening only happens when it asks for more.
 * lancedb.hnsw_max_scan_tuples bounds how many elements a scan may visit
 * once it is past its first ef_search rows.
 *
 * Rows come back nearest first for the first ef_search; beyond that the
 * order is best-effort (a row slightly closer than one already returned
 * may follow it), as in pgvector's relaxed iterative scans.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/relscan.h"
#include "am/hnsw/hnsw.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "types/vector.h"
#include "utils/memutils.h"

typedef struct HnswScanOpaqueData
{
	MemoryContext ctx;			/* reset on every rescan */
	HnswSearch *search;
	bool		started;
	bool		done;
	int64		returned;
} HnswScanOpaqueData;

typedef HnswScanOpaqueData *HnswScanOpaque;

/* ambeginscan */
IndexScanDesc
hnswbeginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	HnswScanOpaque so = palloc0(sizeof(HnswScanOpaqueData));

	so->ctx = AllocSetContextCreate(CurrentMemoryContext, "lance_hnsw scan",
									ALLOCSET_DEFAULT_SIZES);
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
	so->done = false;
	so->returned = 0;
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
	HnswShape	shape;
	HnswGraphReader reader;
	HnswCandidate entry;
	float	   *query;

	if (scan->numberOfOrderBys == 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("lance_hnsw index \"%s\" can only be scanned with ORDER BY a distance",
						RelationGetRelationName(scan->indexRelation))));

	so->started = true;
	HnswReadMeta(scan->indexRelation, &meta);
	if (meta.entryId == HNSW_INVALID_ID)
	{
		so->done = true;
		return;
	}
	shape.dim = meta.dim;
	shape.m = meta.m;
	shape.efConstruction = meta.efConstruction;
	shape.metric = (HnswMetric) meta.metric;

	query = palloc0(sizeof(float) * shape.dim);
	if (!(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		Vector	   *v = DatumGetVector(scan->orderByData[0].sk_argument);

		HnswCheckDims(scan->indexRelation, shape.dim, v->dim);
		/* a zero query under cosine stays zero: every distance ties */
		HnswPrepareVector(shape.metric, v->x, shape.dim, query);
	}

	reader = HnswDiskReader(scan->indexRelation, &shape);
	reader.visit(reader.arg, query, &meta.entryId, 1, &entry);
	if (entry.dist == FLT_MAX)
		elog(ERROR, "entry point of index \"%s\" is missing",
			 RelationGetRelationName(scan->indexRelation));
	entry = HnswGreedyDescend(reader, query, shape.dim, shape.m, entry, meta.entryLevel, 1);
	so->search = HnswSearchBegin(reader, query, shape.dim, shape.m, hnsw_ef_search, 0,
								 &entry, 1, true);
}

/* amgettuple: the next row, nearest first */
bool
hnswgettuple(IndexScanDesc scan, ScanDirection dir)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;
	MemoryContext old = MemoryContextSwitchTo(so->ctx);
	bool		found = false;

	if (!ScanDirectionIsForward(dir))
		elog(ERROR, "lance_hnsw scans only go forward");

	if (!so->started)
	{
		StartSearch(scan);
		pgstat_count_index_scan(scan->indexRelation);
	}

	while (!so->done)
	{
		HnswCandidate c;

		if (so->returned >= hnsw_ef_search &&
			so->search->visitedCount > hnsw_max_scan_tuples)
		{
			so->done = true;
			break;
		}
		if (!HnswSearchNext(so->search, &c))
		{
			so->done = true;
			break;
		}
		if (c.deleted)
			continue;
		scan->xs_heaptid = c.tid;
		scan->xs_recheck = false;
		scan->xs_recheckorderby = false;
		so->returned++;
		found = true;
		break;
	}
	MemoryContextSwitchTo(old);
	return found;
}

/* amendscan */
void
hnswendscan(IndexScanDesc scan)
{
	HnswScanOpaque so = (HnswScanOpaque) scan->opaque;

	MemoryContextDelete(so->ctx);
	pfree(so);
	scan->opaque = NULL;
}

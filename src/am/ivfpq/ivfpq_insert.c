/*-------------------------------------------------------------------------
 *
 * ivfpq_insert.c
 *	  lance_ivfpq: add a row to its nearest list.
 *
 * A new row is encoded with the build's centroids and codebooks (they are
 * not retrained: as in LanceDB, recall drifts as the data drifts, and
 * REINDEX retrains) and appended to the list's tail page.  When the tail is
 * full, a new page is chained and the directory's tail pointer moved in the
 * same generic WAL record, so a crash leaves either both changes or neither.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "am/ivfpq/ivfpq.h"
#include "storage/bufmgr.h"
#include "types/vector.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/*
 * Append an entry to list `list`, whose directory entry is on block dirblk.
 */
void
IvfpqAppendTuple(Relation index, BlockNumber dirblk, int list, IvfpqTuple tuple,
				 Size size)
{
	Buffer		dirbuf;
	Buffer		buf;
	BlockNumber tail;
	GenericXLogState *state;
	Page		page;

	/* the directory lock serializes appends to the list */
	dirbuf = ReadBuffer(index, dirblk);
	LockBuffer(dirbuf, BUFFER_LOCK_EXCLUSIVE);
	tail = IvfpqDirectoryEntry(BufferGetPage(dirbuf), list)->tail;

	buf = ReadBuffer(index, tail);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	if (PageAddItem(page, (Item) tuple, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
	{
		Buffer		newbuf = IvfpqNewBuffer(index, MAIN_FORKNUM);
		Page		newpage = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
		Page		dirpage = GenericXLogRegisterBuffer(state, dirbuf, 0);

		IvfpqInitPage(newpage, IVFPQ_PAGE_ENTRIES);
		if (PageAddItem(newpage, (Item) tuple, size, InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "index entry of %zu bytes does not fit on an empty page", size);
		IvfpqPageGetOpaque(page)->next = BufferGetBlockNumber(newbuf);
		IvfpqDirectoryEntry(dirpage, list)->tail = BufferGetBlockNumber(newbuf);
		GenericXLogFinish(state);
		UnlockReleaseBuffer(newbuf);
	}
	else
		GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	UnlockReleaseBuffer(dirbuf);
}

/*
 * aminsert: encode the row and append it to its list.
 */
bool
ivfpqinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
			Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
			IndexInfo *indexInfo)
{
	MemoryContext cxt;
	MemoryContext old;
	const IvfpqCache *cache;
	Vector	   *v;
	int			dim;
	int			m;
	int			list;
	float	   *x;
	Size		size;
	IvfpqTuple	tuple;
	CoreError	err;

	/* nulls are not indexed: an ORDER BY distance puts them last anyway */
	if (isnull[0])
		return false;

	cxt = AllocSetContextCreate(CurrentMemoryContext, "lance_ivfpq insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	/*
	 * Detoast before taking the cache: reading a toasted value can take a
	 * lock, process invalidations and free the relcache's copy.
	 */
	v = DatumGetVector(values[0]);
	cache = IvfpqGetCache(index);
	dim = cache->meta.dim;
	m = cache->meta.num_sub_vectors;
	if (v->dim != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("index \"%s\" expects %d dimensions, not %d",
						RelationGetRelationName(index), dim, v->dim)));

	x = palloc(sizeof(float) * dim);
	IvfpqPrepareVector((IvfpqMetric) cache->meta.metric, v->x, dim, x);
	list = IvfpqNearestList(cache, x);
	for (int d = 0; d < dim; d++)
		x[d] -= cache->centroids[(Size) list * dim + d];

	size = IVFPQ_TUPLE_SIZE(m);
	tuple = palloc0(size);
	tuple->heap_tid = *heap_tid;
	if (pq_encode(cache->codebook, dim, m, x, 1, tuple->codes, &err) != CORE_OK)
		IvfpqReportCoreError(&err, index);

	IvfpqAppendTuple(index, cache->meta.directory_start + list / IVFPQ_LISTS_PER_PAGE,
					 list, tuple, size);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return false;
}

/*-------------------------------------------------------------------------
 *
 * bm25_vacuum.c
 *	  VACUUM for lance_bm25.
 *
 * Segments are immutable, so removing dead documents means rewriting, but
 * only the segments that hold any: each is rewritten on its own without
 * them, and the others are not touched.  N, the total length and every df
 * are sums over the segments, each exact for its live documents, so after
 * VACUUM they are what a fresh build of the surviving rows would have.
 * Dead documents in the insert buffer leave with it: it becomes a segment
 * without them.  Cleanup also turns a non-empty insert buffer into a
 * segment, so VACUUM leaves a compact index, and hands free pages to the
 * free space map.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "am/bm25/bm25.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

static void
FreeDocs(void *p)
{
	free(p);
}

/*
 * Which segments hold a dead document (dirty[i]), and does the insert
 * buffer; one callback per document until a segment's first dead one.
 */
static void
FindDead(Relation index, const Bm25MetaPageData *meta, IndexBulkDeleteCallback callback,
		 void *state, bool *dirty, bool *buf_dirty)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "lance_bm25 vacuum",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ItemPointerData tid;

	for (uint32 i = 0; i < meta->nsegs; i++)
	{
		Bm25SegReader *r = Bm25OpenSegment(index, &meta->segs[i], meta->positions);
		uint64_t   *docids;
		uint32_t   *dls;
		CoreError	err = {0};

		if (bm25_segr_doctable(r, &docids, &dls, &err) != CORE_OK)
			Bm25ReportCore(&err, "vacuuming", index);
		Bm25Track(cxt, FreeDocs, docids);
		Bm25Track(cxt, FreeDocs, dls);
		dirty[i] = false;
		for (uint64 d = 0; d < meta->segs[i].ndocs && !dirty[i]; d++)
		{
			Bm25DocTid(docids[d], &tid);
			dirty[i] = callback(&tid, state);
			if ((d & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
		}
	}
	*buf_dirty = false;
	if (meta->buf_ndocs > 0)
	{
		uint64		len;
		char	   *raw = Bm25ReadBuffer(index, meta, &len);
		Bm25BufDoc *docs = Bm25ParseBuffer(raw, len, meta->buf_ndocs, meta->positions, index);

		for (uint64 d = 0; d < meta->buf_ndocs && !*buf_dirty; d++)
		{
			Bm25DocTid(docs[d].docid, &tid);
			*buf_dirty = callback(&tid, state);
		}
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

static void
FillStats(Relation index, IndexBulkDeleteResult *stats)
{
	Bm25MetaPageData meta;
	double		n;

	Bm25ReadMeta(index, &meta);
	n = (double) meta.buf_ndocs;
	for (uint32 i = 0; i < meta.nsegs; i++)
		n += (double) meta.segs[i].ndocs;
	stats->num_index_tuples = n;
	stats->num_pages = RelationGetNumberOfBlocks(index);
}

IndexBulkDeleteResult *
bm25bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	Bm25MetaPageData meta;
	bool		dirty[BM25_MAX_SEGMENTS];
	bool		buf_dirty;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	LockPage(index, BM25_META_BLKNO, ExclusiveLock);
	Bm25ReadMeta(index, &meta);
	FindDead(index, &meta, callback, callback_state, dirty, &buf_dirty);
	/* meta is a copy: rewrites change the metapage, not these entries */
	for (uint32 i = 0; i < meta.nsegs; i++)
		if (dirty[i])
			Bm25RewriteSegment(index, &meta.segs[i], callback, callback_state, stats);
	if (buf_dirty)
		Bm25Flush(index, callback, callback_state, stats);
	UnlockPage(index, BM25_META_BLKNO, ExclusiveLock);
	FillStats(index, stats);
	return stats;
}

IndexBulkDeleteResult *
bm25vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	BlockNumber nblocks;

	if (info->analyze_only)
		return stats;
	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	LockPage(index, BM25_META_BLKNO, ExclusiveLock);
	Bm25Flush(index, NULL, NULL, NULL);
	UnlockPage(index, BM25_META_BLKNO, ExclusiveLock);

	/* tell the free space map about every free page, even ones a crash lost */
	nblocks = RelationGetNumberOfBlocks(index);
	stats->pages_free = 0;
	for (BlockNumber blk = BM25_META_BLKNO + 1; blk < nblocks; blk++)
	{
		Buffer		buf;
		Page		page;

		vacuum_delay_point();
		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) || Bm25PageGetOpaque(page)->kind == BM25_PAGE_FREE)
		{
			RecordFreeIndexPage(index, blk);
			stats->pages_free++;
		}
		UnlockReleaseBuffer(buf);
	}
	IndexFreeSpaceMapVacuum(index);
	FillStats(index, stats);
	return stats;
}

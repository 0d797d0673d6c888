/*-------------------------------------------------------------------------
 *
 * bm25_vacuum.c
 *	  VACUUM for lance_bm25.
 *
 * Segments are immutable.  VACUUM records the dead documents of a segment
 * beside it (a deletion record: their ids, total length and what each term
 * loses, kernels/bm25_deletes.h) and rewrites the segment without them only
 * once more than 1 in BM25_REWRITE_DEAD of its documents are dead, so that
 * deletes spread over the table do not rewrite the whole index.  N, the
 * total length and every df are sums over the segments of their own figures
 * minus their records', so after VACUUM they are what a fresh build of the
 * surviving rows would have, and so are the scores.
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

/* A segment's documents that this VACUUM found dead. */
typedef struct SegDead
{
	uint64	   *ids;			/* doc table ordinals, increasing */
	uint32	   *dls;
	size_t		n;
	size_t		cap;			/* allocated; none until one is found */
} SegDead;

/*
 * Add a dead document, growing the arrays by doubling so that memory follows
 * the dead documents found rather than the size of the segment.
 */
static void
AddDead(SegDead *dead, MemoryContext cxt, uint64 id, uint32 dl)
{
	if (dead->n == dead->cap)
	{
		dead->cap = dead->cap ? dead->cap * 2 : 1024;
		if (dead->ids == NULL)
		{
			dead->ids = MemoryContextAllocHuge(cxt, dead->cap * sizeof(uint64));
			dead->dls = MemoryContextAllocHuge(cxt, dead->cap * sizeof(uint32));
		}
		else
		{
			dead->ids = repalloc_huge(dead->ids, dead->cap * sizeof(uint64));
			dead->dls = repalloc_huge(dead->dls, dead->cap * sizeof(uint32));
		}
	}
	dead->ids[dead->n] = id;
	dead->dls[dead->n] = dl;
	dead->n++;
}

/*
 * The dead documents of each segment (those recorded dead before are not
 * asked about again), and whether the insert buffer holds one; one
 * callback per document.  Each segment's doc table is freed once it has
 * been asked about, so only one is held at a time.
 */
static void
FindDead(Relation index, const Bm25MetaPageData *meta, IndexBulkDeleteCallback callback,
		 void *state, SegDead *dead, bool *buf_dirty)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "lance_bm25 vacuum",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	ItemPointerData tid;

	for (uint32 i = 0; i < meta->nsegs; i++)
	{
		Bm25SegReader *r = Bm25OpenSegment(index, &meta->segs[i], meta->positions);
		const Bm25Deletes *before = bm25_segr_deletes(r);
		uint64_t   *docids;
		uint32_t   *dls;
		CoreError	err = {0};

		if (bm25_segr_doctable(r, &docids, &dls, &err) != CORE_OK)
			Bm25ReportCore(&err, "vacuuming", index);
		Bm25Track(cxt, FreeDocs, docids);
		Bm25Track(cxt, FreeDocs, dls);
		memset(&dead[i], 0, sizeof(SegDead));
		for (uint64 d = 0; d < meta->segs[i].ndocs; d++)
		{
			if ((d & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			if (bm25_deletes_has(before, d))
				continue;
			Bm25DocTid(docids[d], &tid);
			if (callback(&tid, state))
				AddDead(&dead[i], old, d, dls[d]);
		}
		/* runs the tracked frees */
		MemoryContextReset(cxt);
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

/*
 * Stop a core loop while an interrupt is pending, without leaving it by
 * longjmp (which would leak what it allocated); the caller then services
 * the interrupt.
 */
static int
InterruptsPending(void *arg)
{
	return INTERRUPTS_PENDING_CONDITION() && INTERRUPTS_CAN_BE_PROCESSED();
}

static void
FreeDeletes(void *p)
{
	bm25_deletes_free(p);
}

static void
FreeBuf(void *p)
{
	bm25_buf_free(p);
}

/*
 * Record a segment's newly dead documents beside it: a new deletion record
 * (the old one's and these), the segment's entry replaced under a new
 * serial (backends cache readers by serial) in one metapage record, then
 * the old record's pages freed.  Counting what each term lost reads every
 * posting list once, far less than a rewrite, which also writes them.
 * Caller holds the index lock in exclusive mode.
 */
static void
RecordDeletes(Relation index, const Bm25SegMeta *seg, const SegDead *dead,
			  IndexBulkDeleteResult *stats)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "lance_bm25 deletions",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	Bm25MetaPageData meta;
	Bm25SegReader *r;
	Bm25Deletes *d;
	Bm25Buf    *buf = palloc(sizeof(Bm25Buf));
	Bm25SegMeta out = *seg;
	CoreStatus	st;
	CoreError	err = {0};

	Bm25ReadMeta(index, &meta);
	r = Bm25OpenSegment(index, seg, meta.positions);
	/* a pending interrupt stops the count, which starts again if it returns */
	while ((st = bm25_deletes_add(r, dead->ids, dead->dls, dead->n, InterruptsPending, NULL,
								  &d, &err)) == CORE_ERR_CANCELED)
	{
		CHECK_FOR_INTERRUPTS();
		memset(&err, 0, sizeof(err));
	}
	if (st != CORE_OK)
		Bm25ReportCore(&err, "recording deletions", index);
	Bm25Track(cxt, FreeDeletes, d);
	bm25_buf_init(buf);
	Bm25Track(cxt, FreeBuf, buf);
	bm25_deletes_encode(d, buf);
	if (!buf->ok)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	Bm25WriteStream(index, buf->data, buf->len, &out.del_head, &out.del_npages);
	out.del_nbytes = buf->len;
	out.ndead = d->ndead;
	out.dead_dl = d->dead_dl;
	out.serial = meta.next_serial;
	Bm25SetSegments(index, &seg->serial, 1, &out, false, 0);
	Bm25FreeDeletePages(index, seg);
	stats->tuples_removed += dead->n;
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
		n += (double) (meta.segs[i].ndocs - meta.segs[i].ndead);
	stats->num_index_tuples = n;
	stats->num_pages = RelationGetNumberOfBlocks(index);
}

IndexBulkDeleteResult *
bm25bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	Bm25MetaPageData meta;
	SegDead		dead[BM25_MAX_SEGMENTS];
	bool		buf_dirty;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));

	LockPage(index, BM25_META_BLKNO, ExclusiveLock);
	Bm25ReadMeta(index, &meta);
	FindDead(index, &meta, callback, callback_state, dead, &buf_dirty);
	/* meta is a copy: these change the metapage, not these entries */
	for (uint32 i = 0; i < meta.nsegs; i++)
	{
		const Bm25SegMeta *seg = &meta.segs[i];

		if (dead[i].n > 0 && (seg->ndead + dead[i].n) * BM25_REWRITE_DEAD > seg->ndocs)
			Bm25RewriteSegment(index, seg, callback, callback_state, stats);
		else if (dead[i].n > 0)
			RecordDeletes(index, seg, &dead[i], stats);
		if (dead[i].ids)
		{
			pfree(dead[i].ids);
			pfree(dead[i].dls);
		}
	}
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

	/*
	 * Tell the free space map about every free page, and every page a crash
	 * left never initialized.  Pages written for a segment or record that a
	 * cancel or crash kept out of the metapage are neither: they stay
	 * unreferenced until REINDEX.
	 */
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

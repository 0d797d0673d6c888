/*-------------------------------------------------------------------------
 *
 * bm25_page.c
 *	  Pages of a lance_bm25 index: the metapage, segment streams and their
 *	  directories, the insert buffer chain, and freeing pages.
 *
 * Every page change goes through generic WAL.  New segment pages are
 * logged as full images (they are written once); the metapage and buffer
 * pages are logged as deltas.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "am/bm25/bm25.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/indexfsm.h"
#include "storage/lmgr.h"
#include "storage/proc.h"
#include "utils/memutils.h"

StaticAssertDecl(sizeof(Bm25MetaPageData) <= BM25_PAGE_CAPACITY,
				 "the lance_bm25 metapage must fit one page");

void
Bm25InitPage(Page page, uint16 kind)
{
	Bm25PageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(Bm25PageOpaqueData));
	opaque = Bm25PageGetOpaque(page);
	opaque->next = InvalidBlockNumber;
	opaque->kind = kind;
	opaque->page_id = BM25_PAGE_ID;
}

/*
 * A new page, exclusively locked: a freed one from the free space map if
 * there is one, else a new block at the end.
 */
Buffer
Bm25NewBuffer(Relation index)
{
	Buffer		buf;

	for (;;)
	{
		BlockNumber blkno = GetFreeIndexPage(index);

		if (blkno == InvalidBlockNumber)
			break;
		buf = ReadBuffer(index, blkno);

		/* someone else may have taken it since the map said it was free */
		if (ConditionalLockBuffer(buf))
		{
			Page		page = BufferGetPage(buf);

			if (PageIsNew(page) || Bm25PageGetOpaque(page)->kind == BM25_PAGE_FREE)
				return buf;
			LockBuffer(buf, BUFFER_LOCK_UNLOCK);
		}
		ReleaseBuffer(buf);
	}

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

void
Bm25InitMetaPage(Relation index, ForkNumber fork, const Bm25Tokenizer *tok)
{
	Buffer		buf;
	Page		page;
	GenericXLogState *state;
	Bm25MetaPage meta;

	buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
	if (BufferGetBlockNumber(buf) != BM25_META_BLKNO)
		elog(ERROR, "lance_bm25 metapage of index \"%s\" is not block 0",
			 RelationGetRelationName(index));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, GENERIC_XLOG_FULL_IMAGE);
	Bm25InitPage(page, BM25_PAGE_META);
	meta = Bm25PageGetMeta(page);
	memset(meta, 0, sizeof(Bm25MetaPageData));
	meta->magic = BM25_MAGIC;
	meta->version = BM25_VERSION;
	meta->tokenizer = tok->kind;
	meta->ts_config = tok->ts_config;
	meta->positions = tok->positions;
	meta->next_serial = 1;
	meta->buf_head = InvalidBlockNumber;
	meta->buf_tail = InvalidBlockNumber;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(Bm25MetaPageData)) - (char *) page;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Check a segment entry's deletion fields against each other, so that the
 * statistics never go negative and a record is never read past its pages.
 */
static void
CheckSegDeletes(Relation index, const Bm25SegMeta *seg)
{
	if (seg->ndead > seg->ndocs || seg->dead_dl > seg->total_dl ||
		(seg->ndead == 0) != (seg->del_npages == 0) ||
		seg->del_nbytes > (uint64) seg->del_npages * BM25_PAGE_CAPACITY)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("lance_bm25 index \"%s\": segment %llu has %llu of %llu documents dead (length %llu of %llu) in a record of %llu bytes on %u pages",
						RelationGetRelationName(index), (unsigned long long) seg->serial,
						(unsigned long long) seg->ndead, (unsigned long long) seg->ndocs,
						(unsigned long long) seg->dead_dl, (unsigned long long) seg->total_dl,
						(unsigned long long) seg->del_nbytes, seg->del_npages),
				 errhint("REINDEX the index.")));
}

/* A copy of the metapage, checked. */
void
Bm25ReadMeta(Relation index, Bm25MetaPageData *out)
{
	Buffer		buf = ReadBuffer(index, BM25_META_BLKNO);
	Page		page;
	Bm25MetaPage meta;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	meta = Bm25PageGetMeta(page);
	if (Bm25PageGetOpaque(page)->kind != BM25_PAGE_META || meta->magic != BM25_MAGIC)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a lance_bm25 index", RelationGetRelationName(index))));
	if (meta->version != BM25_VERSION || meta->nsegs > BM25_MAX_SEGMENTS)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("lance_bm25 index \"%s\" has version %u and %u segments; expected version %u and at most %u",
						RelationGetRelationName(index), meta->version, meta->nsegs,
						BM25_VERSION, BM25_MAX_SEGMENTS),
				 errhint("REINDEX the index.")));
	memcpy(out, meta, sizeof(Bm25MetaPageData));
	UnlockReleaseBuffer(buf);
	for (uint32 i = 0; i < out->nsegs; i++)
		CheckSegDeletes(index, &out->segs[i]);
}

/* --- writing a segment stream --- */

void
Bm25StreamBegin(Bm25StreamWriter *w, Relation index)
{
	memset(w, 0, sizeof(*w));
	w->index = index;
	w->cur = InvalidBuffer;
	w->cap = 64;
	w->blocks = palloc(w->cap * sizeof(BlockNumber));
}

/* Log and release the page being filled. */
static void
StreamClosePage(Bm25StreamWriter *w)
{
	if (!BufferIsValid(w->cur))
		return;
	((PageHeader) w->page)->pd_lower = BM25_PAGE_CONTENT_OFF + w->used;
	GenericXLogFinish(w->state);
	UnlockReleaseBuffer(w->cur);
	w->cur = InvalidBuffer;
}

int
Bm25StreamSink(void *ctx, const uint8_t *data, size_t len)
{
	Bm25StreamWriter *w = ctx;

	while (len > 0)
	{
		size_t		n;

		if (!BufferIsValid(w->cur) || w->used == BM25_PAGE_CAPACITY)
		{
			StreamClosePage(w);
			CHECK_FOR_INTERRUPTS();
			w->cur = Bm25NewBuffer(w->index);
			w->state = GenericXLogStart(w->index);
			w->page = GenericXLogRegisterBuffer(w->state, w->cur, GENERIC_XLOG_FULL_IMAGE);
			Bm25InitPage(w->page, BM25_PAGE_DATA);
			w->used = 0;
			if (w->npages == w->cap)
			{
				w->cap *= 2;
				w->blocks = repalloc(w->blocks, w->cap * sizeof(BlockNumber));
			}
			w->blocks[w->npages++] = BufferGetBlockNumber(w->cur);
		}
		n = Min(len, BM25_PAGE_CAPACITY - w->used);
		memcpy((char *) w->page + BM25_PAGE_CONTENT_OFF + w->used, data, n);
		w->used += n;
		w->nbytes += n;
		data += n;
		len -= n;
	}
	return 0;
}

/* Close the last data page and write the directory; returns its head. */
static BlockNumber
StreamWriteDirectory(Bm25StreamWriter *w)
{
	uint32		ndir = (w->npages + BM25_DIR_ENTRIES - 1) / BM25_DIR_ENTRIES;
	Buffer	   *dirs;
	BlockNumber head;

	StreamClosePage(w);
	if (ndir == 0)
		ndir = 1;				/* an empty segment still has a directory */
	dirs = palloc(ndir * sizeof(Buffer));
	for (uint32 i = 0; i < ndir; i++)
		dirs[i] = Bm25NewBuffer(w->index);
	for (uint32 i = 0; i < ndir; i++)
	{
		GenericXLogState *state = GenericXLogStart(w->index);
		Page		page = GenericXLogRegisterBuffer(state, dirs[i], GENERIC_XLOG_FULL_IMAGE);
		uint32		from = i * BM25_DIR_ENTRIES;
		uint32		n = from < w->npages ? Min(BM25_DIR_ENTRIES, w->npages - from) : 0;

		Bm25InitPage(page, BM25_PAGE_DIR);
		Bm25PageGetOpaque(page)->next = i + 1 < ndir ? BufferGetBlockNumber(dirs[i + 1]) :
			InvalidBlockNumber;
		memcpy((char *) page + BM25_PAGE_CONTENT_OFF, w->blocks + from, n * sizeof(BlockNumber));
		((PageHeader) page)->pd_lower = BM25_PAGE_CONTENT_OFF + n * sizeof(BlockNumber);
		GenericXLogFinish(state);
	}
	head = BufferGetBlockNumber(dirs[0]);
	for (uint32 i = 0; i < ndir; i++)
		UnlockReleaseBuffer(dirs[i]);
	pfree(dirs);
	return head;
}

/* Close the last data page, write the directory, describe the segment. */
void
Bm25StreamFinish(Bm25StreamWriter *w, const Bm25SegInfo *info, Bm25SegMeta *seg)
{
	Assert(w->nbytes == info->nbytes);
	memset(seg, 0, sizeof(*seg));
	seg->dir_head = StreamWriteDirectory(w);
	seg->del_head = InvalidBlockNumber;
	seg->npages = w->npages;
	seg->nbytes = info->nbytes;
	seg->doctab_off = info->doctab_off;
	seg->dict_off = info->dict_off;
	seg->dict_len = info->dict_len;
	seg->dindex_off = info->dindex_off;
	seg->dindex_len = info->dindex_len;
	seg->ndocs = info->ndocs;
	seg->total_dl = info->total_dl;
	seg->nterms = info->nterms;
	seg->ref_k1 = info->ref_k1;
	seg->ref_b = info->ref_b;
	seg->ref_avgdl = info->ref_avgdl;
	seg->range_min_df = info->range_min_df;
	pfree(w->blocks);
	w->blocks = NULL;
}

/* Write len bytes as a stream of data pages with a directory. */
void
Bm25WriteStream(Relation index, const uint8 *data, size_t len, BlockNumber *head, uint32 *npages)
{
	Bm25StreamWriter w;

	Bm25StreamBegin(&w, index);
	Bm25StreamSink(&w, data, len);
	*head = StreamWriteDirectory(&w);
	*npages = w.npages;
	pfree(w.blocks);
}

void
Bm25SegInfoFromMeta(const Bm25SegMeta *seg, bool positions, Bm25SegInfo *info)
{
	memset(info, 0, sizeof(*info));
	info->nbytes = seg->nbytes;
	info->doctab_off = seg->doctab_off;
	info->dict_off = seg->dict_off;
	info->dict_len = seg->dict_len;
	info->dindex_off = seg->dindex_off;
	info->dindex_len = seg->dindex_len;
	info->ndocs = seg->ndocs;
	info->total_dl = seg->total_dl;
	info->nterms = seg->nterms;
	info->positions = positions;
	info->ref_k1 = seg->ref_k1;
	info->ref_b = seg->ref_b;
	info->ref_avgdl = seg->ref_avgdl;
	info->range_min_df = seg->range_min_df;
}

/* --- freeing pages --- */

/* Mark pages free (logged, four to a record) and tell the free space map. */
static void
FreePages(Relation index, const BlockNumber *blocks, uint32 n)
{
	for (uint32 i = 0; i < n; i += MAX_GENERIC_XLOG_PAGES)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Buffer		bufs[MAX_GENERIC_XLOG_PAGES];
		uint32		m = Min(MAX_GENERIC_XLOG_PAGES, n - i);

		for (uint32 j = 0; j < m; j++)
		{
			Page		page;

			bufs[j] = ReadBuffer(index, blocks[i + j]);
			LockBuffer(bufs[j], BUFFER_LOCK_EXCLUSIVE);
			page = GenericXLogRegisterBuffer(state, bufs[j], 0);
			Bm25PageGetOpaque(page)->kind = BM25_PAGE_FREE;
			Bm25PageGetOpaque(page)->next = InvalidBlockNumber;
		}
		GenericXLogFinish(state);
		for (uint32 j = 0; j < m; j++)
		{
			UnlockReleaseBuffer(bufs[j]);
			RecordFreeIndexPage(index, blocks[i + j]);
		}
	}
}

/* The data pages of a segment, from its directory (palloc'd). */
static BlockNumber *
ReadDirectory(Relation index, BlockNumber head, uint32 npages, uint32 *ndirs,
			  BlockNumber **dirblocks)
{
	BlockNumber *blocks = palloc(Max(npages, 1) * sizeof(BlockNumber));
	BlockNumber next = head;
	uint32		got = 0;
	uint32		nd = 0;
	BlockNumber *db = palloc(sizeof(BlockNumber) * (npages / BM25_DIR_ENTRIES + 2));

	while (next != InvalidBlockNumber)
	{
		Buffer		buf;
		Page		page;
		uint32		n;

		if (nd >= npages / BM25_DIR_ENTRIES + 1)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("lance_bm25 index \"%s\": segment directory at block %u is longer than its %u pages",
							RelationGetRelationName(index), head, npages)));
		db[nd++] = next;
		buf = ReadBuffer(index, next);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (Bm25PageGetOpaque(page)->kind != BM25_PAGE_DIR)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("lance_bm25 index \"%s\": block %u is not a segment directory page",
							RelationGetRelationName(index), next)));
		n = (((PageHeader) page)->pd_lower - BM25_PAGE_CONTENT_OFF) / sizeof(BlockNumber);
		if (n > npages - got)
			n = npages - got;
		memcpy(blocks + got, (char *) page + BM25_PAGE_CONTENT_OFF, n * sizeof(BlockNumber));
		got += n;
		next = Bm25PageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	if (got != npages)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("lance_bm25 index \"%s\": segment directory at block %u lists %u of %u pages",
						RelationGetRelationName(index), head, got, npages)));
	*ndirs = nd;
	*dirblocks = db;
	return blocks;
}

/* Free a stream's data pages and directory. */
static void
FreeStream(Relation index, BlockNumber head, uint32 npages)
{
	uint32		ndirs;
	BlockNumber *dirs;
	BlockNumber *blocks = ReadDirectory(index, head, npages, &ndirs, &dirs);

	FreePages(index, blocks, npages);
	FreePages(index, dirs, ndirs);
	pfree(blocks);
	pfree(dirs);
}

/* Free a segment's pages, its deletion record's included. */
void
Bm25FreeSegmentPages(Relation index, const Bm25SegMeta *seg)
{
	FreeStream(index, seg->dir_head, seg->npages);
	Bm25FreeDeletePages(index, seg);
}

/* Free the pages of a segment's deletion record (none: nothing). */
void
Bm25FreeDeletePages(Relation index, const Bm25SegMeta *seg)
{
	if (seg->del_npages > 0)
		FreeStream(index, seg->del_head, seg->del_npages);
}

void
Bm25FreeBufferPages(Relation index, BlockNumber head)
{
	BlockNumber *blocks = NULL;
	uint32		n = 0,
				cap = 0;

	while (head != InvalidBlockNumber)
	{
		Buffer		buf = ReadBuffer(index, head);
		Page		page;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (n == cap)
		{
			cap = cap ? cap * 2 : 16;
			blocks = blocks ? repalloc(blocks, cap * sizeof(BlockNumber)) :
				palloc(cap * sizeof(BlockNumber));
		}
		blocks[n++] = head;
		head = Bm25PageGetOpaque(page)->kind == BM25_PAGE_BUFFER ?
			Bm25PageGetOpaque(page)->next : InvalidBlockNumber;
		UnlockReleaseBuffer(buf);
	}
	if (n > 0)
	{
		FreePages(index, blocks, n);
		pfree(blocks);
	}
}

/* --- reading segments, with a per-backend cache of their dictionaries --- */

typedef struct SegSource
{
	Relation	index;
	BlockNumber *blocks;		/* in TopMemoryContext */
	uint32		npages;
} SegSource;

/*
 * The pages of a segment that one ranking reads in place (kernels'
 * Bm25ViewFn): pinned on first use and kept pinned until the ranking ends,
 * up to a budget, past which reads are copies again.  Segment pages never
 * change, so a pin is all a reader needs once the page is in.  The arrays
 * stay with the cache entry from one ranking to the next; an error during
 * a ranking leaves "active" set, and the pins it lists were dropped by the
 * resource owner, so the next use clears them.
 */
typedef struct SegView
{
	SegSource  *src;
	Buffer	   *pins;			/* per page; InvalidBuffer until pinned */
	Buffer	   *recent;			/* per page: its buffer when last pinned */
	uint32	   *pinned;			/* the pages pinned, to release */
	uint32		npinned;
	uint32		budget;
	bool		active;
} SegView;

typedef struct SegCacheEntry
{
	Oid			db;
	Oid			relnode;
	uint64		serial;
	uint64		last_used;
	Bm25SegReader *reader;
	SegSource	src;
	SegView		view;
} SegCacheEntry;

#define SEG_CACHE_SIZE 32

static SegCacheEntry seg_cache[SEG_CACHE_SIZE];
static uint64 seg_cache_clock = 0;

static int
SegRead(void *ctx, uint64_t off, size_t len, uint8_t *dst)
{
	SegSource  *s = ctx;

	while (len > 0)
	{
		uint64		pageno = off / BM25_PAGE_CAPACITY;
		uint32		in = off % BM25_PAGE_CAPACITY;
		size_t		n = Min(len, BM25_PAGE_CAPACITY - in);
		Buffer		buf;

		if (pageno >= s->npages)
			return -1;
		buf = ReadBuffer(s->index, s->blocks[pageno]);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		memcpy(dst, (char *) BufferGetPage(buf) + BM25_PAGE_CONTENT_OFF + in, n);
		UnlockReleaseBuffer(buf);
		dst += n;
		off += n;
		len -= n;
	}
	return 0;
}

static const uint8_t *
SegViewBytes(void *ctx, uint64_t off, size_t *len)
{
	SegView    *v = ctx;
	uint64		pageno = off / BM25_PAGE_CAPACITY;
	uint32		in = off % BM25_PAGE_CAPACITY;

	if (pageno >= v->src->npages)
		return NULL;
	if (v->pins[pageno] == InvalidBuffer)
	{
		Buffer		buf;

		if (v->npinned >= v->budget)
			return NULL;		/* the caller copies instead */
		/* most pages are where the last ranking found them: no lookup then */
		buf = v->recent[pageno];
		if (buf != InvalidBuffer &&
			ReadRecentBuffer(v->src->index->rd_node, MAIN_FORKNUM, v->src->blocks[pageno], buf))
		{
			/* counted as ReadBuffer counts a hit */
			pgstat_count_buffer_read(v->src->index);
			pgstat_count_buffer_hit(v->src->index);
		}
		else
			buf = v->recent[pageno] = ReadBuffer(v->src->index, v->src->blocks[pageno]);

		/*
		 * No content lock: the page was written before the metapage named
		 * its segment, and our read of the metapage under its buffer lock
		 * orders these reads after that write; on a primary nothing changes
		 * it while our heavyweight lock keeps merges and VACUUM from freeing
		 * it.  On a hot standby, replay takes no such lock and may reuse
		 * the page meanwhile, as it may under any read (docs/bm25.md,
		 * Limits).
		 */
		v->pins[pageno] = buf;
		v->pinned[v->npinned++] = (uint32) pageno;
	}
	*len = Min(*len, BM25_PAGE_CAPACITY - in);
	return (const uint8_t *) BufferGetPage(v->pins[pageno]) + BM25_PAGE_CONTENT_OFF + in;
}

static SegCacheEntry *
EntryOf(Bm25SegReader *r)
{
	for (int i = 0; i < SEG_CACHE_SIZE; i++)
		if (seg_cache[i].reader == r)
			return &seg_cache[i];
	elog(ERROR, "lance_bm25: segment reader not in the cache");
	return NULL;				/* keep compiler quiet */
}

/*
 * Let the reader, just opened, read its pages in place until
 * Bm25UnviewSegment.  An error in between needs no cleanup: the resource
 * owner drops the pins, the next Bm25OpenSegment unbinds the view and the
 * next Bm25ViewSegment forgets the pins.
 */
void
Bm25ViewSegment(Bm25SegReader *r)
{
	SegCacheEntry *e = EntryOf(r);
	SegView    *v = &e->view;
	size_t		npages = Max(e->src.npages, 1);

	if (v->pins == NULL)
	{
		/* a backend's fair share of the pool, as PostgreSQL's own reads take */
		v->budget = Max(16, NBuffers / (MaxBackends + NUM_AUXILIARY_PROCS));
		v->pins = MemoryContextAllocHuge(TopMemoryContext, npages * sizeof(Buffer));
		v->recent = MemoryContextAllocHuge(TopMemoryContext, npages * sizeof(Buffer));
		memset(v->recent, 0, npages * sizeof(Buffer));
		v->pinned = MemoryContextAlloc(TopMemoryContext, v->budget * sizeof(uint32));
		v->active = true;		/* clear the new array below */
	}
	if (v->active)
	{
		memset(v->pins, 0, npages * sizeof(Buffer));
		v->npinned = 0;
	}
	v->src = &e->src;
	v->active = true;
	bm25_segr_set_view(r, SegViewBytes, v);
}

void
Bm25UnviewSegment(Bm25SegReader *r)
{
	SegCacheEntry *e = EntryOf(r);
	SegView    *v = &e->view;

	bm25_segr_set_view(r, NULL, NULL);
	for (uint32 i = 0; i < v->npinned; i++)
	{
		ReleaseBuffer(v->pins[v->pinned[i]]);
		v->pins[v->pinned[i]] = InvalidBuffer;
	}
	v->npinned = 0;
	v->active = false;
}

static void
EvictEntry(SegCacheEntry *e)
{
	if (e->view.pins)
		pfree(e->view.pins);
	if (e->view.recent)
		pfree(e->view.recent);
	if (e->view.pinned)
		pfree(e->view.pinned);
	bm25_segr_free(e->reader);
	if (e->src.blocks)
		pfree(e->src.blocks);
	memset(e, 0, sizeof(*e));
}

/*
 * Read and check a segment's deletion record.  Only palloc'd scratch is live
 * while anything can fail, so an error leaks nothing; the result is the
 * caller's to free.
 */
static Bm25Deletes *
LoadDeletes(Relation index, const Bm25SegMeta *seg)
{
	uint32		ndirs;
	BlockNumber *dirs;
	SegSource	src;
	uint8	   *raw;
	Bm25Deletes *d;
	CoreError	err = {0};

	src.index = index;
	src.blocks = ReadDirectory(index, seg->del_head, seg->del_npages, &ndirs, &dirs);
	src.npages = seg->del_npages;
	raw = palloc_extended(Max(seg->del_nbytes, 1), MCXT_ALLOC_HUGE);
	if (SegRead(&src, 0, seg->del_nbytes, raw) != 0 ||
		bm25_deletes_decode(raw, seg->del_nbytes, seg->ndocs, &d, &err) != CORE_OK)
	{
		if (err.status == CORE_OK)
			core_error(&err, CORE_ERR_CORRUPT, "bm25 deletions: record of %llu bytes is not in its %u pages",
					   (unsigned long long) seg->del_nbytes, seg->del_npages);
		Bm25ReportCore(&err, "reading a segment's deletions", index);
	}
	if (d->ndead != seg->ndead || d->dead_dl != seg->dead_dl)
	{
		uint64		ndead = d->ndead;

		bm25_deletes_free(d);
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("lance_bm25 index \"%s\": deletion record at block %u lists %llu dead documents, the metapage %llu",
						RelationGetRelationName(index), seg->del_head,
						(unsigned long long) ndead, (unsigned long long) seg->ndead)));
	}
	pfree(raw);
	pfree(src.blocks);
	pfree(dirs);
	return d;
}

/*
 * Fill an empty cache entry with a reader of the segment.  It is filled under
 * PG_TRY so that an error (an unreadable page, a corrupt record) empties it
 * again instead of leaving it half filled and what it holds leaked.
 */
static Bm25SegReader *
FillEntry(SegCacheEntry *entry, Relation index, const Bm25SegMeta *seg, bool positions)
{
	Bm25Deletes *volatile deletes = NULL;
	Bm25SegReader *r = NULL;

	PG_TRY();
	{
		uint32		ndirs;
		BlockNumber *dirs;
		BlockNumber *blocks;
		Bm25SegInfo info;
		CoreError	err = {0};

		if (seg->del_npages > 0)
			deletes = LoadDeletes(index, seg);
		blocks = ReadDirectory(index, seg->dir_head, seg->npages, &ndirs, &dirs);
		entry->src.index = index;
		entry->src.blocks = MemoryContextAllocHuge(TopMemoryContext,
												   Max(seg->npages, 1) * sizeof(BlockNumber));
		memcpy(entry->src.blocks, blocks, seg->npages * sizeof(BlockNumber));
		entry->src.npages = seg->npages;
		pfree(blocks);
		pfree(dirs);
		Bm25SegInfoFromMeta(seg, positions, &info);
		if (bm25_segr_open(&info, SegRead, &entry->src, &r, &err) != CORE_OK)
			Bm25ReportCore(&err, "reading a segment", index);
	}
	PG_CATCH();
	{
		bm25_deletes_free(deletes);
		EvictEntry(entry);
		PG_RE_THROW();
	}
	PG_END_TRY();
	if (deletes)
		bm25_segr_set_deletes(r, deletes);
	entry->reader = r;
	entry->db = MyDatabaseId;
	entry->relnode = index->rd_node.relNode;
	entry->serial = seg->serial;
	entry->last_used = ++seg_cache_clock;
	return r;
}

/*
 * A reader for the segment, bound to this relation for the current query.
 * Dictionaries are cached per backend by (database, relfilenode, serial):
 * segments are immutable, so an entry is never stale, only unused.
 */
Bm25SegReader *
Bm25OpenSegment(Relation index, const Bm25SegMeta *seg, bool positions)
{
	Oid			relnode = index->rd_node.relNode;
	SegCacheEntry *victim = NULL;

	for (int i = 0; i < SEG_CACHE_SIZE; i++)
	{
		SegCacheEntry *e = &seg_cache[i];

		if (e->reader && e->db == MyDatabaseId && e->relnode == relnode && e->serial == seg->serial)
		{
			e->last_used = ++seg_cache_clock;
			e->src.index = index;
			bm25_segr_set_source(e->reader, SegRead, &e->src);
			return e->reader;
		}
		if (victim == NULL || e->reader == NULL ||
			(victim->reader != NULL && e->last_used < victim->last_used))
			victim = e;
	}
	EvictEntry(victim);
	return FillEntry(victim, index, seg, positions);
}

/* The valid bytes of the insert buffer, copied (palloc'd). */
char *
Bm25ReadBuffer(Relation index, const Bm25MetaPageData *meta, uint64 *len)
{
	char	   *out;
	uint64		got = 0;
	BlockNumber next = meta->buf_head;

	*len = meta->buf_nbytes;
	if (meta->buf_nbytes == 0)
		return NULL;
	if (meta->buf_nbytes > MaxAllocHugeSize)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("lance_bm25 index \"%s\": insert buffer of %llu bytes",
						RelationGetRelationName(index), (unsigned long long) meta->buf_nbytes)));
	out = palloc_extended(meta->buf_nbytes, MCXT_ALLOC_HUGE);
	while (got < meta->buf_nbytes)
	{
		Buffer		buf;
		Page		page;
		uint64		n = Min(BM25_PAGE_CAPACITY, meta->buf_nbytes - got);

		if (next == InvalidBlockNumber)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("lance_bm25 index \"%s\": insert buffer chain ends after %llu of %llu bytes",
							RelationGetRelationName(index), (unsigned long long) got,
							(unsigned long long) meta->buf_nbytes)));
		buf = ReadBuffer(index, next);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (Bm25PageGetOpaque(page)->kind != BM25_PAGE_BUFFER)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("lance_bm25 index \"%s\": block %u in the insert buffer chain is not a buffer page",
							RelationGetRelationName(index), next)));
		memcpy(out + got, (char *) page + BM25_PAGE_CONTENT_OFF, n);
		got += n;
		next = Bm25PageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	return out;
}

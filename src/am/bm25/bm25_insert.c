/*-------------------------------------------------------------------------
 *
 * bm25_insert.c
 *	  Inserts into lance_bm25: the append-only insert buffer, and turning
 *	  it into a segment (with a merge of small segments when there are
 *	  many).
 *
 * An insert tokenizes its document, then appends one record to the buffer
 * stream under the metapage buffer lock: queries see it as soon as the
 * transaction's heap tuple is visible, with no "optimize" step.  Once the
 * buffer passes BM25_BUFFER_DOCS documents or BM25_BUFFER_BYTES, the
 * insert that notices turns it into a segment, if it can get the exclusive
 * index lock without waiting (else a later insert or VACUUM does it), so a
 * query never scans more than a bounded buffer.  When BM25_MERGE_AT
 * segments exist, the small ones (under a quarter of the largest) are
 * merged with it: sizes grow geometrically and a document is rewritten
 * O(log n) times.
 *
 * Buffer record: u64 doc id, u32 length, u32 term count, then per term
 * u16 length, the bytes, zeros to a multiple of 4, u32 tf and, with
 * positions, tf u32 positions.  Every record is a multiple of 4 bytes long,
 * so in a copy of the buffer the positions are aligned and queries use
 * them in place.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "am/bm25/bm25.h"
#include "lib/stringinfo.h"
#include "nodes/execnodes.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"

static void
FreeMemIndex(void *p)
{
	bm25_mem_free(p);
}

static void
FreeBag(void *p)
{
	bm25_bag_free(p);
}

static void
PutU32(StringInfo s, uint32 v)
{
	appendBinaryStringInfo(s, (char *) &v, sizeof(v));
}

static void
SerializeDoc(StringInfo s, uint64 docid, Bm25Bag *bag, bool positions)
{
	const Bm25DocTerm *t = bm25_bag_terms(bag);
	size_t		n = bm25_bag_nterms(bag);

	appendBinaryStringInfo(s, (char *) &docid, sizeof(docid));
	PutU32(s, bm25_bag_dl(bag));
	PutU32(s, (uint32) n);
	for (size_t i = 0; i < n; i++)
	{
		uint16		len = (uint16) t[i].len;

		appendBinaryStringInfo(s, (char *) &len, sizeof(len));
		appendBinaryStringInfo(s, t[i].term, t[i].len);
		while (s->len % 4 != 0)
			appendStringInfoChar(s, '\0');
		PutU32(s, t[i].tf);
		if (positions)
			appendBinaryStringInfo(s, (char *) t[i].pos, t[i].tf * sizeof(uint32));
	}
}

static void
BufferCorrupt(Relation index, uint64 at)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("lance_bm25 index \"%s\": insert buffer record at byte %llu is malformed",
					RelationGetRelationName(index), (unsigned long long) at)));
}

/*
 * Split a copy of the buffer into documents; terms and positions point into
 * raw, which must be MAXALIGNed (a palloc'd copy is).
 */
Bm25BufDoc *
Bm25ParseBuffer(const char *raw, uint64 len, uint64 ndocs, bool positions, Relation index)
{
	Bm25BufDoc *docs;
	uint64		at = 0;

	if (ndocs > len / 16)
		BufferCorrupt(index, 0);
	docs = palloc(Max(ndocs, 1) * sizeof(Bm25BufDoc));
	for (uint64 d = 0; d < ndocs; d++)
	{
		Bm25BufDoc *doc = &docs[d];
		uint32		n;

		if (len - at < 16)
			BufferCorrupt(index, at);
		memcpy(&doc->docid, raw + at, 8);
		memcpy(&doc->dl, raw + at + 8, 4);
		memcpy(&n, raw + at + 12, 4);
		at += 16;
		if (n > (len - at) / 7)
			BufferCorrupt(index, at);
		doc->nterms = n;
		doc->terms = palloc(Max(n, 1) * sizeof(Bm25DocTerm));
		for (uint32 i = 0; i < n; i++)
		{
			uint16		l;
			uint32		tf;

			if (len - at < 2)
				BufferCorrupt(index, at);
			memcpy(&l, raw + at, 2);
			at += 2;
			if (l == 0 || len - at < (uint64) l ||
				len - TYPEALIGN(4, at + l) < 4)
				BufferCorrupt(index, at);
			doc->terms[i].term = raw + at;
			doc->terms[i].len = l;
			at = TYPEALIGN(4, at + l);
			memcpy(&tf, raw + at, 4);
			at += 4;
			doc->terms[i].tf = tf;
			doc->terms[i].pos = NULL;
			if (positions)
			{
				if (tf == 0 || (len - at) / 4 < tf)
					BufferCorrupt(index, at);
				/* aligned: see the record layout above */
				doc->terms[i].pos = (const uint32 *) (raw + at);
				at += (uint64) tf * 4;
			}
		}
	}
	return docs;
}

/*
 * Append bytes to the buffer stream.  Each WAL record covers one page of
 * the stream (plus the previous tail, to link it, and the metapage in the
 * last record), and only the last one moves the metapage's valid end, so a
 * crash in between leaves the buffer as it was.  Caller holds the metapage
 * buffer exclusively.
 */
static void
AppendToBuffer(Relation index, Buffer metabuf, const char *data, uint64 len, uint32 dl)
{
	Bm25MetaPage meta = Bm25PageGetMeta(BufferGetPage(metabuf));
	BlockNumber tail = meta->buf_tail;
	uint64		nbytes = meta->buf_nbytes;
	BlockNumber head = meta->buf_head;
	uint32		used = nbytes == 0 ? BM25_PAGE_CAPACITY : (uint32) (nbytes % BM25_PAGE_CAPACITY);

	if (nbytes > 0 && used == 0)
		used = BM25_PAGE_CAPACITY;
	if (nbytes == 0)
		tail = InvalidBlockNumber;

	while (len > 0)
	{
		GenericXLogState *state = GenericXLogStart(index);
		Buffer		tailbuf = InvalidBuffer;
		Buffer		newbuf = InvalidBuffer;
		Page		page;
		uint32		n;
		bool		last;

		if (tail != InvalidBlockNumber)
		{
			tailbuf = ReadBuffer(index, tail);
			LockBuffer(tailbuf, BUFFER_LOCK_EXCLUSIVE);
		}
		if (tail == InvalidBlockNumber || used == BM25_PAGE_CAPACITY)
		{
			newbuf = Bm25NewBuffer(index);
			if (BufferIsValid(tailbuf))
			{
				Page		tp = GenericXLogRegisterBuffer(state, tailbuf, 0);

				Bm25PageGetOpaque(tp)->next = BufferGetBlockNumber(newbuf);
			}
			page = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
			Bm25InitPage(page, BM25_PAGE_BUFFER);
			tail = BufferGetBlockNumber(newbuf);
			if (head == InvalidBlockNumber)
				head = tail;
			used = 0;
		}
		else
			page = GenericXLogRegisterBuffer(state, tailbuf, 0);

		n = (uint32) Min(len, (uint64) (BM25_PAGE_CAPACITY - used));
		memcpy((char *) page + BM25_PAGE_CONTENT_OFF + used, data, n);
		used += n;
		((PageHeader) page)->pd_lower = BM25_PAGE_CONTENT_OFF + used;
		data += n;
		len -= n;
		nbytes += n;
		last = (len == 0);
		if (last)
		{
			Page		mp = GenericXLogRegisterBuffer(state, metabuf, 0);
			Bm25MetaPage m = Bm25PageGetMeta(mp);

			m->buf_head = head;
			m->buf_tail = tail;
			m->buf_nbytes = nbytes;
			m->buf_ndocs++;
			m->buf_total_dl += dl;
		}
		GenericXLogFinish(state);
		if (BufferIsValid(newbuf))
			UnlockReleaseBuffer(newbuf);
		if (BufferIsValid(tailbuf))
			UnlockReleaseBuffer(tailbuf);
	}
}

/*
 * Replace segments in the metapage: drop those with the given serials, add
 * one (when add has documents or terms), and empty the buffer when the
 * merge consumed it.  A buffer that grew since the merge read it cannot
 * happen: merges hold the index lock exclusively, inserts take it shared.
 */
void
Bm25SetSegments(Relation index, const uint64 *drop, int ndrop, const Bm25SegMeta *add,
				bool clear_buffer, uint64 buf_nbytes_seen)
{
	Buffer		metabuf = ReadBuffer(index, BM25_META_BLKNO);
	GenericXLogState *state;
	Bm25MetaPage meta;
	uint32		keep = 0;

	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	meta = Bm25PageGetMeta(GenericXLogRegisterBuffer(state, metabuf, 0));
	for (uint32 i = 0; i < meta->nsegs; i++)
	{
		bool		dropped = false;

		for (int j = 0; j < ndrop; j++)
			if (meta->segs[i].serial == drop[j])
				dropped = true;
		if (!dropped)
			meta->segs[keep++] = meta->segs[i];
	}
	meta->nsegs = keep;
	if (add && (add->ndocs > 0 || add->nterms > 0))
	{
		if (meta->nsegs >= BM25_MAX_SEGMENTS)
			elog(ERROR, "lance_bm25 index \"%s\" has too many segments",
				 RelationGetRelationName(index));
		meta->segs[meta->nsegs] = *add;
		if (add->serial >= meta->next_serial)
			meta->next_serial = add->serial + 1;
		meta->nsegs++;
	}
	if (clear_buffer)
	{
		if (meta->buf_nbytes != buf_nbytes_seen)
			elog(ERROR, "lance_bm25 index \"%s\": insert buffer changed during a merge",
				 RelationGetRelationName(index));
		meta->buf_head = InvalidBlockNumber;
		meta->buf_tail = InvalidBlockNumber;
		meta->buf_nbytes = 0;
		meta->buf_ndocs = 0;
		meta->buf_total_dl = 0;

		/*
		 * The next buffer never shares a serial with this one, even when no
		 * segment took its rows (all dead): scans know a parsed buffer by
		 * serial, head and length (bm25_scan.c ParsedBuffer).
		 */
		meta->next_serial++;
	}
	GenericXLogFinish(state);
	UnlockReleaseBuffer(metabuf);
}

typedef struct KeepArg
{
	IndexBulkDeleteCallback callback;
	void	   *state;
} KeepArg;

static bool
KeepDoc(void *arg, uint64_t docid)
{
	KeepArg    *k = arg;
	ItemPointerData tid;

	Bm25DocTid(docid, &tid);
	return !k->callback(&tid, k->state);
}

static int
CompareSegSize(const void *a, const void *b)
{
	uint64		x = ((const Bm25SegMeta *) a)->ndocs;
	uint64		y = ((const Bm25SegMeta *) b)->ndocs;

	return x < y ? 1 : (x > y ? -1 : 0);
}

/*
 * Rewrite one segment without the documents callback reports dead (for
 * VACUUM); the segments without dead documents stay as they are, and the
 * statistics stay exact because every segment's doc table and dictionary
 * count only its own live documents.  A segment left empty is dropped.
 * Caller holds the index lock in exclusive mode.
 */
void
Bm25RewriteSegment(Relation index, const Bm25SegMeta *seg, IndexBulkDeleteCallback callback,
				   void *callback_state, IndexBulkDeleteResult *stats)
{
	Bm25MetaPageData meta;
	Bm25SegReader *reader;
	Bm25MergeSources src = {0};
	Bm25SegMeta old_seg = *seg;
	Bm25SegMeta out;
	uint64		ndead = 0;
	KeepArg		keep = {callback, callback_state};

	Bm25ReadMeta(index, &meta);
	reader = Bm25OpenSegment(index, &old_seg, meta.positions);
	src.segs = &reader;
	src.nsegs = 1;
	src.keep = KeepDoc;
	src.keep_arg = &keep;
	Bm25WriteSegment(index, &src, meta.positions, &out, meta.next_serial, &ndead);
	Bm25SetSegments(index, &old_seg.serial, 1, &out, false, 0);
	if (out.ndocs == 0 && out.nterms == 0)
		Bm25FreeSegmentPages(index, &out);
	Bm25FreeSegmentPages(index, &old_seg);
	stats->tuples_removed += ndead;
}

/*
 * Turn the insert buffer into a segment, merging segments as the policy
 * above says; with a callback (VACUUM) the documents it reports dead are
 * left out.  Caller holds the index lock in exclusive mode.  Returns
 * whether anything was rewritten.
 */
bool
Bm25Flush(Relation index, IndexBulkDeleteCallback callback, void *callback_state,
		  IndexBulkDeleteResult *stats)
{
	Bm25MetaPageData meta;
	Bm25SegMeta chosen[BM25_MAX_SEGMENTS];
	uint64		drop[BM25_MAX_SEGMENTS];
	int			nchosen = 0;
	Bm25SegReader *readers[BM25_MAX_SEGMENTS];
	Bm25MemIndex *mem = NULL;
	Bm25MergeSources src = {0};
	Bm25SegMeta out;
	uint64		ndead = 0;
	KeepArg		keep;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "lance_bm25 flush",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);

	Bm25ReadMeta(index, &meta);

	if (meta.nsegs + 1 >= BM25_MERGE_AT)
	{
		Bm25SegMeta sorted[BM25_MAX_SEGMENTS];

		memcpy(sorted, meta.segs, meta.nsegs * sizeof(Bm25SegMeta));
		qsort(sorted, meta.nsegs, sizeof(Bm25SegMeta), CompareSegSize);
		for (uint32 i = 1; i < meta.nsegs; i++)
			if (sorted[i].ndocs * 4 < sorted[0].ndocs)
				chosen[nchosen++] = sorted[i];
		/* no small ones: everything is of a size, so merge it all */
		if (nchosen < 2)
		{
			nchosen = 0;
			for (uint32 i = 0; i < meta.nsegs; i++)
				chosen[nchosen++] = meta.segs[i];
		}
	}
	if (meta.buf_ndocs == 0 && nchosen == 0)
	{
		MemoryContextSwitchTo(old);
		MemoryContextDelete(cxt);
		return false;
	}

	if (meta.buf_ndocs > 0)
	{
		uint64		len;
		char	   *raw = Bm25ReadBuffer(index, &meta, &len);
		Bm25BufDoc *docs = Bm25ParseBuffer(raw, len, meta.buf_ndocs, meta.positions, index);
		CoreError	err = {0};

		mem = bm25_mem_create(meta.positions);
		if (mem == NULL)
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		Bm25Track(cxt, FreeMemIndex, mem);
		for (uint64 d = 0; d < meta.buf_ndocs; d++)
			if (bm25_mem_add_doc(mem, docs[d].docid, docs[d].dl, docs[d].terms, docs[d].nterms,
								 &err) != CORE_OK)
				Bm25ReportCore(&err, "merging the insert buffer", index);
	}
	for (int i = 0; i < nchosen; i++)
	{
		readers[i] = Bm25OpenSegment(index, &chosen[i], meta.positions);
		drop[i] = chosen[i].serial;
	}
	src.segs = readers;
	src.nsegs = nchosen;
	src.mem = mem;
	if (callback)
	{
		keep.callback = callback;
		keep.state = callback_state;
		src.keep = KeepDoc;
		src.keep_arg = &keep;
	}
	Bm25WriteSegment(index, &src, meta.positions, &out, meta.next_serial, &ndead);
	Bm25SetSegments(index, drop, nchosen, &out, meta.buf_ndocs > 0, meta.buf_nbytes);
	if (out.ndocs == 0 && out.nterms == 0)
		Bm25FreeSegmentPages(index, &out);
	for (int i = 0; i < nchosen; i++)
		Bm25FreeSegmentPages(index, &chosen[i]);
	if (meta.buf_ndocs > 0)
		Bm25FreeBufferPages(index, meta.buf_head);
	if (stats)
		stats->tuples_removed += ndead;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return true;
}

bool
bm25insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
		   IndexInfo *indexInfo)
{
	MemoryContext cxt;
	MemoryContext old;
	Bm25Tokenizer tok;
	Bm25MetaPageData meta;
	Bm25Bag    *bag;
	StringInfoData rec;
	Buffer		metabuf;
	bool		full;

	if (isnull[0])
		return false;
	cxt = AllocSetContextCreate(CurrentMemoryContext, "lance_bm25 insert", ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(cxt);

	Bm25ReadMeta(index, &meta);
	tok.kind = meta.tokenizer;
	tok.ts_config = meta.ts_config;
	tok.positions = meta.positions;
	bag = bm25_bag_create();
	if (bag == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	Bm25Track(cxt, FreeBag, bag);
	Bm25TokenizeDatum(&tok, values[0], Bm25IndexIsArray(index), bag);
	initStringInfo(&rec);
	SerializeDoc(&rec, Bm25DocId(heap_tid), bag, meta.positions);

	LockPage(index, BM25_META_BLKNO, ShareLock);
	metabuf = ReadBuffer(index, BM25_META_BLKNO);
	LockBuffer(metabuf, BUFFER_LOCK_EXCLUSIVE);
	AppendToBuffer(index, metabuf, rec.data, rec.len, bm25_bag_dl(bag));
	{
		Bm25MetaPage m = Bm25PageGetMeta(BufferGetPage(metabuf));

		full = m->buf_ndocs >= BM25_BUFFER_DOCS || m->buf_nbytes >= BM25_BUFFER_BYTES;
	}
	UnlockReleaseBuffer(metabuf);

	/* readers hold the lock shared; if any are busy, a later insert flushes */
	if (full && ConditionalLockPage(index, BM25_META_BLKNO, ExclusiveLock))
	{
		Bm25Flush(index, NULL, NULL, NULL);
		UnlockPage(index, BM25_META_BLKNO, ExclusiveLock);
	}
	UnlockPage(index, BM25_META_BLKNO, ShareLock);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
	return false;
}

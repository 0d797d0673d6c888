/*-------------------------------------------------------------------------
 *
 * ivfpq_check.c
 *	  lance_ivfpq_check(index): verify an index's structure.
 *
 * Checks the meta page, that the centroid and codebook pages hold finite
 * floats, that every list's chain is made of entry pages that belong to no
 * other list, ends at the directory's tail and holds well-formed entries,
 * and that every other block is an unused (new) page, which a crash between
 * extending the file and logging the page can leave behind.  The index is
 * locked in SHARE mode, so inserts wait and the structure holds still;
 * scans go on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "am/ivfpq/ivfpq.h"
#include "catalog/pg_class.h"
#include "fmgr.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

/* report the first problem found; the format starts with the index name */
#define CORRUPT(...) \
	ereport(ERROR, \
			(errcode(ERRCODE_INDEX_CORRUPTED), \
			 errmsg(__VA_ARGS__), \
			 errhint("REINDEX the index.")))

typedef struct CheckState
{
	Relation	index;
	const char *name;
	BlockNumber nblocks;
	bool	   *used;			/* block belongs to a structure */
} CheckState;

/*
 * Read a block for checking: in range, not used before, of the given type.
 */
static Buffer
CheckedPage(CheckState *cs, BlockNumber blkno, uint16 page_type, const char *what)
{
	Buffer		buf;
	Page		page;
	IvfpqPageOpaque opaque;

	if (blkno >= cs->nblocks)
		CORRUPT("index \"%s\": %s block %u is past the end (%u blocks)", cs->name, what, blkno, cs->nblocks);
	if (cs->used[blkno])
		CORRUPT("index \"%s\": %s block %u is reached twice", cs->name, what, blkno);
	cs->used[blkno] = true;
	buf = ReadBuffer(cs->index, blkno);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	opaque = IvfpqPageGetOpaque(page);
	if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfpqPageOpaqueData)) ||
		opaque->page_id != IVFPQ_PAGE_ID || opaque->page_type != page_type)
		CORRUPT("index \"%s\": block %u is not a %s page", cs->name, blkno, what);
	return buf;
}

/*
 * Check count floats from block start: the right pages, finite values.
 */
static void
CheckFloats(CheckState *cs, BlockNumber start, Size count, const char *what)
{
	BlockNumber blkno = start;

	while (count > 0)
	{
		Size		n = Min(count, IVFPQ_FLOATS_PER_PAGE);
		Buffer		buf = CheckedPage(cs, blkno, IVFPQ_PAGE_FLOATS, what);
		const float *f = (const float *) PageGetContents(BufferGetPage(buf));

		for (Size i = 0; i < n; i++)
			if (!isfinite(f[i]))
				CORRUPT("index \"%s\": %s block %u holds a non-finite value at %zu", cs->name, what, blkno, i);
		UnlockReleaseBuffer(buf);
		count -= n;
		blkno++;
	}
}

/*
 * Walk one list; return its entry count.
 */
static int64
CheckList(CheckState *cs, int list, IvfpqListData entry, int m)
{
	BlockNumber blkno = entry.head;
	BlockNumber last = InvalidBlockNumber;
	int64		count = 0;

	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf = CheckedPage(cs, blkno, IVFPQ_PAGE_ENTRIES, "entry");
		Page		page = BufferGetPage(buf);
		OffsetNumber maxoff = PageGetMaxOffsetNumber(page);

		if (maxoff > IVFPQ_MAX_ITEMS_PER_PAGE)
			CORRUPT("index \"%s\": list %d block %u holds %u items, more than fit on a page",
					cs->name, list, blkno, maxoff);
		for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
		{
			ItemId		iid = PageGetItemId(page, off);

			if (!ItemIdIsNormal(iid))
				continue;
			if (ItemIdGetLength(iid) != IVFPQ_TUPLE_SIZE(m))
				CORRUPT("index \"%s\": list %d block %u item %u has %u bytes, expected %zu",
						cs->name, list, blkno, off, ItemIdGetLength(iid), IVFPQ_TUPLE_SIZE(m));
			if (!ItemPointerIsValid(&((IvfpqTuple) PageGetItem(page, iid))->heap_tid))
				CORRUPT("index \"%s\": list %d block %u item %u has an invalid heap TID",
						cs->name, list, blkno, off);
			count++;
		}
		last = blkno;
		blkno = IvfpqPageGetOpaque(page)->next;
		UnlockReleaseBuffer(buf);
	}
	if (last != entry.tail)
		CORRUPT("index \"%s\": list %d ends at block %u but its tail is block %u",
				cs->name, list, last, entry.tail);
	return count;
}

PG_FUNCTION_INFO_V1(lance_ivfpq_check);

/*
 * lance_ivfpq_check(regclass) returns the number of entries, or raises
 * index_corrupted naming the first problem found.
 */
Datum
lance_ivfpq_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	index = index_open(indexoid, ShareLock);
	CheckState	cs;
	IvfpqMetaPageData meta;
	Buffer		buf;
	int64		entries = 0;

	if (index->rd_indam->ambuild != ivfpqbuild)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a lance_ivfpq index", RelationGetRelationName(index))));

	cs.index = index;
	cs.name = RelationGetRelationName(index);
	cs.nblocks = RelationGetNumberOfBlocks(index);
	cs.used = palloc0(sizeof(bool) * Max(cs.nblocks, 1));

	buf = CheckedPage(&cs, IVFPQ_METAPAGE_BLKNO, IVFPQ_PAGE_META, "meta");
	meta = *IvfpqPageGetMeta(BufferGetPage(buf));
	UnlockReleaseBuffer(buf);
	if (meta.magic != IVFPQ_MAGIC || meta.version != IVFPQ_VERSION)
		CORRUPT("index \"%s\": meta page has magic 0x%08x version %u", cs.name, meta.magic, meta.version);
	if (meta.dim < 1 || meta.lists < 1 || meta.lists > IVFPQ_MAX_LISTS ||
		meta.num_sub_vectors < 1 || meta.dim % meta.num_sub_vectors != 0 ||
		meta.num_bits != PQ_NBITS ||
		meta.metric < IVFPQ_METRIC_L2 || meta.metric > IVFPQ_METRIC_COSINE)
		CORRUPT("index \"%s\": meta page holds dim %d, lists %d, num_sub_vectors %d, num_bits %d, metric %d",
				cs.name, meta.dim, meta.lists, meta.num_sub_vectors, meta.num_bits, meta.metric);

	CheckFloats(&cs, meta.centroid_start, (Size) meta.lists * meta.dim, "centroid");
	CheckFloats(&cs, meta.codebook_start, (Size) PQ_KSUB * meta.dim, "codebook");

	for (int l = 0; l < meta.lists; l += IVFPQ_LISTS_PER_PAGE)
	{
		BlockNumber dirblk = meta.directory_start + l / IVFPQ_LISTS_PER_PAGE;
		int			n = Min(meta.lists - l, (int) IVFPQ_LISTS_PER_PAGE);
		IvfpqListData *dir = palloc(sizeof(IvfpqListData) * n);

		buf = CheckedPage(&cs, dirblk, IVFPQ_PAGE_DIRECTORY, "directory");
		memcpy(dir, PageGetContents(BufferGetPage(buf)), sizeof(IvfpqListData) * n);
		UnlockReleaseBuffer(buf);
		for (int i = 0; i < n; i++)
			entries += CheckList(&cs, l + i, dir[i], meta.num_sub_vectors);
		pfree(dir);
	}

	for (BlockNumber blkno = 0; blkno < cs.nblocks; blkno++)
	{
		bool		isnew;

		if (cs.used[blkno])
			continue;
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		isnew = PageIsNew(BufferGetPage(buf));
		UnlockReleaseBuffer(buf);
		if (!isnew)
			CORRUPT("index \"%s\": block %u belongs to no list", cs.name, blkno);
	}

	index_close(index, ShareLock);
	PG_RETURN_INT64(entries);
}

/*-------------------------------------------------------------------------
 *
 * ivfpq_vacuum.c
 *	  lance_ivfpq: remove entries of dead rows.
 *
 * Every list is walked page by page; a page with entries whose heap rows
 * VACUUM reports dead is rewritten without them under one generic WAL
 * record.  Item numbers change, which is safe: a scan copies a page's
 * entries under its lock and keeps no item pointers into it.
 * Pages stay in their lists even when empty (inserts only append to a
 * list's tail), so the structure never changes shape during a vacuum and
 * concurrent scans and inserts need no more than their page locks.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "am/ivfpq/ivfpq.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "utils/rel.h"

/*
 * Rewrite a page without the given (ascending) items.  PageIndexMultiDelete
 * would do, but it assumes at most MaxIndexTuplesPerPage items, and entries
 * with short codes pack more than that onto a page.
 */
static void
CompactPage(Page page, const OffsetNumber *dead, int ndead)
{
	PGAlignedBlock tmp;
	OffsetNumber maxoff = PageGetMaxOffsetNumber(page);
	int			d = 0;

	memcpy(tmp.data, page, BLCKSZ);
	IvfpqInitPage(page, IVFPQ_PAGE_ENTRIES);
	IvfpqPageGetOpaque(page)->next = IvfpqPageGetOpaque(tmp.data)->next;
	for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
	{
		ItemId		iid = PageGetItemId(tmp.data, off);

		if (d < ndead && dead[d] == off)
		{
			d++;
			continue;
		}
		if (!ItemIdIsNormal(iid))
			continue;
		if (PageAddItem(page, PageGetItem(tmp.data, iid), ItemIdGetLength(iid),
						InvalidOffsetNumber, false, false) == InvalidOffsetNumber)
			elog(ERROR, "could not re-add an index entry while compacting a page");
	}
}

/*
 * Walk every list, deleting (when callback is not NULL) the entries it
 * reports dead, and count the entries that remain.
 */
static void
WalkLists(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
		  IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	const IvfpqCache *cache = IvfpqGetCache(index);
	int			lists = cache->meta.lists;
	BlockNumber dirstart = cache->meta.directory_start;

	for (int l = 0; l < lists; l++)
	{
		Buffer		buf;
		BlockNumber blkno;

		buf = ReadBufferExtended(index, MAIN_FORKNUM, dirstart + l / IVFPQ_LISTS_PER_PAGE,
								 RBM_NORMAL, info->strategy);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		blkno = IvfpqDirectoryEntry(BufferGetPage(buf), l)->head;
		UnlockReleaseBuffer(buf);

		while (BlockNumberIsValid(blkno))
		{
			OffsetNumber dead[IVFPQ_MAX_ITEMS_PER_PAGE];
			int			ndead = 0;
			Page		page;
			OffsetNumber maxoff;

			vacuum_delay_point();
			buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL, info->strategy);
			LockBuffer(buf, callback ? BUFFER_LOCK_EXCLUSIVE : BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			maxoff = PageGetMaxOffsetNumber(page);
			if (maxoff > IVFPQ_MAX_ITEMS_PER_PAGE)
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("index \"%s\": block %u holds %u items, more than fit on a page",
								RelationGetRelationName(index), blkno, maxoff)));
			for (OffsetNumber off = FirstOffsetNumber; off <= maxoff; off++)
			{
				ItemId		iid = PageGetItemId(page, off);
				IvfpqTuple	tup;

				if (!ItemIdIsNormal(iid))
					continue;
				tup = (IvfpqTuple) PageGetItem(page, iid);
				if (callback && callback(&tup->heap_tid, callback_state))
					dead[ndead++] = off;
				else
					stats->num_index_tuples += 1;
			}
			if (ndead > 0)
			{
				GenericXLogState *state = GenericXLogStart(index);
				Page		wpage = GenericXLogRegisterBuffer(state, buf, 0);

				CompactPage(wpage, dead, ndead);
				GenericXLogFinish(state);
				stats->tuples_removed += ndead;
			}
			blkno = IvfpqPageGetOpaque(page)->next;
			UnlockReleaseBuffer(buf);
		}
	}
}

/*
 * ambulkdelete
 */
IndexBulkDeleteResult *
ivfpqbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				IndexBulkDeleteCallback callback, void *callback_state)
{
	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	stats->num_index_tuples = 0;
	WalkLists(info, stats, callback, callback_state);
	return stats;
}

/*
 * amvacuumcleanup: count the entries when no bulk delete ran.
 */
IndexBulkDeleteResult *
ivfpqvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		WalkLists(info, stats, NULL, NULL);
	}
	stats->num_pages = RelationGetNumberOfBlocks(info->index);
	return stats;
}

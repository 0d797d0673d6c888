/*-------------------------------------------------------------------------
 *
 * hnsw_vacuum.c
 *	  VACUUM: remove elements of dead rows and repair the links around them.
 *
 * Four passes over the element pages:
 *	1. mark the elements whose heap rows are dead (scans then walk through
 *	   them but no longer return them, and inserts no longer link to them);
 *	2. with inserts held off (HNSW_UPDATE_LOCK exclusive), give every live
 *	   element that links to a dead one a new list, chosen with the
 *	   selection heuristic among its live neighbours and the dead
 *	   neighbours' live neighbours, so the graph stays connected; move the
 *	   entry point off a dead element;
 *	3. delete the dead items (their line pointers become unused, so ids of
 *	   live elements do not move) and record the freed space in the free
 *	   space map for later inserts;
 *	4. link back the live elements level 0 no longer reaches from the entry
 *	   point (hnsw_reach.c): the repair's pruning, and an entry point moved
 *	   to another element, can cut whole regions off.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "am/hnsw/hnsw.h"
#include "commands/vacuum.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"

typedef struct IdList
{
	uint32	   *ids;
	int			n;
	int			cap;
} IdList;

static void
IdListAdd(IdList *list, uint32 id)
{
	if (list->n == list->cap)
	{
		list->cap = list->cap == 0 ? 256 : list->cap * 2;
		list->ids = list->ids == NULL ? palloc(sizeof(uint32) * list->cap) :
			repalloc_huge(list->ids, sizeof(uint32) * list->cap);
	}
	list->ids[list->n++] = id;
}

static int
CompareIds(const void *a, const void *b)
{
	uint32		x = *(const uint32 *) a;
	uint32		y = *(const uint32 *) b;

	return x < y ? -1 : x > y;
}

static bool
IdListContains(const IdList *list, uint32 id)
{
	return bsearch(&id, list->ids, list->n, sizeof(uint32), CompareIds) != NULL;
}

/* Copy an element's vector and its links at a level; false if gone. */
static bool
ReadElement(Relation index, const HnswShape *shape, uint32 id, int level,
			float *vec, uint32 *slots, bool *deleted)
{
	Buffer		buf = ReadBuffer(index, HnswIdBlock(id));
	HnswElementTuple etup;
	bool		found = false;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	etup = HnswGetElement(BufferGetPage(buf), id);
	if (etup != NULL && level <= etup->level)
	{
		if (vec)
			HnswDecode(etup, shape->dim, vec);
		memcpy(slots, HnswElementSlots(etup, shape->dim) + HnswLevelStart(shape->m, level),
			   sizeof(uint32) * HnswLevelSlots(shape->m, level));
		*deleted = (etup->flags & HNSW_ELEMENT_DELETED) != 0;
		found = true;
	}
	UnlockReleaseBuffer(buf);
	return found;
}

/*
 * Give element id a new list at a level without the dead elements: the
 * heuristic's pick among its live neighbours and its dead neighbours' live
 * neighbours.
 */
static void
RepairLinks(Relation index, const HnswShape *shape, uint32 id, int level,
			const IdList *dead)
{
	int			nslots = HnswLevelSlots(shape->m, level);
	int			maxCands = nslots * (nslots + 1);
	float	   *vec = palloc(sizeof(float) * shape->dim);
	uint32	   *slots = palloc(sizeof(uint32) * nslots);
	uint32	   *dslots = palloc(sizeof(uint32) * nslots);
	uint32	   *candIds = palloc(sizeof(uint32) * maxCands);
	HnswCandidate *cands = palloc(sizeof(HnswCandidate) * maxCands);
	float	   *vecs = palloc(sizeof(float) * shape->dim * maxCands);
	const float **vecPtrs = palloc(sizeof(float *) * maxCands);
	uint32	   *chosen = palloc(sizeof(uint32) * nslots);
	int			ncandIds = 0;
	int			ncands = 0;
	int			nchosen;
	bool		deleted;
	Buffer		buf;
	GenericXLogState *state;
	HnswElementTuple etup;
	uint32	   *dst;

	if (!ReadElement(index, shape, id, level, vec, slots, &deleted) || deleted)
		return;

	for (int i = 0; i < nslots; i++)
	{
		if (slots[i] == HNSW_INVALID_ID)
			continue;
		if (!IdListContains(dead, slots[i]))
			candIds[ncandIds++] = slots[i];
		else if (ReadElement(index, shape, slots[i], level, NULL, dslots, &deleted))
		{
			for (int j = 0; j < nslots; j++)
				if (dslots[j] != HNSW_INVALID_ID && dslots[j] != id &&
					!IdListContains(dead, dslots[j]))
					candIds[ncandIds++] = dslots[j];
		}
	}

	/* distances, dropping duplicates and elements gone meanwhile */
	for (int i = 0; i < ncandIds; i++)
	{
		bool		dup = false;
		float	   *v = vecs + (Size) ncands * shape->dim;
		int			j;

		for (j = 0; j < ncands; j++)
			if (cands[j].id == candIds[i])
				dup = true;
		if (dup || !ReadElement(index, shape, candIds[i], level, v, dslots, &deleted) || deleted)
			continue;

		/* insertion sort by distance */
		{
			HnswCandidate c;

			c.id = candIds[i];
			c.dist = HnswDistance(shape->metric, vec, v, shape->dim);
			c.deleted = false;
			j = ncands - 1;
			while (j >= 0 && cands[j].dist > c.dist)
			{
				cands[j + 1] = cands[j];
				vecPtrs[j + 1] = vecPtrs[j];
				j--;
			}
			cands[j + 1] = c;
			vecPtrs[j + 1] = v;
			ncands++;
		}
	}
	nchosen = HnswSelectNeighbors(shape->metric, shape->dim, cands, ncands, vecPtrs,
								  nslots, true, chosen);

	buf = ReadBuffer(index, HnswIdBlock(id));
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	etup = HnswGetElement(GenericXLogRegisterBuffer(state, buf, 0), id);
	if (etup == NULL)
	{
		GenericXLogAbort(state);
		UnlockReleaseBuffer(buf);
		return;
	}
	dst = HnswElementSlots(etup, shape->dim) + HnswLevelStart(shape->m, level);
	for (int i = 0; i < nslots; i++)
		dst[i] = i < nchosen ? chosen[i] : HNSW_INVALID_ID;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);

	pfree(vec);
	pfree(slots);
	pfree(dslots);
	pfree(candIds);
	pfree(cands);
	pfree(vecs);
	pfree(vecPtrs);
	pfree(chosen);
}

/* Pass 2: repair every live element that links to a dead one. */
static void
RepairGraph(Relation index, const HnswShape *shape, const IdList *dead,
			BufferAccessStrategy strategy)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	IdList		todo = {0};
	IdList		todoLevels = {0};

	for (BlockNumber blk = 1; blk < nblocks; blk++)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
		Page		page;

		vacuum_delay_point();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		todo.n = 0;
		todoLevels.n = 0;
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			uint32		id = HnswIdMake(blk, off);
			HnswElementTuple etup = HnswGetElement(page, id);

			if (etup == NULL || (etup->flags & HNSW_ELEMENT_DELETED))
				continue;
			for (int level = 0; level <= etup->level; level++)
			{
				const uint32 *slots = HnswElementSlots(etup, shape->dim) +
					HnswLevelStart(shape->m, level);

				for (int i = 0; i < HnswLevelSlots(shape->m, level); i++)
				{
					if (slots[i] != HNSW_INVALID_ID && IdListContains(dead, slots[i]))
					{
						IdListAdd(&todo, id);
						IdListAdd(&todoLevels, (uint32) level);
						break;
					}
				}
			}
		}
		UnlockReleaseBuffer(buf);

		for (int i = 0; i < todo.n; i++)
			RepairLinks(index, shape, todo.ids[i], (int) todoLevels.ids[i], dead);
	}
}

/* Move the entry point off a dead element, to the highest live one. */
static void
ReplaceEntry(Relation index, const IdList *dead, uint32 bestId, int bestLevel)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	HnswMetaPage meta;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (HnswPageGetMeta(BufferGetPage(buf))->entryId == HNSW_INVALID_ID ||
		!IdListContains(dead, HnswPageGetMeta(BufferGetPage(buf))->entryId))
	{
		UnlockReleaseBuffer(buf);
		return;
	}
	state = GenericXLogStart(index);
	meta = HnswPageGetMeta(GenericXLogRegisterBuffer(state, buf, 0));
	meta->entryId = bestId;
	meta->entryLevel = bestId == HNSW_INVALID_ID ? -1 : bestLevel;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/* Pass 3: delete the dead items, page by page. */
static void
RemoveDead(Relation index, const IdList *dead, BufferAccessStrategy strategy)
{
	int			i = 0;

	while (i < dead->n)
	{
		BlockNumber blk = HnswIdBlock(dead->ids[i]);
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
		GenericXLogState *state;
		Page		page;

		vacuum_delay_point();
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		for (; i < dead->n && HnswIdBlock(dead->ids[i]) == blk; i++)
		{
			if (HnswGetElement(page, dead->ids[i]) != NULL)
				PageIndexTupleDeleteNoCompact(page, HnswIdOffset(dead->ids[i]));
		}
		/* let PageAddItem reuse the unused line pointers left behind */
		PageSetHasFreeLinePointers(page);
		GenericXLogFinish(state);
		RecordPageWithFreeSpace(index, blk, PageGetFreeSpace(BufferGetPage(buf)));
		UnlockReleaseBuffer(buf);
	}
}

/*
 * ambulkdelete
 */
IndexBulkDeleteResult *
hnswbulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			   IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	HnswShape	shape;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	IdList		dead = {0};
	HnswMetaPageData meta;
	uint32		bestId = HNSW_INVALID_ID;
	int			bestLevel = -1;

	if (stats == NULL)
		stats = palloc0(sizeof(IndexBulkDeleteResult));
	HnswGetShape(index, &shape);

	/* pass 1: mark */
	for (BlockNumber blk = 1; blk < nblocks; blk++)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, info->strategy);
		GenericXLogState *state = NULL;
		Page		page;

		vacuum_delay_point();
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			uint32		id = HnswIdMake(blk, off);
			HnswElementTuple etup = HnswGetElement(page, id);

			if (etup == NULL)
				continue;
			if (!(etup->flags & HNSW_ELEMENT_DELETED) && callback(&etup->heaptid, callback_state))
			{
				if (state == NULL)
				{
					state = GenericXLogStart(index);
					page = GenericXLogRegisterBuffer(state, buf, 0);
					etup = HnswGetElement(page, id);
				}
				etup->flags |= HNSW_ELEMENT_DELETED;
				stats->tuples_removed++;
			}
			if (etup->flags & HNSW_ELEMENT_DELETED)
				IdListAdd(&dead, id);
			else
			{
				stats->num_index_tuples++;
				if (etup->level > bestLevel)
				{
					bestLevel = etup->level;
					bestId = id;
				}
			}
		}
		if (state != NULL)
			GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
	}

	if (dead.n > 0)
	{
		qsort(dead.ids, dead.n, sizeof(uint32), CompareIds);
		LockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
		RepairGraph(index, &shape, &dead, info->strategy);
		ReplaceEntry(index, &dead, bestId, bestLevel);
		RemoveDead(index, &dead, info->strategy);
		HnswReadMeta(index, &meta);
		HnswRelinkUnreachable(index, &shape, meta.entryId, meta.entryLevel);
		UnlockPage(index, HNSW_UPDATE_LOCK, ExclusiveLock);
		pfree(dead.ids);
	}
	return stats;
}

/*
 * amvacuumcleanup: report the index's size; count its live elements when
 * no bulk delete ran.
 */
IndexBulkDeleteResult *
hnswvacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	Relation	index = info->index;
	BlockNumber nblocks;

	if (info->analyze_only)
		return stats;

	nblocks = RelationGetNumberOfBlocks(index);
	if (stats == NULL)
	{
		stats = palloc0(sizeof(IndexBulkDeleteResult));
		for (BlockNumber blk = 1; blk < nblocks; blk++)
		{
			Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, info->strategy);
			Page		page;

			vacuum_delay_point();
			LockBuffer(buf, BUFFER_LOCK_SHARE);
			page = BufferGetPage(buf);
			for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
			{
				HnswElementTuple etup = HnswGetElement(page, HnswIdMake(blk, off));

				if (etup != NULL && !(etup->flags & HNSW_ELEMENT_DELETED))
					stats->num_index_tuples++;
			}
			UnlockReleaseBuffer(buf);
		}
	}
	stats->num_pages = nblocks;
	FreeSpaceMapVacuum(index);
	return stats;
}

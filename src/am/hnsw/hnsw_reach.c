/*-------------------------------------------------------------------------
 *
 * hnsw_reach.c
 *	  Which elements level 0 reaches from the entry point, and linking back
 *	  those it does not.
 *
 * A search descends to level 0 and ends there, so an element no chain of
 * level-0 links leads to from the entry point is never returned.  Pruning
 * a full list can cut the last such chain: inserts guard against that as
 * they link (hnsw_insert.c), the build repairs its in-memory graph before
 * writing it, and VACUUM, whose relinking around dead elements and move of
 * the entry point can leave whole regions cut off, relinks on disk here.
 * lance_hnsw_check counts with the same walk.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "am/hnsw/hnsw.h"
#include "miscadmin.h"
#include "utils/rel.h"

static void
AddElement(HnswElementSet *set, uint32 id, int level, bool deleted)
{
	if (set->n == set->cap)
	{
		set->cap = set->cap == 0 ? 1024 : set->cap * 2;
		if (set->ids == NULL)
		{
			set->ids = palloc(sizeof(uint32) * set->cap);
			set->levels = palloc(set->cap);
			set->deleted = palloc(sizeof(bool) * set->cap);
		}
		else
		{
			set->ids = repalloc_huge(set->ids, sizeof(uint32) * set->cap);
			set->levels = repalloc_huge(set->levels, set->cap);
			set->deleted = repalloc_huge(set->deleted, sizeof(bool) * set->cap);
		}
	}
	set->ids[set->n] = id;
	set->levels[set->n] = level;
	set->deleted[set->n] = deleted;
	set->n++;
}

/*
 * Every element of the index, in id order (the order pages are read in),
 * with nothing reached yet.  A page that is not an element page, or an item
 * of the wrong size for its level, is corruption.
 */
void
HnswCollectElements(Relation index, const HnswShape *shape, HnswElementSet *set,
					BufferAccessStrategy strategy)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	memset(set, 0, sizeof(HnswElementSet));
	for (BlockNumber blk = 1; blk < nblocks; blk++)
	{
		Buffer		buf = ReadBufferExtended(index, MAIN_FORKNUM, blk, RBM_NORMAL, strategy);
		Page		page;

		CHECK_FOR_INTERRUPTS();
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) || PageGetSpecialSize(page) != MAXALIGN(sizeof(HnswPageOpaqueData)) ||
			((HnswPageOpaqueData *) PageGetSpecialPointer(page))->pageId != HNSW_PAGE_ID)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\" block %u is not an element page",
							RelationGetRelationName(index), blk)));
		for (OffsetNumber off = FirstOffsetNumber; off <= PageGetMaxOffsetNumber(page); off++)
		{
			HnswElementTuple etup = HnswGetElement(page, HnswIdMake(blk, off));

			if (etup == NULL)
				continue;
			if (ItemIdGetLength(PageGetItemId(page, off)) != HnswElementSize(shape, etup->level))
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("index \"%s\" element (%u,%u) has the wrong size for level %d",
								RelationGetRelationName(index), blk, off, etup->level)));
			AddElement(set, HnswIdMake(blk, off), etup->level,
					   (etup->flags & HNSW_ELEMENT_DELETED) != 0);
		}
		UnlockReleaseBuffer(buf);
	}
	set->reached = palloc0(sizeof(bool) * Max(set->n, 1));
}

/* An element's position in the set, or -1. */
int64
HnswFindElement(const HnswElementSet *set, uint32 id)
{
	int64		lo = 0;
	int64		hi = set->n - 1;

	while (lo <= hi)
	{
		int64		mid = (lo + hi) / 2;

		if (set->ids[mid] == id)
			return mid;
		if (set->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/*
 * Copy an element's links at a level into out (room for level 0's 2m);
 * returns how many slots the level has, 0 if the element is gone or does
 * not live on the level.
 */
int
HnswReadLinks(Relation index, const HnswShape *shape, uint32 id, int level, uint32 *out)
{
	Buffer		buf = ReadBuffer(index, HnswIdBlock(id));
	HnswElementTuple etup;
	int			n = 0;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	etup = HnswGetElement(BufferGetPage(buf), id);
	if (etup != NULL && level <= etup->level)
	{
		n = HnswLevelSlots(shape->m, level);
		memcpy(out, HnswElementSlots(etup, shape->dim) + HnswLevelStart(shape->m, level),
			   sizeof(uint32) * n);
	}
	UnlockReleaseBuffer(buf);
	return n;
}

/*
 * Mark reached everything level-0 links lead to from element id (which
 * must be in the set), id included.
 */
void
HnswReachFrom(Relation index, const HnswShape *shape, HnswElementSet *set, uint32 id)
{
	int64		k = HnswFindElement(set, id);
	uint32	   *links;
	uint32	   *stack;
	int64		nstack = 0;

	if (k < 0 || set->reached[k])
		return;
	links = palloc(sizeof(uint32) * HnswLevelSlots(shape->m, 0));
	stack = palloc(sizeof(uint32) * Max(set->n, 1));
	set->reached[k] = true;
	stack[nstack++] = id;
	while (nstack > 0)
	{
		int			n = HnswReadLinks(index, shape, stack[--nstack], 0, links);

		CHECK_FOR_INTERRUPTS();
		for (int j = 0; j < n; j++)
		{
			int64		t = links[j] == HNSW_INVALID_ID ? -1 : HnswFindElement(set, links[j]);

			if (t >= 0 && !set->reached[t])
			{
				set->reached[t] = true;
				stack[nstack++] = links[j];
			}
		}
	}
	pfree(links);
	pfree(stack);
}

/*
 * Put id into element owner's level-0 list, WAL-logged: into a free slot,
 * or over the last (the farthest kept).  Returns the id it displaced, or
 * HNSW_INVALID_ID.
 */
static uint32
PutLink(Relation index, const HnswShape *shape, uint32 owner, uint32 id)
{
	int			nslots = HnswLevelSlots(shape->m, 0);
	Buffer		buf = ReadBuffer(index, HnswIdBlock(owner));
	GenericXLogState *state;
	HnswElementTuple etup;
	uint32	   *slots;
	uint32		old = HNSW_INVALID_ID;
	int			slot = nslots - 1;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	etup = HnswGetElement(GenericXLogRegisterBuffer(state, buf, 0), owner);
	if (etup == NULL)
		elog(ERROR, "element %u of index \"%s\" vanished while being relinked",
			 owner, RelationGetRelationName(index));
	slots = HnswElementSlots(etup, shape->dim);
	for (int i = nslots - 1; i >= 0; i--)
	{
		if (slots[i] == id)
		{
			GenericXLogAbort(state);
			UnlockReleaseBuffer(buf);
			return HNSW_INVALID_ID;
		}
		if (slots[i] == HNSW_INVALID_ID)
			slot = i;
	}
	old = slots[slot];
	slots[slot] = id;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
	return old;
}

/*
 * The element a greedy descent for element u's vector ends at on level 0,
 * which lies near u (vec is scratch for that vector).
 */
static uint32
GreedyNear(HnswGraphReader reader, Relation index, const HnswShape *shape, uint32 u,
		   float *vec, uint32 entryId, int entryLevel)
{
	Buffer		buf = ReadBuffer(index, HnswIdBlock(u));
	HnswCandidate entry;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	HnswDecode(HnswGetElement(BufferGetPage(buf), u), shape->dim, vec);
	UnlockReleaseBuffer(buf);
	reader.visit(reader.arg, vec, &entryId, 1, &entry);
	entry = HnswGreedyDescend(reader, vec, shape->dim, shape->m, entry, entryLevel, 0);
	return entry.id;
}

/*
 * Link every live element level 0 does not reach from the entry point, as
 * the build does: each such element u is linked from v, the first of its
 * own neighbours that is reached (else where a greedy descent for u ends,
 * if reached, else the entry point), into a free slot of v or in place of
 * v's last link w, and w moves into u's list (a free slot or u's last,
 * which nothing reached depended on since u was not reached): whatever v
 * reached, it still reaches through u.  u's list is written before v's, so
 * a crash in between leaves an extra link, never a lost one.  The caller
 * holds off concurrent changes (HNSW_UPDATE_LOCK exclusive).  Returns how
 * many elements were linked.
 */
int64
HnswRelinkUnreachable(Relation index, const HnswShape *shape, uint32 entryId, int entryLevel)
{
	HnswElementSet set;
	HnswGraphReader reader = HnswDiskReader(index, shape);
	float	   *vec = palloc(sizeof(float) * shape->dim);
	uint32	   *links = palloc(sizeof(uint32) * HnswLevelSlots(shape->m, 0));
	int64		relinked = 0;

	if (entryId == HNSW_INVALID_ID)
		return 0;
	HnswCollectElements(index, shape, &set, NULL);
	HnswReachFrom(index, shape, &set, entryId);
	for (int64 k = 0; k < set.n; k++)
	{
		uint32		u = set.ids[k];
		uint32		v = HNSW_INVALID_ID;
		int			n;
		bool		full;

		CHECK_FOR_INTERRUPTS();
		if (set.reached[k] || set.deleted[k])
			continue;
		n = HnswReadLinks(index, shape, u, 0, links);
		for (int i = 0; i < n && v == HNSW_INVALID_ID; i++)
		{
			int64		t = links[i] == HNSW_INVALID_ID ? -1 : HnswFindElement(&set, links[i]);

			if (t >= 0 && set.reached[t] && !set.deleted[t])
				v = links[i];
		}
		if (v == HNSW_INVALID_ID)
		{
			int64		t;

			v = GreedyNear(reader, index, shape, u, vec, entryId, entryLevel);
			t = HnswFindElement(&set, v);
			if (t < 0 || !set.reached[t] || set.deleted[t])
				v = entryId;
		}

		/* u's list first: w must stay reached through u once v drops it */
		n = HnswReadLinks(index, shape, v, 0, links);
		full = n > 0;
		for (int i = 0; i < n; i++)
			if (links[i] == HNSW_INVALID_ID || links[i] == u)
				full = false;
		if (full)
			PutLink(index, shape, u, links[n - 1]);
		PutLink(index, shape, v, u);
		HnswReachFrom(index, shape, &set, u);
		relinked++;
	}
	pfree(links);
	return relinked;
}

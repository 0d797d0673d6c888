/*-------------------------------------------------------------------------
 *
 * hnsw_insert.c
 *	  Adding one element to an index on disk (aminsert).
 *
 * The paper's INSERT (Algorithm 1): find the element's neighbours level by
 * level, write it with its links, then link each neighbour back, pruning
 * the neighbour's list with the selection heuristic when it is full.
 *
 * Locking: inserts hold the HNSW_UPDATE_LOCK page lock in share mode, so
 * they run concurrently with each other; one that will raise the entry
 * point, and VACUUM while it repairs links, take it exclusively.  Buffer
 * locks are only ever held one at a time (the meta page may be locked
 * while a new page is held), and a neighbour's list is rewritten only if
 * it is still what the pruning decision was computed from.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "am/hnsw/hnsw.h"
#include "miscadmin.h"
#include "storage/freespace.h"
#include "storage/lmgr.h"
#include "types/vector.h"
#include "utils/memutils.h"

/*
 * Times a neighbour's list is re-read when it changed under us.  A forced
 * link (the new element's last way in) is retried longer
 * (lancedb.hnsw_debug_forced_link_tries), since each retry means another
 * insert changed the list and the next try may well succeed; but two
 * inserts rewriting lists the other depends on can keep failing each
 * other's tries, so it too gives up at some point and the caller tries its
 * next pick, and after the last pick holds other inserts off
 * (HnswInsertElement), where nothing else changes lists and the tries
 * below are plenty.
 */
#define HNSW_LINK_RETRIES	3
#define HNSW_FORCED_LINK_RETRIES	100

int			hnsw_debug_forced_link_tries = HNSW_FORCED_LINK_RETRIES;

/*
 * Decode an element's vector (its 8-bit approximation, which is what the
 * graph is navigated by); false if the element is gone or deleted, so
 * that it is not linked to.
 */
static bool
LoadVector(Relation index, const HnswShape *shape, uint32 id, float *out)
{
	Buffer		buf = ReadBuffer(index, HnswIdBlock(id));
	HnswElementTuple etup;
	bool		found = false;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	etup = HnswGetElement(BufferGetPage(buf), id);
	if (etup != NULL && !(etup->flags & HNSW_ELEMENT_DELETED))
	{
		HnswDecode(etup, shape->dim, out);
		found = true;
	}
	UnlockReleaseBuffer(buf);
	return found;
}

/* Whether an element item of size bytes fits on a page. */
static bool
PageFits(Page page, Size size)
{
	if (PageGetFreeSpace(page) < MAXALIGN(size))
		return false;
	return PageGetMaxOffsetNumber(page) < HNSW_MAX_PER_PAGE || PageHasFreeLinePointers(page);
}

/* Add the item to a locked buffer's page, WAL-logged; returns its id. */
static uint32
AddToBuffer(Relation index, Buffer buf, HnswElementTuple etup, Size size, bool newPage)
{
	GenericXLogState *state = GenericXLogStart(index);
	Page		page = GenericXLogRegisterBuffer(state, buf, newPage ? GENERIC_XLOG_FULL_IMAGE : 0);
	OffsetNumber off;

	if (newPage)
		HnswInitPage(page);
	off = PageAddItem(page, (Item) etup, size, InvalidOffsetNumber, false, false);
	if (off == InvalidOffsetNumber || off > HNSW_MAX_PER_PAGE)
		elog(ERROR, "failed to add element to index \"%s\"", RelationGetRelationName(index));
	GenericXLogFinish(state);
	return HnswIdMake(BufferGetBlockNumber(buf), off);
}

/* Point the meta page's insert hint at a new last page. */
static void
SetLastBlock(Relation index, BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	HnswMetaPage meta;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	meta = HnswPageGetMeta(GenericXLogRegisterBuffer(state, buf, 0));
	if (meta->lastBlock < blkno)
		meta->lastBlock = blkno;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Store an element item on a page with room: one the free space map knows
 * (space freed by VACUUM), else the last page, else a new page.  *hint is
 * the last page, kept up to date.  Returns the element's id.
 */
uint32
HnswAddElementItem(Relation index, const HnswShape *shape, HnswElementTuple etup,
				   Size size, BlockNumber *hint)
{
	BlockNumber tries[2];
	Buffer		buf;
	BlockNumber blkno;
	uint32		id;

	tries[0] = GetPageWithFreeSpace(index, MAXALIGN(size) + sizeof(ItemIdData));
	tries[1] = *hint;
	for (int i = 0; i < 2; i++)
	{
		if (tries[i] == InvalidBlockNumber || tries[i] == HNSW_METAPAGE_BLKNO)
			continue;
		buf = ReadBuffer(index, tries[i]);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		if (PageFits(BufferGetPage(buf), size))
		{
			id = AddToBuffer(index, buf, etup, size, false);
			UnlockReleaseBuffer(buf);
			return id;
		}
		if (i == 0)
			RecordPageWithFreeSpace(index, tries[i], PageGetFreeSpace(BufferGetPage(buf)));
		UnlockReleaseBuffer(buf);
	}

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBuffer(index, P_NEW);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	blkno = BufferGetBlockNumber(buf);
	if (blkno > HNSW_MAX_BLOCK)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("index \"%s\" cannot grow past %u pages",
						RelationGetRelationName(index), HNSW_MAX_BLOCK)));
	id = AddToBuffer(index, buf, etup, size, true);
	UnlockReleaseBuffer(buf);
	SetLastBlock(index, blkno);
	*hint = blkno;
	return id;
}

/*
 * Drop from spare (nslots entries) the ids that list (the new element's
 * level-0 list, nslots entries) no longer holds.
 */
static void
SpareKeepHeld(uint32 *spare, int nslots, const uint32 *list)
{
	for (int j = 0; j < nslots; j++)
	{
		bool		held = false;

		for (int i = 0; i < nslots && !held; i++)
			held = list[i] == spare[j];
		if (!held)
			spare[j] = HNSW_INVALID_ID;
	}
}

/*
 * Put ids into the new element's list at a level, all or none: each takes
 * a free slot unless it is there already.  spare (level 0 only, else NULL)
 * holds those of the element's own picks that nothing depends on being
 * linked from it: they were reached before it existed.  When takeSpare (a
 * forced link, below), a slot holding one of them may be taken too.  Once
 * the ids are in, spare keeps only the ids the list still holds (one whose
 * slot was taken is gone); whether the ids put in may be dropped again is
 * for the caller to say (SpareRemove, SpareAdd).  The ids put in that were
 * not there before are copied to added (when not NULL; room for n), their
 * count to *nadded.  Returns whether the list holds every id.
 */
static bool
MoveIntoNew(Relation index, const HnswShape *shape, uint32 newId, int level,
			const uint32 *ids, int n, uint32 *spare, bool takeSpare,
			uint32 *added, int *nadded)
{
	int			nslots = HnswLevelSlots(shape->m, level);
	int			start = HnswLevelStart(shape->m, level);
	uint32	   *next = palloc(sizeof(uint32) * nslots);
	Buffer		buf = ReadBuffer(index, HnswIdBlock(newId));
	HnswElementTuple etup;
	GenericXLogState *state;
	bool		fits = true;
	int			nput = 0;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	etup = HnswGetElement(BufferGetPage(buf), newId);
	if (etup == NULL)
		elog(ERROR, "element being inserted into index \"%s\" is missing",
			 RelationGetRelationName(index));
	memcpy(next, HnswElementSlots(etup, shape->dim) + start, sizeof(uint32) * nslots);
	for (int k = 0; k < n && fits; k++)
	{
		int			slot = -1;
		bool		present = false;

		for (int i = 0; i < nslots && !present; i++)
		{
			if (next[i] == ids[k])
				present = true;
			else if (next[i] == HNSW_INVALID_ID && slot < 0)
				slot = i;
		}
		/* else the farthest spare pick (picks are in distance order) */
		for (int i = nslots - 1; takeSpare && !present && slot < 0 && i >= 0; i--)
			for (int j = 0; j < nslots; j++)
				if (spare[j] != HNSW_INVALID_ID && spare[j] == next[i])
					slot = i;
		if (present)
			continue;
		if (slot < 0)
			fits = false;
		else
		{
			next[slot] = ids[k];
			if (added != NULL)
				added[nput++] = ids[k];
		}
	}
	if (fits && memcmp(next, HnswElementSlots(etup, shape->dim) + start,
					   sizeof(uint32) * nslots) != 0)
	{
		state = GenericXLogStart(index);
		etup = HnswGetElement(GenericXLogRegisterBuffer(state, buf, 0), newId);
		memcpy(HnswElementSlots(etup, shape->dim) + start, next, sizeof(uint32) * nslots);
		GenericXLogFinish(state);
	}
	UnlockReleaseBuffer(buf);

	if (fits && spare != NULL)
		SpareKeepHeld(spare, nslots, next);
	if (nadded != NULL)
		*nadded = fits ? nput : 0;
	pfree(next);
	return fits;
}

/*
 * Take ids out of spare (nslots entries, HNSW_INVALID_ID where free): a
 * link now depends on the new element reaching them.
 */
static void
SpareRemove(uint32 *spare, int nslots, const uint32 *ids, int n)
{
	for (int k = 0; k < n; k++)
		for (int j = 0; j < nslots; j++)
			if (spare[j] == ids[k])
				spare[j] = HNSW_INVALID_ID;
}

/*
 * Mark ids spare again: nothing depends on them after all.  They are in
 * the new element's list, as is every id spare holds (MoveIntoNew keeps it
 * so), so there is room for them.
 */
static void
SpareAdd(uint32 *spare, int nslots, const uint32 *ids, int n)
{
	for (int k = 0; k < n; k++)
	{
		int			j;
		int			free = -1;

		for (j = 0; j < nslots && spare[j] != ids[k]; j++)
			if (spare[j] == HNSW_INVALID_ID && free < 0)
				free = j;
		if (j == nslots && free >= 0)
			spare[free] = ids[k];
	}
}

/*
 * Link element "from" to newId at a level; returns whether the link is
 * there.  A free slot takes it directly; a full list is pruned with the
 * heuristic over its current members plus the new one, and rewritten only
 * if the new one survives, or, when forced, in place of the farthest member
 * the heuristic did not keep.  The members a rewrite drops first move into
 * the new element's list (MoveIntoNew; a forced link may take a spare
 * slot): from then links to the new element, so whatever it reached it
 * still reaches, and pruning never cuts an element off.  If they do not
 * fit, the list stays.
 *
 * If the list changed while the rewrite was decided (another insert
 * linked to it), the decision is made again, a bounded number of times.
 * The members the abandoned decision moved into the new element's list
 * stay there, but nothing depends on those links: the rewrite that would
 * have dropped them never happened, and the one that did moved whatever
 * it dropped into its own new element.  So they become spare again, or a
 * hot neighbour that many inserts link to at once would fill the new
 * element's list with them within a few retries and leave no room for the
 * forced link, the element's last way in (that is how concurrent inserts
 * of near-equal vectors, which all pick the same neighbour, left elements
 * unreachable).  The members a rewrite drops stop being spare only once
 * that rewrite is written.
 *
 * forceTries is 0 for an ordinary link, else the tries a forced one gets.
 */
static bool
AddLink(Relation index, const HnswShape *shape, uint32 from, int level,
		uint32 newId, const float *newVec, int forceTries, uint32 *spare)
{
	bool		force = forceTries > 0;
	int			nslots = HnswLevelSlots(shape->m, level);
	int			start = HnswLevelStart(shape->m, level);
	uint32	   *seen = palloc(sizeof(uint32) * nslots);
	float	   *fromVec = palloc(sizeof(float) * shape->dim);
	float	   *vecs = palloc(sizeof(float) * shape->dim * (nslots + 1));
	const float **vecPtrs = palloc(sizeof(float *) * (nslots + 1));
	HnswCandidate *cands = palloc(sizeof(HnswCandidate) * (nslots + 1));
	uint32	   *chosen = palloc(sizeof(uint32) * nslots);
	uint32	   *dropped = palloc(sizeof(uint32) * nslots);
	uint32	   *added = palloc(sizeof(uint32) * nslots);
	bool		linked = false;

	for (int attempt = 0; attempt < (force ? forceTries : HNSW_LINK_RETRIES); attempt++)
	{
		Buffer		buf = ReadBuffer(index, HnswIdBlock(from));
		HnswElementTuple etup;
		uint32	   *slots;
		int			free = -1;
		int			ncands = 0;
		int			nchosen;
		int			ndropped = 0;
		bool		kept = false;
		int			nadded = 0;
		bool		gone;
		GenericXLogState *state;

		CHECK_FOR_INTERRUPTS();

		/* read the list; take a free slot at once */
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		etup = HnswGetElement(BufferGetPage(buf), from);
		if (etup == NULL || level > etup->level)
		{
			UnlockReleaseBuffer(buf);
			break;
		}
		slots = HnswElementSlots(etup, shape->dim) + start;
		for (int i = 0; i < nslots; i++)
		{
			if (slots[i] == newId)
			{
				free = -2;
				break;
			}
			if (slots[i] == HNSW_INVALID_ID && free == -1)
				free = i;
		}
		if (free == -2)
		{
			UnlockReleaseBuffer(buf);
			linked = true;
			break;
		}
		if (free >= 0)
		{
			state = GenericXLogStart(index);
			etup = HnswGetElement(GenericXLogRegisterBuffer(state, buf, 0), from);
			HnswElementSlots(etup, shape->dim)[start + free] = newId;
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			linked = true;
			break;
		}
		memcpy(seen, slots, sizeof(uint32) * nslots);
		HnswDecode(etup, shape->dim, fromVec);
		UnlockReleaseBuffer(buf);

		/* full: decide with no lock held, since it reads other pages */
		for (int i = 0; i < nslots; i++)
		{
			float	   *v = vecs + (Size) ncands * shape->dim;

			if (!LoadVector(index, shape, seen[i], v))
				continue;
			cands[ncands].id = seen[i];
			cands[ncands].dist = HnswDistance(shape->metric, fromVec, v, shape->dim);
			cands[ncands].deleted = false;
			vecPtrs[ncands++] = v;
		}
		memcpy(vecs + (Size) ncands * shape->dim, newVec, sizeof(float) * shape->dim);
		cands[ncands].id = newId;
		cands[ncands].dist = HnswDistance(shape->metric, fromVec, newVec, shape->dim);
		cands[ncands].deleted = false;
		vecPtrs[ncands] = vecs + (Size) ncands * shape->dim;
		ncands++;

		/* sort by distance, carrying the vector pointers along */
		for (int i = 1; i < ncands; i++)
		{
			HnswCandidate c = cands[i];
			const float *v = vecPtrs[i];
			int			j = i - 1;

			while (j >= 0 && cands[j].dist > c.dist)
			{
				cands[j + 1] = cands[j];
				vecPtrs[j + 1] = vecPtrs[j];
				j--;
			}
			cands[j + 1] = c;
			vecPtrs[j + 1] = v;
		}
		nchosen = HnswSelectNeighbors(shape->metric, shape->dim, cands, ncands,
									  vecPtrs, nslots, true, chosen);
		for (int i = 0; i < nchosen; i++)
			if (chosen[i] == newId)
				kept = true;

		/*
		 * Dropped only when every slot went to a closer element, so the list
		 * is full and ends with the farthest element the heuristic pruned.
		 */
		if (!kept && !force)
			break;
		if (!kept)
			chosen[nchosen - 1] = newId;

		/* the live members the new list drops */
		for (int i = 0; i < ncands; i++)
		{
			bool		stays = cands[i].id == newId;

			for (int j = 0; j < nchosen && !stays; j++)
				stays = chosen[j] == cands[i].id;
			if (!stays)
				dropped[ndropped++] = cands[i].id;
		}
		if (ndropped > 0 &&
			!MoveIntoNew(index, shape, newId, level, dropped, ndropped,
						 level == 0 ? spare : NULL, force, added, &nadded))
			break;

		/* write it back if nobody changed the list meanwhile */
		buf = ReadBuffer(index, HnswIdBlock(from));
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		etup = HnswGetElement(BufferGetPage(buf), from);
		gone = etup == NULL || level > etup->level;
		if (gone || memcmp(HnswElementSlots(etup, shape->dim) + start, seen,
						   sizeof(uint32) * nslots) != 0)
		{
			UnlockReleaseBuffer(buf);
			if (level == 0)
				SpareAdd(spare, nslots, added, nadded);
			if (gone)
				break;
			continue;
		}
		state = GenericXLogStart(index);
		etup = HnswGetElement(GenericXLogRegisterBuffer(state, buf, 0), from);
		slots = HnswElementSlots(etup, shape->dim) + start;
		for (int i = 0; i < nslots; i++)
			slots[i] = i < nchosen ? chosen[i] : HNSW_INVALID_ID;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
		if (level == 0)
			SpareRemove(spare, nslots, dropped, ndropped);
		linked = true;
		break;
	}
	pfree(seen);
	pfree(fromVec);
	pfree(vecs);
	pfree(vecPtrs);
	pfree(cands);
	pfree(chosen);
	pfree(dropped);
	pfree(added);
	return linked;
}

/*
 * The heap TIDs of the level-0 picks (npicks slots, HNSW_INVALID_ID past
 * the last), from the candidates they were chosen among.
 */
static void
SavePickTids(const uint32 *picks, int npicks, const HnswCandidate *found,
			 int nfound, ItemPointerData *tids)
{
	for (int i = 0; i < npicks && picks[i] != HNSW_INVALID_ID; i++)
	{
		ItemPointerSetInvalid(&tids[i]);
		for (int j = 0; j < nfound; j++)
			if (found[j].id == picks[i])
				tids[i] = found[j].tid;
	}
}

/*
 * Whether element id is live and still points at heap row tid: VACUUM
 * frees the items of deleted rows, and a later insert may reuse the id.
 */
static bool
SamePick(Relation index, uint32 id, ItemPointer tid)
{
	Buffer		buf = ReadBuffer(index, HnswIdBlock(id));
	HnswElementTuple etup;
	bool		same;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	etup = HnswGetElement(BufferGetPage(buf), id);
	same = etup != NULL && !(etup->flags & HNSW_ELEMENT_DELETED) &&
		ItemPointerEquals(&etup->heaptid, tid);
	UnlockReleaseBuffer(buf);
	return same;
}

/*
 * Drop from spare whatever element id's level-0 list no longer holds:
 * VACUUM's relinking may have rewritten it, and a forced link must only
 * overwrite slots that nothing depends on.
 */
static void
SpareRefresh(Relation index, const HnswShape *shape, uint32 id, uint32 *spare)
{
	Buffer		buf = ReadBuffer(index, HnswIdBlock(id));
	HnswElementTuple etup;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	etup = HnswGetElement(BufferGetPage(buf), id);
	if (etup == NULL)
		elog(ERROR, "element being inserted into index \"%s\" is missing",
			 RelationGetRelationName(index));
	SpareKeepHeld(spare, HnswLevelSlots(shape->m, 0),
				  HnswElementSlots(etup, shape->dim) + HnswLevelStart(shape->m, 0));
	UnlockReleaseBuffer(buf);
}

/* Make the new element the entry point (under the exclusive update lock). */
static void
SetEntry(Relation index, uint32 id, int level, int dim)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	GenericXLogState *state;
	HnswMetaPage meta;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	state = GenericXLogStart(index);
	meta = HnswPageGetMeta(GenericXLogRegisterBuffer(state, buf, 0));
	meta->entryId = id;
	meta->entryLevel = level;
	meta->dim = dim;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Insert one prepared vector (normalized already under cosine) pointing at
 * heaptid.  Runs in the caller's memory context, which it fills.
 */
void
HnswInsertElement(Relation index, const HnswShape *shape, const float *vec,
				  ItemPointer heaptid, pg_prng_state *prng)
{
	int			level = HnswRandomLevel(prng, shape->m);
	LOCKMODE	lockmode = ShareLock;
	HnswMetaPageData meta;
	HnswGraphReader reader = HnswDiskReader(index, shape);
	Size		size = HnswElementSize(shape, level);
	HnswElementTuple etup = palloc0(size);
	uint32	   *slots = HnswElementSlots(etup, shape->dim);
	int			nslotsAll = HnswLevelStart(shape->m, level) + HnswLevelSlots(shape->m, level);
	int			ef = Max(shape->efConstruction, 2 * shape->m);
	HnswCandidate *found = palloc(sizeof(HnswCandidate) * ef);
	float	   *vecs = palloc(sizeof(float) * shape->dim * ef);
	const float **vecPtrs = palloc(sizeof(float *) * ef);
	uint32	   *spare = palloc(sizeof(uint32) * 2 * shape->m);
	ItemPointerData *pickTids = palloc(sizeof(ItemPointerData) * 2 * shape->m);
	bool		reachable = false;
	uint32		id;
	int			top;

	etup->heaptid = *heaptid;
	etup->level = level;
	etup->flags = 0;
	HnswEncode(etup, vec, shape->dim);
	for (int i = 0; i < nslotsAll; i++)
		slots[i] = HNSW_INVALID_ID;

	LockPage(index, HNSW_UPDATE_LOCK, lockmode);
	HnswReadMeta(index, &meta);
	if (meta.entryId == HNSW_INVALID_ID || level > meta.entryLevel)
	{
		UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
		lockmode = ExclusiveLock;
		LockPage(index, HNSW_UPDATE_LOCK, lockmode);
		HnswReadMeta(index, &meta);
	}
	/* a concurrent first insert may have fixed the dimension meanwhile */
	if (meta.dim != 0)
		HnswCheckDims(index, meta.dim, shape->dim);

	top = Min(level, meta.entryLevel);
	if (meta.entryId != HNSW_INVALID_ID)
	{
		HnswCandidate entry;
		HnswCandidate *entries = &entry;
		int			nentries = 1;

		reader.visit(reader.arg, vec, &meta.entryId, 1, &entry);
		if (entry.dist == FLT_MAX)
			elog(ERROR, "entry point of index \"%s\" is missing",
				 RelationGetRelationName(index));
		entry = HnswGreedyDescend(reader, vec, shape->dim, shape->m, entry,
								  meta.entryLevel, top + 1);

		for (int lc = top; lc >= 0; lc--)
		{
			HnswSearch *s = HnswSearchBegin(reader, vec, shape->dim, shape->m, ef,
											lc, entries, nentries, false);
			int			nfound = HnswSearchRun(s, found, ef);
			int			nvec = 0;

			HnswSearchEnd(s);
			for (int i = 0; i < nfound; i++)
			{
				float	   *v = vecs + (Size) i * shape->dim;

				vecPtrs[i] = NULL;
				if (!found[i].deleted && LoadVector(index, shape, found[i].id, v))
				{
					vecPtrs[i] = v;
					nvec++;
				}
			}
			if (nvec > 0)
				HnswSelectNeighbors(shape->metric, shape->dim, found, nfound, vecPtrs,
									HnswLevelSlots(shape->m, lc), false,
									slots + HnswLevelStart(shape->m, lc));
			if (lc == 0)
				SavePickTids(slots, 2 * shape->m, found, nfound, pickTids);

			/* the next level starts from everything found here */
			entries = palloc(sizeof(HnswCandidate) * nfound);
			memcpy(entries, found, sizeof(HnswCandidate) * nfound);
			nentries = nfound;
		}
	}

	id = HnswAddElementItem(index, shape, etup, size, &meta.lastBlock);
	memcpy(spare, slots, sizeof(uint32) * 2 * shape->m);

	/*
	 * A new entry point links to the old one on level 0, which reaches
	 * every element there, so the graph stays reachable from its entry.
	 * Nothing links to the element yet, so all its picks are spare and
	 * this cannot fail.
	 */
	if (meta.entryId != HNSW_INVALID_ID && level > meta.entryLevel)
	{
		if (!MoveIntoNew(index, shape, id, 0, &meta.entryId, 1, spare, true, NULL, NULL))
			elog(ERROR, "no room to link the old entry point of index \"%s\"",
				 RelationGetRelationName(index));
		SpareRemove(spare, 2 * shape->m, &meta.entryId, 1);
	}

	for (int lc = top; lc >= 0 && meta.entryId != HNSW_INVALID_ID; lc--)
	{
		const uint32 *ls = slots + HnswLevelStart(shape->m, lc);

		for (int i = 0; i < HnswLevelSlots(shape->m, lc) && ls[i] != HNSW_INVALID_ID; i++)
			if (AddLink(index, shape, ls[i], lc, id, vec, 0, spare) && lc == 0)
				reachable = true;
	}

	/*
	 * Every neighbour kept closer elements than this one: it would be
	 * unreachable on level 0, where scans end.  Force it into the list of
	 * the closest neighbour that can take it (the picks, found from the
	 * entry point, are reached).
	 */
	for (int i = 0; !reachable && hnsw_debug_forced_link_tries > 0 &&
		 i < 2 * shape->m && slots[i] != HNSW_INVALID_ID; i++)
		reachable = AddLink(index, shape, slots[i], 0, id, vec,
							hnsw_debug_forced_link_tries, spare);

	/*
	 * The forced tries fail only when other inserts rewrite the lists they
	 * read, try after try.  Then wait for every other insert to finish and
	 * hold new ones off (the update lock, exclusively), and force the link
	 * again with nothing else changing lists: each abandoned try gave back
	 * what it moved into this element's list, so the first try on a live
	 * pick succeeds.  (An insert that held the lock shared is not above
	 * the entry's level, so it does not set the entry below.)
	 *
	 * A VACUUM may have run while the lock was let go: it can have removed
	 * a pick (and another insert taken its id) and rewritten this
	 * element's list.  So spare is cut to what the list still holds, and a
	 * pick takes the link only if it still points at the row it did when
	 * found.  Should no pick be left, the current entry point takes the
	 * link; past that nothing is left to try, and the next VACUUM's walk
	 * links the element back.
	 */
	if (!reachable && meta.entryId != HNSW_INVALID_ID && lockmode != ExclusiveLock)
	{
		UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
		lockmode = ExclusiveLock;
		LockPage(index, HNSW_UPDATE_LOCK, lockmode);
		SpareRefresh(index, shape, id, spare);
		for (int i = 0; !reachable && i < 2 * shape->m && slots[i] != HNSW_INVALID_ID; i++)
			if (SamePick(index, slots[i], &pickTids[i]))
				reachable = AddLink(index, shape, slots[i], 0, id, vec,
									HNSW_FORCED_LINK_RETRIES, spare);
		if (!reachable)
		{
			HnswMetaPageData now;

			HnswReadMeta(index, &now);
			if (now.entryId != HNSW_INVALID_ID && now.entryId != id)
				reachable = AddLink(index, shape, now.entryId, 0, id, vec,
									HNSW_FORCED_LINK_RETRIES, spare);
		}
	}

	if (meta.entryId == HNSW_INVALID_ID || level > meta.entryLevel)
		SetEntry(index, id, level, shape->dim);

	UnlockPage(index, HNSW_UPDATE_LOCK, lockmode);
}

/*
 * aminsert: index one row.  NULLs, and zero vectors under cosine, are not
 * indexed.  The work runs in a temporary context, freed before returning.
 */
bool
hnswinsert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
		   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
		   IndexInfo *indexInfo)
{
	MemoryContext tmp;
	MemoryContext old;
	Vector	   *v;
	HnswShape	shape;
	HnswMetaPageData meta;
	float	   *prepared;

	if (isnull[0])
		return false;

	tmp = AllocSetContextCreate(CurrentMemoryContext, "lance_hnsw insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(tmp);

	v = DatumGetVector(values[0]);
	HnswReadMeta(index, &meta);
	shape.dim = meta.dim;
	shape.m = meta.m;
	shape.efConstruction = meta.efConstruction;
	shape.metric = (HnswMetric) meta.metric;

	/* an index built on an empty table of an untyped column takes the first dimension it sees */
	if (shape.dim == 0)
	{
		if (v->dim > HnswMaxDim(shape.m))
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("vector has %d dimensions, lance_hnsw with m = %d indexes at most %d",
							v->dim, shape.m, HnswMaxDim(shape.m))));
		shape.dim = v->dim;
	}
	HnswCheckDims(index, shape.dim, v->dim);

	prepared = palloc(sizeof(float) * shape.dim);
	if (HnswPrepareVector(shape.metric, v->x, shape.dim, prepared))
		HnswInsertElement(index, &shape, prepared, heap_tid, &pg_global_prng_state);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
	return false;
}

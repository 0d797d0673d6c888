/*-------------------------------------------------------------------------
 *
 * hnsw_check.c
 *	  lance_hnsw_check(index): verify a graph's structure.
 *
 * Checks that every link names an element that exists and lives on the
 * link's level, that the entry point is an element of the top level, and
 * that every live element can be reached from the entry point.  Returns
 * the counts it found rather than stopping at the first problem, so a
 * crash test can tell "nothing wrong" from "this much wrong".
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "am/hnsw/hnsw.h"
#include "catalog/pg_am.h"
#include "commands/defrem.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/rel.h"

PG_FUNCTION_INFO_V1(lance_hnsw_check);

/* every element, in id order (the order pages are read in) */
typedef struct CheckElements
{
	uint32	   *ids;
	uint8	   *levels;
	bool	   *deleted;
	bool	   *reached;
	int64		n;
	int64		cap;
} CheckElements;

static int64
FindElement(const CheckElements *e, uint32 id)
{
	int64		lo = 0;
	int64		hi = e->n - 1;

	while (lo <= hi)
	{
		int64		mid = (lo + hi) / 2;

		if (e->ids[mid] == id)
			return mid;
		if (e->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

static void
AddElement(CheckElements *e, uint32 id, int level, bool deleted)
{
	if (e->n == e->cap)
	{
		e->cap = e->cap == 0 ? 1024 : e->cap * 2;
		if (e->ids == NULL)
		{
			e->ids = palloc(sizeof(uint32) * e->cap);
			e->levels = palloc(e->cap);
			e->deleted = palloc(sizeof(bool) * e->cap);
		}
		else
		{
			e->ids = repalloc_huge(e->ids, sizeof(uint32) * e->cap);
			e->levels = repalloc_huge(e->levels, e->cap);
			e->deleted = repalloc_huge(e->deleted, sizeof(bool) * e->cap);
		}
	}
	e->ids[e->n] = id;
	e->levels[e->n] = level;
	e->deleted[e->n] = deleted;
	e->n++;
}

/*
 * Read one element's links at a level into out, returning how many slots
 * the level has.
 */
static int
ReadLinks(Relation index, const HnswShape *shape, uint32 id, int level, uint32 *out)
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

Datum
lance_hnsw_check(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Relation	index;
	HnswMetaPageData meta;
	HnswShape	shape;
	BlockNumber nblocks;
	CheckElements el = {0};
	int64		live = 0;
	int64		badLinks = 0;
	int64		badLevels = 0;
	int64		unreachable = 0;
	int			maxLevel = -1;
	bool		entryOk;
	uint32	   *links;
	uint32	   *stack;
	int64		nstack = 0;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {0};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	index = relation_open(indexoid, AccessShareLock);
	if (index->rd_rel->relkind != RELKIND_INDEX ||
		index->rd_rel->relam != get_index_am_oid("lance_hnsw", false))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a lance_hnsw index", RelationGetRelationName(index))));

	HnswReadMeta(index, &meta);
	shape.dim = meta.dim;
	shape.m = meta.m;
	shape.efConstruction = meta.efConstruction;
	shape.metric = (HnswMetric) meta.metric;
	nblocks = RelationGetNumberOfBlocks(index);

	/* every element, and the links that name nothing or the wrong level */
	for (BlockNumber blk = 1; blk < nblocks; blk++)
	{
		Buffer		buf = ReadBuffer(index, blk);
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
			bool		deleted;

			if (etup == NULL)
				continue;
			if (ItemIdGetLength(PageGetItemId(page, off)) != HnswElementSize(&shape, etup->level))
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("index \"%s\" element (%u,%u) has the wrong size for level %d",
								RelationGetRelationName(index), blk, off, etup->level)));
			deleted = (etup->flags & HNSW_ELEMENT_DELETED) != 0;
			AddElement(&el, HnswIdMake(blk, off), etup->level, deleted);
			if (!deleted)
			{
				live++;
				maxLevel = Max(maxLevel, etup->level);
			}
		}
		UnlockReleaseBuffer(buf);
	}

	links = palloc(sizeof(uint32) * HnswLevelSlots(shape.m, 0));
	for (int64 i = 0; i < el.n; i++)
	{
		for (int level = 0; level <= el.levels[i]; level++)
		{
			int			n = ReadLinks(index, &shape, el.ids[i], level, links);

			for (int j = 0; j < n; j++)
			{
				int64		k;

				if (links[j] == HNSW_INVALID_ID)
					continue;
				k = FindElement(&el, links[j]);
				if (k < 0 || links[j] == el.ids[i])
					badLinks++;
				else if (el.levels[k] < level)
					badLevels++;
			}
		}
	}

	/* the entry point, and what can be reached from it */
	el.reached = palloc0(sizeof(bool) * Max(el.n, 1));
	stack = palloc(sizeof(uint32) * Max(el.n, 1));
	if (meta.entryId == HNSW_INVALID_ID)
		entryOk = live == 0 && meta.entryLevel == -1;
	else
	{
		int64		k = FindElement(&el, meta.entryId);

		entryOk = k >= 0 && el.levels[k] == meta.entryLevel && meta.entryLevel >= maxLevel;
		if (k >= 0)
		{
			el.reached[k] = true;
			stack[nstack++] = meta.entryId;
		}
	}
	while (nstack > 0)
	{
		uint32		id = stack[--nstack];
		int64		k = FindElement(&el, id);

		CHECK_FOR_INTERRUPTS();
		for (int level = 0; level <= el.levels[k]; level++)
		{
			int			n = ReadLinks(index, &shape, id, level, links);

			for (int j = 0; j < n; j++)
			{
				int64		t = links[j] == HNSW_INVALID_ID ? -1 : FindElement(&el, links[j]);

				if (t >= 0 && !el.reached[t])
				{
					el.reached[t] = true;
					stack[nstack++] = links[j];
				}
			}
		}
	}
	for (int64 i = 0; i < el.n; i++)
		if (!el.deleted[i] && !el.reached[i])
			unreachable++;

	relation_close(index, AccessShareLock);

	values[0] = Int64GetDatum(live);
	values[1] = Int64GetDatum(el.n - live);
	values[2] = Int32GetDatum(meta.entryLevel);
	values[3] = Int64GetDatum(unreachable);
	values[4] = Int64GetDatum(badLinks);
	values[5] = Int64GetDatum(badLevels);
	values[6] = BoolGetDatum(entryOk && unreachable == 0 && badLinks == 0 && badLevels == 0);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}

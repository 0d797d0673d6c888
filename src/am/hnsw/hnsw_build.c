/*-------------------------------------------------------------------------
 *
 * hnsw_build.c
 *	  Building a lance_hnsw index.
 *
 * A build has two phases.  First the heap is scanned and every vector is
 * inserted into a graph held in memory: flat arrays of 8-bit codes, heap
 * TIDs, levels and level-0 neighbour slots indexed by the element's
 * position, so that a build pays no buffer lookups, locks or WAL per link.
 * The graph is built on the same codes scans will walk, each new element
 * searching with its exact vector as scans search with the query's; codes
 * take a quarter of the floats' memory and cache traffic.  Then the
 * graph is written out in one sequential pass: the position of every
 * element on disk is computed first (items have a fixed size per level),
 * so each page is filled once with its final links and WAL-logged as a
 * whole page.
 *
 * When the graph outgrows maintenance_work_mem, what is in memory is
 * written out and the remaining rows are inserted one by one through the
 * on-disk insert path, with a NOTICE: slower, but the build finishes
 * within its memory budget.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "am/hnsw/hnsw.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "kernels/sq8.h"
#include "pgstat.h"
#include "types/vector.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* the graph of a build, indexed by position */
typedef struct BuildGraph
{
	HnswShape	shape;
	int64		n;
	int64		cap;
	uint8	   *codes;			/* n x dim 8-bit codes */
	float	   *lo;				/* per element: code 0 stands for lo */
	float	   *step;			/* per element: the value of one code step */
	ItemPointerData *tids;
	uint8	   *levels;
	uint32	   *slots0;			/* n x 2m level-0 neighbour positions */
	uint32	  **upper;			/* levels 1.. of an element, or NULL */
	uint32	   *marks;			/* visited marks for searches, per position */
	uint32		epoch;
	uint32		entry;
	int			entryLevel;
	Size		memUsed;

	/* the element being inserted: its exact vector, and that vector's sum */
	const float *query;
	float		querySum;

	/* scratch for re-selecting a full neighbour list: 2m + 1 entries */
	HnswCandidate *linkCands;
	const float **linkVecs;
	uint32	   *linkChosen;
	float	   *decoded;		/* max(ef, 2m + 1) decoded vectors */
	float	   *vecBuf;			/* the prepared vector of the row at hand */
} BuildGraph;

typedef struct BuildState
{
	Relation	heap;
	Relation	index;
	BuildGraph	graph;
	Size		memLimit;
	bool		onDisk;			/* graph outgrew memory: insert on disk */
	BlockNumber nblocks;		/* pages written so far */
	double		indtuples;
	pg_prng_state prng;			/* levels, from a fixed seed */
	MemoryContext buildCtx;		/* lives for the whole build */
	MemoryContext graphCtx;
	MemoryContext tmpCtx;
} BuildState;

static inline uint32 *
GraphSlots(BuildGraph *g, uint32 pos, int level)
{
	if (level == 0)
		return g->slots0 + (Size) pos * 2 * g->shape.m;
	return g->upper[pos] + (Size) (level - 1) * g->shape.m;
}

static inline const uint8 *
GraphCodes(BuildGraph *g, uint32 pos)
{
	return g->codes + (Size) pos * g->shape.dim;
}

/* Decode an element into row i of the scratch vectors. */
static inline const float *
GraphDecode(BuildGraph *g, uint32 pos, int i)
{
	float	   *out = g->decoded + (Size) i * g->shape.dim;

	sq8_decode(GraphCodes(g, pos), g->shape.dim, g->lo[pos], g->step[pos], out);
	return out;
}

static int
GraphNeighbors(void *arg, uint32 id, int level, uint32 *out)
{
	BuildGraph *g = (BuildGraph *) arg;
	const uint32 *slots;
	int			n = 0;

	if (level > g->levels[id])
		return 0;
	slots = GraphSlots(g, id, level);
	for (int i = 0; i < HnswLevelSlots(g->shape.m, level); i++)
		if (slots[i] != HNSW_INVALID_ID)
			out[n++] = slots[i];
	return n;
}

/*
 * Ask for a vector's cache lines ahead of use.  Neighbours' codes are
 * scattered over the graph's arrays, so each distance would otherwise
 * start with a cache miss the hardware cannot predict.
 */
static inline void
PrefetchCodes(const uint8 *c, int dim)
{
	for (int off = 0; off < dim; off += 64)
		__builtin_prefetch(c + off);
}

/* Distances from the element being inserted (query) to others' codes. */
static void
GraphVisit(void *arg, const float *query, const uint32 *ids, int n, HnswCandidate *out)
{
	BuildGraph *g = (BuildGraph *) arg;

	Assert(query == g->query);
	if (n > 0)
		PrefetchCodes(GraphCodes(g, ids[0]), g->shape.dim);
	for (int i = 0; i < n; i++)
	{
		uint32		p = ids[i];

		if (i + 1 < n)
			PrefetchCodes(GraphCodes(g, ids[i + 1]), g->shape.dim);
		out[i].id = p;
		out[i].dist = HnswDistanceSq8(g->shape.metric, query, g->querySum, GraphCodes(g, p),
									  g->lo[p], g->step[p], g->shape.dim);
		out[i].tid = g->tids[ids[i]];
		out[i].deleted = false;
	}
}

/* Make room for one more element in the graph's arrays. */
static void
GraphGrow(BuildGraph *g)
{
	int64		cap = g->cap == 0 ? 1024 : g->cap * 2;
	int			dim = g->shape.dim;
	int			s0 = 2 * g->shape.m;

	if (g->cap == 0)
	{
		g->codes = MemoryContextAllocHuge(CurrentMemoryContext, (Size) dim * cap);
		g->lo = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * cap);
		g->step = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(float) * cap);
		g->tids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(ItemPointerData) * cap);
		g->levels = MemoryContextAllocHuge(CurrentMemoryContext, cap);
		g->slots0 = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * s0 * cap);
		g->upper = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32 *) * cap);
		g->marks = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * cap);
	}
	else
	{
		g->codes = repalloc_huge(g->codes, (Size) dim * cap);
		g->lo = repalloc_huge(g->lo, sizeof(float) * cap);
		g->step = repalloc_huge(g->step, sizeof(float) * cap);
		g->tids = repalloc_huge(g->tids, sizeof(ItemPointerData) * cap);
		g->levels = repalloc_huge(g->levels, cap);
		g->slots0 = repalloc_huge(g->slots0, sizeof(uint32) * s0 * cap);
		g->upper = repalloc_huge(g->upper, sizeof(uint32 *) * cap);
		g->marks = repalloc_huge(g->marks, sizeof(uint32) * cap);
	}
	memset(g->marks + g->cap, 0, sizeof(uint32) * (cap - g->cap));
	g->cap = cap;
}

/*
 * Link pos to newPos at a level: a free slot takes it, a full list is
 * re-selected with the heuristic over its members plus the new one.
 */
static void
GraphAddLink(BuildGraph *g, uint32 pos, int level, uint32 newPos)
{
	int			nslots = HnswLevelSlots(g->shape.m, level);
	uint32	   *slots = GraphSlots(g, pos, level);
	HnswCandidate *cands = g->linkCands;
	const float **vecs = g->linkVecs;
	uint32	   *chosen = g->linkChosen;
	int			ncands = 0;
	int			nchosen;
	const float *posVec;

	for (int i = 0; i < nslots; i++)
	{
		if (slots[i] == HNSW_INVALID_ID)
		{
			slots[i] = newPos;
			return;
		}
	}
	posVec = GraphDecode(g, pos, nslots + 1);
	for (int i = 0; i <= nslots; i++)
	{
		uint32		p = i < nslots ? slots[i] : newPos;
		int			j = ncands++;

		/* append, then bubble down to keep the list sorted by distance */
		cands[j].id = p;
		vecs[j] = GraphDecode(g, p, i);
		cands[j].dist = HnswDistance(g->shape.metric, posVec, vecs[j], g->shape.dim);
		cands[j].deleted = false;
		for (; j > 0 && cands[j - 1].dist > cands[j].dist; j--)
		{
			HnswCandidate tc = cands[j];
			const float *tv = vecs[j];

			cands[j] = cands[j - 1];
			vecs[j] = vecs[j - 1];
			cands[j - 1] = tc;
			vecs[j - 1] = tv;
		}
	}
	nchosen = HnswSelectNeighbors(g->shape.metric, g->shape.dim, cands, ncands,
								  vecs, nslots, true, chosen);
	for (int i = 0; i < nslots; i++)
		slots[i] = i < nchosen ? chosen[i] : HNSW_INVALID_ID;
}

/*
 * Insert the element at pos (codes, TID and level already stored; vec its
 * exact vector) into the in-memory graph: the paper's INSERT.
 */
static void
GraphInsert(BuildGraph *g, uint32 pos, const float *vec, MemoryContext tmpCtx)
{
	HnswGraphReader reader = {GraphNeighbors, GraphVisit, g, g->marks, &g->epoch};
	int			level = g->levels[pos];
	int			ef = Max(g->shape.efConstruction, 2 * g->shape.m);
	MemoryContext old;
	HnswCandidate entry;
	HnswCandidate *entries;
	int			nentries = 1;
	int			top;

	if (g->entry == HNSW_INVALID_ID)
	{
		g->entry = pos;
		g->entryLevel = level;
		return;
	}

	old = MemoryContextSwitchTo(tmpCtx);
	g->query = vec;
	g->querySum = 0.0f;
	for (int i = 0; i < g->shape.dim; i++)
		g->querySum += vec[i];
	GraphVisit(g, vec, &g->entry, 1, &entry);
	top = Min(level, g->entryLevel);
	entry = HnswGreedyDescend(reader, vec, g->shape.dim, g->shape.m, entry,
							  g->entryLevel, top + 1);
	entries = &entry;
	for (int lc = top; lc >= 0; lc--)
	{
		HnswSearch *s = HnswSearchBegin(reader, vec, g->shape.dim, g->shape.m, ef,
										lc, entries, nentries, false);
		HnswCandidate *found = palloc(sizeof(HnswCandidate) * ef);
		const float **vecs = palloc(sizeof(float *) * ef);
		int			nfound = HnswSearchRun(s, found, ef);
		uint32	   *slots = GraphSlots(g, pos, lc);
		int			nsel;

		HnswSearchEnd(s);
		for (int i = 0; i < nfound; i++)
			vecs[i] = GraphDecode(g, found[i].id, i);
		nsel = HnswSelectNeighbors(g->shape.metric, g->shape.dim, found, nfound, vecs,
								   HnswLevelSlots(g->shape.m, lc), false, slots);
		for (int i = 0; i < nsel; i++)
			GraphAddLink(g, slots[i], lc, pos);
		entries = found;
		nentries = nfound;
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(tmpCtx);

	if (level > g->entryLevel)
	{
		g->entry = pos;
		g->entryLevel = level;
	}
}

/* Fill a meta page. */
static void
InitMetaPage(Page page, const HnswShape *shape, uint32 entry, int entryLevel,
			 BlockNumber lastBlock)
{
	HnswMetaPage meta;

	PageInit(page, BLCKSZ, 0);
	meta = HnswPageGetMeta(page);
	meta->magic = HNSW_MAGIC;
	meta->version = HNSW_VERSION;
	meta->dim = shape->dim;
	meta->m = shape->m;
	meta->efConstruction = shape->efConstruction;
	meta->metric = shape->metric;
	meta->entryId = entry;
	meta->entryLevel = entryLevel;
	meta->lastBlock = lastBlock;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(HnswMetaPageData)) - (char *) page;
}

/* Append a page image to a fork of the index. */
static void
AppendPage(Relation index, ForkNumber fork, Page image)
{
	Buffer		buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	memcpy(BufferGetPage(buf), image, BLCKSZ);
	MarkBufferDirty(buf);
	UnlockReleaseBuffer(buf);
}

/*
 * The order elements are laid out on disk: breadth first over level 0
 * from the entry point, so that an element's neighbours mostly land on
 * its own page or the next ones.  A search then meets many neighbours on
 * pages it has just read, and sorted neighbour ids share page locks.
 * Elements no link reaches (none, in a sound graph) follow in position
 * order.
 */
static uint32 *
LayoutOrder(BuildGraph *g)
{
	uint32	   *order = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(g->n, 1));
	bool	   *placed = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * Max(g->n, 1));
	int64		head = 0;
	int64		tail = 0;

	memset(placed, 0, sizeof(bool) * g->n);
	if (g->n > 0)
	{
		order[tail++] = g->entry;
		placed[g->entry] = true;
	}
	for (int64 next = 0; tail < g->n; next++)
	{
		while (head < tail && tail < g->n)
		{
			const uint32 *slots = GraphSlots(g, order[head++], 0);

			for (int i = 0; i < 2 * g->shape.m; i++)
			{
				if (slots[i] != HNSW_INVALID_ID && !placed[slots[i]])
				{
					placed[slots[i]] = true;
					order[tail++] = slots[i];
				}
			}
		}
		if (tail < g->n && !placed[next])
		{
			placed[next] = true;
			order[tail++] = (uint32) next;
		}
	}
	pfree(placed);
	return order;
}

/*
 * Write the in-memory graph: lay elements out (LayoutOrder), then fill
 * each page once with links translated to on-disk ids, then WAL-log the
 * pages in bulk.
 */
static void
WriteGraph(BuildState *bs)
{
	BuildGraph *g = &bs->graph;
	HnswShape  *shape = &g->shape;
	Size		room = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData));
	uint32	   *ids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(g->n, 1));
	uint32	   *order;
	PGAlignedBlock block;
	Page		page = (Page) block.data;
	Size		used = 0;
	int			count = 0;
	BlockNumber blkno = 1;
	HnswElementTuple etup = palloc(HnswElementSize(shape, HNSW_MAX_LEVEL));
	int64		k = 0;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_WRITE);
	order = LayoutOrder(g);

	/* where every element goes */
	for (int64 i = 0; i < g->n; i++)
	{
		uint32		pos = order[i];
		Size		need = MAXALIGN(HnswElementSize(shape, g->levels[pos])) + sizeof(ItemIdData);

		if (used + need > room || count == HNSW_MAX_PER_PAGE)
		{
			blkno++;
			used = 0;
			count = 0;
		}
		if (blkno > HNSW_MAX_BLOCK)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("index \"%s\" cannot grow past %u pages",
							RelationGetRelationName(bs->index), HNSW_MAX_BLOCK)));
		used += need;
		ids[pos] = HnswIdMake(blkno, ++count);
	}

	InitMetaPage(page, shape, g->n > 0 ? ids[g->entry] : HNSW_INVALID_ID,
				 g->n > 0 ? g->entryLevel : -1, g->n > 0 ? blkno : HNSW_METAPAGE_BLKNO);
	AppendPage(bs->index, MAIN_FORKNUM, page);

	for (BlockNumber b = 1; k < g->n; b++)
	{
		HnswInitPage(page);
		while (k < g->n && HnswIdBlock(ids[order[k]]) == b)
		{
			uint32		pos = order[k];
			int			level = g->levels[pos];
			Size		size = HnswElementSize(shape, level);
			uint32	   *slots = HnswElementSlots(etup, shape->dim);

			CHECK_FOR_INTERRUPTS();
			etup->heaptid = g->tids[pos];
			etup->level = level;
			etup->flags = 0;
			memcpy(etup->codes, GraphCodes(g, pos), shape->dim);
			memset(etup->codes + shape->dim, 0,
				   TYPEALIGN(sizeof(uint32), shape->dim) - shape->dim);
			etup->lo = g->lo[pos];
			etup->step = g->step[pos];
			for (int lc = 0; lc <= level; lc++)
			{
				const uint32 *src = GraphSlots(g, pos, lc);
				uint32	   *dst = slots + HnswLevelStart(shape->m, lc);

				for (int i = 0; i < HnswLevelSlots(shape->m, lc); i++)
					dst[i] = src[i] == HNSW_INVALID_ID ? HNSW_INVALID_ID : ids[src[i]];
			}
			if (PageAddItem(page, (Item) etup, size, InvalidOffsetNumber, false, false) !=
				HnswIdOffset(ids[pos]))
				elog(ERROR, "failed to add element to index \"%s\"",
					 RelationGetRelationName(bs->index));
			k++;
		}
		AppendPage(bs->index, MAIN_FORKNUM, page);
	}

	bs->nblocks = RelationGetNumberOfBlocks(bs->index);
	if (RelationNeedsWAL(bs->index))
		log_newpage_range(bs->index, MAIN_FORKNUM, 0, bs->nblocks, true);
	pfree(ids);
	pfree(order);
	pfree(etup);
}

/* Size of one element in the in-memory graph, for the memory budget. */
static Size
GraphElementBytes(const HnswShape *shape, int level)
{
	return shape->dim + 2 * sizeof(float) + sizeof(ItemPointerData) + 1 +
		sizeof(uint32) * (2 * shape->m + 1) + sizeof(uint32 *) +
		(level > 0 ? sizeof(uint32) * shape->m * level : 0);
}

/* Fix the dimension from the first vector of a column without a typmod. */
static void
SetBuildDim(BuildState *bs, int dim)
{
	if (dim > HnswMaxDim(bs->graph.shape.m))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column has %d dimensions, lance_hnsw with m = %d indexes at most %d",
						dim, bs->graph.shape.m, HnswMaxDim(bs->graph.shape.m)),
				 errhint("Use a smaller m, or reduce the dimensions.")));
	bs->graph.shape.dim = dim;
}

/* Per-row callback of the heap scan. */
static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *state)
{
	BuildState *bs = (BuildState *) state;
	BuildGraph *g = &bs->graph;
	MemoryContext old;
	Vector	   *v;
	int			level;
	uint32		pos;

	if (isnull[0])
		return;

	old = MemoryContextSwitchTo(bs->tmpCtx);
	v = DatumGetVector(values[0]);
	if (g->shape.dim == 0)
		SetBuildDim(bs, v->dim);
	HnswCheckDims(index, g->shape.dim, v->dim);
	if (g->decoded == NULL)
	{
		int			rows = Max(Max(g->shape.efConstruction, 2 * g->shape.m), 2 * g->shape.m + 2);

		/* outside graphCtx, which a flush resets */
		g->decoded = MemoryContextAllocHuge(bs->buildCtx, sizeof(float) * g->shape.dim * rows);
		g->vecBuf = MemoryContextAlloc(bs->buildCtx, sizeof(float) * g->shape.dim);
	}

	if (bs->onDisk)
	{
		float	   *prepared = palloc(sizeof(float) * g->shape.dim);

		if (HnswPrepareVector(g->shape.metric, v->x, g->shape.dim, prepared))
		{
			HnswInsertElement(index, &g->shape, prepared, tid, &bs->prng);
			bs->indtuples++;
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpCtx);
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
		return;
	}

	MemoryContextSwitchTo(bs->graphCtx);
	if (g->n == g->cap)
		GraphGrow(g);
	pos = (uint32) g->n;
	if (!HnswPrepareVector(g->shape.metric, v->x, g->shape.dim, g->vecBuf))
	{
		MemoryContextSwitchTo(old);
		MemoryContextReset(bs->tmpCtx);
		return;
	}
	sq8_encode(g->vecBuf, g->shape.dim, g->codes + (Size) pos * g->shape.dim,
			   &g->lo[pos], &g->step[pos]);
	level = HnswRandomLevel(&bs->prng, g->shape.m);
	g->tids[pos] = *tid;
	g->levels[pos] = level;
	memset(g->slots0 + (Size) pos * 2 * g->shape.m, 0xFF, sizeof(uint32) * 2 * g->shape.m);
	g->upper[pos] = NULL;
	if (level > 0)
	{
		g->upper[pos] = palloc(sizeof(uint32) * g->shape.m * level);
		memset(g->upper[pos], 0xFF, sizeof(uint32) * g->shape.m * level);
	}
	g->n++;
	g->memUsed += GraphElementBytes(&g->shape, level);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);

	GraphInsert(g, pos, g->vecBuf, bs->tmpCtx);
	bs->indtuples++;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);

	if (g->memUsed > bs->memLimit)
	{
		ereport(NOTICE,
				(errmsg("lance_hnsw graph no longer fits into maintenance_work_mem after %.0f tuples",
						bs->indtuples),
				 errdetail("The rest of the rows are inserted on disk one by one, which is slower."),
				 errhint("Increase maintenance_work_mem to speed up the build.")));
		WriteGraph(bs);
		MemoryContextReset(bs->graphCtx);
		bs->onDisk = true;
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_LOAD);
	}
}

/* The shape an index will have, from its options and opclass. */
static void
ShapeFromOptions(Relation index, HnswShape *shape)
{
	int32		typmod = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	shape->m = HnswOptionM(index);
	shape->efConstruction = HnswOptionEfConstruction(index);
	shape->metric = HnswGetMetric(index);
	shape->dim = typmod > 0 ? typmod : 0;
	if (shape->efConstruction < 2 * shape->m)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ef_construction must be at least 2 * m"),
				 errdetail("ef_construction is %d and m is %d.",
						   shape->efConstruction, shape->m)));
}

/*
 * ambuild: scan the heap, build the graph in memory, write it out.
 */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	BuildState	bs;
	double		reltuples;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	pg_prng_seed(&bs.prng, HNSW_BUILD_SEED);
	ShapeFromOptions(index, &bs.graph.shape);
	if (bs.graph.shape.dim > 0)
		SetBuildDim(&bs, bs.graph.shape.dim);
	bs.graph.entry = HNSW_INVALID_ID;
	bs.graph.entryLevel = -1;
	bs.graph.linkCands = palloc(sizeof(HnswCandidate) * (2 * bs.graph.shape.m + 1));
	bs.graph.linkVecs = palloc(sizeof(float *) * (2 * bs.graph.shape.m + 1));
	bs.graph.linkChosen = palloc(sizeof(uint32) * 2 * bs.graph.shape.m);
	bs.memLimit = (Size) maintenance_work_mem * 1024;
	bs.buildCtx = CurrentMemoryContext;
	bs.graphCtx = AllocSetContextCreate(CurrentMemoryContext, "lance_hnsw build graph",
										ALLOCSET_DEFAULT_SIZES);
	bs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "lance_hnsw build tuple",
									  ALLOCSET_DEFAULT_SIZES);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_LOAD);
	if (heap->rd_rel->reltuples > 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
									 (int64) heap->rd_rel->reltuples);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   BuildCallback, &bs, NULL);

	if (!bs.onDisk)
		WriteGraph(&bs);

	MemoryContextDelete(bs.graphCtx);
	MemoryContextDelete(bs.tmpCtx);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/*
 * ambuildempty: the init fork of an unlogged index is an empty meta page.
 */
void
hnswbuildempty(Relation index)
{
	HnswShape	shape;
	PGAlignedBlock block;

	ShapeFromOptions(index, &shape);
	InitMetaPage((Page) block.data, &shape, HNSW_INVALID_ID, -1, HNSW_METAPAGE_BLKNO);
	AppendPage(index, INIT_FORKNUM, (Page) block.data);
	log_newpage_range(index, INIT_FORKNUM, 0, 1, true);
}

/* Name the build phases for pg_stat_progress_create_index. */
char *
hnswbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case PROGRESS_HNSW_PHASE_LOAD:
			return "loading tuples";
		case PROGRESS_HNSW_PHASE_WRITE:
			return "writing graph";
		default:
			return NULL;
	}
}

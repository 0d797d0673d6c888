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
 * The graph code here also serves parallel builds (hnsw_build_parallel.c),
 * whose participants insert into one graph in shared memory: hence the
 * per-element locks (hnsw_build.h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "am/hnsw/hnsw_build.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "kernels/sq8.h"
#include "pgstat.h"
#include "types/vector.h"
#include "utils/memutils.h"
#include "utils/rel.h"

static inline uint32 *
GraphSlots(BuildGraph *g, uint32 pos, int level)
{
	if (level == 0)
		return g->slots0 + (Size) pos * 2 * g->shape.m;
	return g->upper + g->upperAt[pos] + (Size) (level - 1) * g->shape.m;
}

/* The bytes of one element's record in g->vectors. */
Size
HnswGraphVectorBytes(const HnswShape *shape)
{
	return MAXALIGN(sizeof(Sq8CodeStats) + shape->dim);
}

static inline Sq8CodeStats *
GraphStats(BuildGraph *g, uint32 pos)
{
	return (Sq8CodeStats *) (g->vectors + (Size) pos * g->vecBytes);
}

static inline uint8 *
GraphCodes(BuildGraph *g, uint32 pos)
{
	return (uint8 *) (g->vectors + (Size) pos * g->vecBytes + sizeof(Sq8CodeStats));
}

/* Decode an element into row i of the scratch vectors. */
static inline const float *
GraphDecode(BuildGraph *g, uint32 pos, int i)
{
	float	   *out = g->decoded + (Size) i * g->shape.dim;

	sq8_decode(GraphCodes(g, pos), g->shape.dim, GraphStats(g, pos)->lo,
			   GraphStats(g, pos)->step, out);
	return out;
}

/*
 * The distance between two elements' decoded vectors, from their codes
 * (sq8_pair.h): what pruning compares.  Not for L1, which the caller
 * decodes for.
 */
static inline float
GraphPairDistance(BuildGraph *g, uint32 a, uint32 b)
{
	uint32		dot = g->codeDot(GraphCodes(g, a), GraphCodes(g, b), g->shape.dim);

	Assert(g->shape.metric != HNSW_METRIC_L1);
	if (g->shape.metric == HNSW_METRIC_L2)
		return (float) sq8_pair_l2sq(GraphStats(g, a), GraphStats(g, b), dot, g->shape.dim);
	return (float) -sq8_pair_ip(GraphStats(g, a), GraphStats(g, b), dot, g->shape.dim);
}

/* candidates of a neighbour selection by position, for HnswSelectNeighborsBy */
typedef struct GraphPairs
{
	BuildGraph *g;
	const HnswCandidate *cands;
} GraphPairs;

static float
GraphCandDistance(void *arg, int i, int j)
{
	GraphPairs *gp = (GraphPairs *) arg;

	return GraphPairDistance(gp->g, gp->cands[i].id, gp->cands[j].id);
}

/*
 * Choose up to max neighbours among candidates sorted nearest first
 * (HnswSelectNeighborsBy).  L1 distances have no code-to-code form:
 * there the candidates are decoded, once each.
 */
static int
GraphSelect(BuildGraph *g, const HnswCandidate *cands, int ncands, int max,
			bool keepPruned, const float **vecs, uint32 *out)
{
	GraphPairs	gp = {g, cands};

	if (g->shape.metric != HNSW_METRIC_L1)
		return HnswSelectNeighborsBy(cands, ncands, max, keepPruned, GraphCandDistance, &gp,
									 NULL, out);
	for (int i = 0; i < ncands; i++)
		vecs[i] = GraphDecode(g, cands[i].id, i);
	return HnswSelectNeighbors(g->shape.metric, g->shape.dim, cands, ncands, vecs, max,
							   keepPruned, out);
}

/*
 * Lock an element's neighbour lists in a parallel build; a serial build
 * is the only process touching its arrays.
 */
static inline void
GraphLock(BuildGraph *g, uint32 pos, LWLockMode mode)
{
	if (g->fixed)
		LWLockAcquire(&g->locks[pos], mode);
}

static inline void
GraphUnlock(BuildGraph *g, uint32 pos)
{
	if (g->fixed)
		LWLockRelease(&g->locks[pos]);
}

/*
 * Copy an element's links at a level.  Another participant may be
 * rewriting them, so the copy is taken under the element's lock; its
 * level, codes and TID never change once it is linked, and are read
 * without one.
 */
static int
GraphNeighbors(void *arg, uint32 id, int level, uint32 *out)
{
	BuildGraph *g = (BuildGraph *) arg;
	const uint32 *slots;
	int			n = 0;

	if (level > g->levels[id])
		return 0;
	slots = GraphSlots(g, id, level);
	GraphLock(g, id, LW_SHARED);
	for (int i = 0; i < HnswLevelSlots(g->shape.m, level); i++)
		if (slots[i] != HNSW_INVALID_ID)
			out[n++] = slots[i];
	GraphUnlock(g, id);
	return n;
}

/* Ask for an element's links at a level ahead of use (reader.prefetch). */
static void
GraphPrefetchLinks(void *arg, uint32 id, int level)
{
	BuildGraph *g = (BuildGraph *) arg;
	const uint32 *slots;

	if (level > g->levels[id])
		return;
	slots = GraphSlots(g, id, level);
	for (int off = 0; off < HnswLevelSlots(g->shape.m, level); off += 64 / sizeof(uint32))
		__builtin_prefetch(slots + off);
}

/*
 * Ask for an element's record (stats and codes) ahead of use.  Neighbours'
 * records are scattered over the graph's arrays, so each distance would
 * otherwise start with a cache miss the hardware cannot predict.
 */
static inline void
PrefetchVector(BuildGraph *g, uint32 pos)
{
	const char *r = (const char *) GraphStats(g, pos);

	for (Size off = 0; off < g->vecBytes; off += 64)
		__builtin_prefetch(r + off);
}

/*
 * Records asked for ahead of the one measured: one distance is too short
 * to hide a miss, and a few misses in flight are what the cache can take.
 */
#define VISIT_PREFETCH	4

/* Distances from the element being inserted (query) to others' codes. */
static void
GraphVisit(void *arg, const float *query, const uint32 *ids, int n, HnswCandidate *out)
{
	BuildGraph *g = (BuildGraph *) arg;

	Assert(query == g->query);
	for (int i = 0; i < Min(n, VISIT_PREFETCH); i++)
		PrefetchVector(g, ids[i]);
	for (int i = 0; i < n; i++)
	{
		uint32		p = ids[i];

		if (i + VISIT_PREFETCH < n)
			PrefetchVector(g, ids[i + VISIT_PREFETCH]);
		out[i].id = p;
		out[i].dist = HnswDistanceSq8(g->shape.metric, query, g->querySum, GraphCodes(g, p),
									  GraphStats(g, p)->lo, GraphStats(g, p)->step, g->shape.dim);
		/* a build's candidates are positions: their TIDs are not read */
		ItemPointerSetInvalid(&out[i].tid);
		out[i].deleted = false;
	}
}

/*
 * Bytes of one element in the graph's arrays, a lock included (a serial
 * build lays none out: its budget errs on the safe side by that much);
 * upper levels come from the pool and are counted apart.
 */
Size
HnswGraphElementBytes(const HnswShape *shape)
{
	return HnswGraphVectorBytes(shape) + sizeof(ItemPointerData) + 1 +
		sizeof(uint32) * (2 * shape->m + 1) + sizeof(LWLock);
}

/*
 * Point the graph's arrays into base (cap elements, an upper-level pool
 * of upperCap slots); with base NULL, only return the bytes needed.
 * Arrays of 4-byte or larger entries come first so that each stays
 * aligned.  Element locks are laid out only when locked (a parallel
 * build's shared graph; one process alone needs none), and are the
 * creator's to initialize (HnswGraphInitLocks), once: participants attach
 * while others hold them.
 */
Size
HnswGraphLayout(BuildGraph *g, char *base, uint32 cap, uint32 upperCap, bool locked)
{
	Size		off = 0;

#define PLACE(field, bytes) \
	do { \
		if (base != NULL) \
			g->field = (void *) (base + off); \
		off += MAXALIGN(bytes); \
	} while (0)

	PLACE(locks, locked ? sizeof(LWLock) * (Size) cap : 0);
	PLACE(slots0, sizeof(uint32) * 2 * g->shape.m * (Size) cap);
	PLACE(upperAt, sizeof(uint32) * (Size) cap);
	PLACE(upper, sizeof(uint32) * (Size) upperCap);
	PLACE(vectors, HnswGraphVectorBytes(&g->shape) * cap);
	PLACE(tids, sizeof(ItemPointerData) * (Size) cap);
	PLACE(levels, (Size) cap);
#undef PLACE

	if (base != NULL)
	{
		g->cap = cap;
		g->upperCap = upperCap;
	}
	return off;
}

/* Initialize the element locks of a graph just laid out. */
void
HnswGraphInitLocks(BuildGraph *g, int trancheId)
{
	for (uint32 i = 0; i < g->cap; i++)
		LWLockInitialize(&g->locks[i], trancheId);
}

/* The LWLock tranche of this backend's serial builds. */
static int
BuildTrancheId(void)
{
	static int	trancheId = 0;

	if (trancheId == 0)
	{
		trancheId = LWLockNewTrancheId();
		LWLockRegisterTranche(trancheId, "lance_hnsw build");
	}
	return trancheId;
}

/*
 * The next capacity of an array holding "used" entries that needs room
 * for "want": double it, but not past "limit", the entries the build's
 * memory budget holds (the graph is written out on reaching them, so
 * room past that would only be allocated, never used); computed in 64
 * bits, as doubling a 32-bit capacity can wrap.
 */
static uint64
GrownCapacity(uint32 cap, uint64 want, uint64 limit)
{
	uint64		grown = cap == 0 ? 1024 : (uint64) cap * 2;

	return Max(Min(grown, limit), want);
}

/*
 * Make room in a serial build's arrays for one more element with upper
 * levels of "need" slots, the arrays being held to budget bytes: grow
 * what is full, move the elements over.  The old arrays live until the
 * copy is done, so the peak is the old block plus the new one, at most
 * twice the budget at the last growth.  Nothing is locked (one process),
 * so no locks are laid out.
 */
static void
GraphGrow(BuildGraph *g, uint32 need, Size budget)
{
	BuildGraph	old = *g;
	uint64		cap = g->cap;
	uint64		upperCap = g->upperCap;
	char	   *base;
	uint32		n = g->hdr->n;
	int			s0 = 2 * g->shape.m;

	Assert(!g->fixed);
	/* what GraphMemUsed counts per element and per upper slot */
	if (n == cap)
		cap = GrownCapacity(g->cap, (uint64) n + 1,
							budget / (HnswGraphElementBytes(&g->shape) + sizeof(uint32)) + 1);
	if ((uint64) g->hdr->upperUsed + need > upperCap)
		upperCap = GrownCapacity(g->upperCap, (uint64) g->hdr->upperUsed + need,
								 budget / sizeof(uint32) + 1);
	/* positions and pool offsets are 32-bit, all ones meaning none */
	if (cap >= HNSW_INVALID_ID || upperCap >= HNSW_NO_UPPER ||
		cap * HnswGraphElementBytes(&g->shape) > MaxAllocHugeSize / 2)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("lance_hnsw build graph cannot grow past %u elements", n)));

	base = MemoryContextAllocHuge(CurrentMemoryContext,
								  HnswGraphLayout(g, NULL, (uint32) cap, (uint32) upperCap, false));
	HnswGraphLayout(g, base, (uint32) cap, (uint32) upperCap, false);
	if (old.cap > 0)
	{
		memcpy(g->slots0, old.slots0, sizeof(uint32) * s0 * n);
		memcpy(g->upperAt, old.upperAt, sizeof(uint32) * n);
		memcpy(g->upper, old.upper, sizeof(uint32) * g->hdr->upperUsed);
		memcpy(g->vectors, old.vectors, g->vecBytes * n);
		memcpy(g->tids, old.tids, sizeof(ItemPointerData) * n);
		memcpy(g->levels, old.levels, n);
		pfree(old.locks);		/* the start of the old block (no locks there) */
	}
	if (cap != old.cap)
	{
		g->marks = old.marks == NULL ?
			MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * cap) :
			repalloc_huge(old.marks, sizeof(uint32) * cap);
		memset(g->marks + old.cap, 0, sizeof(uint32) * (cap - old.cap));
	}
}

/*
 * Claim a position for an element of the given level, and its upper-level
 * slots, growing a serial build's arrays within budget bytes;
 * HNSW_INVALID_ID when a parallel build's arrays are full.
 */
static uint32
GraphClaim(BuildGraph *g, int level, Size budget)
{
	BuildGraphHeader *hdr = g->hdr;
	uint32		need = (uint32) (g->shape.m * level);
	uint32		pos = HNSW_INVALID_ID;

	if (!g->fixed && (hdr->n == g->cap || (uint64) hdr->upperUsed + need > g->upperCap))
		GraphGrow(g, need, budget);

	SpinLockAcquire(&hdr->mutex);
	if (hdr->n < g->cap && (uint64) hdr->upperUsed + need <= g->upperCap)
	{
		pos = hdr->n++;
		g->upperAt[pos] = level > 0 ? hdr->upperUsed : HNSW_NO_UPPER;
		hdr->upperUsed += need;
	}
	SpinLockRelease(&hdr->mutex);
	return pos;
}

/*
 * Link pos to newPos at a level (pos locked by the caller): a free slot
 * takes it, a full list is re-selected with the heuristic over its members
 * plus the new one.
 */
static void
GraphAddLink(BuildGraph *g, uint32 pos, int level, uint32 newPos)
{
	int			nslots = HnswLevelSlots(g->shape.m, level);
	uint32	   *slots = GraphSlots(g, pos, level);
	HnswCandidate *cands = g->linkCands;
	uint32	   *chosen = g->linkChosen;
	bool		l1 = g->shape.metric == HNSW_METRIC_L1;
	const float *posVec = NULL;
	int			nchosen;

	for (int i = 0; i < nslots; i++)
	{
		if (slots[i] == HNSW_INVALID_ID)
		{
			slots[i] = newPos;
			return;
		}
	}
	if (l1)
		posVec = GraphDecode(g, pos, nslots + 1);
	for (int i = 0; i <= nslots; i++)
	{
		uint32		p = i < nslots ? slots[i] : newPos;
		int			j = i;

		/* append, then bubble down to keep the list sorted by distance */
		cands[j].id = p;
		cands[j].dist = l1 ?
			HnswDistance(g->shape.metric, posVec, GraphDecode(g, p, 0), g->shape.dim) :
			GraphPairDistance(g, pos, p);
		cands[j].deleted = false;
		for (; j > 0 && cands[j - 1].dist > cands[j].dist; j--)
		{
			HnswCandidate tc = cands[j];

			cands[j] = cands[j - 1];
			cands[j - 1] = tc;
		}
	}
	nchosen = GraphSelect(g, cands, nslots + 1, nslots, true, g->linkVecs, chosen);
	for (int i = 0; i < nslots; i++)
		slots[i] = i < nchosen ? chosen[i] : HNSW_INVALID_ID;
}

/*
 * Insert the element at pos (codes, TID and level already stored; vec its
 * exact vector) into the in-memory graph: the paper's INSERT.  Its links
 * on every level are chosen first and written under its lock, then each
 * chosen neighbour links back under its own, so no list is ever changed
 * by two participants at once.  An element that raises the entry point
 * holds the entry lock exclusively throughout, as the on-disk insert does
 * with HNSW_UPDATE_LOCK; others only read the entry under it.
 */
static void
GraphInsert(BuildGraph *g, uint32 pos, const float *vec, MemoryContext tmpCtx)
{
	HnswGraphReader reader = {GraphNeighbors, GraphVisit, g, g->marks, &g->epoch,
	GraphPrefetchLinks};
	BuildGraphHeader *hdr = g->hdr;
	int			level = g->levels[pos];
	int			m = g->shape.m;
	int			ef = Max(g->shape.efConstruction, 2 * m);
	bool		raises;
	uint32		entryId;
	int			entryLevel;
	MemoryContext old;
	HnswCandidate entry;
	HnswCandidate *entries;
	int			nentries = 1;
	int			top;
	uint32	   *chosen = g->chosen;

	LWLockAcquire(&hdr->entryLock, LW_SHARED);
	raises = hdr->entry == HNSW_INVALID_ID || level > hdr->entryLevel;
	if (raises)
	{
		LWLockRelease(&hdr->entryLock);
		LWLockAcquire(&hdr->entryLock, LW_EXCLUSIVE);
		raises = hdr->entry == HNSW_INVALID_ID || level > hdr->entryLevel;
	}
	entryId = hdr->entry;
	entryLevel = hdr->entryLevel;
	if (!raises)
		LWLockRelease(&hdr->entryLock);

	if (entryId != HNSW_INVALID_ID)
	{
		old = MemoryContextSwitchTo(tmpCtx);
		g->query = vec;
		g->querySum = 0.0f;
		for (int i = 0; i < g->shape.dim; i++)
			g->querySum += vec[i];
		GraphVisit(g, vec, &entryId, 1, &entry);
		top = Min(level, entryLevel);
		entry = HnswGreedyDescend(reader, vec, g->shape.dim, m, entry, entryLevel, top + 1);
		entries = &entry;
		for (int lc = top; lc >= 0; lc--)
		{
			HnswSearch *s = HnswSearchBegin(reader, vec, g->shape.dim, m, ef,
											lc, entries, nentries, false);
			HnswCandidate *found = palloc(sizeof(HnswCandidate) * ef);
			const float **vecs = palloc(sizeof(float *) * ef);
			int			nfound = HnswSearchRun(s, found, ef);
			uint32	   *sel = chosen + HnswLevelStart(m, lc);
			int			nsel;

			HnswSearchEnd(s);
			nsel = GraphSelect(g, found, nfound, HnswLevelSlots(m, lc), false, vecs, sel);
			for (int i = nsel; i < HnswLevelSlots(m, lc); i++)
				sel[i] = HNSW_INVALID_ID;
			entries = found;
			nentries = nfound;
		}

		GraphLock(g, pos, LW_EXCLUSIVE);
		for (int lc = top; lc >= 0; lc--)
			memcpy(GraphSlots(g, pos, lc), chosen + HnswLevelStart(m, lc),
				   sizeof(uint32) * HnswLevelSlots(m, lc));
		GraphUnlock(g, pos);

		for (int lc = top; lc >= 0; lc--)
		{
			const uint32 *sel = chosen + HnswLevelStart(m, lc);

			for (int i = 0; i < HnswLevelSlots(m, lc) && sel[i] != HNSW_INVALID_ID; i++)
			{
				GraphLock(g, sel[i], LW_EXCLUSIVE);
				GraphAddLink(g, sel[i], lc, pos);
				GraphUnlock(g, sel[i]);
			}
		}
		MemoryContextSwitchTo(old);
		MemoryContextReset(tmpCtx);
	}

	if (raises)
	{
		hdr->entry = pos;
		hdr->entryLevel = level;
		LWLockRelease(&hdr->entryLock);
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
 * Breadth first over level 0: expand order[*head ..) in turn, appending
 * each element not yet placed that they link to.  Returns the new tail.
 */
static uint32
GraphBreadthFirst(BuildGraph *g, uint32 *order, bool *placed, uint32 *head, uint32 tail)
{
	while (*head < tail)
	{
		const uint32 *slots = GraphSlots(g, order[(*head)++], 0);

		for (int i = 0; i < 2 * g->shape.m; i++)
		{
			if (slots[i] != HNSW_INVALID_ID && !placed[slots[i]])
			{
				placed[slots[i]] = true;
				order[tail++] = slots[i];
			}
		}
	}
	return tail;
}

/*
 * Put id into a list of n slots unless it is there: into a free slot, or
 * over the last (the farthest kept).  Returns the id it displaced, or
 * HNSW_INVALID_ID.
 */
static uint32
SlotsPut(uint32 *slots, int n, uint32 id)
{
	uint32		old;

	for (int i = 0; i < n; i++)
	{
		if (slots[i] == id)
			return HNSW_INVALID_ID;
		if (slots[i] == HNSW_INVALID_ID)
		{
			slots[i] = id;
			return HNSW_INVALID_ID;
		}
	}
	old = slots[n - 1];
	slots[n - 1] = id;
	return old;
}

/*
 * The element a greedy search from the entry point for element u's own
 * vector ends at on level 0 (vec is scratch for that vector): reached by
 * construction, and near u.
 */
static uint32
GreedyReach(BuildGraph *g, uint32 u, float *vec)
{
	HnswGraphReader reader = {GraphNeighbors, GraphVisit, g, g->marks, &g->epoch,
	GraphPrefetchLinks};
	HnswCandidate entry;

	sq8_decode(GraphCodes(g, u), g->shape.dim, GraphStats(g, u)->lo, GraphStats(g, u)->step, vec);
	g->query = vec;
	g->querySum = 0.0f;
	for (int i = 0; i < g->shape.dim; i++)
		g->querySum += vec[i];
	GraphVisit(g, vec, &g->hdr->entry, 1, &entry);
	entry = HnswGreedyDescend(reader, vec, g->shape.dim, g->shape.m, entry,
							  g->hdr->entryLevel, 0);
	return entry.id;
}

/*
 * Link elements that nothing reaches from the entry point.  Pruning a
 * full list can drop an element's last incoming link (duplicates and
 * tight clusters make this likely, and can cut off a whole cluster), and
 * searches then never return it.  Each such element u is linked from v,
 * the first of its own neighbours that is reached (else the element a
 * greedy search for u ends at if that is reached on level 0, else the
 * entry point), into a free slot of v or in place of v's
 * farthest link, to w; w then goes into u's list (a free slot, or u's own
 * farthest, which nothing reached depended on since u was not reached),
 * so whatever v reached it still reaches, through u.  Passes repeat while
 * they link something, a few times at most; one process runs this, before
 * the graph is written.
 */
static void
RepairOrphans(BuildGraph *g)
{
	uint32		n = g->hdr->n;
	uint32	   *order = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(n, 1));
	bool	   *placed = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * Max(n, 1));
	int			s0 = 2 * g->shape.m;
	float	   *vec = palloc(sizeof(float) * Max(g->shape.dim, 1));

	for (int pass = 0; pass < 4 && n > 0; pass++)
	{
		uint32		head = 0;
		uint32		tail = 0;
		uint32		repaired = 0;

		memset(placed, 0, sizeof(bool) * n);
		placed[g->hdr->entry] = true;
		order[tail++] = g->hdr->entry;
		tail = GraphBreadthFirst(g, order, placed, &head, tail);
		for (uint32 u = 0; u < n && tail < n; u++)
		{
			uint32	   *mine = GraphSlots(g, u, 0);
			uint32		v = HNSW_INVALID_ID;

			CHECK_FOR_INTERRUPTS();
			if (placed[u])
				continue;
			for (int i = 0; i < s0 && v == HNSW_INVALID_ID; i++)
				if (mine[i] != HNSW_INVALID_ID && placed[mine[i]])
					v = mine[i];
			if (v == HNSW_INVALID_ID)
				v = GreedyReach(g, u, vec);
			/* a descent can end off level 0's reach: then take the entry */
			if (!placed[v])
				v = g->hdr->entry;
			if (v != u)
			{
				uint32		w = SlotsPut(GraphSlots(g, v, 0), s0, u);

				if (w != HNSW_INVALID_ID)
					SlotsPut(mine, s0, w);
				placed[u] = true;
				order[tail++] = u;
				tail = GraphBreadthFirst(g, order, placed, &head, tail);
				repaired++;
			}
		}
		if (repaired == 0)
			break;
	}
	pfree(order);
	pfree(placed);
	pfree(vec);
}

/*
 * The order elements are laid out on disk: breadth first over level 0
 * from the entry point, so that an element's neighbours mostly land on
 * its own page or the next ones.  A search then meets many neighbours on
 * pages it has just read, and sorted neighbour ids share page locks.
 * Elements no link reaches (none once RepairOrphans could link them)
 * follow in position order.
 */
static uint32 *
LayoutOrder(BuildGraph *g)
{
	uint32		n = g->hdr->n;
	uint32	   *order = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(n, 1));
	bool	   *placed = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(bool) * Max(n, 1));
	uint32		head = 0;
	uint32		tail = 0;

	memset(placed, 0, sizeof(bool) * n);
	if (n > 0)
	{
		order[tail++] = g->hdr->entry;
		placed[g->hdr->entry] = true;
	}
	for (uint32 next = 0; tail < n; next++)
	{
		tail = GraphBreadthFirst(g, order, placed, &head, tail);
		if (tail < n && !placed[next])
		{
			placed[next] = true;
			order[tail++] = next;
		}
	}
	pfree(placed);
	return order;
}

/*
 * Write the in-memory graph: link orphans (RepairOrphans), lay elements
 * out (LayoutOrder), then fill each page once with links translated to
 * on-disk ids, then WAL-log the pages in bulk.
 */
void
HnswWriteGraph(BuildState *bs)
{
	BuildGraph *g = &bs->graph;
	uint32		n = g->hdr->n;
	HnswShape  *shape = &g->shape;
	Size		room = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(HnswPageOpaqueData));
	uint32	   *ids = MemoryContextAllocHuge(CurrentMemoryContext, sizeof(uint32) * Max(n, 1));
	uint32	   *order;
	PGAlignedBlock block;
	Page		page = (Page) block.data;
	Size		used = 0;
	int			count = 0;
	BlockNumber blkno = 1;
	HnswElementTuple etup = palloc(HnswElementSize(shape, HNSW_MAX_LEVEL));
	int64		k = 0;

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_WRITE);
	RepairOrphans(g);
	order = LayoutOrder(g);

	/* where every element goes */
	for (int64 i = 0; i < n; i++)
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

	InitMetaPage(page, shape, n > 0 ? ids[g->hdr->entry] : HNSW_INVALID_ID,
				 n > 0 ? g->hdr->entryLevel : -1, n > 0 ? blkno : HNSW_METAPAGE_BLKNO);
	AppendPage(bs->index, MAIN_FORKNUM, page);

	for (BlockNumber b = 1; k < n; b++)
	{
		HnswInitPage(page);
		while (k < n && HnswIdBlock(ids[order[k]]) == b)
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
			etup->lo = GraphStats(g, pos)->lo;
			etup->step = GraphStats(g, pos)->step;
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

	if (RelationNeedsWAL(bs->index))
		log_newpage_range(bs->index, MAIN_FORKNUM, 0,
						  RelationGetNumberOfBlocks(bs->index), true);
	pfree(ids);
	pfree(order);
	pfree(etup);
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
	bs->graph.vecBytes = HnswGraphVectorBytes(&bs->graph.shape);
}

/* Memory a serial build's graph holds for its elements, for its budget. */
static Size
GraphMemUsed(BuildGraph *g)
{
	return (Size) g->hdr->n * (HnswGraphElementBytes(&g->shape) + sizeof(uint32)) +
		sizeof(uint32) * (Size) g->hdr->upperUsed;
}

/* Show the rows indexed by all participants, from the leader. */
static void
ReportProgress(BuildState *bs)
{
	if (bs->leader)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
									 (int64) pg_atomic_read_u64(&bs->graph.hdr->tuplesDone));
}

/*
 * Say why the graph is written out before the end of the scan: a serial
 * graph outgrew maintenance_work_mem; a shared one filled the elements it
 * was sized for (by maintenance_work_mem, or by the rows the table's pages
 * could hold, which only compressed rows exceed) or its pool of upper-level
 * lists, sized for twice the expected share of elements with upper levels.
 */
static void
ReportGraphFull(BuildGraph *g)
{
	BuildGraphHeader *hdr = g->hdr;

	if (g->fixed && hdr->n < g->cap)
		ereport(NOTICE,
				(errmsg("lance_hnsw shared graph ran out of upper-level slots after %u tuples",
						hdr->n),
				 errdetail("Its pool of %u slots was sized for twice the expected upper levels; the rest of the rows are inserted on disk one by one, which is slower.",
						   g->upperCap)));
	else if (g->fixed && hdr->capFromPages)
		ereport(NOTICE,
				(errmsg("lance_hnsw shared graph is full after %u tuples", hdr->n),
				 errdetail("It was sized for the rows the table's pages could hold uncompressed; the rest of the rows are inserted on disk one by one, which is slower.")));
	else
		ereport(NOTICE,
				(errmsg("lance_hnsw graph no longer fits into maintenance_work_mem after %u tuples",
						hdr->n),
				 errdetail("The rest of the rows are inserted on disk one by one, which is slower."),
				 errhint("Increase maintenance_work_mem to speed up the build.")));
}

/*
 * Write the graph out when it can take no more elements.  In a parallel
 * build the first participant to get here does it, and flushLock only
 * elects it: taken exclusive, it waits out the in-memory inserts in flight
 * (which hold it shared) and marks the graph as being written, so no
 * insert touches the graph again.  The writing itself holds no LWLock, so
 * it stays interruptible; the others wait on a condition variable, also
 * interruptibly, until the graph is on disk, and then insert their rows
 * on disk.  If the writer fails, the whole build fails (the leader
 * rethrows a worker's error), and since "flushing" stays set nobody
 * writes the graph a second time over a partial one.
 */
static void
FlushGraph(BuildState *bs)
{
	BuildGraphHeader *hdr = bs->graph.hdr;
	bool		writer = true;

	if (bs->graph.fixed)
	{
		LWLockAcquire(&hdr->flushLock, LW_EXCLUSIVE);
		writer = !hdr->flushing;
		hdr->flushing = true;
		LWLockRelease(&hdr->flushLock);
	}
	if (writer)
	{
		ReportGraphFull(&bs->graph);
		HnswWriteGraph(bs);
		SpinLockAcquire(&hdr->mutex);
		hdr->flushed = true;
		SpinLockRelease(&hdr->mutex);
		if (bs->graph.fixed)
			ConditionVariableBroadcast(&hdr->flushedCv);
	}
	else
	{
		for (;;)
		{
			bool		flushed;

			SpinLockAcquire(&hdr->mutex);
			flushed = hdr->flushed;
			SpinLockRelease(&hdr->mutex);
			if (flushed)
				break;
			ConditionVariableSleep(&hdr->flushedCv, PG_WAIT_EXTENSION);
		}
		ConditionVariableCancelSleep();
	}
	bs->onDisk = true;
	if (!bs->graph.fixed)
		MemoryContextReset(bs->graphCtx);
	if (bs->leader)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_LOAD);
}

/*
 * Add the prepared vector in g->vecBuf to the in-memory graph; false when
 * the graph has been or must be written out, and the row goes on disk.
 */
static bool
AddInMemory(BuildState *bs, ItemPointer tid)
{
	BuildGraph *g = &bs->graph;
	BuildGraphHeader *hdr = g->hdr;
	int			m = g->shape.m;
	int			level;
	uint32		pos;
	MemoryContext old;

	LWLockAcquire(&hdr->flushLock, LW_SHARED);
	if (hdr->flushing)
	{
		LWLockRelease(&hdr->flushLock);
		FlushGraph(bs);
		return false;
	}
	level = HnswRandomLevel(&bs->prng, m);
	old = MemoryContextSwitchTo(bs->graphCtx);
	pos = GraphClaim(g, level, bs->memLimit);
	MemoryContextSwitchTo(old);
	if (pos == HNSW_INVALID_ID)
	{
		LWLockRelease(&hdr->flushLock);
		FlushGraph(bs);
		return false;
	}

	/* nothing links to pos yet: fill it in without its lock */
	sq8_encode(g->vecBuf, g->shape.dim, GraphCodes(g, pos),
			   &GraphStats(g, pos)->lo, &GraphStats(g, pos)->step);
	sq8_code_sums(GraphCodes(g, pos), g->shape.dim, GraphStats(g, pos));
	g->tids[pos] = *tid;
	g->levels[pos] = level;
	memset(GraphSlots(g, pos, 0), 0xFF, sizeof(uint32) * 2 * m);
	if (level > 0)
		memset(GraphSlots(g, pos, 1), 0xFF, sizeof(uint32) * m * level);

	GraphInsert(g, pos, g->vecBuf, bs->tmpCtx);
	LWLockRelease(&hdr->flushLock);
	return true;
}

/* Per-row callback of the heap scan, in every participant. */
void
HnswBuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				  bool tupleIsAlive, void *state)
{
	BuildState *bs = (BuildState *) state;
	BuildGraph *g = &bs->graph;
	MemoryContext old;
	Vector	   *v;

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

	if (HnswPrepareVector(g->shape.metric, v->x, g->shape.dim, g->vecBuf))
	{
		if (bs->onDisk || !AddInMemory(bs, tid))
			HnswInsertElement(index, &g->shape, g->vecBuf, tid, &bs->prng);
		bs->indtuples++;
		pg_atomic_fetch_add_u64(&g->hdr->tuplesDone, 1);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
	ReportProgress(bs);

	if (!bs->onDisk && !g->fixed && GraphMemUsed(g) > bs->memLimit)
		FlushGraph(bs);
}

/* The shape an index will have, from its options and opclass. */
void
HnswShapeFromOptions(Relation index, HnswShape *shape)
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

/* Initialize a graph header, its locks in the given tranche. */
void
HnswBuildHeaderInit(BuildGraphHeader *hdr, int trancheId)
{
	SpinLockInit(&hdr->mutex);
	hdr->n = 0;
	hdr->upperUsed = 0;
	LWLockInitialize(&hdr->entryLock, trancheId);
	LWLockInitialize(&hdr->flushLock, trancheId);
	hdr->entry = HNSW_INVALID_ID;
	hdr->entryLevel = -1;
	hdr->capFromPages = false;
	hdr->flushing = false;
	hdr->flushed = false;
	ConditionVariableInit(&hdr->flushedCv);
	pg_atomic_init_u64(&hdr->tuplesDone, 0);
}

/*
 * Set up one participant's state; the graph's arrays and header are the
 * caller's to provide.  Levels are drawn from a generator seeded with
 * seed, so a serial build is deterministic.
 */
void
HnswBuildStateInit(BuildState *bs, Relation heap, Relation index,
				   const HnswShape *shape, uint64 seed)
{
	int			m = shape->m;

	memset(bs, 0, sizeof(*bs));
	bs->heap = heap;
	bs->index = index;
	bs->graph.shape = *shape;
	if (shape->dim > 0)
		SetBuildDim(bs, shape->dim);
	pg_prng_seed(&bs->prng, seed);
	bs->graph.linkCands = palloc(sizeof(HnswCandidate) * (2 * m + 1));
	bs->graph.linkVecs = palloc(sizeof(float *) * (2 * m + 1));
	bs->graph.linkChosen = palloc(sizeof(uint32) * 2 * m);
	bs->graph.codeDot = sq8_code_dot();
	bs->graph.chosen = palloc(sizeof(uint32) *
							  (HnswLevelStart(m, HNSW_MAX_LEVEL) + HnswLevelSlots(m, HNSW_MAX_LEVEL)));
	bs->memLimit = (Size) maintenance_work_mem * 1024;
	bs->leader = true;
	bs->buildCtx = CurrentMemoryContext;
	bs->graphCtx = AllocSetContextCreate(CurrentMemoryContext, "lance_hnsw build graph",
										 ALLOCSET_DEFAULT_SIZES);
	bs->tmpCtx = AllocSetContextCreate(CurrentMemoryContext, "lance_hnsw build tuple",
									   ALLOCSET_DEFAULT_SIZES);
}

/* Free what a participant's state holds. */
void
HnswBuildStateEnd(BuildState *bs)
{
	MemoryContextDelete(bs->graphCtx);
	MemoryContextDelete(bs->tmpCtx);
}

/*
 * ambuild: scan the heap, build the graph in memory, write it out; with
 * parallel workers when the planner grants some and the dimension is
 * known (shared memory is sized by it).
 */
IndexBuildResult *
hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	BuildState	bs;
	HnswShape	shape;
	double		reltuples;
	int			nworkers = 0;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	HnswShapeFromOptions(index, &shape);
	HnswBuildStateInit(&bs, heap, index, &shape, HNSW_BUILD_SEED);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, PROGRESS_HNSW_PHASE_LOAD);
	if (heap->rd_rel->reltuples > 0)
		pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_TOTAL,
									 (int64) heap->rd_rel->reltuples);

	if (shape.dim > 0)
		nworkers = plan_create_index_workers(RelationGetRelid(heap), RelationGetRelid(index));
	if (nworkers == 0 || !HnswBuildParallel(&bs, indexInfo, nworkers, &reltuples))
	{
		bs.graph.hdr = palloc(sizeof(BuildGraphHeader));
		HnswBuildHeaderInit(bs.graph.hdr, BuildTrancheId());
		reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
										   HnswBuildCallback, &bs, NULL);
		if (!bs.onDisk)
			HnswWriteGraph(&bs);
	}
	HnswBuildStateEnd(&bs);

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

	HnswShapeFromOptions(index, &shape);
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

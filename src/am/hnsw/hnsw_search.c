/*-------------------------------------------------------------------------
 *
 * hnsw_search.c
 *	  Searching one level of the graph, and choosing an element's neighbours.
 *
 * The same routines serve the in-memory graph of a build and the pages of
 * an index: they read the graph only through an HnswGraphReader.  The
 * search keeps no per-candidate allocations: candidates live in arrays
 * (a sorted window, two binary heaps) and visited ids in bitmaps, one per
 * 256 ids, because a query at ef_search 40 on 100k vectors touches about a
 * thousand elements and allocator overhead would show.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>

#include "am/hnsw/hnsw.h"
#include "miscadmin.h"

/*
 * Visited and expanded marks.  An id is its page's block number and its
 * offset on the page (below 256), so the ids of one page share a chunk
 * of 256 visited and 256 expanded bits.  A mark is then one bit test in a
 * few kilobytes that stay in cache; the open-addressed hash set of ids
 * this replaced cost a tenth of a filtered query, which marks tens of
 * thousands of ids.  Chunks are found by block through a small
 * open-addressed table (linear probing, Fibonacci hashing), sized for the
 * visits the search expects and doubled when half full, so a search costs
 * memory for the pages it touches, not for the size of the index.
 */
#define VISITED_WORDS	(256 / 64)

typedef struct VisitedSlot
{
	BlockNumber blk;			/* InvalidBlockNumber: empty */
	uint32		chunk;
} VisitedSlot;

typedef struct HnswVisited
{
	VisitedSlot *slots;
	int			shift;			/* 32 - log2(number of slots) */
	uint64	   *chunks;			/* per chunk: visited words, then expanded */
	uint32		nchunks;
	uint32		chunkCap;
	BlockNumber lastBlk;		/* the block last looked up, and its chunk: */
	uint32		lastChunk;		/* neighbours sorted by id share pages */
} HnswVisited;

static inline uint32
VisitedMask(const HnswVisited *v)
{
	return ((uint32) 1 << (32 - v->shift)) - 1;
}

/* the slot a block's probe starts at */
static inline uint32
VisitedHome(const HnswVisited *v, BlockNumber blk)
{
	return (uint32) (blk * 0x9E3779B1u) >> v->shift;
}

/* Make an empty table of 2^bits slots. */
static void
VisitedAllocSlots(HnswVisited *v, int bits)
{
	Size		n = (Size) 1 << bits;

	v->slots = palloc_extended(sizeof(VisitedSlot) * n, MCXT_ALLOC_HUGE);
	/* every byte 0xFF: every slot's block is InvalidBlockNumber */
	memset(v->slots, 0xFF, sizeof(VisitedSlot) * n);
	v->shift = 32 - bits;
}

/* A table with room for about expected pages before it grows. */
static HnswVisited *
VisitedCreate(int expected)
{
	HnswVisited *v = palloc0(sizeof(HnswVisited));
	int			bits = 4;

	expected = Min(Max(expected, 8), 4096);
	while (((uint32) 1 << bits) < (uint32) expected * 2)
		bits++;
	VisitedAllocSlots(v, bits);
	v->chunkCap = expected;
	v->chunks = palloc(sizeof(uint64) * 2 * VISITED_WORDS * v->chunkCap);
	v->lastBlk = InvalidBlockNumber;
	return v;
}

/* Double the table once it is half full, rehoming every page. */
static void
VisitedGrow(HnswVisited *v)
{
	VisitedSlot *old = v->slots;
	uint32		nold = VisitedMask(v) + 1;
	uint32		mask;

	VisitedAllocSlots(v, 33 - v->shift);
	mask = VisitedMask(v);
	for (uint32 i = 0; i < nold; i++)
	{
		uint32		j;

		if (old[i].blk == InvalidBlockNumber)
			continue;
		for (j = VisitedHome(v, old[i].blk); v->slots[j].blk != InvalidBlockNumber;
			 j = (j + 1) & mask)
			;
		v->slots[j] = old[i];
	}
	pfree(old);
}

/* The first word of the chunk holding id's marks, made if need be. */
static uint64 *
VisitedChunk(HnswVisited *v, uint32 id)
{
	BlockNumber blk = HnswIdBlock(id);
	uint32		mask = VisitedMask(v);
	uint32		i;
	uint64	   *chunk;

	if (blk == v->lastBlk)
		return v->chunks + (Size) 2 * VISITED_WORDS * v->lastChunk;
	for (i = VisitedHome(v, blk); v->slots[i].blk != InvalidBlockNumber; i = (i + 1) & mask)
	{
		if (v->slots[i].blk == blk)
		{
			v->lastBlk = blk;
			v->lastChunk = v->slots[i].chunk;
			return v->chunks + (Size) 2 * VISITED_WORDS * v->lastChunk;
		}
	}

	/* a new page: keep the table at most half full */
	if ((v->nchunks + 1) * 2 > mask + 1)
	{
		VisitedGrow(v);
		mask = VisitedMask(v);
		for (i = VisitedHome(v, blk); v->slots[i].blk != InvalidBlockNumber; i = (i + 1) & mask)
			;
	}
	if (v->nchunks == v->chunkCap)
	{
		v->chunkCap *= 2;
		v->chunks = repalloc_huge(v->chunks,
								  sizeof(uint64) * 2 * VISITED_WORDS * v->chunkCap);
	}
	chunk = v->chunks + (Size) 2 * VISITED_WORDS * v->nchunks;
	memset(chunk, 0, sizeof(uint64) * 2 * VISITED_WORDS);
	v->slots[i].blk = blk;
	v->slots[i].chunk = v->nchunks++;
	v->lastBlk = blk;
	v->lastChunk = v->slots[i].chunk;
	return chunk;
}

/* Add id; returns false if it was there already. */
static inline bool
VisitedAdd(HnswVisited *v, uint32 id)
{
	uint64	   *word = VisitedChunk(v, id) + HnswIdOffset(id) / 64;
	uint64		bit = UINT64CONST(1) << (HnswIdOffset(id) % 64);

	if (*word & bit)
		return false;
	*word |= bit;
	return true;
}

/* Mark id expanded (and visited); returns false if it was marked already. */
static bool
VisitedMarkExpanded(HnswVisited *v, uint32 id)
{
	uint64	   *visited = VisitedChunk(v, id) + HnswIdOffset(id) / 64;
	uint64	   *expanded = visited + VISITED_WORDS;
	uint64		bit = UINT64CONST(1) << (HnswIdOffset(id) % 64);

	*visited |= bit;
	if (*expanded & bit)
		return false;
	*expanded |= bit;
	return true;
}

/* --- binary min-heaps of candidates, keyed on distance --- */

static void
HeapPush(HnswCandidate **heap, int *len, int *cap, HnswCandidate c)
{
	HnswCandidate *h;
	int			i;

	if (*len == *cap)
	{
		*cap *= 2;
		*heap = repalloc_huge(*heap, sizeof(HnswCandidate) * *cap);
	}
	h = *heap;
	i = (*len)++;
	while (i > 0)
	{
		int			parent = (i - 1) / 2;

		if (h[parent].dist <= c.dist)
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = c;
}

static HnswCandidate
HeapPop(HnswCandidate *h, int *len)
{
	HnswCandidate top = h[0];
	HnswCandidate last = h[--(*len)];
	int			n = *len;
	int			i = 0;

	for (;;)
	{
		int			child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && h[child + 1].dist < h[child].dist)
			child++;
		if (last.dist <= h[child].dist)
			break;
		h[i] = h[child];
		i = child;
	}
	if (n > 0)
		h[i] = last;
	return top;
}

/* --- the sorted window of the ef closest unreturned elements --- */

static inline int
NearCount(const HnswSearch *s)
{
	return s->nearLen - s->nearHead;
}

/* Insert c into the window, which has room. */
static void
NearInsert(HnswSearch *s, HnswCandidate c)
{
	int			lo = s->nearHead;
	int			hi = s->nearLen;

	if (s->nearLen == s->nearCap)
	{
		/* slide the live part back to the start of the array */
		memmove(s->near, s->near + s->nearHead, sizeof(HnswCandidate) * NearCount(s));
		s->nearLen -= s->nearHead;
		s->nearHead = 0;
		lo = 0;
		hi = s->nearLen;
	}
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (s->near[mid].dist <= c.dist)
			lo = mid + 1;
		else
			hi = mid;
	}
	memmove(s->near + lo + 1, s->near + lo, sizeof(HnswCandidate) * (s->nearLen - lo));
	s->near[lo] = c;
	s->nearLen++;
}

/*
 * Take in a newly discovered element: it joins the window if it is among
 * the ef closest (pushing the window's farthest out to "far"), and only
 * then becomes a candidate to expand, as in the paper.  A one-shot search
 * (builds, inserts) keeps no "far": what leaves the window is dropped.
 */
static void
Discover(HnswSearch *s, HnswCandidate c)
{
	if (NearCount(s) >= s->ef)
	{
		HnswCandidate worst = s->near[s->nearLen - 1];

		if (c.dist >= worst.dist)
		{
			if (s->resumable)
				HeapPush(&s->far, &s->farLen, &s->farCap, c);
			return;
		}
		s->nearLen--;
		if (s->resumable)
			HeapPush(&s->far, &s->farLen, &s->farCap, worst);
	}
	NearInsert(s, c);
	HeapPush(&s->cand, &s->candLen, &s->candCap, c);
}

/* Mark id visited; returns false if it was already. */
static inline bool
MarkVisited(HnswSearch *s, uint32 id)
{
	if (s->reader.marks != NULL)
	{
		if (s->reader.marks[id] == s->epoch)
			return false;
		s->reader.marks[id] = s->epoch;
		return true;
	}
	return VisitedAdd(s->visited, id);
}

/*
 * Expand candidates until the closest unexpanded one is farther than the
 * farthest element of a full window: the stopping rule of the paper's
 * SEARCH-LAYER.
 */
static void
Advance(HnswSearch *s)
{
	while (s->candLen > 0)
	{
		HnswCandidate c = s->cand[0];
		int			nnbr;
		int			nnew = 0;

		if (NearCount(s) >= s->ef && c.dist > s->near[s->nearLen - 1].dist)
			break;
		HeapPop(s->cand, &s->candLen);

		/*
		 * Only a resumable search can meet a candidate twice (when it comes
		 * back from "far"); a one-shot search pushes each element once.
		 */
		if (s->resumable && !VisitedMarkExpanded(s->visited, c.id))
			continue;

		CHECK_FOR_INTERRUPTS();
		nnbr = s->reader.neighbors(s->reader.arg, c.id, s->level, s->nbrIds);

		/*
		 * The next candidate is likely the one expanded next: ask for its
		 * list now, to arrive while this one's neighbours are measured.
		 */
		if (s->reader.prefetch != NULL && s->candLen > 0)
			s->reader.prefetch(s->reader.arg, s->cand[0].id, s->level);
		if (s->reader.marks != NULL)
		{
			/* marks of scattered ids: ask for all before testing any */
			for (int i = 0; i < nnbr; i++)
				__builtin_prefetch(&s->reader.marks[s->nbrIds[i]]);
		}
		for (int i = 0; i < nnbr; i++)
			if (MarkVisited(s, s->nbrIds[i]))
				s->nbrIds[nnew++] = s->nbrIds[i];
		if (nnew == 0)
			continue;

		/*
		 * On pages, ids of one page are adjacent: sorted, they share one
		 * page lock.  A graph in memory (marked by position) has no pages.
		 */
		for (int i = 1; s->reader.marks == NULL && i < nnew; i++)
		{
			uint32		id = s->nbrIds[i];
			int			j = i - 1;

			for (; j >= 0 && s->nbrIds[j] > id; j--)
				s->nbrIds[j + 1] = s->nbrIds[j];
			s->nbrIds[j + 1] = id;
		}
		s->reader.visit(s->reader.arg, s->query, s->nbrIds, nnew, s->nbrCands);
		s->visitedCount += nnew;
		for (int i = 0; i < nnew; i++)
			if (s->nbrCands[i].dist < FLT_MAX)
				Discover(s, s->nbrCands[i]);
	}
}

/*
 * Start a search of one level from the given entry elements (whose
 * distances are known).  The search state is allocated in the current
 * memory context.
 */
HnswSearch *
HnswSearchBegin(HnswGraphReader reader, const float *query, int dim, int m,
				int ef, int level, const HnswCandidate *entries, int nentries,
				bool resumable)
{
	HnswSearch *s = palloc0(sizeof(HnswSearch));
	int			slots = HnswLevelSlots(m, 0);

	s->reader = reader;
	s->resumable = resumable;
	s->query = query;
	s->dim = dim;
	s->ef = Max(ef, 1);
	s->efBase = s->ef;
	s->level = level;
	s->nearCap = 2 * s->ef + 1;
	s->near = palloc(sizeof(HnswCandidate) * s->nearCap);
	s->farCap = 64;
	s->far = palloc(sizeof(HnswCandidate) * s->farCap);
	s->candCap = 64;
	s->cand = palloc(sizeof(HnswCandidate) * s->candCap);
	if (reader.marks != NULL && !resumable)
		s->epoch = ++(*reader.epoch);
	else
	{
		s->reader.marks = NULL;
		/* a search meets about ef elements' lists of neighbours */
		s->visited = VisitedCreate(s->ef * slots);
	}
	s->nbrIds = palloc(sizeof(uint32) * slots);
	s->nbrCands = palloc(sizeof(HnswCandidate) * slots);

	for (int i = 0; i < nentries; i++)
	{
		if (MarkVisited(s, entries[i].id) && entries[i].dist < FLT_MAX)
			Discover(s, entries[i]);
	}
	s->visitedCount = nentries;
	return s;
}

/*
 * Produce the next closest element not yet produced, or return false when
 * the part of the graph reachable from the entries is exhausted.  After
 * the first ef results the order is no longer guaranteed exact: a later
 * expansion may still find an element closer than one already produced.
 * Past the first HNSW_GROWTH_START x ef results the window grows by
 * HNSW_WINDOW_GROWTH for each result produced.
 */
bool
HnswSearchNext(HnswSearch *s, HnswCandidate *result)
{
	Assert(s->resumable);
	Advance(s);
	if (NearCount(s) == 0)
		return false;
	*result = s->near[s->nearHead++];
	s->returned++;

	/* widen the window with the results produced (HNSW_WINDOW_GROWTH) */
	if (s->returned > HNSW_GROWTH_START * s->efBase)
	{
		s->ef = (int) Min(s->efBase + (s->returned - HNSW_GROWTH_START * s->efBase) *
						  HNSW_WINDOW_GROWTH, (int64) INT_MAX / 4);
		/* doubling, as ef rises with every row returned */
		if (s->nearCap < 2 * s->ef + 1)
		{
			s->nearCap = Max(2 * s->nearCap, 2 * s->ef + 1);
			s->near = repalloc_huge(s->near, sizeof(HnswCandidate) * s->nearCap);
		}
	}

	/* refill the window from "far", whose closest is beyond all of it */
	while (s->farLen > 0 && NearCount(s) < s->ef)
	{
		HnswCandidate c = HeapPop(s->far, &s->farLen);

		NearInsert(s, c);
		HeapPush(&s->cand, &s->candLen, &s->candCap, c);
	}
	return true;
}

/*
 * Run the search to its stopping point and copy the (at most max) closest
 * elements found, nearest first, without consuming them.
 */
int
HnswSearchRun(HnswSearch *s, HnswCandidate *out, int max)
{
	int			n;

	Advance(s);
	n = Min(NearCount(s), max);
	memcpy(out, s->near + s->nearHead, sizeof(HnswCandidate) * n);
	return n;
}

void
HnswSearchEnd(HnswSearch *s)
{
	pfree(s->near);
	pfree(s->far);
	pfree(s->cand);
	if (s->visited != NULL)
	{
		pfree(s->visited->slots);
		pfree(s->visited->chunks);
		pfree(s->visited);
	}
	pfree(s->nbrIds);
	pfree(s->nbrCands);
	pfree(s);
}

/*
 * Walk greedily (ef = 1) from entry down the levels fromLevel .. toLevel,
 * returning the closest element found on toLevel.
 */
HnswCandidate
HnswGreedyDescend(HnswGraphReader reader, const float *query, int dim, int m,
				  HnswCandidate entry, int fromLevel, int toLevel)
{
	for (int level = fromLevel; level >= toLevel; level--)
	{
		HnswSearch *s = HnswSearchBegin(reader, query, dim, m, 1, level, &entry, 1, false);
		HnswCandidate best;

		if (HnswSearchRun(s, &best, 1) == 1)
			entry = best;
		HnswSearchEnd(s);
	}
	return entry;
}

/*
 * Choose up to max neighbours among candidates sorted nearest first, with
 * the paper's heuristic (Algorithm 4, without extending the candidates): a
 * candidate is taken only if it is closer to the base element than to
 * every neighbour already taken, which keeps links pointing in diverse
 * directions and the graph navigable across clusters.  With keepPruned the
 * slots the heuristic leaves empty are filled with the closest candidates
 * it passed over (the paper's keepPrunedConnections): used when an
 * existing element's full list takes in a new neighbour, it keeps the list
 * full, so a new element is less often left with no link pointing to it.
 * dist(arg, i, j) is the distance between candidates i and j; usable (if
 * not NULL) says which candidates may be taken, and deleted ones never
 * are.  Returns how many ids were written to out.
 */
int
HnswSelectNeighborsBy(const HnswCandidate *cands, int ncands, int max,
					  bool keepPruned, HnswPairDistance dist, void *arg,
					  const bool *usable, uint32 *out)
{
	int			nsel = 0;
	int		   *sel = palloc(sizeof(int) * Max(max, 1));
	bool	   *taken = palloc0(sizeof(bool) * Max(ncands, 1));

	for (int i = 0; i < ncands && nsel < max; i++)
	{
		bool		keep = true;

		if (cands[i].deleted || (usable != NULL && !usable[i]))
			continue;
		for (int j = 0; j < nsel; j++)
		{
			if (dist(arg, i, sel[j]) < cands[i].dist)
			{
				keep = false;
				break;
			}
		}
		if (keep)
		{
			sel[nsel] = i;
			taken[i] = true;
			out[nsel++] = cands[i].id;
		}
	}
	for (int i = 0; keepPruned && i < ncands && nsel < max; i++)
	{
		if (!taken[i] && !cands[i].deleted && (usable == NULL || usable[i]))
			out[nsel++] = cands[i].id;
	}
	pfree(sel);
	pfree(taken);
	return nsel;
}

/* candidates' vectors, for HnswSelectNeighbors */
typedef struct VectorPairs
{
	HnswMetric	metric;
	int			dim;
	const float *const *vecs;
} VectorPairs;

static float
VectorPairDistance(void *arg, int i, int j)
{
	VectorPairs *vp = (VectorPairs *) arg;

	return HnswDistance(vp->metric, vp->vecs[i], vp->vecs[j], vp->dim);
}

/*
 * HnswSelectNeighborsBy on candidates' float vectors: vecs[i] is candidate
 * i's, NULL for one that may not be taken.
 */
int
HnswSelectNeighbors(HnswMetric metric, int dim, const HnswCandidate *cands,
					int ncands, const float *const *vecs, int max,
					bool keepPruned, uint32 *out)
{
	VectorPairs vp = {metric, dim, vecs};
	bool	   *usable = palloc(sizeof(bool) * Max(ncands, 1));
	int			n;

	for (int i = 0; i < ncands; i++)
		usable[i] = vecs[i] != NULL;
	n = HnswSelectNeighborsBy(cands, ncands, max, keepPruned, VectorPairDistance, &vp,
							  usable, out);
	pfree(usable);
	return n;
}

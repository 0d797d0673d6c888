/*-------------------------------------------------------------------------
 *
 * hnsw_utils.c
 *	  Pages, the meta page, distances and reading the graph from disk.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "am/hnsw/hnsw.h"
#include "common/pg_prng.h"
#include "kernels/distance.h"
#include "kernels/sq8.h"
#include "pgstat.h"
#include "types/vector.h"
#include "storage/bufpage.h"
#include "storage/buf_internals.h"
#include "utils/memutils.h"

/* The index's m option. */
int
HnswOptionM(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->m : HNSW_DEFAULT_M;
}

/* The index's ef_construction option. */
int
HnswOptionEfConstruction(Relation index)
{
	HnswOptions *opts = (HnswOptions *) index->rd_options;

	return opts ? opts->efConstruction : HNSW_DEFAULT_EF_CONSTRUCTION;
}

/*
 * Copy the meta page's contents, checking that this is one of our indexes
 * in a version we read.
 */
void
HnswReadMeta(Relation index, HnswMetaPageData *meta)
{
	Buffer		buf = ReadBuffer(index, HNSW_METAPAGE_BLKNO);
	HnswMetaPage m;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	m = HnswPageGetMeta(BufferGetPage(buf));
	if (m->magic != HNSW_MAGIC || m->version != HNSW_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a lance_hnsw index of version %d",
						RelationGetRelationName(index), HNSW_VERSION),
				 errdetail("The meta page holds magic 0x%08X, version %u.",
						   m->magic, m->version),
				 errhint("REINDEX the index.")));
	*meta = *m;
	UnlockReleaseBuffer(buf);
}

/* Fill shape from the meta page. */
void
HnswGetShape(Relation index, HnswShape *shape)
{
	HnswMetaPageData meta;

	HnswReadMeta(index, &meta);
	shape->dim = meta.dim;
	shape->m = meta.m;
	shape->efConstruction = meta.efConstruction;
	shape->metric = (HnswMetric) meta.metric;
}

/* Initialize an empty element page. */
void
HnswInitPage(Page page)
{
	HnswPageOpaqueData *opaque;

	PageInit(page, BLCKSZ, sizeof(HnswPageOpaqueData));
	opaque = (HnswPageOpaqueData *) PageGetSpecialPointer(page);
	opaque->pageId = HNSW_PAGE_ID;
	opaque->unused = 0;
}

/*
 * Draw an element's level: floor(-ln(U) * mL) with mL = 1/ln(m), the
 * paper's choice, so each level holds about 1/m of the one below.
 * Builds draw from a generator with a fixed seed, so that the same rows in
 * the same order give the same graph (and the same recall) every time.
 */
int
HnswRandomLevel(pg_prng_state *state, int m)
{
	double		u = pg_prng_double(state);
	double		level;

	/* pg_prng_double is in [0, 1); 0 would give an infinite level */
	if (u <= 0.0)
		u = DBL_MIN;
	level = -log(u) / log((double) m);
	return (int) Min(level, (double) HNSW_MAX_LEVEL);
}

/*
 * Copy a vector into the form the index stores and searches with: as is,
 * or scaled to unit length for cosine (so that cosine order is inner
 * product order).  Returns false for a zero vector under cosine, whose
 * cosine distance is undefined; such vectors are not indexed, as in
 * pgvector.
 */
bool
HnswPrepareVector(HnswMetric metric, const float *in, int dim, float *out)
{
	memcpy(out, in, sizeof(float) * dim);
	if (metric == HNSW_METRIC_COSINE)
	{
		double		norm = 0.0;

		for (int i = 0; i < dim; i++)
			norm += (double) in[i] * in[i];
		if (norm <= 0.0)
			return false;
		norm = sqrt(norm);
		for (int i = 0; i < dim; i++)
			out[i] = (float) (in[i] / norm);
	}
	return true;
}

/*
 * The distance the graph is ordered by: squared L2 (same order as L2),
 * negative inner product (for cosine on unit vectors: 1 - cosine distance
 * away, same order) or L1.
 */
float
HnswDistance(HnswMetric metric, const float *a, const float *b, int dim)
{
	const DistanceKernels *k = distance_kernels();

	switch (metric)
	{
		case HNSW_METRIC_L2:
			return k->l2sq(a, b, dim);
		case HNSW_METRIC_IP:
		case HNSW_METRIC_COSINE:
			return -k->dot(a, b, dim);
		case HNSW_METRIC_L1:
			return k->l1(a, b, dim);
	}
	elog(ERROR, "unknown lance_hnsw metric %d", (int) metric);
	return 0;					/* keep compiler quiet */
}

/*
 * The graph's distance from a query to an element's 8-bit codes: the
 * same measure as HnswDistance, on the decoded values.  querySum is the
 * sum of the query's elements (inner products need it).
 */
float
HnswDistanceCodes(HnswMetric metric, const float *query, float querySum,
				  HnswElementTuple etup, int dim)
{
	return HnswDistanceSq8(metric, query, querySum, etup->codes, etup->lo, etup->step, dim);
}

/* The same, on codes held anywhere (a build keeps them in arrays). */
float
HnswDistanceSq8(HnswMetric metric, const float *query, float querySum,
				const uint8 *codes, float lo, float step, int dim)
{
	const Sq8Kernels *k = sq8_kernels();

	switch (metric)
	{
		case HNSW_METRIC_L2:
			return k->l2sq(query, codes, lo, step, dim);
		case HNSW_METRIC_IP:
		case HNSW_METRIC_COSINE:
			return -(lo * querySum + step * k->dot(query, codes, dim));
		case HNSW_METRIC_L1:
			return k->l1(query, codes, lo, step, dim);
	}
	elog(ERROR, "unknown lance_hnsw metric %d", (int) metric);
	return 0;					/* keep compiler quiet */
}

/* Store a prepared vector in an element as codes. */
void
HnswEncode(HnswElementTuple etup, const float *vec, int dim)
{
	sq8_encode(vec, dim, etup->codes, &etup->lo, &etup->step);
	/* the padding before the links is part of the item: keep it defined */
	memset(etup->codes + dim, 0, TYPEALIGN(sizeof(uint32), dim) - dim);
}

/* The values an element's codes stand for. */
void
HnswDecode(HnswElementTuple etup, int dim, float *out)
{
	sq8_decode(etup->codes, dim, etup->lo, etup->step, out);
}

/*
 * Refuse a vector whose dimension differs from the index's.
 */
void
HnswCheckDims(Relation index, int expected, int actual)
{
	if (expected != actual)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector has %d dimensions, index \"%s\" has %d",
						actual, RelationGetRelationName(index), expected)));
}

/*
 * The largest dimension an index with this m can hold: an element of the
 * highest level, one byte per dimension with all its neighbour arrays,
 * must fit on one page (7,496 dimensions at m = 16 on 8 kB pages), and
 * the vector type's own limit applies.
 */
int
HnswMaxDim(int m)
{
	Size		room = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) -
		MAXALIGN(sizeof(HnswPageOpaqueData)) - sizeof(ItemIdData);
	Size		fixed = offsetof(HnswElementTupleData, codes) +
		sizeof(uint32) * (HnswLevelStart(m, HNSW_MAX_LEVEL) + HnswLevelSlots(m, HNSW_MAX_LEVEL));

	/* round down so that MAXALIGN of the item still fits */
	room &= ~((Size) MAXIMUM_ALIGNOF - 1);
	return (int) Min((room - fixed) & ~((Size) sizeof(uint32) - 1), (Size) VECTOR_MAX_DIM);
}

/*
 * The element item an id names on a page that is pinned and locked, or
 * NULL if the line pointer is out of range or unused (the element was
 * removed by VACUUM).
 */
HnswElementTuple
HnswGetElement(Page page, uint32 id)
{
	OffsetNumber off = HnswIdOffset(id);
	ItemId		itemid;

	if (off < FirstOffsetNumber || off > PageGetMaxOffsetNumber(page))
		return NULL;
	itemid = PageGetItemId(page, off);
	if (!ItemIdIsNormal(itemid))
		return NULL;
	return (HnswElementTuple) PageGetItem(page, itemid);
}

/* reading the graph from the index's pages */
typedef struct DiskReader
{
	Relation	index;
	RelFileNode node;			/* the index's: hints are checked against it */
	bool		hinted;			/* in shared buffers, where hints apply */
	HnswShape	shape;
	const float *query;			/* the query querySum was computed for */
	float		querySum;
} DiskReader;

/*
 * Which buffer a block of an index was last found in, kept for the
 * backend's life.  A query reads thousands of elements from a few thousand
 * pages, and looking each up in the shared buffer mapping table was a
 * fifth of a filtered query's time; trying the remembered buffer first
 * (ReadRecentBuffer checks, once it is pinned, that it still holds the
 * block) skips that lookup.  The hints outlive scans because most of a
 * query's pages are touched only a few times, so a scan's own hints would
 * seldom be used.
 *
 * One table of a fixed size serves every index, so a backend's memory
 * does not grow with the indexes it reads: a block's hint sits at a slot
 * picked by the block number offset by a hash of the index, so the first
 * HNSW_BUFFER_HINTS blocks of one index never evict each other, and a
 * larger index (or another one) just overwrites.  A hint is used only for
 * the index and block it was stored for, and ReadRecentBuffer is asked
 * for the reader's own index, so a stale or overwritten hint only costs
 * the lookup it was to save.
 */
typedef struct BufferHint
{
	Oid			relNode;
	BlockNumber blk;
	Buffer		buf;			/* InvalidBuffer: none */
} BufferHint;

#define HNSW_BUFFER_HINTS	32768	/* a power of 2; 384 kB */

static BufferHint *bufferHints;

/* Where the hint for a block of the reader's index is kept. */
static inline BufferHint *
HintSlot(const DiskReader *r, BlockNumber blk)
{
	uint32		spread = (uint32) r->node.relNode * 0x9E3779B1u;

	return &bufferHints[(blk + spread) & (HNSW_BUFFER_HINTS - 1)];
}

/* The buffer the reader's block was last found in, or InvalidBuffer. */
static inline Buffer
HintFor(const DiskReader *r, BlockNumber blk)
{
	BufferHint *h;

	if (!r->hinted)
		return InvalidBuffer;
	h = HintSlot(r, blk);
	if (h->relNode != r->node.relNode || h->blk != blk)
		return InvalidBuffer;
	return h->buf;
}

/* Pin a block of the index, trying the buffer it was last found in first. */
static Buffer
ReaderPin(DiskReader *r, BlockNumber blk)
{
	Buffer		hint = HintFor(r, blk);
	Buffer		buf;
	BufferHint *h;

	if (hint != InvalidBuffer &&
		ReadRecentBuffer(r->node, MAIN_FORKNUM, blk, hint))
	{
		/* count it in the index's statistics, as ReadBuffer would */
		pgstat_count_buffer_read(r->index);
		pgstat_count_buffer_hit(r->index);
		return hint;
	}

	buf = ReadBuffer(r->index, blk);
	if (r->hinted)
	{
		h = HintSlot(r, blk);
		h->relNode = r->node.relNode;
		h->blk = blk;
		h->buf = buf;
	}
	return buf;
}

/*
 * Copy an element's links at a level under a share lock; an element that
 * is gone or does not live on that level has none.
 */
static int
DiskNeighbors(void *arg, uint32 id, int level, uint32 *out)
{
	DiskReader *r = (DiskReader *) arg;
	Buffer		buf = ReaderPin(r, HnswIdBlock(id));
	HnswElementTuple etup;
	int			n = 0;

	LockBuffer(buf, BUFFER_LOCK_SHARE);
	etup = HnswGetElement(BufferGetPage(buf), id);
	if (etup != NULL && level <= etup->level)
	{
		const uint32 *slots = HnswElementSlots(etup, r->shape.dim) +
			HnswLevelStart(r->shape.m, level);
		int			nslots = HnswLevelSlots(r->shape.m, level);

		for (int i = 0; i < nslots; i++)
			if (slots[i] != HNSW_INVALID_ID)
				out[n++] = slots[i];
	}
	UnlockReleaseBuffer(buf);
	return n;
}

/*
 * Compute the distance from the query to each element, reading the vector
 * in place under a share lock.  The neighbours of one element sit on
 * scattered pages, and each first touch of a page waits on memory; so the
 * buffer descriptors, line pointers and items are all asked for first,
 * through the buffers the hints name, and only then is each page pinned,
 * locked and read, with the waits overlapped rather than in series.  The
 * early reads happen without a pin and only aim prefetches: a hint that
 * no longer holds the block costs a useless prefetch, never a wrong
 * result.  Pinning one page at a time keeps the backend's pins within the
 * few that need no hash table to count them.  Consecutive ids on one page
 * share one pin and one lock.
 */
static void
DiskVisit(void *arg, const float *query, const uint32 *ids, int n,
		  HnswCandidate *out)
{
	DiskReader *r = (DiskReader *) arg;
	Size		itemBytes = offsetof(HnswElementTupleData, codes) + r->shape.dim;

	/* a reader serves one query at a time: searches and descents share it */
	if (query != r->query)
	{
		r->querySum = 0.0f;
		for (int i = 0; i < r->shape.dim; i++)
			r->querySum += query[i];
		r->query = query;
	}

	for (int i = 0; i < n; i++)
	{
		BlockNumber blk = HnswIdBlock(ids[i]);
		Buffer		hint = HintFor(r, blk);

		if (hint > 0)
		{
			/*
			 * Once per page (ids come sorted): prefetches past what the
			 * cache can have in flight stall like the misses they aim at.
			 */
			if (i == 0 || HnswIdBlock(ids[i - 1]) != blk)
			{
				__builtin_prefetch(GetBufferDescriptor(hint - 1), 1);
				/* the header too: HnswGetElement checks pd_lower */
				__builtin_prefetch(BufferGetPage(hint));
			}
			__builtin_prefetch(PageGetItemId(BufferGetPage(hint), HnswIdOffset(ids[i])));
		}
	}
	for (int i = 0; i < n; i++)
	{
		BlockNumber blk = HnswIdBlock(ids[i]);
		Buffer		hint = HintFor(r, blk);

		if (hint > 0)
		{
			Page		page = BufferGetPage(hint);
			ItemIdData	lp = *PageGetItemId(page, HnswIdOffset(ids[i]));
			const char *item = (const char *) page + lp.lp_off;

			if (lp.lp_flags == LP_NORMAL && lp.lp_off < BLCKSZ)
				for (Size off = 0; off < itemBytes; off += 64)
					__builtin_prefetch(item + off);
		}
	}

	for (int i = 0; i < n;)
	{
		BlockNumber blk = HnswIdBlock(ids[i]);
		Buffer		buf = ReaderPin(r, blk);
		Page		page = BufferGetPage(buf);

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		for (; i < n && HnswIdBlock(ids[i]) == blk; i++)
		{
			HnswElementTuple etup = HnswGetElement(page, ids[i]);

			out[i].id = ids[i];
			if (etup == NULL)
			{
				out[i].dist = FLT_MAX;
				out[i].deleted = true;
				ItemPointerSetInvalid(&out[i].tid);
				continue;
			}
			out[i].dist = HnswDistanceCodes(r->shape.metric, query, r->querySum, etup,
											r->shape.dim);
			out[i].deleted = (etup->flags & HNSW_ELEMENT_DELETED) != 0;
			out[i].tid = etup->heaptid;
		}
		UnlockReleaseBuffer(buf);
	}
}

/* A reader of the index's pages; its state lives in the current context. */
HnswGraphReader
HnswDiskReader(Relation index, const HnswShape *shape)
{
	DiskReader *r = palloc(sizeof(DiskReader));
	HnswGraphReader reader;

	r->index = index;
	r->node = index->rd_node;
	/* the hints are for shared buffers, which every backend sees alike */
	r->hinted = !RelationUsesLocalBuffers(index);
	r->shape = *shape;
	r->query = NULL;
	r->querySum = 0.0f;
	if (r->hinted && bufferHints == NULL)
		bufferHints = MemoryContextAllocZero(TopMemoryContext,
											 sizeof(BufferHint) * HNSW_BUFFER_HINTS);
	reader.neighbors = DiskNeighbors;
	reader.visit = DiskVisit;
	reader.arg = r;
	reader.marks = NULL;
	reader.epoch = NULL;
	reader.prefetch = NULL;
	return reader;
}

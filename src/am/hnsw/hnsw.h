/*-------------------------------------------------------------------------
 *
 * hnsw.h
 *	  lance_hnsw: a Hierarchical Navigable Small World graph index.
 *
 * The graph follows Malkov & Yashunin, "Efficient and robust approximate
 * nearest neighbor search using Hierarchical Navigable Small World graphs"
 * (2016): each element gets a random level, is linked to up to m neighbours
 * on every level it lives on (2m on level 0), and a search descends from
 * the single entry point greedily, then widens to ef candidates on level 0.
 *
 * On disk every element is one item on an element page, of a fixed size
 * per level: its heap TID, its level, its vector as 8-bit codes and one
 * neighbour array per level.  An element is named by a 32-bit id,
 * (block << 8) | offset, so a neighbour costs 4 bytes rather than a 6-byte
 * TID and a neighbour list lives in the same item as the vector it belongs
 * to: expanding a candidate reads one item, not two.  Items never move
 * (deletions leave unused line pointers), so ids stay valid while the
 * element lives.  Scans re-rank on the exact vectors in the table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_AM_HNSW_H
#define LANCEDB_AM_HNSW_H

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "common/pg_prng.h"
#include "nodes/execnodes.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

#define HNSW_MAGIC			0x4C48534E	/* "LHSN" */
#define HNSW_VERSION		2
#define HNSW_METAPAGE_BLKNO 0

#define HNSW_DEFAULT_M		16
#define HNSW_MIN_M			2
#define HNSW_MAX_M			100
#define HNSW_DEFAULT_EF_CONSTRUCTION 64
#define HNSW_MIN_EF_CONSTRUCTION 4
#define HNSW_MAX_EF_CONSTRUCTION 1000
#define HNSW_DEFAULT_EF_SEARCH 40
#define HNSW_MAX_EF_SEARCH	1000
#define HNSW_DEFAULT_MAX_SCAN_TUPLES 20000
/*
 * Past its first HNSW_GROWTH_START x ef results, a resumable search widens
 * its window by HNSW_WINDOW_GROWTH elements for each further result:
 * producing the r-th nearest well takes a window several times r, as
 * producing the 10th takes ef_search.  A scan takes ef results to fill its
 * re-rank window and one more per row it returns, so a query with a LIMIT
 * up to ef_search never widens; one that reads far down the order (a
 * selective filter) widens quickly.  Measured on bench/ann's plain and
 * 10%-filtered queries (docs/lance_hnsw.md).
 */
#define HNSW_GROWTH_START	2
#define HNSW_WINDOW_GROWTH	6
#define HNSW_BUILD_SEED		UINT64CONST(0x6C616E6365686E73)

/*
 * Levels beyond this are vanishingly rare (p = m^-level) and are capped,
 * which bounds the size of an element's item.
 */
#define HNSW_MAX_LEVEL		8

/* ids pack a block number (24 bits) and a line pointer offset (8 bits) */
#define HNSW_INVALID_ID		((uint32) 0xFFFFFFFF)
#define HNSW_MAX_PER_PAGE	255
#define HNSW_MAX_BLOCK		((BlockNumber) 0x00FFFFFE)
#define HnswIdMake(blk, off)	(((uint32) (blk) << 8) | (uint32) (off))
#define HnswIdBlock(id)		((BlockNumber) ((id) >> 8))
#define HnswIdOffset(id)	((OffsetNumber) ((id) & 0xFF))

/* heavyweight page lock taken on this (non-existent) block number to
 * serialize changes of the entry point against inserts and vacuum */
#define HNSW_UPDATE_LOCK	0

/* support function numbers */
#define HNSW_METRIC_PROC	1
#define HNSW_NPROC			1

typedef enum HnswMetric
{
	HNSW_METRIC_L2 = 1,
	HNSW_METRIC_IP = 2,
	HNSW_METRIC_COSINE = 3,
	HNSW_METRIC_L1 = 4
} HnswMetric;

/* build phases for pg_stat_progress_create_index */
#define PROGRESS_HNSW_PHASE_LOAD	2
#define PROGRESS_HNSW_PHASE_WRITE	3

typedef struct HnswOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int			m;
	int			efConstruction;
} HnswOptions;

/* the meta page's contents, after the page header */
typedef struct HnswMetaPageData
{
	uint32		magic;
	uint32		version;
	uint32		dim;
	uint16		m;
	uint16		efConstruction;
	uint32		metric;
	uint32		entryId;		/* HNSW_INVALID_ID while the graph is empty */
	int32		entryLevel;		/* -1 while the graph is empty */
	BlockNumber lastBlock;		/* where inserts try first */
} HnswMetaPageData;

typedef HnswMetaPageData *HnswMetaPage;

#define HnswPageGetMeta(page)	((HnswMetaPage) PageGetContents(page))

/* special space of element pages, to tell them from the meta page */
typedef struct HnswPageOpaqueData
{
	uint16		pageId;			/* HNSW_PAGE_ID */
	uint16		unused;
} HnswPageOpaqueData;

#define HNSW_PAGE_ID		0xFF91

#define HNSW_ELEMENT_DELETED	0x01

/*
 * One element on disk.  The vector (normalized under cosine) is kept as 8
 * bit codes (kernels/sq8.h): value i is lo + step * codes[i], within step/2
 * of the original.  Searches walk the graph on these compact copies, a
 * quarter of the floats' size, and scans re-rank their candidates on the
 * exact vectors read from the table.  The codes are padded to 4 bytes and
 * followed by the neighbour ids of level 0 (2m slots), then of levels 1 ..
 * level (m slots each); an unused slot holds HNSW_INVALID_ID.
 */
typedef struct HnswElementTupleData
{
	ItemPointerData heaptid;
	uint8		level;
	uint8		flags;
	float		lo;
	float		step;
	uint8		codes[FLEXIBLE_ARRAY_MEMBER];
} HnswElementTupleData;

typedef HnswElementTupleData *HnswElementTuple;

/* everything about an index's shape that search and insert need */
typedef struct HnswShape
{
	int			dim;
	int			m;
	int			efConstruction;
	HnswMetric	metric;
} HnswShape;

static inline int
HnswLevelSlots(int m, int level)
{
	return level == 0 ? 2 * m : m;
}

/* first neighbour slot of a level, counted from the start of the slots */
static inline int
HnswLevelStart(int m, int level)
{
	return level == 0 ? 0 : 2 * m + (level - 1) * m;
}

static inline Size
HnswElementSize(const HnswShape *shape, int level)
{
	return offsetof(HnswElementTupleData, codes) + TYPEALIGN(sizeof(uint32), shape->dim) +
		sizeof(uint32) * (HnswLevelStart(shape->m, level) + HnswLevelSlots(shape->m, level));
}

static inline uint32 *
HnswElementSlots(HnswElementTuple etup, int dim)
{
	return (uint32 *) &etup->codes[TYPEALIGN(sizeof(uint32), dim)];
}

/*
 * An element met during a search: its id, its distance to the query, the
 * heap TID it points at and whether it is deleted (deleted elements are
 * still walked through, never returned).
 */
typedef struct HnswCandidate
{
	float		dist;
	uint32		id;
	ItemPointerData tid;
	bool		deleted;
} HnswCandidate;

/*
 * Where a search reads the graph from: the in-memory graph of a build or
 * the pages of the index.  neighbors() copies the ids linked from an
 * element at a level into out (at most HnswLevelSlots) and returns how
 * many; visit() fills a candidate for each of n ids: the distance to the
 * query, the heap TID (the pages' reader; a build's graph leaves it
 * invalid, its ids being positions) and the deleted flag (an id whose item
 * is gone is reported deleted and infinitely far).
 */
typedef struct HnswGraphReader
{
	int			(*neighbors) (void *arg, uint32 id, int level, uint32 *out);
	void		(*visit) (void *arg, const float *query, const uint32 *ids,
						  int n, HnswCandidate *out);
	void	   *arg;

	/*
	 * A graph whose ids are dense positions (a build's) may lend an array
	 * of one mark per id: a search then marks ids visited with a fresh
	 * epoch number instead of hashing them.  NULL for the disk reader.
	 */
	uint32	   *marks;
	uint32	   *epoch;

	/*
	 * Optional: ask for an element's links at a level ahead of their use,
	 * where they are plain memory (a build's graph); NULL otherwise.
	 */
	void		(*prefetch) (void *arg, uint32 id, int level);
} HnswGraphReader;

/* the distance between candidates i and j of a neighbour selection */
typedef float (*HnswPairDistance) (void *arg, int i, int j);

/*
 * A search of one level that can be resumed to produce more results.
 * "near" is a sorted array of the ef closest discovered elements not yet
 * returned; "far" a min-heap of the other discovered elements; "cand" a
 * min-heap of elements to expand.  Expanding stops when the closest
 * unexpanded candidate is farther than the ef-th closest unreturned
 * element, which for the first result is exactly the paper's SEARCH-LAYER
 * (Algorithm 2); every later result widens the window by one, so a scan
 * keeps producing in (nearly) distance order for as long as it is asked.
 */
typedef struct HnswSearch
{
	HnswGraphReader reader;
	bool		resumable;		/* keep "far" so HnswSearchNext can go on */
	uint32		epoch;			/* this search's mark, with reader.marks */
	const float *query;
	int			dim;
	int			ef;				/* current window size */
	int			efBase;			/* the window of the first results */
	int64		returned;		/* results produced by HnswSearchNext */
	int			level;

	HnswCandidate *near;		/* near[nearHead .. nearLen) sorted ascending */
	int			nearHead;
	int			nearLen;
	int			nearCap;

	HnswCandidate *far;			/* min-heap */
	int			farLen;
	int			farCap;

	HnswCandidate *cand;		/* min-heap */
	int			candLen;
	int			candCap;

	struct HnswVisited *visited;
	int64		visitedCount;

	/* scratch for one expansion */
	uint32	   *nbrIds;
	HnswCandidate *nbrCands;
} HnswSearch;

/*
 * Every element of an index, in id order, and which of them level 0
 * reaches (hnsw_reach.c).
 */
typedef struct HnswElementSet
{
	uint32	   *ids;
	uint8	   *levels;
	bool	   *deleted;
	bool	   *reached;
	int64		n;
	int64		cap;
} HnswElementSet;

/* GUCs */
extern int	hnsw_ef_search;
extern int	hnsw_debug_forced_link_tries;
extern int	hnsw_max_scan_tuples;

/* hnsw.c */
extern void hnsw_init_gucs(void);
extern HnswMetric HnswGetMetric(Relation index);
extern bytea *hnswoptions(Datum reloptions, bool validate);

/* hnsw_utils.c */
extern void HnswGetShape(Relation index, HnswShape *shape);
extern int	HnswOptionM(Relation index);
extern int	HnswOptionEfConstruction(Relation index);
extern void HnswReadMeta(Relation index, HnswMetaPageData *meta);
extern void HnswInitPage(Page page);
extern int	HnswRandomLevel(pg_prng_state *state, int m);
extern bool HnswPrepareVector(HnswMetric metric, const float *in, int dim, float *out);
extern float HnswDistance(HnswMetric metric, const float *a, const float *b, int dim);
extern float HnswDistanceCodes(HnswMetric metric, const float *query, float querySum,
							   HnswElementTuple etup, int dim);
extern float HnswDistanceSq8(HnswMetric metric, const float *query, float querySum,
							 const uint8 *codes, float lo, float step, int dim);
extern void HnswEncode(HnswElementTuple etup, const float *vec, int dim);
extern void HnswDecode(HnswElementTuple etup, int dim, float *out);
extern void HnswCheckDims(Relation index, int expected, int actual);
extern int	HnswMaxDim(int m);
extern HnswElementTuple HnswGetElement(Page page, uint32 id);
extern HnswGraphReader HnswDiskReader(Relation index, const HnswShape *shape);

/* hnsw_search.c */
extern HnswSearch *HnswSearchBegin(HnswGraphReader reader, const float *query,
								   int dim, int m, int ef, int level,
								   const HnswCandidate *entries, int nentries,
								   bool resumable);
extern bool HnswSearchNext(HnswSearch *search, HnswCandidate *result);
extern int	HnswSearchRun(HnswSearch *search, HnswCandidate *out, int max);
extern void HnswSearchEnd(HnswSearch *search);
extern HnswCandidate HnswGreedyDescend(HnswGraphReader reader, const float *query,
									   int dim, int m, HnswCandidate entry,
									   int fromLevel, int toLevel);
extern int	HnswSelectNeighborsBy(const HnswCandidate *cands, int ncands, int max,
								  bool keepPruned, HnswPairDistance dist, void *arg,
								  const bool *usable, uint32 *out);
extern int	HnswSelectNeighbors(HnswMetric metric, int dim,
								const HnswCandidate *cands, int ncands,
								const float *const *vecs, int max,
								bool keepPruned, uint32 *out);

/* hnsw_build.c */
extern IndexBuildResult *hnswbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void hnswbuildempty(Relation index);
extern char *hnswbuildphasename(int64 phasenum);

/* hnsw_insert.c */
extern bool hnswinsert(Relation index, Datum *values, bool *isnull,
					   ItemPointer heap_tid, Relation heap,
					   IndexUniqueCheck checkUnique, bool indexUnchanged,
					   IndexInfo *indexInfo);
extern void HnswInsertElement(Relation index, const HnswShape *shape,
							  const float *vec, ItemPointer heaptid,
							  pg_prng_state *prng);
extern uint32 HnswAddElementItem(Relation index, const HnswShape *shape,
								 HnswElementTuple etup, Size size,
								 BlockNumber *hint);

/* hnsw_reach.c */
extern void HnswCollectElements(Relation index, const HnswShape *shape,
								HnswElementSet *set, BufferAccessStrategy strategy);
extern int64 HnswFindElement(const HnswElementSet *set, uint32 id);
extern int	HnswReadLinks(Relation index, const HnswShape *shape, uint32 id,
						  int level, uint32 *out);
extern void HnswReachFrom(Relation index, const HnswShape *shape,
						  HnswElementSet *set, uint32 id);
extern int64 HnswRelinkUnreachable(Relation index, const HnswShape *shape,
								   uint32 entryId, int entryLevel);

/* hnsw_scan.c */
extern IndexScanDesc hnswbeginscan(Relation index, int nkeys, int norderbys);
extern void hnswrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
					   ScanKey orderbys, int norderbys);
extern bool hnswgettuple(IndexScanDesc scan, ScanDirection dir);
extern void hnswendscan(IndexScanDesc scan);

/* hnsw_vacuum.c */
extern IndexBulkDeleteResult *hnswbulkdelete(IndexVacuumInfo *info,
											 IndexBulkDeleteResult *stats,
											 IndexBulkDeleteCallback callback,
											 void *callback_state);
extern IndexBulkDeleteResult *hnswvacuumcleanup(IndexVacuumInfo *info,
												IndexBulkDeleteResult *stats);

#endif							/* LANCEDB_AM_HNSW_H */

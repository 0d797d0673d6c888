/*-------------------------------------------------------------------------
 *
 * ivfpq.h
 *	  lance_ivfpq: an IVF-PQ index access method for the vector type.
 *
 * The index partitions vectors into `lists` clusters by k-means (the
 * inverted file, IVF) and stores, for each row, only its heap TID and the
 * product-quantization code of its residual from the list's centroid: one
 * byte per sub-vector, so a 128-dim vector (512 bytes) takes 8 bytes of code
 * with the default num_sub_vectors = dim / 16.  Parameters and defaults are
 * LanceDB's IVF_PQ ones.  A search probes the nearest lists, ranks their
 * codes by asymmetric (ADC) distance, and re-ranks the best
 * IVFPQ_BATCH_ROWS * lancedb.ivfpq_refine_factor candidates with exact
 * distances computed from the heap tuples.
 *
 * On-disk layout (every page carries IvfpqPageOpaqueData):
 *
 *	block 0				meta page (IvfpqMetaPageData)
 *	centroid_start ..	lists * dim floats, packed across float pages
 *	codebook_start ..	num_sub_vectors * 256 * (dim / num_sub_vectors) floats
 *	directory_start ..	one IvfpqListData (head, tail block) per list
 *	then				entry pages: each list a chain of pages linked by
 *						opaque->next, holding IvfpqTupleData items
 *
 * Centroids and codebooks never change after the build, so a backend keeps
 * them in the relcache entry (rd_amcache); REINDEX makes a new relfilenode,
 * which invalidates the entry.  An invalidation can free the cache whenever
 * a lock is taken (detoasting a value takes one), so callers fetch it with
 * IvfpqGetCache after such steps and never keep it across them.  Inserts append to a list's tail page; the
 * directory page holding the list is locked first, then the tail, which
 * serializes appends to a list and keeps the tail pointer exact.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_AM_IVFPQ_H
#define LANCEDB_AM_IVFPQ_H

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/reloptions.h"
#include "fmgr.h"
#include "kernels/pq.h"
#include "nodes/execnodes.h"
#include "storage/bufpage.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

#define IVFPQ_MAGIC				0x49565051	/* "IVPQ" */
#define IVFPQ_VERSION			1
#define IVFPQ_METAPAGE_BLKNO	0
#define IVFPQ_PAGE_ID			0xFF91	/* last two bytes of every page */

/* page types, in IvfpqPageOpaqueData.page_type */
#define IVFPQ_PAGE_META			1
#define IVFPQ_PAGE_FLOATS		2
#define IVFPQ_PAGE_DIRECTORY	3
#define IVFPQ_PAGE_ENTRIES		4

/* the opclass's one support function: the exact ORDER BY distance */
#define IVFPQ_DISTANCE_PROC		1

/* reloption bounds and LanceDB's defaults */
#define IVFPQ_MAX_LISTS			32768
#define IVFPQ_DEFAULT_SAMPLE_RATE	256
#define IVFPQ_DEFAULT_MAX_ITERATIONS	50
#define IVFPQ_SEED				42	/* builds are reproducible */

/*
 * Candidates re-ranked per batch are IVFPQ_BATCH_ROWS * refine_factor.  The
 * executor never tells an index scan its LIMIT, so this stands for LanceDB's
 * `limit`: a query with LIMIT 10 re-ranks as LanceDB would with the same
 * refine_factor.
 */
#define IVFPQ_BATCH_ROWS		10

/* build phases for pg_stat_progress_create_index (1 is "initializing") */
#define PROGRESS_IVFPQ_PHASE_SAMPLE		2
#define PROGRESS_IVFPQ_PHASE_KMEANS		3
#define PROGRESS_IVFPQ_PHASE_ASSIGN		4
#define PROGRESS_IVFPQ_PHASE_LOAD		5

typedef enum IvfpqMetric
{
	IVFPQ_METRIC_L2 = 1,
	IVFPQ_METRIC_IP = 2,
	IVFPQ_METRIC_COSINE = 3		/* vectors normalized, then L2 */
} IvfpqMetric;

typedef struct IvfpqOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly!) */
	int			lists;			/* 0: about sqrt(rows) */
	int			num_sub_vectors;	/* 0: dim / 16, or dim / 8 */
	int			num_bits;
	int			sample_rate;
	int			max_iterations;
} IvfpqOptions;

typedef struct IvfpqPageOpaqueData
{
	BlockNumber next;			/* next page of the list or stream */
	uint16		page_type;
	uint16		page_id;		/* IVFPQ_PAGE_ID, for tools like pg_filedump */
} IvfpqPageOpaqueData;

typedef IvfpqPageOpaqueData *IvfpqPageOpaque;

typedef struct IvfpqMetaPageData
{
	uint32		magic;
	uint32		version;
	int32		dim;
	int32		lists;
	int32		num_sub_vectors;
	int32		num_bits;
	int32		metric;			/* IvfpqMetric */
	BlockNumber centroid_start;
	BlockNumber codebook_start;
	BlockNumber directory_start;
} IvfpqMetaPageData;

typedef IvfpqMetaPageData *IvfpqMetaPage;

typedef struct IvfpqListData
{
	BlockNumber head;			/* first entry page, never invalid */
	BlockNumber tail;			/* last entry page, where inserts go */
} IvfpqListData;

typedef IvfpqListData *IvfpqList;

typedef struct IvfpqTupleData
{
	ItemPointerData heap_tid;
	uint8		codes[FLEXIBLE_ARRAY_MEMBER];	/* num_sub_vectors bytes */
} IvfpqTupleData;

typedef IvfpqTupleData *IvfpqTuple;

#define IVFPQ_TUPLE_SIZE(m)		(offsetof(IvfpqTupleData, codes) + (m))

/*
 * Most entries an entry page can hold: one-byte codes make items smaller
 * than any index tuple, so MaxIndexTuplesPerPage is too low a bound.
 */
#define IVFPQ_MAX_ITEMS_PER_PAGE \
	((BLCKSZ - SizeOfPageHeaderData - MAXALIGN(sizeof(IvfpqPageOpaqueData))) / \
	 (MAXALIGN(IVFPQ_TUPLE_SIZE(1)) + sizeof(ItemIdData)))

/* bytes of payload on a float or directory page */
#define IVFPQ_PAGE_PAYLOAD \
	(BLCKSZ - MAXALIGN(SizeOfPageHeaderData) - MAXALIGN(sizeof(IvfpqPageOpaqueData)))
#define IVFPQ_FLOATS_PER_PAGE	(IVFPQ_PAGE_PAYLOAD / sizeof(float))
#define IVFPQ_LISTS_PER_PAGE	(IVFPQ_PAGE_PAYLOAD / sizeof(IvfpqListData))

#define IvfpqPageGetOpaque(page) ((IvfpqPageOpaque) PageGetSpecialPointer(page))
#define IvfpqPageGetMeta(page)	((IvfpqMetaPage) PageGetContents(page))

/*
 * What a backend keeps of an index between calls: the meta page's fields,
 * the centroids and the codebooks, in one allocation.
 */
typedef struct IvfpqCache
{
	IvfpqMetaPageData meta;
	float	   *centroids;		/* lists * dim */
	float	   *codebook;		/* num_sub_vectors * PQ_KSUB * dsub */
} IvfpqCache;

/* GUCs */
extern int	ivfpq_nprobes;
extern int	ivfpq_refine_factor;

/* ivfpq.c */
extern void IvfpqInit(void);

/* ivfpq_utils.c */
extern IvfpqMetric IvfpqGetMetric(Relation index);
extern void IvfpqInitPage(Page page, uint16 page_type);
extern Buffer IvfpqNewBuffer(Relation index, ForkNumber forknum);
extern const IvfpqCache *IvfpqGetCache(Relation index);
extern void IvfpqPrepareVector(IvfpqMetric metric, const float *in, int dim, float *out);
extern int	IvfpqNearestList(const IvfpqCache *cache, const float *x);
extern bool IvfpqCancelRequested(void *arg);
extern void IvfpqReportCoreError(CoreError *err, Relation index) pg_attribute_noreturn();
extern IvfpqList IvfpqDirectoryEntry(Page page, int list);

/* ivfpq_entries.c */
typedef struct IvfpqEntries IvfpqEntries;
extern IvfpqEntries *IvfpqEntriesBegin(int m, int lists, int64 expected_rows,
										int sort_kb);
extern void IvfpqEntriesAdd(IvfpqEntries *e, int32 list, ItemPointer tid,
							const uint8 *codes);
extern int64 IvfpqEntriesCount(const IvfpqEntries *e);
extern void IvfpqEntriesSort(IvfpqEntries *e);
extern bool IvfpqEntriesNext(IvfpqEntries *e, int32 *list, ItemPointerData *tid,
							 const uint8 **codes);
extern void IvfpqEntriesEnd(IvfpqEntries *e);

/* ivfpq_build.c */
extern IndexBuildResult *ivfpqbuild(Relation heap, Relation index, IndexInfo *indexInfo);
extern void ivfpqbuildempty(Relation index);

/* ivfpq_insert.c */
extern bool ivfpqinsert(Relation index, Datum *values, bool *isnull,
						ItemPointer heap_tid, Relation heap,
						IndexUniqueCheck checkUnique, bool indexUnchanged,
						IndexInfo *indexInfo);
extern void IvfpqAppendTuple(Relation index, BlockNumber dirblk, int list,
							 IvfpqTuple tuple, Size size);

/* ivfpq_scan.c */
extern IndexScanDesc ivfpqbeginscan(Relation index, int nkeys, int norderbys);
extern void ivfpqrescan(IndexScanDesc scan, ScanKey keys, int nkeys,
						ScanKey orderbys, int norderbys);
extern bool ivfpqgettuple(IndexScanDesc scan, ScanDirection dir);
extern void ivfpqendscan(IndexScanDesc scan);

/* ivfpq_vacuum.c */
extern IndexBulkDeleteResult *ivfpqbulkdelete(IndexVacuumInfo *info,
											  IndexBulkDeleteResult *stats,
											  IndexBulkDeleteCallback callback,
											  void *callback_state);
extern IndexBulkDeleteResult *ivfpqvacuumcleanup(IndexVacuumInfo *info,
												 IndexBulkDeleteResult *stats);

#endif							/* LANCEDB_AM_IVFPQ_H */

/*-------------------------------------------------------------------------
 *
 * bm25.h
 *	  The lance_bm25 index access method: exact BM25 full-text search.
 *
 * An index is a metapage (block 0), immutable segments and an append-only
 * insert buffer, all in ordinary index pages logged with generic WAL.
 *
 *	- A segment (src/kernels/bm25_segment.h) is a byte stream spread over
 *	  "data" pages, BM25_PAGE_CAPACITY bytes each; a chain of directory
 *	  pages lists its data pages in order, so offset o lives on data page
 *	  o / BM25_PAGE_CAPACITY.  Segments never change once written.
 *	- The insert buffer is a byte stream over a chain of buffer pages, every
 *	  page full but the last: one record per inserted document (doc id,
 *	  length, terms with tf and positions).  The metapage says how many
 *	  bytes of it are valid and updates that in the same WAL record as the
 *	  last page an insert writes, so a crash mid-insert leaves only bytes
 *	  past the valid end, which the next insert overwrites.
 *	- The metapage holds the tokenizer, the segment list and the buffer's
 *	  head, tail and size.  N and the total length are sums over both.
 *
 * Queries read everything they need under a share-mode heavyweight lock
 * on the metapage's block; inserts take it in share mode too and serialize
 * among themselves on the metapage buffer lock.  Turning the buffer into a
 * segment, merging segments and VACUUM's rewrite take it in exclusive mode,
 * so pages are freed only when nobody can be reading them.  A heavyweight
 * lock (not an LWLock) is used so that long merges stay cancelable.
 *
 * Doc ids are heap TIDs: block << BM25_OFFSET_BITS | offset.  Inside a
 * segment, postings and deletion records hold doc table ordinals instead
 * (kernels/bm25_segment.h); ranking and matching give back doc ids.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_AM_BM25_H
#define LANCEDB_AM_BM25_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/generic_xlog.h"
#include "access/itup.h"
#include "kernels/bm25_deletes.h"
#include "kernels/bm25_memindex.h"
#include "kernels/bm25_merge.h"
#include "kernels/bm25_query.h"
#include "kernels/bm25_rank.h"
#include "kernels/bm25_segment.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "storage/itemptr.h"
#include "utils/relcache.h"

#define BM25_META_BLKNO		0
#define BM25_MAGIC			0x424D3235
#define BM25_VERSION		7
#define BM25_MAX_SEGMENTS	16

/*
 * VACUUM records a segment's dead documents beside it (kernels/bm25_deletes.h)
 * and rewrites it without them only once more than 1 in BM25_REWRITE_DEAD
 * of its documents are dead: a dead posting still costs a query its
 * decoding, and below that share recording is far cheaper than rewriting.
 */
#define BM25_REWRITE_DEAD	5

/* merge the small segments once there are this many */
#define BM25_MERGE_AT		8
/* turn the insert buffer into a segment past these sizes */
#define BM25_BUFFER_DOCS	128
#define BM25_BUFFER_BYTES	(512 * 1024)

#define BM25_OFFSET_BITS	12

/* page kinds, in the special space */
#define BM25_PAGE_META		1
#define BM25_PAGE_DATA		2
#define BM25_PAGE_DIR		3
#define BM25_PAGE_BUFFER	4
#define BM25_PAGE_FREE		5

#define BM25_PAGE_ID		0xFF85

typedef struct Bm25PageOpaqueData
{
	BlockNumber next;			/* directory and buffer chains */
	uint16		kind;
	uint16		page_id;		/* for pg_filedump and friends */
} Bm25PageOpaqueData;

typedef Bm25PageOpaqueData *Bm25PageOpaque;

#define Bm25PageGetOpaque(page) ((Bm25PageOpaque) PageGetSpecialPointer(page))
#define BM25_PAGE_CONTENT_OFF	MAXALIGN(SizeOfPageHeaderData)
#define BM25_PAGE_CAPACITY \
	(BLCKSZ - BM25_PAGE_CONTENT_OFF - MAXALIGN(sizeof(Bm25PageOpaqueData)))
#define BM25_DIR_ENTRIES	(BM25_PAGE_CAPACITY / sizeof(BlockNumber))

/* tokenizers */
#define BM25_TOKENIZER_SIMPLE	0
#define BM25_TOKENIZER_TSCONFIG 1

typedef struct Bm25SegMeta
{
	uint64		serial;			/* unique in this index, for caches */
	BlockNumber dir_head;
	uint32		npages;
	uint64		nbytes;
	uint64		doctab_off;
	uint64		dict_off;
	uint64		dict_len;
	uint64		dindex_off;
	uint64		dindex_len;
	uint64		ndocs;
	uint64		total_dl;
	uint32		nterms;
	uint32		range_min_df;	/* Bm25SegInfo's */
	double		ref_k1;			/* Bm25SegInfo's ref_* */
	double		ref_b;
	double		ref_avgdl;
	/* the deletion record, a stream like the segment's own; none: 0 pages */
	BlockNumber del_head;
	uint32		del_npages;
	uint64		del_nbytes;
	uint64		ndead;			/* of ndocs; N counts ndocs - ndead */
	uint64		dead_dl;		/* their total length */
} Bm25SegMeta;

typedef struct Bm25MetaPageData
{
	uint32		magic;
	uint32		version;
	int32		tokenizer;
	Oid			ts_config;		/* BM25_TOKENIZER_TSCONFIG */
	bool		positions;
	uint64		next_serial;
	uint32		nsegs;
	Bm25SegMeta segs[BM25_MAX_SEGMENTS];
	BlockNumber buf_head;		/* InvalidBlockNumber when empty */
	BlockNumber buf_tail;
	uint64		buf_nbytes;
	uint64		buf_ndocs;
	uint64		buf_total_dl;
} Bm25MetaPageData;

typedef Bm25MetaPageData *Bm25MetaPage;

#define Bm25PageGetMeta(page) ((Bm25MetaPage) PageGetContents(page))

/* reloptions */
typedef struct Bm25Options
{
	int32		vl_len_;
	int			text_config;	/* offset of the string */
	double		k1;
	double		b;
	bool		positions;
} Bm25Options;

/* How an index turns text into terms. */
typedef struct Bm25Tokenizer
{
	int			kind;
	Oid			ts_config;
	bool		positions;
} Bm25Tokenizer;

static inline uint64
Bm25DocId(ItemPointer tid)
{
	return ((uint64) ItemPointerGetBlockNumber(tid) << BM25_OFFSET_BITS) |
		ItemPointerGetOffsetNumber(tid);
}

static inline void
Bm25DocTid(uint64 docid, ItemPointer tid)
{
	ItemPointerSet(tid, (BlockNumber) (docid >> BM25_OFFSET_BITS),
				   (OffsetNumber) (docid & ((1 << BM25_OFFSET_BITS) - 1)));
}

/* bm25.c */
extern void Bm25Init(void);
extern double Bm25GetK1(Relation index);
extern double Bm25GetB(Relation index);
extern void Bm25ReportCore(CoreError *err, const char *what, Relation index);
extern void Bm25Track(MemoryContext cxt, void (*fn) (void *), void *obj);
extern int	Bm25CancelRequested(void *arg);

/* bm25_tokenize.c */
extern Bm25Tokenizer Bm25TokenizerFromOptions(Relation index);
extern void Bm25TokenizeText(const Bm25Tokenizer *tok, text *doc, Bm25Bag *bag);
extern void Bm25TokenizeDatum(const Bm25Tokenizer *tok, Datum value, bool is_array, Bm25Bag *bag);
extern bool Bm25IndexIsArray(Relation index);
extern Bm25QNode *Bm25ParseQuery(const Bm25Tokenizer *tok, text *query);

/* bm25_page.c */
typedef struct Bm25StreamWriter
{
	Relation	index;
	BlockNumber *blocks;		/* data pages written so far */
	uint32		npages;
	uint32		cap;
	Buffer		cur;			/* the page being filled */
	GenericXLogState *state;
	Page		page;
	uint32		used;
	uint64		nbytes;
} Bm25StreamWriter;

extern void Bm25InitPage(Page page, uint16 kind);
extern Buffer Bm25NewBuffer(Relation index);
extern void Bm25InitMetaPage(Relation index, ForkNumber fork, const Bm25Tokenizer *tok);
extern void Bm25ReadMeta(Relation index, Bm25MetaPageData *meta);
extern void Bm25StreamBegin(Bm25StreamWriter *w, Relation index);
extern int	Bm25StreamSink(void *ctx, const uint8_t *data, size_t len);
extern void Bm25StreamFinish(Bm25StreamWriter *w, const Bm25SegInfo *info, Bm25SegMeta *seg);
extern void Bm25WriteStream(Relation index, const uint8 *data, size_t len, BlockNumber *head,
							uint32 *npages);
extern void Bm25FreeSegmentPages(Relation index, const Bm25SegMeta *seg);
extern void Bm25FreeDeletePages(Relation index, const Bm25SegMeta *seg);
extern void Bm25FreeBufferPages(Relation index, BlockNumber head);
extern Bm25SegReader *Bm25OpenSegment(Relation index, const Bm25SegMeta *seg, bool positions);
extern void Bm25ViewSegment(Bm25SegReader *r);
extern void Bm25UnviewSegment(Bm25SegReader *r);
extern void Bm25SegInfoFromMeta(const Bm25SegMeta *seg, bool positions, Bm25SegInfo *info);
extern char *Bm25ReadBuffer(Relation index, const Bm25MetaPageData *meta, uint64 *len);

/* bm25_insert.c: buffer records */
typedef struct Bm25BufDoc
{
	uint64		docid;
	uint32		dl;
	size_t		nterms;
	Bm25DocTerm *terms;			/* sorted; point into the raw buffer copy */
} Bm25BufDoc;

extern Bm25BufDoc *Bm25ParseBuffer(const char *raw, uint64 len, uint64 ndocs, bool positions,
								   Relation index);
extern bool Bm25Flush(Relation index, IndexBulkDeleteCallback callback, void *callback_state,
					  IndexBulkDeleteResult *stats);
extern void Bm25RewriteSegment(Relation index, const Bm25SegMeta *seg,
							   IndexBulkDeleteCallback callback, void *callback_state,
							   IndexBulkDeleteResult *stats);
extern void Bm25SetSegments(Relation index, const uint64 *drop, int ndrop,
							const Bm25SegMeta *add, bool clear_buffer, uint64 buf_nbytes_seen);
extern bool bm25insert(Relation index, Datum *values, bool *isnull, ItemPointer heap_tid,
					   Relation heap, IndexUniqueCheck checkUnique, bool indexUnchanged,
					   struct IndexInfo *indexInfo);

/* bm25_build.c */
extern void Bm25WriteSegment(Relation index, Bm25MergeSources *src, bool positions,
							 Bm25SegMeta *out, uint64 serial, uint64 *ndead);
extern IndexBuildResult *bm25build(Relation heap, Relation index, struct IndexInfo *indexInfo);
extern void bm25buildempty(Relation index);

/* bm25_scan.c */
extern IndexScanDesc bm25beginscan(Relation index, int nkeys, int norderbys);
extern void bm25rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys);
extern bool bm25gettuple(IndexScanDesc scan, ScanDirection dir);
extern int64 bm25getbitmap(IndexScanDesc scan, TIDBitmap *tbm);
extern void bm25endscan(IndexScanDesc scan);

/* bm25_vacuum.c */
extern IndexBulkDeleteResult *bm25bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
											 IndexBulkDeleteCallback callback, void *callback_state);
extern IndexBulkDeleteResult *bm25vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats);

/* bm25_score.c: the scores a ranking scan publishes for the SELECT list */
typedef struct Bm25Published
{
	struct Bm25Published *next;
	Oid			indexoid;
	text	   *query;			/* the ranked query */
	const ItemPointerData *tids;	/* the scan's ranked rows, best first */
	const double *scores;
	size_t		n;
	size_t		cur;			/* the row returned last, n before the first */
} Bm25Published;

extern Bm25Published *Bm25Publish(MemoryContext cxt, Oid indexoid, text *query,
								  const ItemPointerData *tids, const double *scores, size_t n);
extern bool Bm25PublishedScore(Oid indexoid, text *query, ItemPointer tid, double *score);
extern void Bm25InitScores(void);

/* bm25_ops.c: what the last scan knew, for scoring rows outside the index */
extern void Bm25RememberScan(const Bm25Tokenizer *tok, text *query, double k1, double b,
							 uint64 ndocs, double avgdl, const Bm25QToken *const *terms,
							 const uint64 *dfs, size_t nterms);

#endif							/* LANCEDB_AM_BM25_H */

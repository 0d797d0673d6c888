/*-------------------------------------------------------------------------
 *
 * bm25_segment.h
 *	  Immutable BM25 segments: an inverted index of one set of documents,
 *	  written as one byte stream and read back through a caller's reader.
 *
 * A segment is laid out as
 *
 *		term regions | doc table | dictionary | dictionary index
 *
 * A term region is a skip table (one entry per posting block, none when
 * the term has a single block, as most do: last ordinal,
 * block offset and length, and up to BM25_IMPACTS (tf, dl) "impacts")
 * followed by the blocks.  The skip entries let a query skip blocks without
 * decoding them and bound a block's best BM25 score: a score grows with tf
 * and shrinks with dl, so the block's best score is reached at a posting on
 * its Pareto frontier of (high tf, low dl).  The impacts are that frontier,
 * or when it is longer, points that dominate it (adjacent points merged as
 * (higher tf, lower dl)), so max over impacts of f(tf, dl) is an upper bound
 * whatever k1, b and avgdl are at query time, and usually a tight one
 * (Lucene's impacts, Ding & Suel's block-max).  tf and dl are stored in 16
 * bits: a longer dl is stored as 65535 (a lower dl only raises the bound),
 * a larger tf as BM25_IMPACT_TF_INF.  Impacts bound loosely when a block's
 * frontier is long (common terms), so a skip entry also carries the block's
 * exact largest tf part, tf (k1 + 1) / (tf + k1 (1 - b + b dl / A)), for the
 * k1 and b the writer was given and A the segment's own average length,
 * rounded up to a float.  With the same k1 and b and any average length L,
 * every tf part is at most that value times max(1, L / A) (the length term
 * shrinks by at most A / L), so it bounds the block exactly when the
 * statistics are the writer's and safely when they have moved.  A block holds up to
 * BM25_BLOCK_SIZE postings: ordinal gaps, tf - 1 and the exact document
 * length, each bit-packed, then (with positions) every posting's positions
 * as delta varints.  Carrying dl in the posting makes scoring self-contained.
 *
 * The doc table lists every document of the segment (even those without
 * terms) with its length, for statistics, VACUUM and merging.  The
 * dictionary lists the terms in byte order with df, region offset, block
 * count and the term's overall max tf / min dl; the dictionary index holds
 * every 32nd term with its offset in the dictionary.
 *
 * Postings name documents by their ordinal in the doc table, not by the
 * caller's doc id: the doc table maps ordinal to doc id (bm25_segr_doc_id),
 * ordinals give small gaps, and they let a query address "the documents
 * 16i to 16i + 15" of a segment.  The writer is given the doc table first and
 * maps the caller's doc ids (opaque 64-bit integers, increasing within a
 * posting list) as terms come; cursors, deletion records and query results
 * of one segment are in ordinals.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_BM25_SEGMENT_H
#define LANCEDB_KERNELS_BM25_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"
#include "kernels/bm25_codec.h"

#define BM25_DOC_END UINT64_MAX
/* last doc (8), offset (4), length (4), impacts (16), largest tf part (4) */
#define BM25_SKIP_ENTRY_SIZE 36
#define BM25_SKIP_TFMAX_OFF 32
/* (tf, dl) pairs bounding a block's scores, in its skip entry */
#define BM25_IMPACTS 4
/* a stored tf of 0xFFFF stands for "any tf": the bound takes tf to infinity */
#define BM25_IMPACT_TF_INF 0xFFFF
#define BM25_MAX_TERM_LEN 2047

/*
 * The tf part, times (k1 + 1), under a writer's k1, b and average length:
 * what the stored bounds (blocks' largest tf parts, range bounds) bound.
 */
static inline double
bm25_ref_tf_part(uint32_t tf, uint32_t dl, double k1, double b, double avgdl)
{
	return (double) tf * (k1 + 1.0) / ((double) tf + k1 * (1.0 - b + b * (double) dl / avgdl));
}

/* Bytes of a term's skip table: none for a single block. */
static inline uint64_t
bm25_skip_table_size(uint32_t nblocks)
{
	return nblocks > 1 ? (uint64_t) nblocks * BM25_SKIP_ENTRY_SIZE : 0;
}

/* Where a segment's parts are; kept by the owner of the stream. */
typedef struct Bm25SegInfo
{
	uint64_t	nbytes;
	uint64_t	doctab_off;
	uint64_t	dict_off;
	uint64_t	dict_len;
	uint64_t	dindex_off;		/* sparse dictionary index, after the dictionary */
	uint64_t	dindex_len;
	uint64_t	ndocs;
	uint64_t	total_dl;
	uint32_t	nterms;
	bool		positions;
	/* the parameters of the blocks' largest tf parts; ref_k1 0: none */
	double		ref_k1;
	double		ref_b;
	double		ref_avgdl;
	/* terms with this many postings carry range bounds (bm25_ranges.h); 0: none */
	uint32_t	range_min_df;
} Bm25SegInfo;

/* One term of a segment's dictionary. */
typedef struct Bm25TermInfo
{
	uint64_t	off;			/* of its region in the stream */
	uint32_t	df;
	uint32_t	nblocks;
	uint32_t	max_tf;
	uint32_t	min_dl;
} Bm25TermInfo;

/* --- writing --- */

/* Append len bytes to the stream; nonzero on failure. */
typedef int (*Bm25SinkFn) (void *ctx, const uint8_t *data, size_t len);

typedef struct Bm25SegWriter Bm25SegWriter;

extern Bm25SegWriter *bm25_segw_create(bool positions, Bm25SinkFn sink, void *ctx);

/*
 * Give the writer the k1 and b of the index, so that each block records its
 * largest tf part; without them blocks are bounded by their impacts only.
 */
extern void bm25_segw_set_params(Bm25SegWriter *w, double k1, double b);

/*
 * The segment's documents, doc ids strictly increasing, before the first
 * term; the arrays must live until bm25_segw_finish.
 */
extern CoreStatus bm25_segw_set_docs(Bm25SegWriter *w, size_t ndocs, const uint64_t *docids,
									 const uint32_t *dls, CoreError *err);

/*
 * Add one term's postings; terms must come in strictly increasing byte
 * order and doc ids strictly increasing, each one of the doc table's.
 * positions holds sum(tfs) entries, each document's in increasing order
 * (NULL without positions).
 */
extern CoreStatus bm25_segw_add_term(Bm25SegWriter *w, const char *term, size_t len,
									 size_t n, const uint64_t *docids,
									 const uint32_t *tfs, const uint32_t *dls,
									 const uint32_t *positions, CoreError *err);

/* Write the doc table and the dictionary. */
extern CoreStatus bm25_segw_finish(Bm25SegWriter *w, Bm25SegInfo *info, CoreError *err);
extern void bm25_segw_free(Bm25SegWriter *w);

/* --- reading --- */

/* Copy len bytes at off into dst; nonzero when they are not there. */
typedef int (*Bm25ReadFn) (void *ctx, uint64_t off, size_t len, uint8_t *dst);

/*
 * The bytes at off in place, valid until the source is unbound: *len in,
 * how many are wanted; out, how many follow off contiguously (at least
 * one).  NULL when off is not in the segment, or when the view can hold
 * no more pages: the reader then reads through the source.
 */
typedef const uint8_t *(*Bm25ViewFn) (void *ctx, uint64_t off, size_t *len);

typedef struct Bm25SegReader Bm25SegReader;
typedef struct Bm25Deletes Bm25Deletes;	/* kernels/bm25_deletes.h */

/* Open a segment (reads its dictionary index); cache and re-bind it. */
extern CoreStatus bm25_segr_open(const Bm25SegInfo *info, Bm25ReadFn read, void *ctx,
								 Bm25SegReader **out, CoreError *err);
extern void bm25_segr_set_source(Bm25SegReader *r, Bm25ReadFn read, void *ctx);

/*
 * Let ranking read the segment in place; bm25_segr_set_source drops the
 * view, so it lasts at most until the source is bound again.
 */
extern void bm25_segr_set_view(Bm25SegReader *r, Bm25ViewFn view, void *ctx);

/* Copy len bytes at off into dst; false when they are not there. */
extern bool bm25_segr_read(const Bm25SegReader *r, uint64_t off, size_t len, uint8_t *dst);

/*
 * The len bytes at off: in place when the view holds them in one piece,
 * else copied into scratch (len bytes); NULL when they are not there.
 */
extern const uint8_t *bm25_segr_bytes(const Bm25SegReader *r, uint64_t off, size_t len,
									  uint8_t *scratch);

/*
 * The len bytes at off in place when the view holds them in one piece,
 * else NULL: never a read through the source, for looking ahead.  Like
 * any read through the view, it may pin the page.
 */
extern const uint8_t *bm25_segr_peek(const Bm25SegReader *r, uint64_t off, size_t len);

/* Ask for the bytes at off to be brought into cache, as bm25_segr_peek. */
extern void bm25_segr_prefetch(const Bm25SegReader *r, uint64_t off);

/*
 * The first *len bytes at off that can be had in one piece, for reading a
 * long stretch piece by piece: in place as far as the view holds them,
 * else up to cap of them copied into scratch; *len says how many.
 */
extern const uint8_t *bm25_segr_span(const Bm25SegReader *r, uint64_t off, size_t *len,
									 uint8_t *scratch, size_t cap);
extern void bm25_segr_free(Bm25SegReader *r);
extern const Bm25SegInfo *bm25_segr_info(const Bm25SegReader *r);
extern bool bm25_segr_lookup(const Bm25SegReader *r, const char *term, size_t len,
							 Bm25TermInfo *ti);
/*
 * Give the reader its segment's deletion record (it takes ownership and
 * frees the one it had): cursors pass over the dead documents from then on.
 */
extern void bm25_segr_set_deletes(Bm25SegReader *r, Bm25Deletes *d);
extern const Bm25Deletes *bm25_segr_deletes(const Bm25SegReader *r);

/* Load the whole dictionary, for bm25_segr_term (merges). */
extern CoreStatus bm25_segr_load_terms(Bm25SegReader *r, CoreError *err);

/* The i-th term in byte order (after bm25_segr_load_terms). */
extern const char *bm25_segr_term(const Bm25SegReader *r, uint32_t i, size_t *len,
								  Bm25TermInfo *ti);
/* Read the doc table into new arrays, by ordinal (core_free them). */
extern CoreStatus bm25_segr_doctable(const Bm25SegReader *r, uint64_t **docids,
									 uint32_t **dls, CoreError *err);

/* The doc id and the length of ordinal ord; false when they cannot be read. */
extern bool bm25_segr_doc_id(const Bm25SegReader *r, uint64_t ord, uint64_t *docid);
extern bool bm25_segr_doc_length(const Bm25SegReader *r, uint64_t ord, uint32_t *dl);

/* Replace n ordinals by their doc ids, in place. */
extern CoreStatus bm25_segr_doc_ids(const Bm25SegReader *r, uint64_t *ids, size_t n,
									CoreError *err);

/*
 * A cursor over one term's postings, but for the reader's deleted
 * documents.  On a read or format error it moves to
 * BM25_DOC_END and keeps the status and message, which the caller checks
 * with bm25_cursor_status() when done.
 */
typedef struct Bm25Cursor
{
	const Bm25SegReader *r;
	Bm25TermInfo ti;
	uint8_t    *skip;			/* nblocks skip entries */
	int32_t		block;			/* decoded block, -1 before the first */
	uint32_t	n;				/* postings in the decoded block */
	uint32_t	idx;			/* current posting in it */
	uint64_t	doc;			/* current ordinal or BM25_DOC_END */
	uint64_t	docids[BM25_BLOCK_SIZE];	/* the block's ordinals */
	uint32_t	tfs[BM25_BLOCK_SIZE];
	uint32_t	dls[BM25_BLOCK_SIZE];
	/* tf and dl are decoded on first use: seeks often need only ordinals */
	bool		tfdl_ready;
	const uint8_t *tf_packed;
	int			tf_width;
	int			dl_width;
	Bm25Buf		blockbuf;
	const uint8_t *pos_p;		/* positions of posting pos_idx start here */
	const uint8_t *pos_end;
	uint32_t	pos_idx;
	int32_t		pos_valid;		/* posting whose positions are in pos, or -1 */
	uint32_t   *pos;			/* decoded positions of the current posting */
	uint32_t	pos_cap;
	size_t		del_at;			/* first deleted id that may lie ahead */
	bool		opened;			/* false after bm25_cursor_init alone */
	CoreError	err;
} Bm25Cursor;

extern CoreStatus bm25_cursor_open(Bm25Cursor *c, const Bm25SegReader *r,
								   const Bm25TermInfo *ti, CoreError *err);

/*
 * Name a cursor's term without reading anything: ranking by range bounds
 * never reads a frequent term's skip table, which is as long as the term
 * is frequent.  bm25_cursor_ensure opens such a cursor (and leaves an open
 * one be); bm25_cursor_close closes either.
 */
extern void bm25_cursor_init(Bm25Cursor *c, const Bm25SegReader *r, const Bm25TermInfo *ti);
extern CoreStatus bm25_cursor_ensure(Bm25Cursor *c, CoreError *err);
extern void bm25_cursor_close(Bm25Cursor *c);
extern void bm25_cursor_next(Bm25Cursor *c);
/*
 * Move on to posting idx (> the current one) of the decoded block, or to
 * the next block's first posting when idx is n; deleted documents are
 * passed over as by bm25_cursor_next.
 */
extern void bm25_cursor_next_from(Bm25Cursor *c, uint32_t idx);
/* Move to the first posting with ordinal >= target. */
extern void bm25_cursor_seek(Bm25Cursor *c, uint64_t target);

/* The impacts of block b: n (tf, dl) pairs; returns n. */
extern int	bm25_cursor_impacts(const Bm25Cursor *c, uint32_t b, uint32_t *tf, uint32_t *dl);

/* Block b's largest tf part under the segment's ref_* (+inf: unknown). */
static inline double
bm25_cursor_block_tfmax(const Bm25Cursor *c, uint32_t b)
{
	uint32_t	bits = bm25_get_u32(c->skip + (size_t) b * BM25_SKIP_ENTRY_SIZE +
									BM25_SKIP_TFMAX_OFF);
	float		f;

	memcpy(&f, &bits, sizeof(f));
	return (double) f;
}

/* The last ordinal of block b. */
static inline uint64_t
bm25_cursor_block_last(const Bm25Cursor *c, uint32_t b)
{
	return bm25_get_u64(c->skip + (size_t) b * BM25_SKIP_ENTRY_SIZE);
}

extern void bm25_cursor_decode_tfdl(Bm25Cursor *c);

static inline uint32_t
bm25_cursor_tf(Bm25Cursor *c)
{
	if (!c->tfdl_ready)
		bm25_cursor_decode_tfdl(c);
	return c->tfs[c->idx];
}

static inline uint32_t
bm25_cursor_dl(Bm25Cursor *c)
{
	if (!c->tfdl_ready)
		bm25_cursor_decode_tfdl(c);
	return c->dls[c->idx];
}

/* Positions of the current posting (tf of them), or NULL on error. */
extern const uint32_t *bm25_cursor_positions(Bm25Cursor *c);

static inline CoreStatus
bm25_cursor_status(const Bm25Cursor *c)
{
	return c->err.status;
}

#endif							/* LANCEDB_KERNELS_BM25_SEGMENT_H */

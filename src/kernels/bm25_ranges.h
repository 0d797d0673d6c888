/*-------------------------------------------------------------------------
 *
 * bm25_ranges.h
 *	  Range bounds of a segment's frequent terms: the best tf part of each
 *	  term in every run of 16 documents, and the postings addressable by
 *	  run, for ranking that reads only the runs that can still matter.
 *
 * Block bounds cover 128 postings of one term, and for a frequent term that
 * is a few hundred documents: a block reaches the threshold whenever one
 * of them can, so with the corpus four times over, four times as many
 * blocks must be decoded.  Bounds over 16 consecutive documents shared by
 * all terms (a "range", documents 16i to 16i + 15 of the doc table) are
 * far tighter: a range's bound is the sum of each query term's best part
 * in it, and only the ranges whose bound beats the threshold are scored.
 *
 * A term with at least range_min_df postings (Bm25SegInfo; about one for
 * every eight ranges, so that the dense arrays cost at most a few bytes per
 * posting) carries, right after its last posting block:
 *
 *		scale		f32		its largest tf part under the segment's
 *							ref_k1, ref_b and ref_avgdl, rounded up
 *		tf_width	u8		1, 2 or 4: bytes of each stored tf
 *		(pad)		3 bytes
 *		best		u8 x nranges	ceil(255 * the range's best tf part /
 *							scale), 0 when the term is not in the range
 *		chunk_off	u32 x (nchunks + 1)	where each chunk starts, from the
 *							first chunk
 *		chunks		per BM25_RANGE_CHUNK ranges: u16 x BM25_RANGE_CHUNK
 *							masks (bit j: the range's document j has the
 *							term), then the tf of each of the chunk's
 *							postings, in order
 *
 * so best * scale / 255 bounds every tf part in the range under the
 * writer's parameters (and times max(1, avgdl / ref_avgdl) under the
 * query's, as for block bounds), and a range's postings are found from its
 * chunk alone.  A segment with ranges also keeps every document's length
 * in two bytes (0xFFFF: see the doc table) right after the doc table, so
 * that scoring a range reads 32 bytes of lengths, not 192 of doc table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_BM25_RANGES_H
#define LANCEDB_KERNELS_BM25_RANGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "kernels/bm25_codec.h"
#include "kernels/bm25_segment.h"

#define BM25_RANGE_DOCS 16
#define BM25_RANGE_CHUNK 64
#define BM25_RANGE_HEADER 8

static inline uint64_t
bm25_nranges(uint64_t ndocs)
{
	return (ndocs + BM25_RANGE_DOCS - 1) / BM25_RANGE_DOCS;
}

/* Where the two-byte lengths of a segment with ranges start. */
static inline uint64_t
bm25_range_lengths_off(const Bm25SegInfo *info)
{
	return info->doctab_off + 8 + 12 * info->ndocs;
}

/* The df from which a segment of ndocs documents gives a term ranges. */
static inline uint32_t
bm25_range_min_df(uint64_t ndocs)
{
	uint64_t	m = (bm25_nranges(ndocs) + 7) / 8;

	/* at least two blocks: a single-block term has no skip table */
	return m > BM25_BLOCK_SIZE ? (uint32_t) m : BM25_BLOCK_SIZE + 1;
}

/* ranges per group in ranking: the best bound of each group is kept */
#define BM25_RANGE_GROUP 64

/*
 * With AVX2: a group's bounds, u[k] = sum over the terms of w[t] * q[t][k],
 * returning the largest; the largest of a group's bounds; which of them
 * are positive and at least t, bit k for u[k]; and (with POPCNT, which
 * every AVX2 processor has) the bits set in a chunk's masks [from, to).
 */
extern float bm25_group_sum_avx2(float *u, const uint8_t *const *q, const float *w,
								 size_t nterms);
extern float bm25_group_best_avx2(const float *u);
extern uint64_t bm25_group_reaching_avx2(const float *u, float t);
extern uint32_t bm25_count_postings_avx2(const uint8_t *masks, uint32_t from, uint32_t to);

/*
 * With AVX2, over the BM25_RANGE_DOCS bounds of a range's documents: add v
 * to those that mask holds; and which of them, times slack in double
 * precision, are not below theta, bit b for bound[b].
 */
extern void bm25_mask_add_avx2(float *bound, uint32_t mask, float v);
extern uint32_t bm25_not_beaten_avx2(const float *bound, double slack, double theta);

/*
 * Append a term's range data to out: n postings by ordinal (increasing)
 * with their tf and dl, in a segment of ndocs documents; the tf parts use
 * k1, b and avgdl.
 */
extern void bm25_ranges_put(Bm25Buf *out, const uint64_t *ords, const uint32_t *tfs,
							const uint32_t *dls, size_t n, uint64_t ndocs,
							double k1, double b, double avgdl);

/* Where a term's range data is, from the skip entry of its last block. */
typedef struct Bm25TermRanges
{
	uint64_t	best_off;		/* the best array, nranges bytes */
	uint64_t	chunk_off_off;	/* the chunk offsets */
	uint64_t	chunks_off;		/* the first chunk */
	uint64_t	end;			/* past the last chunk */
	uint64_t	nranges;
	float		scale;
	int			tf_width;
} Bm25TermRanges;

/*
 * The range data of the cursor's term (opened or only named, see
 * bm25_cursor_init) in *tr and *has, or *has false when it has none;
 * CORE_ERR_CORRUPT when it should have and it does not fit.
 */
extern CoreStatus bm25_term_ranges(const Bm25Cursor *c, Bm25TermRanges *tr, bool *has,
								   CoreError *err);

#endif							/* LANCEDB_KERNELS_BM25_RANGES_H */

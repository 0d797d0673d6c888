/*-------------------------------------------------------------------------
 *
 * bm25_rank.h
 *	  BM25 scoring and exact top-k retrieval over segment cursors.
 *
 * Okapi BM25 with Lucene's idf, as ../shared/data/bm25/README.md defines it:
 *
 *		idf(t)   = ln(1 + (N - df + 0.5) / (df + 0.5))
 *		score    = sum over distinct query terms t in d of
 *				   idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl))
 *
 * Top-k goes by range bounds (bm25_rank_ranges.c) when a segment has them
 * for a query's frequent terms; otherwise, and for segments without them,
 * by MaxScore (Turtle & Flood 1995) with block-max bounds (Ding &
 * Suel 2011): terms are ordered by their largest possible contribution; the
 * terms whose bounds together cannot reach the current k-th score are
 * "non-essential" and only looked up for documents that an essential term
 * brings; ranges of whole blocks are skipped, reading only skip entries,
 * while the bounds of the essential terms' blocks and of the non-essential
 * terms' blocks over the range together cannot reach it; a document is
 * scored only when the bounds of its own terms' blocks (and of the
 * non-essential terms' blocks where it would be) can; and a non-essential
 * term is looked up for it only when that term's bound for a document of
 * its length (from the block's impacts) can still lift it there.  A rare
 * term's documents are taken first, to start theta high: those that the
 * other terms' block bounds can lift to the top k are scored, the rest
 * passed over.  Every bound is an upper bound (with a relative slack on
 * each total, against rounding) and every pruning test is strict, so the
 * result is exactly the top-k of exhaustive scoring (ties broken by doc id;
 * scores sum the terms in the caller's order, so equal documents tie
 * exactly).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_BM25_RANK_H
#define LANCEDB_KERNELS_BM25_RANK_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "kernels/bm25_segment.h"

typedef struct Bm25Params
{
	double		k1;
	double		b;
	double		avgdl;			/* > 0 whenever any document has a term */
	/* set by bm25_params_prepare: the denominator is tf + c0 + c1 * dl */
	double		c0;
	double		c1;
} Bm25Params;

static inline void
bm25_params_prepare(Bm25Params *p)
{
	p->c0 = p->k1 * (1.0 - p->b);
	p->c1 = p->avgdl > 0 ? p->k1 * p->b / p->avgdl : 0.0;
}

static inline double
bm25_idf(uint64_t n_docs, uint64_t df)
{
	return log(1.0 + ((double) n_docs - (double) df + 0.5) / ((double) df + 0.5));
}

/*
 * The term-frequency part, times (k1 + 1); k1 (1 - b + b dl / avgdl) is
 * expanded so that a score costs one division (after bm25_params_prepare).
 */
static inline double
bm25_tf_part(const Bm25Params *p, uint32_t tf, uint32_t dl)
{
	return (double) tf * (p->k1 + 1.0) / ((double) tf + p->c0 + p->c1 * (double) dl);
}

/*
 * How a segment's recorded largest tf parts (block and range bounds)
 * translate to this query: they hold for the writer's k1 and b, and grow
 * by at most avgdl / ref_avgdl when the average length has grown since;
 * +inf (unusable) otherwise.
 */
static inline double
bm25_tf_scale(const Bm25Params *p, const Bm25SegInfo *info)
{
	if (info->ref_k1 <= 0.0 || info->ref_k1 != p->k1 || info->ref_b != p->b ||
		info->ref_avgdl <= 0.0)
		return INFINITY;
	return p->avgdl > info->ref_avgdl ? p->avgdl / info->ref_avgdl : 1.0;
}

typedef struct Bm25Hit
{
	uint64_t	docid;
	double		score;
} Bm25Hit;

/* The best k hits seen so far: a binary heap with the worst at the top. */
typedef struct Bm25TopK
{
	size_t		k;
	size_t		n;
	Bm25Hit    *hits;
} Bm25TopK;

extern bool bm25_topk_init(Bm25TopK *t, size_t k);
extern void bm25_topk_free(Bm25TopK *t);
extern void bm25_topk_push(Bm25TopK *t, uint64_t docid, double score);

/*
 * Offer a segment's document, named by its ordinal, under its doc id: only
 * one that can enter is looked up in the doc table, since the heap orders
 * equal scores by doc id.
 */
extern CoreStatus bm25_topk_push_ordinal(Bm25TopK *t, const Bm25SegReader *r, uint64_t ord,
										 double score, CoreError *err);

/* The k-th score once k hits are in, else -infinity. */
static inline double
bm25_topk_threshold(const Bm25TopK *t)
{
	return t->n == t->k ? t->hits[0].score : -INFINITY;
}

/* Sort the hits best first (score descending, doc id ascending). */
extern void bm25_topk_sort(Bm25TopK *t);

/*
 * One query term in one segment; its cursor fresh, opened or only named
 * (bm25_cursor_init): ranking opens what it reads.
 */
typedef struct Bm25RankTerm
{
	Bm25Cursor *cursor;
	double		idf;
} Bm25RankTerm;

/*
 * Add the segment's best documents to t, under the doc ids its doc table
 * gives their ordinals (so t can gather several segments).  Cursors must
 * be fresh; the function moves them.  cancel (may be NULL) is polled every
 * few thousand documents; nonzero stops with CORE_ERR_CANCELED.
 */
extern CoreStatus bm25_rank_segment(Bm25TopK *t, const Bm25Params *p,
									Bm25RankTerm *terms, size_t nterms,
									int (*cancel) (void *), void *cancel_arg,
									CoreError *err);

/*
 * The two ways bm25_rank_segment ranks: by range bounds (bm25_ranges.h)
 * whenever bm25_rank_ranges_usable (the segment has them for the query's
 * k1 and b, and one of the terms is frequent enough to carry them or the
 * terms together have as many postings), else by MaxScore over the
 * posting blocks.  Both give exactly the same top k.
 */
extern bool bm25_rank_ranges_usable(const Bm25Params *p, Bm25RankTerm *terms, size_t nterms);

/* For tests: rank by ranges without AVX2 (true) or as the CPU allows. */
extern void bm25_rank_ranges_scalar_only(bool scalar);
extern CoreStatus bm25_rank_ranges(Bm25TopK *t, const Bm25Params *p,
								   Bm25RankTerm *terms, size_t nterms,
								   int (*cancel) (void *), void *cancel_arg,
								   CoreError *err);
extern CoreStatus bm25_rank_maxscore(Bm25TopK *t, const Bm25Params *p,
									 Bm25RankTerm *terms, size_t nterms,
									 int (*cancel) (void *), void *cancel_arg,
									 CoreError *err);

/*
 * Score exactly the documents of a sorted list of the cursors' segment's
 * ordinals (a boolean filter's result), adding them to t by doc id.
 */
extern CoreStatus bm25_rank_docs(Bm25TopK *t, const Bm25Params *p,
								 Bm25RankTerm *terms, size_t nterms,
								 const uint64_t *docs, size_t ndocs, CoreError *err);

#endif							/* LANCEDB_KERNELS_BM25_RANK_H */

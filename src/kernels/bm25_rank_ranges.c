/*-------------------------------------------------------------------------
 *
 * bm25_rank_ranges.c
 *	  Exact top-k over one segment by range bounds (see bm25_ranges.h).
 *
 * Every query term gives each range of 16 documents a bound: a frequent
 * term its stored best part, a rare one the best part of its postings
 * there, computed from its postings, which are few.  A range's bound is
 * the sum.  Ranges are scored best bound first until the threshold has
 * settled, then in document order, skipping every range whose bound
 * cannot reach the threshold, so the work follows the ranges that can
 * still hold a top-k document, not the documents that match.  Groups of 64
 * ranges keep their best bound, so that a sweep passes over a group with
 * one test and the best range is found through a tournament of groups.
 *
 * Bounds are summed in single precision, each term's rounded up; a term
 * adds at most two roundings (its product and its sum) of a relative 2^-24
 * each, all of them positive, so a range is passed over only when its bound
 * times 1 + (2 n + 4) 2^-23 for n terms is below the threshold.  Scores are
 * exact, summed in the caller's term order as the other paths sum them
 * (the kernels are built without FMA contraction, which would round
 * differently).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_rank.h"

#include <float.h>
#include <math.h>
#include <string.h>

#include "core/alloc.h"
#include "core/sorted.h"
#include "kernels/bm25_deletes.h"
#include "kernels/bm25_ranges.h"
#include "kernels/distance.h"

#define GROUP BM25_RANGE_GROUP
/* a group's best bytes fit a term's best_scratch */
_Static_assert(BM25_RANGE_GROUP <= BM25_RANGE_CHUNK, "a group is at most a chunk of ranges");
/* ranges taken best bound first before sweeping in document order */
#define BEST_FIRST 128
/* bytes of the best arrays copied at a time where they cannot be viewed */
#define PIECE 4096

typedef struct RangeTerm
{
	double		idf;
	bool		dense;
	/* a term with range data: its layout and the chunk at hand */
	Bm25TermRanges tr;
	float		w;				/* a stored best byte's worth, rounded up */
	int64_t		chunk;
	const uint8_t *chunkp;		/* masks, then tfs */
	const uint8_t *bestp;		/* the best bytes of the chunk's ranges */
	uint8_t		best_scratch[BM25_RANGE_CHUNK];
	uint32_t	chunk_npost;
	uint32_t	seen_range;		/* in the chunk: seen_at postings come */
	uint32_t	seen_at;		/* before range seen_range */
	uint8_t    *scratch;		/* a chunk the view does not hold in one piece */
	size_t		scratch_cap;
	const uint8_t *span;		/* summing bounds: best bytes of ranges */
	uint64_t	span_at;		/* [span_at, span_at + span_len) */
	size_t		span_len;
	/* any other term: all of its postings, ordinals and exact parts */
	size_t		first;			/* in the workspace */
	const uint64_t *ords;
	const double *parts;
	size_t		n;
	/* in the range being scored: the documents with the term, and where */
	uint32_t	mask;
	size_t		at;				/* a rare term: its first posting in ords */
} RangeTerm;

typedef struct RangeRank
{
	/*
	 * The segment's best documents by ordinal, not doc id: ordinals follow
	 * doc ids, so the order and its ties are the same, and only the last k
	 * need the doc table, not every document that enters on the way.  A
	 * document must also beat theta0, the caller's k-th score before.
	 */
	Bm25TopK	top;
	double		theta0;
	const Bm25Params *p;
	const Bm25SegReader *r;
	const Bm25Deletes *deletes;
	RangeTerm  *terms;
	size_t		nterms;
	size_t		ndense;			/* terms with range data */
	uint64_t	nranges;
	double		slack;			/* on a summed bound, against its rounding */
	float	   *bound;			/* per range; 0 once taken to be scored */
	float	   *group;			/* best bound left in each group; one more: -1 */
	uint32_t   *tree;			/* tournament of groups, see TreeBuild */
	uint32_t	leaves;
} RangeRank;

static inline bool
Beaten(const RangeRank *rr, double bound, double theta)
{
	return bound * rr->slack < theta;
}

/* The score a document must reach to matter. */
static inline double
Theta(const RangeRank *rr)
{
	double		theta = bm25_topk_threshold(&rr->top);

	return theta > rr->theta0 ? theta : rr->theta0;
}

/*
 * Arrays kept from one ranking to the next (per thread, up to WORK_KEEP):
 * a backend ranks query after query, and arrays of a large segment's size
 * freshly allocated come back from the C library as untouched pages, which
 * cost far more to fault in than to clear.
 */
typedef struct RangeWork
{
	float	   *bound;
	size_t		bound_cap;
	float	   *group;
	size_t		group_cap;
	uint32_t   *tree;
	size_t		tree_cap;
	uint64_t   *ords;			/* the rare terms' postings, one after another */
	size_t		ords_cap;
	double	   *parts;
	size_t		parts_cap;
} RangeWork;

static _Thread_local RangeWork work;

/* a workspace larger than this goes back after the ranking */
#define WORK_KEEP ((size_t) 8 << 20)

static void
TrimWork(void)
{
	size_t		bytes = work.bound_cap * sizeof(float) + work.group_cap * sizeof(float) +
		work.tree_cap * sizeof(uint32_t) + work.ords_cap * sizeof(uint64_t) +
		work.parts_cap * sizeof(double);

	if (bytes <= WORK_KEEP)
		return;
	core_free(work.bound);
	core_free(work.group);
	core_free(work.tree);
	core_free(work.ords);
	core_free(work.parts);
	memset(&work, 0, sizeof(work));
}

/* 0: not yet asked; 1: scalar; 2: AVX2 (and POPCNT, which comes with it) */
static int	use_avx2 = 0;

static inline bool
UseAvx2(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (use_avx2 == 0)
		use_avx2 = distance_isa_supported(KERNEL_ISA_AVX2) && __builtin_cpu_supports("popcnt") ? 2 : 1;
	return use_avx2 == 2;
#else
	return false;
#endif
}

void
bm25_rank_ranges_scalar_only(bool scalar)
{
	use_avx2 = scalar ? 1 : 0;
}

/* Bits set in a word, without a call where the build has no popcnt. */
static inline uint32_t
Pop64(uint64_t x)
{
	x = x - ((x >> 1) & 0x5555555555555555ULL);
	x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
	x = (x + (x >> 4)) & 0x0F0F0F0F0F0F0F0FULL;
	return (uint32_t) ((x * 0x0101010101010101ULL) >> 56);
}

/* Bits set in the masks [from, to) of a chunk, four masks a word. */
static inline uint32_t
CountPostings(const uint8_t *masks, uint32_t from, uint32_t to)
{
	uint32_t	n = 0;

#if defined(__x86_64__) || defined(__i386__)
	if (UseAvx2())
		return bm25_count_postings_avx2(masks, from, to);
#endif
	for (; from + 4 <= to; from += 4)
		n += Pop64(bm25_get_u64(masks + 2 * from));
	for (; from < to; from++)
		n += Pop64(bm25_get_u16(masks + 2 * from));
	return n;
}

/*
 * The best bytes of a frequent term for ranges [at, at + n) of one group:
 * in place from the stretch of its array at hand, else from a new stretch,
 * else (across a page) copied into the term's best_scratch.
 */
static const uint8_t *
GroupBytes(RangeRank *rr, RangeTerm *rt, uint64_t at, size_t n)
{
	size_t		len;
	const uint8_t *p;

	if (at >= rt->span_at && at + n <= rt->span_at + rt->span_len)
		return rt->span + (at - rt->span_at);
	len = (size_t) (rr->nranges - at);
	p = bm25_segr_span(rr->r, rt->tr.best_off + at, &len, rt->scratch, rt->scratch_cap);
	if (p == NULL)
		return NULL;
	rt->span = p;
	rt->span_at = at;
	rt->span_len = len;
	if (len >= n)
		return p;
	return bm25_segr_bytes(rr->r, rt->tr.best_off + at, n, rt->best_scratch);
}

/*
 * Every range's bound from the frequent terms' stored bytes, and every
 * group's best bound, in one pass a group at a time: a large segment's
 * bounds do not fit in the nearest caches, and a pass for each term and
 * one more for the groups would write and read them all again each time.
 */
static CoreStatus
SumStoredBounds(RangeRank *rr, double tfscale, CoreError *err)
{
	uint64_t	ngroups = (rr->nranges + GROUP - 1) / GROUP;
	const uint8_t **q = core_mallocarray(rr->nterms + 1, sizeof(uint8_t *));
	float	   *w = core_mallocarray(rr->nterms + 1, sizeof(float));
	size_t		nq = 0;
	CoreStatus	st = CORE_OK;

	if (q == NULL || w == NULL)
		st = core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	for (size_t i = 0; st == CORE_OK && i < rr->nterms; i++)
	{
		RangeTerm  *rt = &rr->terms[i];

		if (!rt->dense)
			continue;
		rt->w = bm25_float_up(rt->idf * (double) rt->tr.scale * tfscale / 255.0);
		w[nq++] = rt->w;
		if (!core_grow((void **) &rt->scratch, &rt->scratch_cap, PIECE, 1))
			st = core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	}
	for (uint64_t g = 0; st == CORE_OK && g < ngroups; g++)
	{
		uint64_t	at = g * GROUP;
		size_t		n = rr->nranges - at < GROUP ? (size_t) (rr->nranges - at) : GROUP;
		float	   *u = rr->bound + at;
		size_t		k = 0;

		for (size_t i = 0; i < rr->nterms; i++)
		{
			RangeTerm  *rt = &rr->terms[i];

			if (rt->dense && (q[k++] = GroupBytes(rr, rt, at, n)) == NULL)
			{
				st = core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read range bounds at %llu",
								(unsigned long long) rt->tr.best_off);
				break;
			}
		}
		if (st != CORE_OK)
			break;
#if defined(__x86_64__) || defined(__i386__)
		if (n == GROUP && UseAvx2())
		{
			rr->group[g] = bm25_group_sum_avx2(u, q, w, nq);
			continue;
		}
#endif
		rr->group[g] = 0.0f;
		for (k = 0; k < GROUP; k++)
		{
			float		b = 0.0f;

			for (size_t t = 0; k < n && t < nq; t++)
				b += w[t] * (float) q[t][k];
			u[k] = b;
			rr->group[g] = b > rr->group[g] ? b : rr->group[g];
		}
	}
	rr->ndense = nq;
	core_free(q);
	core_free(w);
	return st;
}

/* Add to a range's bound, and so perhaps to its group's best. */
static inline void
AddBound(RangeRank *rr, uint64_t range, float v)
{
	float	   *g = &rr->group[range / GROUP];

	rr->bound[range] += v;
	if (rr->bound[range] > *g)
		*g = rr->bound[range];
}

/*
 * Read a rare term's postings into the workspace from *used on (its
 * arrays are pointed to once all terms are in: they may move while later
 * terms grow them) and add each range's best part.  A block at a time:
 * the parts' divisions then overlap, where a posting at a time behind the
 * cursor's calls each waits for the one before.  Deleted documents' postings
 * stay in: they only loosen a bound, and ScoreRange passes the documents
 * over.
 */
static CoreStatus
AddPostingBounds(RangeRank *rr, RangeTerm *rt, Bm25Cursor *c, size_t *used, CoreError *err)
{
	uint64_t	last = UINT64_MAX;
	double		best = 0.0;

	if (!core_grow((void **) &work.ords, &work.ords_cap, *used + c->ti.df, sizeof(uint64_t)) ||
		!core_grow((void **) &work.parts, &work.parts_cap, *used + c->ti.df, sizeof(double)))
		return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	rt->first = *used;
	while (c->doc != BM25_DOC_END && rt->n < c->ti.df)
	{
		uint64_t   *ords = work.ords + *used + rt->n;
		double	   *parts = work.parts + *used + rt->n;
		uint32_t	from = c->idx,
					m = c->n - c->idx;

		if (m > c->ti.df - rt->n)
			m = (uint32_t) (c->ti.df - rt->n);
		(void) bm25_cursor_tf(c);	/* decodes the block's tfs and lengths */
		for (uint32_t i = 0; i < m; i++)
		{
			ords[i] = c->docids[from + i];
			parts[i] = rt->idf * bm25_tf_part(rr->p, c->tfs[from + i], c->dls[from + i]);
		}
		for (uint32_t i = 0; i < m; i++)
		{
			uint64_t	range = ords[i] / BM25_RANGE_DOCS;

			if (range != last)
			{
				if (last != UINT64_MAX)
					AddBound(rr, last, bm25_float_up(best));
				last = range;
				best = 0.0;
			}
			if (parts[i] > best)
				best = parts[i];
		}
		rt->n += m;
		bm25_cursor_next_from(c, from + m);
	}
	*used += rt->n;
	if (last != UINT64_MAX)
		AddBound(rr, last, bm25_float_up(best));
	if (bm25_cursor_status(c) != CORE_OK)
		return core_error(err, bm25_cursor_status(c), "%s", c->err.msg);
	return CORE_OK;
}

/*
 * Where a chunk lies (from its start and end offsets at o, relative to the
 * first chunk): false when it does not fit the term's range data.
 */
static bool
ChunkAt(const Bm25TermRanges *tr, const uint8_t *o, uint32_t *from, uint32_t *to)
{
	*from = bm25_get_u32(o);
	*to = bm25_get_u32(o + 4);
	return *to >= *from && *to - *from >= 2 * BM25_RANGE_CHUNK &&
		((*to - *from - 2 * BM25_RANGE_CHUNK) & (tr->tf_width - 1)) == 0 &&
		tr->chunks_off + *to <= tr->end;
}

/* Make the chunk of range r the term's chunk at hand. */
static CoreStatus
LoadChunk(RangeRank *rr, RangeTerm *rt, uint64_t chunk, CoreError *err)
{
	uint8_t		offs[8];
	const uint8_t *o = bm25_segr_bytes(rr->r, rt->tr.chunk_off_off + 4 * chunk, 8, offs);
	uint32_t	from,
				to;

	if (o == NULL || !ChunkAt(&rt->tr, o, &from, &to))
		goto corrupt;
	if (!core_grow((void **) &rt->scratch, &rt->scratch_cap, to - from, 1))
		return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	rt->chunkp = bm25_segr_bytes(rr->r, rt->tr.chunks_off + from, to - from, rt->scratch);
	rt->bestp = bm25_segr_bytes(rr->r, rt->tr.best_off + chunk * BM25_RANGE_CHUNK,
								rr->nranges - chunk * BM25_RANGE_CHUNK < BM25_RANGE_CHUNK ?
								rr->nranges - chunk * BM25_RANGE_CHUNK : BM25_RANGE_CHUNK,
								rt->best_scratch);
	if (rt->chunkp == NULL || rt->bestp == NULL)
		goto corrupt;
	rt->chunk = (int64_t) chunk;
	/* a width of 1, 2 or 4 (bm25_term_ranges checks): a shift, not a division */
	rt->chunk_npost = (to - from - 2 * BM25_RANGE_CHUNK) >> (rt->tr.tf_width / 2);
	rt->seen_range = 0;
	rt->seen_at = 0;
	return CORE_OK;

corrupt:
	rt->chunk = -1;
	return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: range chunk %llu of the term at %llu does not fit",
					  (unsigned long long) chunk, (unsigned long long) rt->tr.best_off);
}

static inline uint32_t
GetTf(const uint8_t *p, int width, uint32_t i)
{
	if (width == 1)
		return p[i];
	if (width == 2)
		return bm25_get_u16(p + 2 * i);
	return bm25_get_u32(p + 4 * i);
}

/*
 * Find which documents of range r have each term (rt->mask; for a rare
 * term, rt->at: where they are among its postings) and
 * bound each document by the sum of its terms' bounds in the range, as
 * the range's bound sums them all: most documents of a range that can
 * reach the threshold have only some of the terms, and need neither their
 * lengths nor their tfs read.
 */
static CoreStatus
FindPostings(RangeRank *rr, uint64_t r, float *bound, uint32_t ndocs, uint32_t *present,
			 CoreError *err)
{
	uint64_t	first = r * BM25_RANGE_DOCS;

	for (size_t i = 0; i < rr->nterms; i++)
	{
		RangeTerm  *rt = &rr->terms[i];

		if (rt->dense)
		{
			uint64_t	chunk = r / BM25_RANGE_CHUNK;
			uint32_t	j = (uint32_t) (r % BM25_RANGE_CHUNK);
			uint32_t	mask;
			float		v;
			CoreStatus	st;

			if (rt->chunk != (int64_t) chunk && (st = LoadChunk(rr, rt, chunk, err)) != CORE_OK)
				return st;
			mask = bm25_get_u16(rt->chunkp + 2 * j);
			rt->mask = mask;
			if (mask == 0)
				continue;
			if ((mask >> ndocs) != 0)
				return core_error(err, CORE_ERR_CORRUPT,
								  "bm25 segment: range %llu of the term at %llu lists documents past the last",
								  (unsigned long long) r, (unsigned long long) rt->tr.best_off);
			v = rt->w * (float) rt->bestp[j];
			*present |= mask;
#if defined(__x86_64__) || defined(__i386__)
			if (UseAvx2())
			{
				bm25_mask_add_avx2(bound, mask, v);
				continue;
			}
#endif
			for (; mask; mask &= mask - 1)
				bound[__builtin_ctz(mask)] += v;
		}
		else
		{
			size_t		lo = core_lower_bound_u64(rt->ords, 0, rt->n, first);

			rt->at = lo;
			rt->mask = 0;
			for (; lo < rt->n && rt->ords[lo] < first + BM25_RANGE_DOCS; lo++)
			{
				uint32_t	b = (uint32_t) (rt->ords[lo] - first);

				bound[b] += bm25_float_up(rt->parts[lo]);
				rt->mask |= 1u << b;
			}
			*present |= rt->mask;
		}
	}
	return CORE_OK;
}

/*
 * Where the postings of range r start among the tfs of its chunk, the
 * term's chunk at hand: counted on from the last range counted while the
 * sweep goes forward, else from the chunk's start.  Only ranges with a
 * document to score need it, so masks that claim more postings than the
 * chunk holds are found when a range at or after the first bad one is
 * scored, if any is: a range passed over reads no tfs.
 */
static CoreStatus
PostingsBefore(RangeTerm *rt, uint64_t r, uint32_t *at, CoreError *err)
{
	uint32_t	j = (uint32_t) (r % BM25_RANGE_CHUNK);
	uint32_t	n;

	if (j >= rt->seen_range)
		n = rt->seen_at + CountPostings(rt->chunkp, rt->seen_range, j);
	else
		n = CountPostings(rt->chunkp, 0, j);
	rt->seen_range = j;
	rt->seen_at = n;
	if (n + Pop64(rt->mask) > rt->chunk_npost)
		return core_error(err, CORE_ERR_CORRUPT,
						  "bm25 segment: range %llu of the term at %llu lists more postings than it holds",
						  (unsigned long long) r, (unsigned long long) rt->tr.best_off);
	*at = n;
	return CORE_OK;
}

/*
 * Score exactly the documents of range r that can reach the threshold
 * and offer them to the top k.
 */
static CoreStatus
ScoreRange(RangeRank *rr, uint64_t r, CoreError *err)
{
	uint64_t	first = r * BM25_RANGE_DOCS;
	const Bm25SegInfo *info = bm25_segr_info(rr->r);
	uint32_t	ndocs = info->ndocs - first < BM25_RANGE_DOCS ?
		(uint32_t) (info->ndocs - first) : BM25_RANGE_DOCS;
	uint8_t		scratch[2 * BM25_RANGE_DOCS];
	const uint8_t *lens = NULL;
	float		bound[BM25_RANGE_DOCS] = {0};
	double		score[BM25_RANGE_DOCS];
	double		theta = Theta(rr);
	uint32_t	present = 0,
				want = 0;
	CoreStatus	st;

	if ((st = FindPostings(rr, r, bound, ndocs, &present, err)) != CORE_OK)
		return st;
#if defined(__x86_64__) || defined(__i386__)
	if (UseAvx2())
		want = present & bm25_not_beaten_avx2(bound, rr->slack, theta);
	else
#endif
		for (uint32_t m = present; m; m &= m - 1)
		{
			int			b = __builtin_ctz(m);

			if (!Beaten(rr, bound[b], theta))
				want |= 1u << b;
		}
	if (want == 0)
		return CORE_OK;
	/* only these are summed: most ranges get no further than the masks */
	for (uint32_t m = want; m; m &= m - 1)
		score[__builtin_ctz(m)] = 0.0;

	for (size_t i = 0; i < rr->nterms; i++)
	{
		RangeTerm  *rt = &rr->terms[i];
		size_t		at = rt->at;

		if ((rt->mask & want) == 0)
			continue;
		if (rt->dense)
		{
			const uint8_t *tfs = rt->chunkp + 2 * BM25_RANGE_CHUNK;
			uint32_t	before = 0;

			if ((st = PostingsBefore(rt, r, &before, err)) != CORE_OK)
				return st;
			at = before;
			if (lens == NULL &&
				(lens = bm25_segr_bytes(rr->r, bm25_range_lengths_off(info) + 2 * first, 2 * ndocs,
										scratch)) == NULL)
				return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read the lengths of range %llu",
								  (unsigned long long) r);
			for (uint32_t mask = rt->mask; mask; mask &= mask - 1, at++)
			{
				int			b = __builtin_ctz(mask);
				uint32_t	dl;

				if ((want & (1u << b)) == 0)
					continue;
				dl = bm25_get_u16(lens + 2 * b);
				/* longer than two bytes hold: see the doc table */
				if (dl == 0xFFFF && !bm25_segr_doc_length(rr->r, first + b, &dl))
					return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read doc table entry %llu",
									  (unsigned long long) (first + b));
				score[b] += rt->idf * bm25_tf_part(rr->p, GetTf(tfs, rt->tr.tf_width, (uint32_t) at), dl);
			}
		}
		else
		{
			for (; at < rt->n && rt->ords[at] < first + BM25_RANGE_DOCS; at++)
			{
				uint32_t	b = (uint32_t) (rt->ords[at] - first);

				if (want & (1u << b))
					score[b] += rt->parts[at];
			}
		}
	}
	while (want)
	{
		int			b = __builtin_ctz(want);

		want &= want - 1;
		if (rr->deletes && bm25_deletes_has(rr->deletes, first + b))
			continue;
		if (score[b] >= rr->theta0)
			bm25_topk_push(&rr->top, first + b, score[b]);
	}
	return CORE_OK;
}

static float
GroupBest(const RangeRank *rr, uint32_t g)
{
	const float *u = rr->bound + (size_t) g * GROUP;
	float		best = 0.0f;

#if defined(__x86_64__) || defined(__i386__)
	if (UseAvx2())
		return bm25_group_best_avx2(u);
#endif
	for (int k = 0; k < GROUP; k++)
		best = u[k] > best ? u[k] : best;
	return best;
}

/* The group's ranges whose bound is positive and at least t, bit k for k. */
static uint64_t
GroupReaching(const RangeRank *rr, uint32_t g, float t)
{
	const float *u = rr->bound + (size_t) g * GROUP;
	uint64_t	mask = 0;

#if defined(__x86_64__) || defined(__i386__)
	if (UseAvx2())
		return bm25_group_reaching_avx2(u, t);
#endif
	for (int k = 0; k < GROUP; k++)
		if (u[k] > 0.0f && u[k] >= t)
			mask |= (uint64_t) 1 << k;
	return mask;
}

/*
 * A float at most theta / slack: every bound that is not Beaten reaches
 * it, so a mask of the bounds reaching it holds all those to score.
 */
static float
FloorOf(const RangeRank *rr, double theta)
{
	double		t = theta / rr->slack;
	float		f = (float) t;

	if ((double) f > t)
		f = nextafterf(f, -INFINITY);
	return f;
}

/*
 * A tournament over the groups, for the best bound left: leaf i (tree
 * entry leaves + i) is group i, or the sentinel group past the last, whose
 * bound is -1; every inner entry is the better of its two children, so
 * entry 1 is the best group.  A change to one group replays its path to
 * the root, a comparison a level and no branch to mispredict (a binary
 * heap's sift mispredicts about one a level).
 */
static inline uint32_t
Better(const RangeRank *rr, uint32_t a, uint32_t b)
{
	return rr->group[a] >= rr->group[b] ? a : b;
}

static void
TreeBuild(RangeRank *rr, uint32_t ngroups)
{
	rr->leaves = 1;
	while (rr->leaves < ngroups)
		rr->leaves *= 2;
	rr->group[ngroups] = -1.0f;
	for (uint32_t i = 0; i < rr->leaves; i++)
		rr->tree[rr->leaves + i] = i < ngroups ? i : ngroups;
	for (uint32_t n = rr->leaves - 1; n >= 1; n--)
		rr->tree[n] = Better(rr, rr->tree[2 * n], rr->tree[2 * n + 1]);
}

static void
TreeUpdate(RangeRank *rr, uint32_t g)
{
	for (uint32_t n = (rr->leaves + g) / 2; n >= 1; n /= 2)
		rr->tree[n] = Better(rr, rr->tree[2 * n], rr->tree[2 * n + 1]);
}

/*
 * The first ranges taken best first are scattered over the segment, and
 * scoring one reads from memory, not cache: its chunk offsets and then
 * its chunk for each frequent term, and its lengths.  Their order does
 * not depend on the scores, so these reads are asked for ahead: the
 * offsets and lengths FAR ranges ahead, the chunk (the range's mask, and
 * its tfs where they would be if the chunk's postings were spread evenly)
 * NEAR ranges ahead, once the offsets are in.
 */
#define FAR 8
#define NEAR 4

static void
PrefetchFar(const RangeRank *rr, uint64_t r)
{
	for (size_t i = 0; i < rr->nterms; i++)
		if (rr->terms[i].dense)
			bm25_segr_prefetch(rr->r, rr->terms[i].tr.chunk_off_off + 4 * (r / BM25_RANGE_CHUNK));
	/* only frequent terms' postings are scored with the lengths */
	if (rr->ndense > 0)
		bm25_segr_prefetch(rr->r, bm25_range_lengths_off(bm25_segr_info(rr->r)) + 2 * BM25_RANGE_DOCS * r);
}

static void
PrefetchNear(const RangeRank *rr, uint64_t r)
{
	uint32_t	j = (uint32_t) (r % BM25_RANGE_CHUNK);

	for (size_t i = 0; i < rr->nterms; i++)
	{
		const Bm25TermRanges *tr = &rr->terms[i].tr;
		const uint8_t *o;
		uint32_t	from,
					to;

		/* a chunk that does not fit is LoadChunk's to report */
		if (!rr->terms[i].dense ||
			(o = bm25_segr_peek(rr->r, tr->chunk_off_off + 4 * (r / BM25_RANGE_CHUNK), 8)) == NULL ||
			!ChunkAt(tr, o, &from, &to))
			continue;
		bm25_segr_prefetch(rr->r, tr->chunks_off + from + 2 * j);
		bm25_segr_prefetch(rr->r, tr->chunks_off + from + 2 * BM25_RANGE_CHUNK +
						   (uint64_t) (to - from - 2 * BM25_RANGE_CHUNK) * j / BM25_RANGE_CHUNK);
	}
}

/* The ranges taken best first, in order, and their bounds. */
typedef struct Taken
{
	uint64_t	range[BEST_FIRST];
	float		bound[BEST_FIRST];
	int			n;
} Taken;

/*
 * Take the range of best bound left into *tk, setting its bound to 0;
 * *taken false when no range has a bound left.
 */
static CoreStatus
TakeBest(RangeRank *rr, Taken *tk, bool *taken, CoreError *err)
{
	uint32_t	g = rr->tree[1];
	float	   *u = rr->bound + (size_t) g * GROUP;
	uint64_t	mask;
	int			k;

	if (!(*taken = rr->group[g] > 0.0f))
		return CORE_OK;
	/* the group's best bound is known: where it is comes from a mask */
	if ((mask = GroupReaching(rr, g, rr->group[g])) == 0)
		return core_error(err, CORE_ERR_INVALID, "bm25: range group %u lost its best bound", g);
	k = __builtin_ctzll(mask);
	tk->range[tk->n] = (uint64_t) g * GROUP + k;
	tk->bound[tk->n++] = u[k];
	u[k] = 0.0f;
	rr->group[g] = GroupBest(rr, g);
	TreeUpdate(rr, g);
	return CORE_OK;
}

/*
 * Score up to BEST_FIRST ranges, best bound first, stopping once the best
 * left cannot reach the threshold; a range taken has its bound set to 0.
 * Ranges are taken FAR ahead of the one being scored, for prefetching.
 * Returns through *done whether nothing is left to score.
 */
static CoreStatus
BestFirst(RangeRank *rr, bool *done, CoreError *err)
{
	uint32_t	ngroups = (uint32_t) ((rr->nranges + GROUP - 1) / GROUP);
	Taken		tk;
	bool		more = true;

	tk.n = 0;
	TreeBuild(rr, ngroups);
	for (int i = 0; i < BEST_FIRST; i++)
	{
		CoreStatus	st;

		while (more && tk.n < BEST_FIRST && tk.n <= i + FAR)
		{
			if ((st = TakeBest(rr, &tk, &more, err)) != CORE_OK)
				return st;
			if (more)
			{
				PrefetchFar(rr, tk.range[tk.n - 1]);
				if (tk.n - 1 >= FAR - NEAR)
					PrefetchNear(rr, tk.range[tk.n - 1 - (FAR - NEAR)]);
			}
		}
		/* the rest are no better: nothing anywhere can reach the top k */
		if (i == tk.n || Beaten(rr, tk.bound[i], Theta(rr)))
		{
			*done = true;
			return CORE_OK;
		}
		if ((st = ScoreRange(rr, tk.range[i], err)) != CORE_OK)
			return st;
	}
	*done = false;
	return CORE_OK;
}

/* Score, in document order, every range left that can reach the threshold. */
static CoreStatus
Sweep(RangeRank *rr, int (*cancel) (void *), void *cancel_arg, CoreError *err)
{
	uint32_t	ngroups = (uint32_t) ((rr->nranges + GROUP - 1) / GROUP);
	uint32_t	tick = 0;

	for (uint32_t g = 0; g < ngroups; g++)
	{
		const float *u = rr->bound + (size_t) g * GROUP;
		double		theta = Theta(rr);
		uint64_t	left;

		if (rr->group[g] <= 0.0f || Beaten(rr, rr->group[g], theta))
			continue;
		/* the threshold only rises: each candidate is tested again below */
		for (left = GroupReaching(rr, g, FloorOf(rr, theta)); left; left &= left - 1)
		{
			int			k = __builtin_ctzll(left);
			CoreStatus	st;

			if (Beaten(rr, u[k], theta))
				continue;
			if (cancel && (++tick & 255) == 0 && cancel(cancel_arg))
				return core_error(err, CORE_ERR_CANCELED, "bm25: canceled");
			if ((st = ScoreRange(rr, (uint64_t) g * GROUP + k, err)) != CORE_OK)
				return st;
			theta = Theta(rr);
		}
	}
	return CORE_OK;
}

bool
bm25_rank_ranges_usable(const Bm25Params *p, Bm25RankTerm *terms, size_t nterms)
{
	const Bm25SegInfo *info;
	uint64_t	postings = 0;

	if (nterms == 0)
		return false;
	info = bm25_segr_info(terms[0].cursor->r);
	if (info->range_min_df == 0 || isinf(bm25_tf_scale(p, info)))
		return false;

	/*
	 * Rare terms' postings are all read either way; MaxScore reads them
	 * block by block, which pays while they are few, but costs several
	 * times as much a posting once there are as many as a frequent term
	 * has, and a range's bound is then worth its fixed cost.  One term
	 * alone needs no bounds: its best blocks are its best documents.
	 */
	for (size_t i = 0; i < nterms; i++)
	{
		if (terms[i].cursor->ti.df >= info->range_min_df)
			return true;
		postings += terms[i].cursor->ti.df;
	}
	return nterms > 1 && postings >= info->range_min_df;
}

CoreStatus
bm25_rank_ranges(Bm25TopK *t, const Bm25Params *p, Bm25RankTerm *terms, size_t nterms,
				 int (*cancel) (void *), void *cancel_arg, CoreError *err)
{
	const Bm25SegReader *r = terms[0].cursor->r;
	const Bm25SegInfo *info = bm25_segr_info(r);
	double		tfscale = bm25_tf_scale(p, info);
	RangeRank	rr = {0};
	uint64_t	ngroups;
	CoreStatus	st = CORE_OK;
	bool		done = false;
	size_t		used = 0;

	if (t->k == 0)
		return CORE_OK;
	if (!bm25_topk_init(&rr.top, t->k))
		return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	rr.theta0 = bm25_topk_threshold(t);
	rr.p = p;
	rr.r = r;
	rr.deletes = bm25_segr_deletes(r);
	rr.nterms = nterms;
	rr.slack = 1.0 + (2.0 * (double) nterms + 4.0) * FLT_EPSILON;
	rr.nranges = bm25_nranges(info->ndocs);
	ngroups = (rr.nranges + GROUP - 1) / GROUP;
	rr.terms = core_calloc(nterms, sizeof(RangeTerm));
	if (!rr.terms ||
		!core_grow((void **) &work.bound, &work.bound_cap, ngroups * GROUP + 1, sizeof(float)) ||
		!core_grow((void **) &work.group, &work.group_cap, ngroups + 1, sizeof(float)) ||
		!core_grow((void **) &work.tree, &work.tree_cap, 4 * ngroups, sizeof(uint32_t)))
		st = core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	if (st == CORE_OK)
	{
		rr.bound = work.bound;
		rr.group = work.group;
		rr.tree = work.tree;
	}

	/* the frequent terms' bounds first: they set every range's */
	for (size_t i = 0; st == CORE_OK && i < nterms; i++)
	{
		rr.terms[i].idf = terms[i].idf;
		rr.terms[i].chunk = -1;
		st = bm25_term_ranges(terms[i].cursor, &rr.terms[i].tr, &rr.terms[i].dense, err);
	}
	if (st == CORE_OK)
		st = SumStoredBounds(&rr, tfscale, err);
	for (size_t i = 0; st == CORE_OK && i < nterms; i++)
		if (!rr.terms[i].dense && (st = bm25_cursor_ensure(terms[i].cursor, err)) == CORE_OK)
			st = AddPostingBounds(&rr, &rr.terms[i], terms[i].cursor, &used, err);
	for (size_t i = 0; st == CORE_OK && i < nterms; i++)
	{
		rr.terms[i].ords = work.ords + rr.terms[i].first;
		rr.terms[i].parts = work.parts + rr.terms[i].first;
	}
	if (st == CORE_OK)
		st = BestFirst(&rr, &done, err);
	if (st == CORE_OK && !done)
		st = Sweep(&rr, cancel, cancel_arg, err);
	for (size_t i = 0; st == CORE_OK && i < rr.top.n; i++)
	{
		uint64_t	docid;

		if (!bm25_segr_doc_id(r, rr.top.hits[i].docid, &docid))
			st = core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read doc table entry %llu",
							(unsigned long long) rr.top.hits[i].docid);
		else
			bm25_topk_push(t, docid, rr.top.hits[i].score);
	}

	bm25_topk_free(&rr.top);
	for (size_t i = 0; rr.terms && i < nterms; i++)
		core_free(rr.terms[i].scratch);
	core_free(rr.terms);
	TrimWork();
	return st;
}

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
 * one test and the best range is found through a heap of groups.
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
#include "kernels/bm25_deletes.h"
#include "kernels/bm25_ranges.h"
#include "kernels/distance.h"

#define GROUP BM25_RANGE_GROUP
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
	int64_t		chunk;
	const uint8_t *chunkp;		/* masks, then tfs */
	uint32_t	chunk_npost;
	uint32_t	seen_range;		/* in the chunk: seen_at postings come */
	uint32_t	seen_at;		/* before range seen_range */
	uint8_t    *scratch;		/* a chunk the view does not hold in one piece */
	size_t		scratch_cap;
	/* any other term: all of its postings, ordinals and exact parts */
	size_t		first;			/* in the workspace */
	const uint64_t *ords;
	const double *parts;
	size_t		n;
} RangeTerm;

typedef struct RangeRank
{
	Bm25TopK   *t;
	const Bm25Params *p;
	const Bm25SegReader *r;
	const Bm25Deletes *deletes;
	RangeTerm  *terms;
	size_t		nterms;
	uint64_t	nranges;
	double		slack;			/* on a summed bound, against its rounding */
	float	   *bound;			/* per range; 0 once scored */
	float	   *group;			/* best bound left in each group */
	uint32_t   *heap;			/* groups, best first */
	size_t		nheap;
} RangeRank;

static inline bool
Beaten(const RangeRank *rr, double bound, double theta)
{
	return bound * rr->slack < theta;
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
	uint32_t   *heap;
	size_t		heap_cap;
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
		work.heap_cap * sizeof(uint32_t) + work.ords_cap * sizeof(uint64_t) +
		work.parts_cap * sizeof(double);

	if (bytes <= WORK_KEEP)
		return;
	core_free(work.bound);
	core_free(work.group);
	core_free(work.heap);
	core_free(work.ords);
	core_free(work.parts);
	memset(&work, 0, sizeof(work));
}

/* 0: not yet asked; 1: scalar; 2: AVX2 */
static int	use_avx2 = 0;

static inline bool
UseAvx2(void)
{
#if defined(__x86_64__) || defined(__i386__)
	if (use_avx2 == 0)
		use_avx2 = distance_isa_supported(KERNEL_ISA_AVX2) ? 2 : 1;
	return use_avx2 == 2;
#else
	return false;
#endif
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

	for (; from + 4 <= to; from += 4)
		n += Pop64(bm25_get_u64(masks + 2 * from));
	for (; from < to; from++)
		n += Pop64(bm25_get_u16(masks + 2 * from));
	return n;
}

/* Add a frequent term's stored bounds to every range, page by page. */
static CoreStatus
AddStoredBounds(RangeRank *rr, RangeTerm *rt, double tfscale, CoreError *err)
{
	float		w = bm25_float_up(rt->idf * (double) rt->tr.scale * tfscale / 255.0);
	uint8_t		scratch[PIECE];
	size_t		len;

	for (uint64_t at = 0; at < rr->nranges; at += len)
	{
		const uint8_t *q;
		float	   *u = rr->bound + at;

		len = (size_t) (rr->nranges - at);
		if ((q = bm25_segr_span(rr->r, rt->tr.best_off + at, &len, scratch, PIECE)) == NULL)
			return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read range bounds at %llu",
							  (unsigned long long) rt->tr.best_off);
#if defined(__x86_64__) || defined(__i386__)
		if (UseAvx2())
		{
			bm25_add_scaled_avx2(u, q, len, w);
			continue;
		}
#endif
		for (size_t k = 0; k < len; k++)
			u[k] += w * (float) q[k];
	}
	return CORE_OK;
}

/*
 * Read a rare term's postings into the workspace from *used on (its
 * arrays are pointed to once all terms are in: they may move while later
 * terms grow them) and add each range's best part.
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
	for (; c->doc != BM25_DOC_END && rt->n < c->ti.df; bm25_cursor_next(c))
	{
		uint64_t	range = c->doc / BM25_RANGE_DOCS;
		double		part = rt->idf * bm25_tf_part(rr->p, bm25_cursor_tf(c), bm25_cursor_dl(c));

		if (range != last)
		{
			if (last != UINT64_MAX)
				rr->bound[last] += bm25_float_up(best);
			last = range;
			best = 0.0;
		}
		if (part > best)
			best = part;
		work.ords[*used + rt->n] = c->doc;
		work.parts[*used + rt->n] = part;
		rt->n++;
	}
	*used += rt->n;
	if (last != UINT64_MAX)
		rr->bound[last] += bm25_float_up(best);
	if (bm25_cursor_status(c) != CORE_OK)
		return core_error(err, bm25_cursor_status(c), "%s", c->err.msg);
	return CORE_OK;
}

/* Make the chunk of range r the term's chunk at hand. */
static CoreStatus
LoadChunk(RangeRank *rr, RangeTerm *rt, uint64_t chunk, CoreError *err)
{
	uint8_t		offs[8];
	const uint8_t *o = bm25_segr_bytes(rr->r, rt->tr.chunk_off_off + 4 * chunk, 8, offs);
	uint32_t	from,
				to;

	if (o == NULL)
		goto corrupt;
	from = bm25_get_u32(o);
	to = bm25_get_u32(o + 4);
	if (to < from || to - from < 2 * BM25_RANGE_CHUNK ||
		(to - from - 2 * BM25_RANGE_CHUNK) % rt->tr.tf_width != 0 ||
		rt->tr.chunks_off + to > rt->tr.end)
		goto corrupt;
	if (!core_grow((void **) &rt->scratch, &rt->scratch_cap, to - from, 1))
		return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	rt->chunkp = bm25_segr_bytes(rr->r, rt->tr.chunks_off + from, to - from, rt->scratch);
	if (rt->chunkp == NULL)
		goto corrupt;
	rt->chunk = (int64_t) chunk;
	rt->chunk_npost = (to - from - 2 * BM25_RANGE_CHUNK) / rt->tr.tf_width;
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

/* Score the documents of range r exactly and offer them to the top k. */
static CoreStatus
ScoreRange(RangeRank *rr, uint64_t r, CoreError *err)
{
	uint64_t	first = r * BM25_RANGE_DOCS;
	const Bm25SegInfo *info = bm25_segr_info(rr->r);
	uint32_t	ndocs = info->ndocs - first < BM25_RANGE_DOCS ?
		(uint32_t) (info->ndocs - first) : BM25_RANGE_DOCS;
	uint8_t		scratch[2 * BM25_RANGE_DOCS];
	const uint8_t *lens = NULL;
	double		score[BM25_RANGE_DOCS] = {0};
	uint32_t	present = 0;
	CoreStatus	st;

	for (size_t i = 0; i < rr->nterms; i++)
	{
		RangeTerm  *rt = &rr->terms[i];

		if (rt->dense)
		{
			uint64_t	chunk = r / BM25_RANGE_CHUNK;
			uint32_t	j = (uint32_t) (r % BM25_RANGE_CHUNK);
			uint32_t	mask,
						at = 0;
			const uint8_t *tfs;

			if (rt->chunk != (int64_t) chunk && (st = LoadChunk(rr, rt, chunk, err)) != CORE_OK)
				return st;
			mask = bm25_get_u16(rt->chunkp + 2 * j);
			if (mask == 0)
				continue;
			/* the sweep goes forward: count on from the last range seen */
			if (j >= rt->seen_range)
				at = rt->seen_at;
			else
				rt->seen_range = 0;
			at += CountPostings(rt->chunkp, rt->seen_range, j);
			rt->seen_range = j;
			rt->seen_at = at;
			if (at + Pop64(mask) > rt->chunk_npost ||
				(mask >> ndocs) != 0)
				return core_error(err, CORE_ERR_CORRUPT,
								  "bm25 segment: range %llu of the term at %llu lists more postings than it holds",
								  (unsigned long long) r, (unsigned long long) rt->tr.best_off);
			if (lens == NULL &&
				(lens = bm25_segr_bytes(rr->r, bm25_range_lengths_off(info) + 2 * first, 2 * ndocs,
										scratch)) == NULL)
				return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read the lengths of range %llu",
								  (unsigned long long) r);
			tfs = rt->chunkp + 2 * BM25_RANGE_CHUNK;
			present |= mask;
			while (mask)
			{
				int			b = __builtin_ctz(mask);
				uint32_t	dl = bm25_get_u16(lens + 2 * b);

				mask &= mask - 1;
				/* longer than two bytes hold: see the doc table */
				if (dl == 0xFFFF && !bm25_segr_doc_length(rr->r, first + b, &dl))
					return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read doc table entry %llu",
									  (unsigned long long) (first + b));
				score[b] += rt->idf * bm25_tf_part(rr->p, GetTf(tfs, rt->tr.tf_width, at++), dl);
			}
		}
		else
		{
			size_t		lo = bm25_lower_bound(rt->ords, 0, rt->n, first);

			for (; lo < rt->n && rt->ords[lo] < first + BM25_RANGE_DOCS; lo++)
			{
				uint32_t	b = (uint32_t) (rt->ords[lo] - first);

				score[b] += rt->parts[lo];
				present |= 1u << b;
			}
		}
	}
	while (present)
	{
		int			b = __builtin_ctz(present);

		present &= present - 1;
		if (rr->deletes && bm25_deletes_has(rr->deletes, first + b))
			continue;
		if ((st = bm25_topk_push_ordinal(rr->t, rr->r, first + b, score[b], err)) != CORE_OK)
			return st;
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

static void
SiftDown(RangeRank *rr, size_t i)
{
	for (;;)
	{
		size_t		l = 2 * i + 1,
					best = i;
		uint32_t	tmp;

		if (l < rr->nheap && rr->group[rr->heap[l]] > rr->group[rr->heap[best]])
			best = l;
		if (l + 1 < rr->nheap && rr->group[rr->heap[l + 1]] > rr->group[rr->heap[best]])
			best = l + 1;
		if (best == i)
			return;
		tmp = rr->heap[i];
		rr->heap[i] = rr->heap[best];
		rr->heap[best] = tmp;
		i = best;
	}
}

/*
 * Score up to BEST_FIRST ranges, best bound first, stopping once the best
 * left cannot reach the threshold; a scored range's bound becomes 0.
 * Returns through *done whether nothing is left to score.
 */
static CoreStatus
BestFirst(RangeRank *rr, bool *done, CoreError *err)
{
	uint32_t	ngroups = (uint32_t) ((rr->nranges + GROUP - 1) / GROUP);

	rr->nheap = 0;
	for (uint32_t g = 0; g < ngroups; g++)
	{
		rr->group[g] = GroupBest(rr, g);
		if (rr->group[g] > 0.0f)
			rr->heap[rr->nheap++] = g;
	}
	for (size_t i = rr->nheap / 2; i-- > 0;)
		SiftDown(rr, i);
	*done = false;
	for (int taken = 0; taken < BEST_FIRST; taken++)
	{
		uint32_t	g;
		float	   *u;
		int			best;
		uint64_t	mask;
		CoreStatus	st;

		if (rr->nheap == 0 || Beaten(rr, rr->group[rr->heap[0]], bm25_topk_threshold(rr->t)))
		{
			*done = true;
			return CORE_OK;
		}
		g = rr->heap[0];
		u = rr->bound + (size_t) g * GROUP;
		/* the group's best bound is known: where it is comes from a mask */
		mask = GroupReaching(rr, g, rr->group[g]);
		if (mask == 0)
			return core_error(err, CORE_ERR_INVALID, "bm25: range group %u lost its best bound", g);
		best = __builtin_ctzll(mask);
		if ((st = ScoreRange(rr, (uint64_t) g * GROUP + best, err)) != CORE_OK)
			return st;
		u[best] = 0.0f;
		rr->group[g] = GroupBest(rr, g);
		if (rr->group[g] <= 0.0f)
			rr->heap[0] = rr->heap[--rr->nheap];
		SiftDown(rr, 0);
	}
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
		double		theta = bm25_topk_threshold(rr->t);
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
			theta = bm25_topk_threshold(rr->t);
		}
	}
	return CORE_OK;
}

bool
bm25_rank_ranges_usable(const Bm25Params *p, Bm25RankTerm *terms, size_t nterms)
{
	const Bm25SegInfo *info;

	if (nterms == 0)
		return false;
	info = bm25_segr_info(terms[0].cursor->r);
	if (info->range_min_df == 0 || isinf(bm25_tf_scale(p, info)))
		return false;
	for (size_t i = 0; i < nterms; i++)
		if (terms[i].cursor->ti.df >= info->range_min_df)
			return true;
	return false;
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

	rr.t = t;
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
		!core_grow((void **) &work.heap, &work.heap_cap, ngroups + 1, sizeof(uint32_t)))
		st = core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	if (st == CORE_OK)
	{
		rr.bound = work.bound;
		rr.group = work.group;
		rr.heap = work.heap;
		memset(rr.bound, 0, ngroups * GROUP * sizeof(float));
	}

	for (size_t i = 0; st == CORE_OK && i < nterms; i++)
	{
		RangeTerm  *rt = &rr.terms[i];

		rt->idf = terms[i].idf;
		rt->chunk = -1;
		if ((st = bm25_term_ranges(terms[i].cursor, &rt->tr, &rt->dense, err)) != CORE_OK)
			break;
		if (rt->dense)
			st = AddStoredBounds(&rr, rt, tfscale, err);
		else if ((st = bm25_cursor_ensure(terms[i].cursor, err)) == CORE_OK)
			st = AddPostingBounds(&rr, rt, terms[i].cursor, &used, err);
	}
	for (size_t i = 0; st == CORE_OK && i < nterms; i++)
	{
		rr.terms[i].ords = work.ords + rr.terms[i].first;
		rr.terms[i].parts = work.parts + rr.terms[i].first;
	}
	if (st == CORE_OK)
		st = BestFirst(&rr, &done, err);
	if (st == CORE_OK && !done)
		st = Sweep(&rr, cancel, cancel_arg, err);

	for (size_t i = 0; rr.terms && i < nterms; i++)
		core_free(rr.terms[i].scratch);
	core_free(rr.terms);
	TrimWork();
	return st;
}

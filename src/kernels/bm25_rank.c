/*-------------------------------------------------------------------------
 *
 * bm25_rank.c
 *	  BM25 scoring and exact top-k retrieval (see bm25_rank.h).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_rank.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

/*
 * Bounds are summed in a different order than scores, so a bound equal to
 * a score can come out a few ulps below it.  Slack on each term's bound is
 * not enough: when the other terms' parts are tiny beside the largest
 * (near-universal terms with a rare one) the rounding of the sum exceeds
 * theirs.  So every total bound is given the slack where it is compared
 * with the threshold (CannotReach); the per-term slack covers the block
 * bounds' own rounding (a recorded part times a scale).
 */
#define BOUND_SLACK (1.0 + 1e-9)

/* Can no document whose score is at most bound reach theta? */
static inline bool
CannotReach(double bound, double theta)
{
	return bound * BOUND_SLACK < theta;
}

/* Is a worse than b? */
static inline bool
Worse(const Bm25Hit *a, const Bm25Hit *b)
{
	return a->score < b->score || (a->score == b->score && a->docid > b->docid);
}

bool
bm25_topk_init(Bm25TopK *t, size_t k)
{
	t->k = k;
	t->n = 0;
	t->hits = core_mallocarray(k ? k : 1, sizeof(Bm25Hit));
	return t->hits != NULL;
}

void
bm25_topk_free(Bm25TopK *t)
{
	core_free(t->hits);
	t->hits = NULL;
	t->n = 0;
}

static void
SiftDown(Bm25Hit *h, size_t n, size_t i)
{
	for (;;)
	{
		size_t		l = 2 * i + 1,
					r = l + 1,
					w = i;
		Bm25Hit		tmp;

		if (l < n && Worse(&h[l], &h[w]))
			w = l;
		if (r < n && Worse(&h[r], &h[w]))
			w = r;
		if (w == i)
			return;
		tmp = h[i];
		h[i] = h[w];
		h[w] = tmp;
		i = w;
	}
}

void
bm25_topk_push(Bm25TopK *t, uint64_t docid, double score)
{
	Bm25Hit		hit = {docid, score};

	if (t->k == 0)
		return;
	if (t->n < t->k)
	{
		size_t		i = t->n++;

		t->hits[i] = hit;
		while (i > 0)
		{
			size_t		parent = (i - 1) / 2;
			Bm25Hit		tmp;

			if (!Worse(&t->hits[i], &t->hits[parent]))
				break;
			tmp = t->hits[i];
			t->hits[i] = t->hits[parent];
			t->hits[parent] = tmp;
			i = parent;
		}
		return;
	}
	if (!Worse(&t->hits[0], &hit))
		return;
	t->hits[0] = hit;
	SiftDown(t->hits, t->n, 0);
}

CoreStatus
bm25_topk_push_ordinal(Bm25TopK *t, const Bm25SegReader *r, uint64_t ord, double score,
					   CoreError *err)
{
	uint64_t	docid;

	if (t->k == 0 || (t->n == t->k && score < t->hits[0].score))
		return CORE_OK;
	if (!bm25_segr_doc_id(r, ord, &docid))
		return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read doc table entry %llu",
						  (unsigned long long) ord);
	bm25_topk_push(t, docid, score);
	return CORE_OK;
}

static int
CompareBest(const void *a, const void *b)
{
	const Bm25Hit *x = a;
	const Bm25Hit *y = b;

	if (Worse(y, x))
		return -1;
	if (Worse(x, y))
		return 1;
	return 0;
}

void
bm25_topk_sort(Bm25TopK *t)
{
	qsort(t->hits, t->n, sizeof(Bm25Hit), CompareBest);
}

typedef struct TermState
{
	Bm25Cursor *c;
	double		idf;
	double		ub;				/* largest contribution anywhere in the list */
	double		tfscale;		/* factor on the blocks' largest tf parts */
	uint32_t	hint;			/* block search start while skipping */
	size_t		orig;			/* index in the caller's terms */
	int32_t		bound_block;	/* the block whose bound is in bound */
	double		bound;
	uint32_t	shallow;		/* non-essential: the block of the doc at hand */
	int32_t		shallow_block;	/* the block whose bound is in shallow_bound */
	double		shallow_bound;
} TermState;

/*
 * Scores sum the terms' parts in the caller's term order, whatever order
 * pruning visits them in, so that equal documents get bit-equal scores and
 * ties fall to the doc id.
 */
static double
SumParts(const double *part, size_t nterms)
{
	double		score = 0.0;

	for (size_t i = 0; i < nterms; i++)
		score += part[i];
	return score;
}

static int
CompareUb(const void *a, const void *b)
{
	double		x = ((const TermState *) a)->ub;
	double		y = ((const TermState *) b)->ub;

	return x < y ? -1 : (x > y ? 1 : 0);
}

static inline double
Contribution(const Bm25Params *p, TermState *s)
{
	return s->idf * bm25_tf_part(p, bm25_cursor_tf(s->c), bm25_cursor_dl(s->c));
}

/*
 * Bound of block b of a term: the best tf part over its impacts, or the
 * block's recorded largest tf part scaled to this query's statistics
 * (bm25_segment.h) when that is lower.
 */
static inline double
BlockBound(const Bm25Params *p, const TermState *s, uint32_t b)
{
	uint32_t	tf[BM25_IMPACTS];
	uint32_t	dl[BM25_IMPACTS];
	int			n = bm25_cursor_impacts(s->c, b, tf, dl);
	double		best = 0.0;
	double		recorded = bm25_cursor_block_tfmax(s->c, b) * s->tfscale;

	for (int i = 0; i < n; i++)
	{
		/* tf "infinite": the tf part tends to k1 + 1 */
		double		g = tf[i] == BM25_IMPACT_TF_INF ? p->k1 + 1.0 : bm25_tf_part(p, tf[i], dl[i]);

		if (g > best)
			best = g;
	}
	if (recorded < best)
		best = recorded;
	return s->idf * best * BOUND_SLACK;
}

/* Bound of the block the term's cursor stands in, cached per block. */
static inline double
CurrentBound(const Bm25Params *p, TermState *s)
{
	if (s->bound_block != s->c->block)
	{
		s->bound = BlockBound(p, s, (uint32_t) s->c->block);
		s->bound_block = s->c->block;
	}
	return s->bound;
}

/*
 * Bound of a non-essential term for document d: that of the block that
 * would hold d, found from the skip entries without moving the cursor
 * (0 past the last block); lowers *upto to that block's last doc, up to
 * which the bound holds.
 */
static inline double
ShallowBound(const Bm25Params *p, TermState *s, uint64_t d, uint64_t *upto)
{
	const Bm25Cursor *c = s->c;

	if (c->block > 0 && s->shallow < (uint32_t) c->block)
		s->shallow = (uint32_t) c->block;
	while (s->shallow < c->ti.nblocks && bm25_cursor_block_last(c, s->shallow) < d)
		s->shallow++;
	if (s->shallow >= c->ti.nblocks)
		return 0.0;
	if (bm25_cursor_block_last(c, s->shallow) < *upto)
		*upto = bm25_cursor_block_last(c, s->shallow);
	if (s->shallow_block != (int32_t) s->shallow)
	{
		s->shallow_bound = BlockBound(p, s, s->shallow);
		if (s->shallow_bound > s->ub)
			s->shallow_bound = s->ub;
		s->shallow_block = (int32_t) s->shallow;
	}
	return s->shallow_bound;
}

/*
 * Bound of a non-essential term at document d of length dl: every posting
 * of a block is dominated by one of its impacts (higher or equal tf, lower
 * or equal length), so d's posting, if the block has one, has a tf no
 * larger than the largest of the impacts no longer than dl (none: d is not
 * in the block).  Far below the block's bound when d is longer than the
 * block's best documents, as most candidates are.
 */
static inline double
DocBound(const Bm25Params *p, TermState *s, uint64_t d, uint32_t dl)
{
	uint64_t	upto = BM25_DOC_END;
	double		block = ShallowBound(p, s, d, &upto);
	uint32_t	tf[BM25_IMPACTS];
	uint32_t	len[BM25_IMPACTS];
	uint32_t	best = 0;
	int			n;
	double		g;

	if (block == 0.0)
		return 0.0;
	n = bm25_cursor_impacts(s->c, s->shallow, tf, len);
	if (n == 0)
		return block;
	for (int i = 0; i < n; i++)
		if (len[i] <= dl && tf[i] > best)
			best = tf[i];
	if (best == 0)
		return 0.0;
	g = best == BM25_IMPACT_TF_INF ? p->k1 + 1.0 : bm25_tf_part(p, best, dl);
	g = s->idf * g * BOUND_SLACK;
	return g < block ? g : block;
}

/*
 * Can document d, of length dl, which the only essential term gives score,
 * not reach theta with the non-essential terms' bounds for a document of
 * its length?
 */
static inline bool
DocFallsShort(const Bm25Params *p, TermState *s, size_t e, uint64_t d, uint32_t dl,
			  double score, double theta)
{
	for (size_t i = e; i-- > 0 && CannotReach(score, theta);)
		score += DocBound(p, &s[i], d, dl);
	return CannotReach(score, theta);
}

/*
 * Can the posting that the only essential term at hand, one, stands on not
 * reach theta?  First against the non-essential terms' block bounds there
 * (local), then, when those let it, against their bounds for a document
 * of its length, which turn most such postings away.
 */
static inline bool
FallsShort(const Bm25Params *p, TermState *s, size_t e, TermState *one, double local,
		   double theta)
{
	double		score = Contribution(p, one);

	if (CannotReach(score + local, theta))
		return true;
	return DocFallsShort(p, s, e, one->c->doc, bm25_cursor_dl(one->c), score, theta);
}

/*
 * The posting of one, the only essential term at hand, falls short: move
 * its cursor to the first later posting of its block before limit that
 * may not, or past them.  The postings in between are tested in the
 * decoded block's columns as FallsShort would test them, without moving
 * the cursor through each: a frequent term's walk between rarer terms'
 * documents is most of a slow query, and at most a few of its postings
 * pass.  local must hold for every document before limit.  Returns the doc
 * id of the posting the cursor stopped on when that posting passed the
 * test, so that the caller does not test it again; BM25_DOC_END when it
 * was not tested (none passed, or the one that passed is recorded dead and
 * the cursor went on to the next live posting).
 */
static uint64_t
PassOver(const Bm25Params *p, TermState *s, size_t e, TermState *one, double local,
		 double theta, uint64_t limit)
{
	Bm25Cursor *c = one->c;
	uint32_t	i;
	uint64_t	passed = BM25_DOC_END;

	if (!c->tfdl_ready)
		bm25_cursor_decode_tfdl(c);
	for (i = c->idx + 1; i < c->n && c->docids[i] < limit; i++)
	{
		double		score = one->idf * bm25_tf_part(p, c->tfs[i], c->dls[i]);

		if (!CannotReach(score + local, theta) &&
			!DocFallsShort(p, s, e, c->docids[i], c->dls[i], score, theta))
		{
			passed = c->docids[i];
			break;
		}
	}
	bm25_cursor_next_from(c, i);
	/* a recorded-dead posting that passed is skipped: the one after is not tested */
	return c->doc == passed ? passed : BM25_DOC_END;
}

/*
 * The bound of every document in [d, *upto] (*upto on entry: the first end
 * of an essential term's block at or after d, which the function may lower):
 * each non-essential term contributes the bound of its block that would
 * hold d and lowers *upto to that block's end, each essential term the
 * bound of its block that overlaps the range, nothing when its next
 * posting lies beyond.  hint[i] is essential term i's first block ending
 * at or after d.  With the non-essential terms' global bounds instead, a
 * range of one essential block would pass whenever a single document of
 * it could, and then every document in it would be looked at alone.
 */
static double
RangeBound(const Bm25Params *p, TermState *s, size_t e, size_t nterms, uint64_t d,
		   uint64_t *upto)
{
	double		bound = 0.0;

	for (size_t i = 0; i < e; i++)
		bound += ShallowBound(p, &s[i], d, upto);
	for (size_t i = e; i < nterms; i++)
	{
		Bm25Cursor *c = s[i].c;
		uint32_t	b = s[i].hint;

		if (c->doc == BM25_DOC_END || b >= c->ti.nblocks)
			continue;
		/* the cursor's block from its posting on; a later one after its
		 * predecessor's last doc */
		if ((int32_t) b == c->block)
		{
			if (c->doc <= *upto)
				bound += CurrentBound(p, &s[i]);
		}
		else if (bm25_cursor_block_last(c, b - 1) < *upto)
			bound += BlockBound(p, &s[i], b);
	}
	return bound;
}

/*
 * The range test failed up to target - 1: walk on over ranges of whole
 * blocks, reading only skip entries, while their bounds (RangeBound) stay
 * under theta.  Returns the first doc id that may reach theta
 * (BM25_DOC_END when none can).
 */
static uint64_t
SkipBlocks(const Bm25Params *p, TermState *s, size_t e, size_t nterms, double theta,
		   uint64_t target)
{
	while (target != BM25_DOC_END)
	{
		uint64_t	upto = BM25_DOC_END;

		for (size_t i = e; i < nterms; i++)
		{
			Bm25Cursor *c = s[i].c;

			if (c->doc == BM25_DOC_END)
				continue;
			while (s[i].hint < c->ti.nblocks && bm25_cursor_block_last(c, s[i].hint) < target)
				s[i].hint++;
			if (s[i].hint < c->ti.nblocks && bm25_cursor_block_last(c, s[i].hint) < upto)
				upto = bm25_cursor_block_last(c, s[i].hint);
		}
		if (upto == BM25_DOC_END)
			return BM25_DOC_END;
		if (!CannotReach(RangeBound(p, s, e, nterms, target, &upto), theta))
			return target;
		target = upto + 1;
	}
	return target;
}

/* The largest df of a term whose documents seed the threshold. */
#define SEED_MAX_DF (8 * BM25_BLOCK_SIZE)

static int
CompareDesc(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return x > y ? -1 : (x < y ? 1 : 0);
}

/*
 * Before the first k hits are in, theta is -inf and then the score of
 * whatever documents come first; with a rare term among frequent ones
 * ("of the epicureans") that low theta keeps the frequent terms essential
 * through much of the segment.  So the documents of the term with the
 * largest bound, when it is rare, are taken first and the main pass then
 * skips them (seeds, sorted, set in *seeds).  A document's score is at
 * least the lead term's part, so the k-th largest part is a floor under
 * the final k-th score; a lead document whose part plus the bounds of the
 * other terms' blocks where it would be (from skip entries) falls below
 * that floor, or below theta, can never enter the top k and is passed over
 * without looking up the other terms, which would read one of their blocks
 * per document.  The others are scored exactly, through cursors of their
 * own, and pushed.
 */
static CoreStatus
Seed(Bm25TopK *t, const Bm25Params *p, TermState *s, size_t nterms, uint64_t **seeds,
	 size_t *nseeds, CoreError *err)
{
	Bm25Cursor *cs = core_calloc(nterms, sizeof(Bm25Cursor));
	double	   *part = core_mallocarray(nterms, sizeof(double));
	const TermState *lead = &s[nterms - 1];
	size_t		cap = lead->c->ti.df ? lead->c->ti.df : 1;
	double	   *lead_part = core_mallocarray(cap, sizeof(double));
	double	   *sorted = core_mallocarray(cap, sizeof(double));
	double		floor = -INFINITY;
	CoreStatus	st = CORE_OK;
	size_t		opened = 0,
				n = 0;

	*seeds = core_mallocarray(cap, sizeof(uint64_t));
	*nseeds = 0;
	if (cs == NULL || part == NULL || lead_part == NULL || sorted == NULL || *seeds == NULL)
		st = core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	for (; st == CORE_OK && opened < nterms; opened++)
		st = bm25_cursor_open(&cs[opened], s[opened].c->r, &s[opened].c->ti, err);

	/* the lead term's documents and parts, from its own cursor */
	while (st == CORE_OK && n < cap && cs[nterms - 1].doc != BM25_DOC_END)
	{
		Bm25Cursor *c = &cs[nterms - 1];

		(*seeds)[n] = c->doc;
		lead_part[n] = lead->idf * bm25_tf_part(p, bm25_cursor_tf(c), bm25_cursor_dl(c));
		sorted[n] = lead_part[n];
		n++;
		bm25_cursor_next(c);
	}
	if (n >= t->k && t->k > 0)
	{
		qsort(sorted, n, sizeof(double), CompareDesc);
		floor = sorted[t->k - 1];
	}
	for (size_t j = 0; st == CORE_OK && j < n; j++)
	{
		uint64_t	d = (*seeds)[j];
		double		theta = bm25_topk_threshold(t);
		double		bound = lead_part[j];
		uint64_t	upto = BM25_DOC_END;

		for (size_t i = 0; i + 1 < nterms; i++)
			bound += ShallowBound(p, &s[i], d, &upto);
		if (CannotReach(bound, theta > floor ? theta : floor))
			continue;
		for (size_t i = 0; i + 1 < nterms; i++)
		{
			bm25_cursor_seek(&cs[i], d);
			part[s[i].orig] = cs[i].doc == d ?
				s[i].idf * bm25_tf_part(p, bm25_cursor_tf(&cs[i]), bm25_cursor_dl(&cs[i])) : 0.0;
		}
		part[lead->orig] = lead_part[j];
		st = bm25_topk_push_ordinal(t, lead->c->r, d, SumParts(part, nterms), err);
	}
	*nseeds = n;
	/* the main pass starts its block bounds over from the first block */
	for (size_t i = 0; i + 1 < nterms; i++)
	{
		s[i].shallow = 0;
		s[i].shallow_block = -1;
	}
	for (size_t i = 0; i < opened; i++)
	{
		if (st == CORE_OK && bm25_cursor_status(&cs[i]) != CORE_OK)
			st = core_error(err, bm25_cursor_status(&cs[i]), "%s", cs[i].err.msg);
		bm25_cursor_close(&cs[i]);
	}
	core_free(cs);
	core_free(part);
	core_free(lead_part);
	core_free(sorted);
	return st;
}

CoreStatus
bm25_rank_segment(Bm25TopK *t, const Bm25Params *p, Bm25RankTerm *terms, size_t nterms,
				  int (*cancel) (void *), void *cancel_arg, CoreError *err)
{
	if (bm25_rank_ranges_usable(p, terms, nterms))
		return bm25_rank_ranges(t, p, terms, nterms, cancel, cancel_arg, err);
	return bm25_rank_maxscore(t, p, terms, nterms, cancel, cancel_arg, err);
}

/* Open the cursors that are only named (bm25_cursor_init). */
static CoreStatus
EnsureCursors(Bm25RankTerm *terms, size_t nterms, CoreError *err)
{
	CoreStatus	st = CORE_OK;

	for (size_t i = 0; i < nterms && st == CORE_OK; i++)
		st = bm25_cursor_ensure(terms[i].cursor, err);
	return st;
}

CoreStatus
bm25_rank_maxscore(Bm25TopK *t, const Bm25Params *p, Bm25RankTerm *terms, size_t nterms,
				   int (*cancel) (void *), void *cancel_arg, CoreError *err)
{
	TermState  *s;
	double	   *prefix;
	double	   *part;
	double	   *docbound;
	uint64_t   *seeds = NULL;
	size_t		nseeds = 0,
				seed_at = 0;
	size_t		e = 0;
	uint32_t	tick = 0;
	uint64_t	checked_upto = 0;	/* block bounds passed for docs up to here */
	uint64_t	passed = BM25_DOC_END;	/* PassOver found it can reach theta */
	double		checked_theta = -INFINITY;
	CoreStatus	st = CORE_OK;

	if (nterms == 0)
		return CORE_OK;
	if ((st = EnsureCursors(terms, nterms, err)) != CORE_OK)
		return st;
	s = core_mallocarray(nterms, sizeof(TermState));
	prefix = core_mallocarray(nterms, sizeof(double));
	part = core_calloc(nterms, sizeof(double));
	docbound = core_mallocarray(nterms, sizeof(double));
	if (s == NULL || prefix == NULL || part == NULL || docbound == NULL)
	{
		core_free(docbound);
		core_free(s);
		core_free(prefix);
		core_free(part);
		return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	}
	for (size_t i = 0; i < nterms; i++)
	{
		s[i].orig = i;
		s[i].bound_block = -1;
		s[i].shallow = 0;
		s[i].shallow_block = -1;
		s[i].c = terms[i].cursor;
		s[i].idf = terms[i].idf;
		s[i].ub = terms[i].idf *
			bm25_tf_part(p, s[i].c->ti.max_tf, s[i].c->ti.min_dl) * BOUND_SLACK;
		s[i].tfscale = bm25_tf_scale(p, bm25_segr_info(s[i].c->r));
		if (s[i].tfscale < INFINITY && s[i].c->ti.nblocks > 1)
		{
			double		best = 0.0;

			for (uint32_t b = 0; b < s[i].c->ti.nblocks; b++)
				if (bm25_cursor_block_tfmax(s[i].c, b) > best)
					best = bm25_cursor_block_tfmax(s[i].c, b);
			best = terms[i].idf * best * s[i].tfscale * BOUND_SLACK;
			if (best < s[i].ub)
				s[i].ub = best;
		}
	}
	qsort(s, nterms, sizeof(TermState), CompareUb);
	for (size_t i = 0; i < nterms; i++)
		prefix[i] = s[i].ub + (i > 0 ? prefix[i - 1] : 0.0);
	if (nterms > 1 && t->n < t->k && s[nterms - 1].c->ti.df <= SEED_MAX_DF)
		st = Seed(t, p, s, nterms, &seeds, &nseeds, err);

	while (st == CORE_OK)
	{
		double		theta = bm25_topk_threshold(t);
		uint64_t	d = BM25_DOC_END;
		double		score;
		uint32_t	dl = 0;
		double		local;		/* the non-essential terms' bound at d */
		uint64_t	local_upto; /* and the last doc it holds for */
		TermState  *one;		/* an essential term at d */
		uint64_t	others;		/* the next doc of the other essential terms */

		if (cancel && (++tick & 4095) == 0 && cancel(cancel_arg))
		{
			st = core_error(err, CORE_ERR_CANCELED, "bm25: canceled");
			break;
		}
		/* terms [0, e) cannot reach theta together: non-essential */
		if (e < nterms && CannotReach(prefix[e], theta))
		{
			while (e < nterms && CannotReach(prefix[e], theta))
				e++;
			checked_upto = 0;	/* the essential set changed */
		}
		if (e == nterms)
			break;

		for (size_t i = e; i < nterms; i++)
			if (s[i].c->doc < d)
				d = s[i].c->doc;
		if (d == BM25_DOC_END)
			break;

		/*
		 * Block-max skip: documents in [d, upto], upto the first end of an
		 * essential term's current block, get from each essential term at
		 * most its current block's bound, and nothing from a term whose
		 * next posting lies beyond upto.  The test is redone when d leaves
		 * the range it covered or theta has risen.
		 */
		if (d > checked_upto || theta > checked_theta)
		{
			uint64_t	upto = BM25_DOC_END;

			for (size_t i = e; i < nterms; i++)
			{
				Bm25Cursor *c = s[i].c;

				s[i].hint = c->block < 0 ? 0 : (uint32_t) c->block;
				if (c->doc != BM25_DOC_END &&
					bm25_cursor_block_last(c, s[i].hint) < upto)
					upto = bm25_cursor_block_last(c, s[i].hint);
			}
			if (CannotReach(RangeBound(p, s, e, nterms, d, &upto), theta))
			{
				uint64_t	target = upto == BM25_DOC_END ? upto :
					SkipBlocks(p, s, e, nterms, theta, upto + 1);

				for (size_t i = e; i < nterms; i++)
					bm25_cursor_seek(s[i].c, target);
				continue;
			}
			checked_upto = upto;
			checked_theta = theta;
		}

		while (seed_at < nseeds && seeds[seed_at] < d)
			seed_at++;
		if (seed_at < nseeds && seeds[seed_at] == d)
		{
			/* decided in Seed: scored there, or passed over on its bound */
			for (size_t i = e; i < nterms; i++)
				if (s[i].c->doc == d)
					bm25_cursor_next(s[i].c);
			continue;
		}

		/*
		 * The document's own bound: the blocks of the essential terms that
		 * have it, which is far below the range's when their best
		 * documents are others, and the non-essential terms' blocks where
		 * d would be (valid up to local_upto).
		 */
		local = 0.0;
		local_upto = BM25_DOC_END;
		for (size_t i = 0; i < e; i++)
			local += ShallowBound(p, &s[i], d, &local_upto);
		score = local;
		for (size_t i = e; i < nterms; i++)
			if (s[i].c->doc == d)
				score += CurrentBound(p, &s[i]);
		if (CannotReach(score, theta))
		{
			for (size_t i = e; i < nterms; i++)
				if (s[i].c->doc == d)
					bm25_cursor_next(s[i].c);
			continue;
		}

		/*
		 * Only one essential term has d (a frequent word between rarer
		 * ones' documents): pass over its postings in this block, up to the
		 * next document of another essential term, whose own part cannot
		 * reach theta even with the non-essential terms' bounds at d, in a
		 * tight loop.
		 */
		one = NULL;
		others = BM25_DOC_END;
		for (size_t i = e; i < nterms; i++)
		{
			if (s[i].c->doc != d)
			{
				if (s[i].c->doc < others)
					others = s[i].c->doc;
			}
			else if (one == NULL)
				one = &s[i];
			else
				others = d;		/* two have it */
		}
		if (others > d && d != passed && FallsShort(p, s, e, one, local, theta))
		{
			passed = PassOver(p, s, e, one, local, theta,
							  local_upto < others ? local_upto + 1 : others);
			continue;
		}

		score = 0.0;
		for (size_t i = e; i < nterms; i++)
		{
			part[s[i].orig] = 0.0;
			if (s[i].c->doc == d)
			{
				part[s[i].orig] = Contribution(p, &s[i]);
				score += part[s[i].orig];
				dl = bm25_cursor_dl(s[i].c);
				bm25_cursor_next(s[i].c);
			}
		}

		/*
		 * Non-essential terms, largest bound first, while they can matter:
		 * docbound[i] bounds what terms [0, i] add to a document of d's
		 * length.
		 */
		for (size_t i = 0; i < e; i++)
		{
			part[s[i].orig] = 0.0;
			docbound[i] = DocBound(p, &s[i], d, dl) + (i > 0 ? docbound[i - 1] : 0.0);
		}
		for (size_t i = e; i-- > 0;)
		{
			if (CannotReach(score + docbound[i], theta))
				break;
			bm25_cursor_seek(s[i].c, d);
			if (s[i].c->doc == d)
			{
				part[s[i].orig] = Contribution(p, &s[i]);
				score += part[s[i].orig];
			}
		}
		if (score >= theta * (1.0 - 1e-12))
			st = bm25_topk_push_ordinal(t, s[0].c->r, d, SumParts(part, nterms), err);
	}
	for (size_t i = 0; i < nterms && st == CORE_OK; i++)
		if (bm25_cursor_status(s[i].c) != CORE_OK)
			st = core_error(err, bm25_cursor_status(s[i].c), "%s", s[i].c->err.msg);
	core_free(s);
	core_free(prefix);
	core_free(part);
	core_free(docbound);
	core_free(seeds);
	return st;
}

CoreStatus
bm25_rank_docs(Bm25TopK *t, const Bm25Params *p, Bm25RankTerm *terms, size_t nterms,
			   const uint64_t *docs, size_t ndocs, CoreError *err)
{
	CoreStatus	opened = EnsureCursors(terms, nterms, err);

	if (opened != CORE_OK)
		return opened;
	for (size_t j = 0; j < ndocs; j++)
	{
		double		score = 0.0;
		CoreStatus	st;

		for (size_t i = 0; i < nterms; i++)
		{
			Bm25Cursor *c = terms[i].cursor;

			bm25_cursor_seek(c, docs[j]);
			if (c->doc == docs[j])
				score += terms[i].idf * bm25_tf_part(p, bm25_cursor_tf(c), bm25_cursor_dl(c));
		}
		if (nterms > 0 &&
			(st = bm25_topk_push_ordinal(t, terms[0].cursor->r, docs[j], score, err)) != CORE_OK)
			return st;
	}
	for (size_t i = 0; i < nterms; i++)
		if (bm25_cursor_status(terms[i].cursor) != CORE_OK)
			return core_error(err, bm25_cursor_status(terms[i].cursor), "%s",
							  terms[i].cursor->err.msg);
	return CORE_OK;
}

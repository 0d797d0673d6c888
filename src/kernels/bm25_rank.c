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
 * a score can come out a few ulps below it; this slack keeps every bound
 * an upper bound.
 */
#define BOUND_SLACK (1.0 + 1e-9)

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
} TermState;

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

/* Bound of the block the cursor stands in, and that block's last doc. */
static inline double
BlockBound(const Bm25Params *p, const TermState *s, uint64_t *last)
{
	const uint8_t *e = s->c->skip + (size_t) s->c->block * BM25_SKIP_ENTRY_SIZE;
	uint32_t	tf[BM25_IMPACTS];
	uint32_t	dl[BM25_IMPACTS];
	int			n = bm25_cursor_impacts(s->c, tf, dl);
	double		best = 0.0;

	*last = bm25_get_u64(e);
	for (int i = 0; i < n; i++)
	{
		/* tf "infinite": the tf part tends to k1 + 1 */
		double		g = tf[i] == BM25_IMPACT_TF_INF ? p->k1 + 1.0 : bm25_tf_part(p, tf[i], dl[i]);

		if (g > best)
			best = g;
	}
	return s->idf * best * BOUND_SLACK;
}

CoreStatus
bm25_rank_segment(Bm25TopK *t, const Bm25Params *p, Bm25RankTerm *terms, size_t nterms,
				  int (*cancel) (void *), void *cancel_arg, CoreError *err)
{
	TermState  *s;
	double	   *prefix;
	size_t		e = 0;
	uint32_t	tick = 0;
	uint64_t	checked_upto = 0;	/* block bounds passed for docs up to here */
	double		checked_theta = -INFINITY;
	CoreStatus	st = CORE_OK;

	if (nterms == 0)
		return CORE_OK;
	s = core_mallocarray(nterms, sizeof(TermState));
	prefix = core_mallocarray(nterms, sizeof(double));
	if (s == NULL || prefix == NULL)
	{
		core_free(s);
		core_free(prefix);
		return core_error(err, CORE_ERR_NOMEM, "bm25: out of memory ranking");
	}
	for (size_t i = 0; i < nterms; i++)
	{
		s[i].c = terms[i].cursor;
		s[i].idf = terms[i].idf;
		s[i].ub = terms[i].idf *
			bm25_tf_part(p, s[i].c->ti.max_tf, s[i].c->ti.min_dl) * BOUND_SLACK;
	}
	qsort(s, nterms, sizeof(TermState), CompareUb);
	for (size_t i = 0; i < nterms; i++)
		prefix[i] = s[i].ub + (i > 0 ? prefix[i - 1] : 0.0);

	for (;;)
	{
		double		theta = bm25_topk_threshold(t);
		double		rest;
		uint64_t	d = BM25_DOC_END;
		double		score;

		if (cancel && (++tick & 4095) == 0 && cancel(cancel_arg))
		{
			st = core_error(err, CORE_ERR_CANCELED, "bm25: canceled");
			break;
		}
		/* terms [0, e) cannot reach theta together: non-essential */
		if (e < nterms && prefix[e] < theta)
		{
			while (e < nterms && prefix[e] < theta)
				e++;
			checked_upto = 0;	/* the essential set changed */
		}
		if (e == nterms)
			break;
		rest = e > 0 ? prefix[e - 1] : 0.0;

		for (size_t i = e; i < nterms; i++)
			if (s[i].c->doc < d)
				d = s[i].c->doc;
		if (d == BM25_DOC_END)
			break;

		/*
		 * Block-max skip: documents in [d, upto] can only get block bounds
		 * from the essential terms' current blocks.  The test is redone
		 * when d leaves the range it covered or theta has risen.
		 */
		if (d > checked_upto || theta > checked_theta)
		{
			uint64_t	upto = BM25_DOC_END;
			double		bound = rest;

			for (size_t i = e; i < nterms; i++)
			{
				uint64_t	last;

				if (s[i].c->doc == BM25_DOC_END)
					continue;
				bound += BlockBound(p, &s[i], &last);
				if (last < upto)
					upto = last;
			}
			if (bound < theta)
			{
				for (size_t i = e; i < nterms; i++)
					bm25_cursor_seek(s[i].c, upto + 1);
				continue;
			}
			checked_upto = upto;
			checked_theta = theta;
		}

		score = 0.0;
		for (size_t i = e; i < nterms; i++)
			if (s[i].c->doc == d)
			{
				score += Contribution(p, &s[i]);
				bm25_cursor_next(s[i].c);
			}
		/* non-essential terms, largest bound first, while they can matter */
		for (size_t i = e; i-- > 0;)
		{
			if (score + prefix[i] < theta)
				break;
			bm25_cursor_seek(s[i].c, d);
			if (s[i].c->doc == d)
				score += Contribution(p, &s[i]);
		}
		if (score >= theta)
			bm25_topk_push(t, d, score);
	}
	for (size_t i = 0; i < nterms && st == CORE_OK; i++)
		if (bm25_cursor_status(s[i].c) != CORE_OK)
			st = core_error(err, bm25_cursor_status(s[i].c), "%s", s[i].c->err.msg);
	core_free(s);
	core_free(prefix);
	return st;
}

CoreStatus
bm25_rank_docs(Bm25TopK *t, const Bm25Params *p, Bm25RankTerm *terms, size_t nterms,
			   const uint64_t *docs, size_t ndocs, CoreError *err)
{
	for (size_t j = 0; j < ndocs; j++)
	{
		double		score = 0.0;

		for (size_t i = 0; i < nterms; i++)
		{
			Bm25Cursor *c = terms[i].cursor;

			bm25_cursor_seek(c, docs[j]);
			if (c->doc == docs[j])
				score += terms[i].idf * bm25_tf_part(p, bm25_cursor_tf(c), bm25_cursor_dl(c));
		}
		bm25_topk_push(t, docs[j], score);
	}
	for (size_t i = 0; i < nterms; i++)
		if (bm25_cursor_status(terms[i].cursor) != CORE_OK)
			return core_error(err, bm25_cursor_status(terms[i].cursor), "%s",
							  terms[i].cursor->err.msg);
	return CORE_OK;
}

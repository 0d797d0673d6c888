/*-------------------------------------------------------------------------
 *
 * bm25_merge.c
 *	  Merge BM25 segments and an in-memory index into one segment.
 *
 * The doc tables are read first: the keep callback runs once per document
 * and the dropped doc ids go into a sorted array, so postings are filtered
 * by a binary search rather than a callback each.  Terms are merged in byte
 * order across the sources; a term's postings from several sources are
 * concatenated and sorted by doc id (each document lives in one source).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_merge.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "kernels/bm25_deletes.h"

typedef struct Postings
{
	size_t		n,
				cap;
	uint64_t   *docids;
	uint32_t   *tfs;
	uint32_t   *dls;
	size_t		npos,
				poscap;
	uint32_t   *pos;
} Postings;

static bool
PushPosting(Postings *ps, uint64_t docid, uint32_t tf, uint32_t dl, const uint32_t *pos)
{
	if (ps->n == ps->cap)
	{
		size_t		c1 = ps->cap,
					c2 = ps->cap,
					c3 = ps->cap;

		if (!core_grow((void **) &ps->docids, &c1, ps->n + 1, sizeof(uint64_t)) ||
			!core_grow((void **) &ps->tfs, &c2, ps->n + 1, sizeof(uint32_t)) ||
			!core_grow((void **) &ps->dls, &c3, ps->n + 1, sizeof(uint32_t)))
			return false;
		ps->cap = c1;
	}
	ps->docids[ps->n] = docid;
	ps->tfs[ps->n] = tf;
	ps->dls[ps->n] = dl;
	ps->n++;
	if (pos)
	{
		if (!core_grow((void **) &ps->pos, &ps->poscap, ps->npos + tf, sizeof(uint32_t)))
			return false;
		memcpy(ps->pos + ps->npos, pos, tf * sizeof(uint32_t));
		ps->npos += tf;
	}
	return true;
}

static int
CompareU64(const void *a, const void *b)
{
	uint64_t	x = *(const uint64_t *) a;
	uint64_t	y = *(const uint64_t *) b;

	return x < y ? -1 : (x > y ? 1 : 0);
}

/*
 * The dropped documents, as an open-addressing hash set: every posting of
 * a merge is looked up, and a binary search per posting was a fifth of a
 * VACUUM's time.  BM25_DOC_END is never a doc id, so it marks empty slots.
 */
typedef struct DeadSet
{
	uint64_t   *slots;
	size_t		mask;
	size_t		n;
} DeadSet;

static inline size_t
DeadSlot(const DeadSet *d, uint64_t docid)
{
	return (size_t) ((docid * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & d->mask;
}

/* A set for the n doc ids of dead; false when out of memory. */
static bool
DeadSetBuild(DeadSet *d, const uint64_t *dead, size_t n)
{
	size_t		cap = 16;

	while (cap < 2 * n)
		cap *= 2;
	d->slots = core_mallocarray(cap, sizeof(uint64_t));
	if (d->slots == NULL)
		return false;
	memset(d->slots, 0xFF, cap * sizeof(uint64_t));
	d->mask = cap - 1;
	d->n = n;
	for (size_t i = 0; i < n; i++)
	{
		size_t		j = DeadSlot(d, dead[i]);

		while (d->slots[j] != BM25_DOC_END && d->slots[j] != dead[i])
			j = (j + 1) & d->mask;
		d->slots[j] = dead[i];
	}
	return true;
}

static inline bool
IsDead(const DeadSet *d, uint64_t docid)
{
	size_t		j;

	if (d->n == 0)
		return false;
	for (j = DeadSlot(d, docid); d->slots[j] != BM25_DOC_END; j = (j + 1) & d->mask)
		if (d->slots[j] == docid)
			return true;
	return false;
}

typedef struct Order
{
	uint64_t	docid;
	size_t		idx;
	size_t		pos;
} Order;

static int
CompareOrder(const void *a, const void *b)
{
	return CompareU64(&((const Order *) a)->docid, &((const Order *) b)->docid);
}

/* Sort ps by doc id in place (it holds runs from several sources). */
static bool
SortPostings(Postings *ps, bool positions)
{
	Order	   *o = core_mallocarray(ps->n, sizeof(Order));
	Postings	out = {0};
	bool		ok = true;
	size_t		at = 0;

	if (o == NULL)
		return false;
	for (size_t i = 0; i < ps->n; i++)
	{
		o[i].docid = ps->docids[i];
		o[i].idx = i;
		o[i].pos = at;
		at += ps->tfs[i];
	}
	qsort(o, ps->n, sizeof(Order), CompareOrder);
	for (size_t i = 0; i < ps->n && ok; i++)
	{
		size_t		j = o[i].idx;

		ok = PushPosting(&out, ps->docids[j], ps->tfs[j], ps->dls[j],
						 positions ? ps->pos + o[i].pos : NULL);
	}
	core_free(o);
	core_free(ps->docids);
	core_free(ps->tfs);
	core_free(ps->dls);
	core_free(ps->pos);
	*ps = out;
	return ok;
}

static int
CompareTerm(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

CoreStatus
bm25_merge(const Bm25MergeSources *src, Bm25SegWriter *w, Bm25SegInfo *info,
		   uint64_t *ndead_out, CoreError *err)
{
	size_t		nsrc = src->nsegs + (src->mem ? 1 : 0);
	uint64_t   *dead = NULL;
	size_t		ndead = 0,
				deadcap = 0;
	DeadSet		deadset = {0};
	uint64_t   *docs = NULL;
	uint32_t   *dls = NULL;
	size_t		ndocs = 0,
				doccap = 0;
	uint32_t   *next = NULL;	/* per source: next term index */
	uint64_t  **srcdocs = NULL;	/* per segment source: doc id of each ordinal */
	Bm25MemTerm **memterms = NULL;
	size_t		nmemterms = 0;
	bool		positions = src->mem ? bm25_mem_positions(src->mem) : false;
	Postings	ps = {0};
	CoreStatus	st = CORE_OK;

	for (size_t s = 0; s < src->nsegs; s++)
		positions = positions || bm25_segr_info(src->segs[s])->positions;

	srcdocs = core_calloc(src->nsegs ? src->nsegs : 1, sizeof(uint64_t *));
	if (srcdocs == NULL)
	{
		st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory");
		goto done;
	}

	/* documents: keep or drop each once */
	for (size_t s = 0; s < nsrc && st == CORE_OK; s++)
	{
		uint64_t   *sd = NULL;
		uint32_t   *sl = NULL;
		const uint64_t *cd;
		const uint32_t *cl;
		size_t		n;

		if (s < src->nsegs)
		{
			if ((st = bm25_segr_doctable(src->segs[s], &sd, &sl, err)) != CORE_OK)
				break;
			/* kept to name the postings, which are in ordinals */
			srcdocs[s] = sd;
			cd = sd;
			cl = sl;
			n = bm25_segr_info(src->segs[s])->ndocs;
		}
		else
			bm25_mem_docs(src->mem, &cd, &cl, &n);
		for (size_t i = 0; i < n; i++)
		{
			size_t		c1 = doccap;

			/*
			 * Deleted before: gone, and not "dead" either, since a live row
			 * may have its heap TID in another source now.
			 */
			if (s < src->nsegs && bm25_deletes_has(bm25_segr_deletes(src->segs[s]), i))
				continue;
			if (src->keep == NULL || src->keep(src->keep_arg, cd[i]))
			{
				if (!core_grow((void **) &docs, &c1, ndocs + 1, sizeof(uint64_t)) ||
					!core_grow((void **) &dls, &doccap, ndocs + 1, sizeof(uint32_t)))
				{
					st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory");
					break;
				}
				docs[ndocs] = cd[i];
				dls[ndocs] = cl[i];
				ndocs++;
			}
			else
			{
				if (!core_grow((void **) &dead, &deadcap, ndead + 1, sizeof(uint64_t)))
				{
					st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory");
					break;
				}
				dead[ndead++] = cd[i];
			}
		}
		core_free(sl);
	}
	if (st != CORE_OK)
		goto done;
	if (!DeadSetBuild(&deadset, dead, ndead))
	{
		st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory");
		goto done;
	}
	{
		/* the doc table must be in doc id order */
		Order	   *o = core_mallocarray(ndocs ? ndocs : 1, sizeof(Order));
		uint32_t   *nl = core_mallocarray(ndocs ? ndocs : 1, sizeof(uint32_t));

		if (o == NULL || nl == NULL)
		{
			core_free(o);
			core_free(nl);
			st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory");
			goto done;
		}
		for (size_t i = 0; i < ndocs; i++)
		{
			o[i].docid = docs[i];
			o[i].idx = i;
		}
		qsort(o, ndocs, sizeof(Order), CompareOrder);
		for (size_t i = 0; i < ndocs; i++)
		{
			docs[i] = o[i].docid;
			nl[i] = dls[o[i].idx];
		}
		core_free(o);
		core_free(dls);
		dls = nl;
	}
	if ((st = bm25_segw_set_docs(w, ndocs, docs, dls, err)) != CORE_OK)
		goto done;

	for (size_t s = 0; s < src->nsegs && st == CORE_OK; s++)
		st = bm25_segr_load_terms(src->segs[s], err);
	if (st != CORE_OK)
		goto done;
	if (src->mem && (memterms = bm25_mem_terms(src->mem, &nmemterms)) == NULL)
	{
		st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory sorting terms");
		goto done;
	}
	next = core_calloc(nsrc ? nsrc : 1, sizeof(uint32_t));
	if (next == NULL)
	{
		st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory");
		goto done;
	}

	for (;;)
	{
		const char *min = NULL;
		size_t		minlen = 0;
		char		term[BM25_MAX_TERM_LEN];

		if (src->cancel && src->cancel(src->cancel_arg))
		{
			st = core_error(err, CORE_ERR_CANCELED, "bm25 merge: canceled");
			break;
		}
		/* the smallest next term over the sources */
		for (size_t s = 0; s < nsrc; s++)
		{
			const char *t;
			size_t		l;

			if (s < src->nsegs)
			{
				if (next[s] >= bm25_segr_info(src->segs[s])->nterms)
					continue;
				t = bm25_segr_term(src->segs[s], next[s], &l, NULL);
			}
			else
			{
				if (next[s] >= nmemterms)
					continue;
				t = memterms[next[s]]->term;
				l = memterms[next[s]]->len;
			}
			if (min == NULL || CompareTerm(t, l, min, minlen) < 0)
			{
				min = t;
				minlen = l;
			}
		}
		if (min == NULL)
			break;
		if (minlen > BM25_MAX_TERM_LEN)
		{
			st = core_error(err, CORE_ERR_CORRUPT, "bm25 merge: term of %zu bytes", minlen);
			break;
		}
		memcpy(term, min, minlen);

		ps.n = 0;
		ps.npos = 0;
		for (size_t s = 0; s < nsrc && st == CORE_OK; s++)
		{
			if (s < src->nsegs)
			{
				Bm25TermInfo ti;
				const char *t;
				size_t		l;
				Bm25Cursor	c;

				if (next[s] >= bm25_segr_info(src->segs[s])->nterms)
					continue;
				t = bm25_segr_term(src->segs[s], next[s], &l, &ti);
				if (CompareTerm(t, l, term, minlen) != 0)
					continue;
				next[s]++;
				if ((st = bm25_cursor_open(&c, src->segs[s], &ti, err)) != CORE_OK)
				{
					bm25_cursor_close(&c);
					break;
				}
				for (; c.doc != BM25_DOC_END; bm25_cursor_next(&c))
				{
					const uint32_t *pos = NULL;
					uint64_t	docid = srcdocs[s][c.doc];

					if (IsDead(&deadset, docid))
						continue;
					if (positions && (pos = bm25_cursor_positions(&c)) == NULL)
						break;
					if (!PushPosting(&ps, docid, bm25_cursor_tf(&c), bm25_cursor_dl(&c), pos))
					{
						st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory");
						break;
					}
				}
				if (st == CORE_OK && bm25_cursor_status(&c) != CORE_OK)
					st = core_error(err, bm25_cursor_status(&c), "%s", c.err.msg);
				bm25_cursor_close(&c);
			}
			else
			{
				Bm25MemTerm *mt;
				size_t		at = 0;

				if (next[s] >= nmemterms)
					continue;
				mt = memterms[next[s]];
				if (CompareTerm(mt->term, mt->len, term, minlen) != 0)
					continue;
				next[s]++;
				for (size_t i = 0; i < mt->n; i++)
				{
					if (!IsDead(&deadset, mt->docids[i]) &&
						!PushPosting(&ps, mt->docids[i], mt->tfs[i], mt->dls[i],
									 positions ? mt->pos + at : NULL))
					{
						st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory");
						break;
					}
					at += mt->tfs[i];
				}
			}
		}
		if (st != CORE_OK)
			break;
		if (ps.n == 0)
			continue;
		for (size_t i = 1; i < ps.n; i++)
			if (ps.docids[i] <= ps.docids[i - 1])
			{
				if (!SortPostings(&ps, positions))
					st = core_error(err, CORE_ERR_NOMEM, "bm25 merge: out of memory");
				break;
			}
		if (st != CORE_OK)
			break;
		st = bm25_segw_add_term(w, term, minlen, ps.n, ps.docids, ps.tfs, ps.dls,
								positions ? ps.pos : NULL, err);
		if (st != CORE_OK)
			break;
	}
	if (st == CORE_OK)
		st = bm25_segw_finish(w, info, err);
	if (ndead_out)
		*ndead_out = ndead;
done:
	core_free(ps.docids);
	core_free(ps.tfs);
	core_free(ps.dls);
	core_free(ps.pos);
	core_free(next);
	for (size_t s = 0; srcdocs && s < src->nsegs; s++)
		core_free(srcdocs[s]);
	core_free(srcdocs);
	core_free(dead);
	core_free(deadset.slots);
	core_free(docs);
	core_free(dls);
	return st;
}

/*-------------------------------------------------------------------------
 *
 * bm25_scan.c
 *	  Index scans of lance_bm25: ORDER BY body <@> 'q' (top-k by BM25) and
 *	  WHERE body @@@ 'q' (boolean match), alone or together.
 *
 * The whole answer is computed before the first tuple, under the index
 * lock in share mode, from the segments and the insert buffer with
 * statistics (N, avgdl, df) over all of them.  An ordered scan does not know
 * its LIMIT, so it computes the best BM25_FIRST_K and, if the executor
 * wants more (rows filtered out, dead heap tuples), recomputes with four
 * times as many and goes on after the last row it returned.  The order is
 * deterministic (score, then doc id) and a recomputation scores with the
 * first computation's statistics, so rows keep their scores and places
 * even when concurrent inserts or VACUUM changed the index in between:
 * nothing is returned twice or skipped.  BM25_FIRST_K is the
 * usual LIMIT: a larger k lowers the k-th score that top-k pruning tests
 * against, and a query with frequent terms then scores many more documents
 * (ten times as many on the benchmark's stop-word phrases); a larger LIMIT
 * costs a few recomputations, each four times the size of the last.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relscan.h"
#include "am/bm25/bm25.h"
#include "miscadmin.h"
#include "nodes/tidbitmap.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#define BM25_FIRST_K 10

typedef struct Bm25ScanOpaqueData
{
	MemoryContext cxt;			/* reset for every computation */
	text	   *rank_query;		/* ORDER BY argument, or NULL */
	List	   *match_queries;	/* WHERE @@@ arguments (text *) */
	bool		no_match;		/* a NULL match argument */
	bool		computed;
	size_t		k;
	ItemPointerData *tids;
	double	   *scores;
	size_t		n;
	size_t		next;
	bool		have_last;		/* a row was returned: last_* are set */
	double		last_score;
	uint64		last_docid;
	bool		complete;		/* the last computation found every hit */
	bool		stats_kept;		/* kept_* hold the first ranking's statistics */
	uint64		kept_ndocs;
	uint64		kept_total;
	uint64	   *kept_dfs;		/* per ranked term, in the scan's context */
	Bm25Published *pub;			/* the ranked rows as published, or NULL */
} Bm25ScanOpaqueData;

typedef Bm25ScanOpaqueData *Bm25ScanOpaque;

IndexScanDesc
bm25beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	Bm25ScanOpaque so = palloc0(sizeof(Bm25ScanOpaqueData));

	so->cxt = AllocSetContextCreate(CurrentMemoryContext, "lance_bm25 scan",
									ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	/* the AM owns the ORDER BY value slots (as GiST's do) */
	scan->xs_orderbyvals = palloc0(Max(norderbys, 1) * sizeof(Datum));
	scan->xs_orderbynulls = palloc(Max(norderbys, 1) * sizeof(bool));
	return scan;
}

void
bm25rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys, int norderbys)
{
	Bm25ScanOpaque so = scan->opaque;

	MemoryContextReset(so->cxt);
	so->pub = NULL;
	so->rank_query = NULL;
	so->match_queries = NIL;
	so->no_match = false;
	so->computed = false;
	so->have_last = false;
	so->stats_kept = false;
	if (so->kept_dfs)
		pfree(so->kept_dfs);
	so->kept_dfs = NULL;
	so->k = BM25_FIRST_K;
	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));
}

void
bm25endscan(IndexScanDesc scan)
{
	Bm25ScanOpaque so = scan->opaque;

	MemoryContextDelete(so->cxt);
	pfree(so);
	scan->opaque = NULL;
}

/*
 * The first ranking of a scan keeps its statistics (N, total length, each
 * ranked term's df); later rankings of the same scan use them instead of
 * the index's current ones, so every document scores as it did before.
 */
static void
KeepStatistics(Bm25ScanOpaque so, uint64 *ndocs, uint64 *total, uint64 *dfs, size_t nterms)
{
	if (!so->stats_kept)
	{
		so->kept_ndocs = *ndocs;
		so->kept_total = *total;
		so->kept_dfs = MemoryContextAlloc(GetMemoryChunkContext(so),
										  Max(nterms, 1) * sizeof(uint64));
		memcpy(so->kept_dfs, dfs, nterms * sizeof(uint64));
		so->stats_kept = true;
		return;
	}
	*ndocs = so->kept_ndocs;
	*total = so->kept_total;
	memcpy(dfs, so->kept_dfs, nterms * sizeof(uint64));
}

static void
FreeQuery(void *p)
{
	bm25_query_free(p);
}

static void
CloseCursor(void *p)
{
	bm25_cursor_close(p);
}

static void
FreeDocSet(void *p)
{
	bm25_docset_free(p);
}

static void
FreeTopK(void *p)
{
	bm25_topk_free(p);
}

static void
FreeRankTerms(void *p)
{
	free(p);
}

/* The documents of a segment matching every match query (NULL: no filter). */
static Bm25DocSet *
MatchSegment(Relation index, Bm25QNode **roots, int nroots, Bm25SegReader *r, MemoryContext cxt)
{
	Bm25DocSet *set = NULL;

	for (int i = 0; i < nroots; i++)
	{
		Bm25DocSet *s = MemoryContextAllocZero(cxt, sizeof(Bm25DocSet));
		CoreError	err = {0};

		Bm25Track(cxt, FreeDocSet, s);
		if (bm25_query_match_segment(roots[i], r, s, &err) != CORE_OK)
			Bm25ReportCore(&err, "matching", index);
		if (set == NULL)
			set = s;
		else
		{
			/* intersect in place */
			size_t		a = 0,
						b = 0,
						o = 0;

			while (a < set->n && b < s->n)
			{
				if (set->ids[a] < s->ids[b])
					a++;
				else if (set->ids[a] > s->ids[b])
					b++;
				else
				{
					set->ids[o++] = set->ids[a];
					a++;
					b++;
				}
			}
			set->n = o;
		}
		CHECK_FOR_INTERRUPTS();
	}
	return set;
}

static int
CompareSegDocs(const void *a, const void *b)
{
	uint64		x = (*(const Bm25SegMeta *const *) a)->ndocs;
	uint64		y = (*(const Bm25SegMeta *const *) b)->ndocs;

	return x < y ? 1 : (x > y ? -1 : 0);
}

/*
 * The insert buffer as this backend last parsed it, and what names it: the
 * index's relfilenode, its next segment serial, the buffer's head and
 * length.  The buffer only grows between serials (an insert appends; a
 * flush clears it and advances the serial), so the same four always name
 * the same records, and queries between inserts need not read and parse
 * it again: with 2,000 rows inserted, that was a sixth of a query.
 */
typedef struct BufferCache
{
	RelFileNode node;
	uint64		serial;
	BlockNumber head;
	uint64		nbytes;
	MemoryContext cxt;			/* the copy and the parsed documents */
	Bm25BufDoc *docs;			/* NULL when nothing is cached */
} BufferCache;

static BufferCache buffer_cache;

static Bm25BufDoc *
ParsedBuffer(Relation index, const Bm25MetaPageData *meta)
{
	BufferCache *c = &buffer_cache;
	MemoryContext old;
	char	   *raw;
	uint64		len;

	if (c->docs != NULL && RelFileNodeEquals(c->node, index->rd_node) &&
		c->serial == meta->next_serial && c->head == meta->buf_head &&
		c->nbytes == meta->buf_nbytes)
		return c->docs;
	if (c->cxt == NULL)
		c->cxt = AllocSetContextCreate(TopMemoryContext, "lance_bm25 insert buffer",
									   ALLOCSET_DEFAULT_SIZES);
	/* forgotten first: an error while reading leaves nothing half made */
	c->docs = NULL;
	MemoryContextReset(c->cxt);
	old = MemoryContextSwitchTo(c->cxt);
	raw = Bm25ReadBuffer(index, meta, &len);
	c->docs = Bm25ParseBuffer(raw, len, meta->buf_ndocs, meta->positions, index);
	MemoryContextSwitchTo(old);
	c->node = index->rd_node;
	c->serial = meta->next_serial;
	c->head = meta->buf_head;
	c->nbytes = meta->buf_nbytes;
	return c->docs;
}

/* Compute the answer: everything happens here (see the file header). */
static void
Compute(IndexScanDesc scan)
{
	Relation	index = scan->indexRelation;
	Bm25ScanOpaque so = scan->opaque;
	MemoryContext old;
	Bm25MetaPageData meta;
	Bm25Tokenizer tok;
	Bm25QNode  *rank_root = NULL;
	Bm25QNode **roots;
	int			nroots = 0;
	const Bm25QToken **rterms = NULL;
	size_t		nrterms = 0;
	uint64	   *dfs;
	double	   *idfs;
	uint64		ndocs;
	uint64		total;
	Bm25Params	params;
	Bm25SegReader *readers[BM25_MAX_SEGMENTS];
	const Bm25SegMeta *order[BM25_MAX_SEGMENTS];
	Bm25BufDoc *bufdocs = NULL;
	bool		ordered = so->rank_query != NULL;
	bool		empty = false;
	CoreError	err = {0};
	ListCell   *lc;

	MemoryContextReset(so->cxt);
	so->pub = NULL;
	old = MemoryContextSwitchTo(so->cxt);
	so->tids = NULL;
	so->scores = NULL;
	so->n = 0;
	so->next = 0;
	so->complete = true;

	LockPage(index, BM25_META_BLKNO, ShareLock);
	Bm25ReadMeta(index, &meta);
	tok.kind = meta.tokenizer;
	tok.ts_config = meta.ts_config;
	tok.positions = meta.positions;

	/* queries */
	roots = palloc(Max(list_length(so->match_queries), 1) * sizeof(Bm25QNode *));
	foreach(lc, so->match_queries)
	{
		Bm25QNode  *r = Bm25ParseQuery(&tok, (text *) lfirst(lc));

		if (r == NULL)
			empty = true;		/* a query without terms matches nothing */
		else
		{
			Bm25Track(so->cxt, FreeQuery, r);
			roots[nroots++] = r;
		}
	}
	if (ordered)
	{
		rank_root = Bm25ParseQuery(&tok, so->rank_query);
		if (rank_root)
		{
			Bm25Track(so->cxt, FreeQuery, rank_root);
			if (bm25_query_rank_terms(rank_root, &rterms, &nrterms, &err) != CORE_OK)
				Bm25ReportCore(&err, "ranking", index);
			Bm25Track(so->cxt, FreeRankTerms, (void *) rterms);
		}
	}
	if (so->no_match || empty)
	{
		UnlockPage(index, BM25_META_BLKNO, ShareLock);
		MemoryContextSwitchTo(old);
		return;
	}

	/* statistics over segments and buffer */
	ndocs = meta.buf_ndocs;
	total = meta.buf_total_dl;
	for (uint32 i = 0; i < meta.nsegs; i++)
	{
		readers[i] = Bm25OpenSegment(index, &meta.segs[i], meta.positions);
		ndocs += meta.segs[i].ndocs - meta.segs[i].ndead;
		total += meta.segs[i].total_dl - meta.segs[i].dead_dl;
		order[i] = &meta.segs[i];
	}
	if (meta.buf_ndocs > 0)
		bufdocs = ParsedBuffer(index, &meta);
	params.k1 = Bm25GetK1(index);
	params.b = Bm25GetB(index);
	params.avgdl = ndocs > 0 ? (double) total / (double) ndocs : 0.0;
	bm25_params_prepare(&params);
	dfs = palloc0(Max(nrterms, 1) * sizeof(uint64));
	idfs = palloc0(Max(nrterms, 1) * sizeof(double));
	for (size_t t = 0; t < nrterms; t++)
	{
		for (uint32 i = 0; i < meta.nsegs; i++)
		{
			Bm25TermInfo ti;
			uint32		dead;

			if (!bm25_segr_lookup(readers[i], rterms[t]->term, rterms[t]->len, &ti))
				continue;
			dead = bm25_deletes_term_dead(bm25_segr_deletes(readers[i]), ti.off);
			if (dead > ti.df)
				ereport(ERROR,
						(errcode(ERRCODE_INDEX_CORRUPTED),
						 errmsg("lance_bm25 index \"%s\": a deletion record says a term lost %u of its %u documents",
								RelationGetRelationName(index), dead, ti.df),
						 errhint("REINDEX the index.")));
			dfs[t] += ti.df - dead;
		}
		for (uint64 d = 0; d < meta.buf_ndocs; d++)
			if (bm25_terms_find(bufdocs[d].terms, bufdocs[d].nterms, rterms[t]->term,
								rterms[t]->len) >= 0)
				dfs[t]++;
	}
	if (ordered)
	{
		KeepStatistics(so, &ndocs, &total, dfs, nrterms);
		params.avgdl = ndocs > 0 ? (double) total / (double) ndocs : 0.0;
		bm25_params_prepare(&params);
	}
	for (size_t t = 0; t < nrterms; t++)
		idfs[t] = bm25_idf(ndocs, dfs[t]);
	if (ordered)
		Bm25RememberScan(&tok, so->rank_query, params.k1, params.b, ndocs, params.avgdl,
						 rterms, dfs, nrterms);

	if (ordered)
	{
		Bm25TopK   *top = MemoryContextAllocZero(so->cxt, sizeof(Bm25TopK));

		if (!bm25_topk_init(top, so->k))
			ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
		Bm25Track(so->cxt, FreeTopK, top);

		/* the largest segment first raises the threshold soonest */
		qsort(order, meta.nsegs, sizeof(Bm25SegMeta *), CompareSegDocs);
		for (uint32 i = 0; i < meta.nsegs; i++)
		{
			uint32		si = (uint32) (order[i] - meta.segs);
			Bm25SegReader *r = readers[si];
			Bm25RankTerm *rt = palloc(Max(nrterms, 1) * sizeof(Bm25RankTerm));
			size_t		nrt = 0;
			Bm25DocSet *filter = MatchSegment(index, roots, nroots, r, so->cxt);
			CoreStatus	st;

			for (size_t t = 0; t < nrterms; t++)
			{
				Bm25TermInfo ti;
				Bm25Cursor *c;

				if (!bm25_segr_lookup(r, rterms[t]->term, rterms[t]->len, &ti))
					continue;
				c = MemoryContextAllocZero(so->cxt, sizeof(Bm25Cursor));
				Bm25Track(so->cxt, CloseCursor, c);
				/* ranking opens the cursors it reads */
				bm25_cursor_init(c, r, &ti);
				rt[nrt].cursor = c;
				rt[nrt].idf = idfs[t];
				nrt++;
			}
			if (filter)
				st = bm25_rank_docs(top, &params, rt, nrt, filter->ids, filter->n, &err);
			else
			{
				/* ranking by ranges reads the same pages many times: in place */
				Bm25ViewSegment(r);
				st = bm25_rank_segment(top, &params, rt, nrt, Bm25CancelRequested, NULL, &err);
				Bm25UnviewSegment(r);
			}
			if (st == CORE_ERR_CANCELED)
				CHECK_FOR_INTERRUPTS();
			if (st != CORE_OK)
				Bm25ReportCore(&err, "ranking", index);
		}
		for (uint64 d = 0; d < meta.buf_ndocs; d++)
		{
			Bm25BufDoc *doc = &bufdocs[d];
			double		score = 0.0;
			bool		hit = nroots > 0;

			for (int i = 0; i < nroots && hit; i++)
				hit = bm25_query_match_doc(roots[i], doc->terms, doc->nterms);
			if (nroots > 0 && !hit)
				continue;
			for (size_t t = 0; t < nrterms; t++)
			{
				long		j = bm25_terms_find(doc->terms, doc->nterms, rterms[t]->term,
												rterms[t]->len);

				if (j >= 0)
				{
					score += idfs[t] * bm25_tf_part(&params, doc->terms[j].tf, doc->dl);
					hit = true;
				}
			}
			if (hit)
				bm25_topk_push(top, doc->docid, score);
		}
		bm25_topk_sort(top);
		so->tids = palloc(Max(top->n, 1) * sizeof(ItemPointerData));
		so->scores = palloc(Max(top->n, 1) * sizeof(double));
		for (size_t i = 0; i < top->n; i++)
		{
			Bm25DocTid(top->hits[i].docid, &so->tids[i]);
			so->scores[i] = top->hits[i].score;
		}
		so->n = top->n;
		so->complete = top->n < top->k;
		so->pub = Bm25Publish(so->cxt, RelationGetRelid(index), so->rank_query,
							  so->tids, so->scores, so->n);
	}
	else
	{
		size_t		cap = 1024;

		so->tids = palloc(cap * sizeof(ItemPointerData));
		for (uint32 i = 0; i < meta.nsegs; i++)
		{
			Bm25DocSet *set = MatchSegment(index, roots, nroots, readers[i], so->cxt);

			if (set == NULL)
				continue;
			if (bm25_segr_doc_ids(readers[i], set->ids, set->n, &err) != CORE_OK)
				Bm25ReportCore(&err, "matching", index);
			if (so->n + set->n > cap)
			{
				while (so->n + set->n > cap)
					cap *= 2;
				so->tids = repalloc_huge(so->tids, cap * sizeof(ItemPointerData));
			}
			for (size_t j = 0; j < set->n; j++)
				Bm25DocTid(set->ids[j], &so->tids[so->n++]);
		}
		for (uint64 d = 0; d < meta.buf_ndocs; d++)
		{
			bool		hit = nroots > 0;

			for (int i = 0; i < nroots && hit; i++)
				hit = bm25_query_match_doc(roots[i], bufdocs[d].terms, bufdocs[d].nterms);
			if (!hit)
				continue;
			if (so->n == cap)
			{
				cap *= 2;
				so->tids = repalloc_huge(so->tids, cap * sizeof(ItemPointerData));
			}
			Bm25DocTid(bufdocs[d].docid, &so->tids[so->n++]);
		}
	}
	UnlockPage(index, BM25_META_BLKNO, ShareLock);
	MemoryContextSwitchTo(old);
}

/* Read the scan keys into queries (once per rescan). */
static void
ReadKeys(IndexScanDesc scan)
{
	Bm25ScanOpaque so = scan->opaque;

	for (int i = 0; i < scan->numberOfKeys; i++)
	{
		ScanKey		k = &scan->keyData[i];

		if (k->sk_flags & SK_ISNULL)
			so->no_match = true;
		else
			so->match_queries = lappend(so->match_queries, DatumGetTextPP(k->sk_argument));
	}
	if (scan->numberOfOrderBys > 0)
	{
		ScanKey		k = &scan->orderByData[0];

		if (!(k->sk_flags & SK_ISNULL))
			so->rank_query = DatumGetTextPP(k->sk_argument);
		else
			so->no_match = true;
	}
}

/* Whether ranked row i comes after the last row returned. */
static bool
AfterLast(Bm25ScanOpaque so, size_t i)
{
	return so->scores[i] < so->last_score ||
		(so->scores[i] == so->last_score && Bm25DocId(&so->tids[i]) > so->last_docid);
}

bool
bm25gettuple(IndexScanDesc scan, ScanDirection dir)
{
	Bm25ScanOpaque so = scan->opaque;

	if (!so->computed)
	{
		ReadKeys(scan);
		if (scan->numberOfOrderBys == 0 && scan->numberOfKeys == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("a lance_bm25 index scan needs ORDER BY <@> or WHERE @@@")));
		Compute(scan);
		so->computed = true;
	}
	while (so->next >= so->n && so->rank_query && !so->complete)
	{
		/*
		 * The executor wants more than we ranked: rank more, skip what was
		 * returned (and rows committed since, which rank above it but are
		 * not visible to this scan), again if that left nothing.
		 */
		so->k *= 4;
		Compute(scan);
		while (so->have_last && so->next < so->n && !AfterLast(so, so->next))
			so->next++;
	}
	if (so->next >= so->n)
	{
		if (so->pub)
			so->pub->cur = so->pub->n;
		return false;
	}

	scan->xs_heaptid = so->tids[so->next];
	scan->xs_recheck = false;
	if (scan->numberOfOrderBys > 0)
	{
		scan->xs_orderbyvals[0] = Float8GetDatum(-so->scores[so->next]);
		scan->xs_orderbynulls[0] = false;
		scan->xs_recheckorderby = false;
	}
	if (so->pub)
		so->pub->cur = so->next;
	if (so->rank_query)
	{
		so->have_last = true;
		so->last_score = so->scores[so->next];
		so->last_docid = Bm25DocId(&so->tids[so->next]);
	}
	so->next++;
	return true;
}

int64
bm25getbitmap(IndexScanDesc scan, TIDBitmap *tbm)
{
	Bm25ScanOpaque so = scan->opaque;

	ReadKeys(scan);
	so->rank_query = NULL;
	Compute(scan);
	tbm_add_tuples(tbm, so->tids, (int) so->n, false);
	return (int64) so->n;
}

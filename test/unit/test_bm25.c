/*-------------------------------------------------------------------------
 *
 * test_bm25.c
 *	  Unit tests for the BM25 core: tokenizer, codec, segments, merging,
 *	  the query language and exact top-k against exhaustive scoring.
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "kernels/bm25_codec.h"
#include "kernels/bm25_deletes.h"
#include "kernels/bm25_memindex.h"
#include "kernels/bm25_merge.h"
#include "kernels/bm25_query.h"
#include "kernels/bm25_rank.h"
#include "kernels/bm25_ranges.h"
#include "kernels/distance.h"
#include "kernels/bm25_segment.h"
#include "kernels/bm25_tokenize.h"
#include "unit.h"

/* --- helpers: a segment in memory --- */

typedef struct MemStream
{
	Bm25Buf		buf;
} MemStream;

static int
MemSink(void *ctx, const uint8_t *data, size_t len)
{
	MemStream  *s = ctx;

	bm25_buf_put(&s->buf, data, len);
	return s->buf.ok ? 0 : -1;
}

static int
MemRead(void *ctx, uint64_t off, size_t len, uint8_t *dst)
{
	MemStream  *s = ctx;

	if (off > s->buf.len || len > s->buf.len - off)
		return -1;
	memcpy(dst, s->buf.data + off, len);
	return 0;
}

typedef struct TokArg
{
	Bm25Bag    *bag;
} TokArg;

static int
AddTok(void *arg, const char *tok, size_t len, uint32_t pos)
{
	TokArg	   *a = arg;

	bm25_bag_add(a->bag, tok, len, pos, NULL);
	return 0;
}

static void
Tokenize(Bm25Bag *bag, const char *text)
{
	TokArg		a = {bag};

	bm25_bag_reset(bag);
	bm25_tokenize_simple(text, strlen(text), AddTok, &a);
	bm25_bag_finish(bag);
}

/* Invert docs[i] as doc id ids[i] into a segment held in s. */
static Bm25SegReader *
BuildSegment(MemStream *s, const char **docs, const uint64_t *ids, size_t n)
{
	Bm25MemIndex *m = bm25_mem_create(true);
	Bm25Bag    *bag = bm25_bag_create();
	Bm25SegWriter *w;
	Bm25MergeSources src = {0};
	Bm25SegInfo info;
	Bm25SegReader *r = NULL;

	bm25_buf_init(&s->buf);
	for (size_t i = 0; i < n; i++)
	{
		Tokenize(bag, docs[i]);
		bm25_mem_add_doc(m, ids[i], bm25_bag_dl(bag), bm25_bag_terms(bag), bm25_bag_nterms(bag), NULL);
	}
	w = bm25_segw_create(true, MemSink, s);
	bm25_segw_set_params(w, 1.2, 0.75);
	src.mem = m;
	if (bm25_merge(&src, w, &info, NULL, NULL) == CORE_OK)
		bm25_segr_open(&info, MemRead, s, &r, NULL);
	bm25_segw_free(w);
	bm25_mem_free(m);
	bm25_bag_free(bag);
	return r;
}

/*
 * The caller's doc id of a cursor's posting (postings hold ordinals), or 0,
 * which no test uses, when the doc table cannot say.
 */
static uint64_t
DocOf(const Bm25Cursor *c)
{
	uint64_t	id = BM25_DOC_END;

	if (c->doc != BM25_DOC_END && !bm25_segr_doc_id(c->r, c->doc, &id))
		return 0;
	return id;
}

typedef struct Collected
{
	char		toks[16][32];
	uint32_t	pos[16];
	int			n;
} Collected;

static int
Collect(void *arg, const char *tok, size_t len, uint32_t pos)
{
	Collected  *c = arg;

	if (c->n < 16 && len < 32)
	{
		memcpy(c->toks[c->n], tok, len);
		c->toks[c->n][len] = '\0';
		c->pos[c->n] = pos;
		c->n++;
	}
	return 0;
}

UNIT_TEST(simple_tokenizer_lowercases_and_splits_on_non_alphanumerics)
{
	const char *text = "Hello, WORLD-42 caf\xc3\xa9x  x9";
	Collected	c = {0};
	uint32_t	n = bm25_tokenize_simple(text, strlen(text), Collect, &c);

	CHECK(n == 6);
	CHECK(strcmp(c.toks[0], "hello") == 0);
	CHECK(strcmp(c.toks[1], "world") == 0);
	CHECK(strcmp(c.toks[2], "42") == 0);
	/* the bytes of a non-ASCII letter separate tokens, as in the reference */
	CHECK(strcmp(c.toks[3], "caf") == 0);
	CHECK(strcmp(c.toks[4], "x") == 0);
	CHECK(strcmp(c.toks[5], "x9") == 0);
	CHECK(c.pos[5] == 5);
}

UNIT_TEST(bit_packing_round_trips_every_width)
{
	for (int width = 0; width <= 64; width++)
	{
		uint64_t	in[BM25_BLOCK_SIZE];
		uint64_t	out[BM25_BLOCK_SIZE];
		Bm25Buf		b;

		bm25_buf_init(&b);
		for (int i = 0; i < BM25_BLOCK_SIZE; i++)
		{
			uint64_t	v = (uint64_t) i * UINT64_C(0x9E3779B97F4A7C15);

			in[i] = width == 64 ? v : (width == 0 ? 0 : v & ((UINT64_C(1) << width) - 1));
		}
		bm25_pack(&b, in, BM25_BLOCK_SIZE, width);
		CHECK_MSG(b.len == bm25_packed_size(BM25_BLOCK_SIZE, width), "width %d", width);
		bm25_unpack(b.data, out, BM25_BLOCK_SIZE, width);
		CHECK_MSG(memcmp(in, out, sizeof(in)) == 0, "width %d", width);
		bm25_buf_free(&b);
	}
}

UNIT_TEST(varint_rejects_truncated_input)
{
	Bm25Buf		b;
	const uint8_t *p;
	uint64_t	v;

	bm25_buf_init(&b);
	bm25_buf_put_varint(&b, UINT64_C(300000000000));
	p = b.data;
	CHECK(bm25_get_varint(&p, b.data + b.len, &v) && v == UINT64_C(300000000000));
	p = b.data;
	CHECK(!bm25_get_varint(&p, b.data + b.len - 1, &v));
	bm25_buf_free(&b);
}

UNIT_TEST(segment_round_trips_postings_and_positions)
{
	const char *docs[] = {"a b a c", "b b", "c a"};
	uint64_t	ids[] = {10, 20, 30};
	MemStream	s;
	Bm25SegReader *r = BuildSegment(&s, docs, ids, 3);
	Bm25TermInfo ti;
	Bm25Cursor	c;
	const uint32_t *pos;

	CHECK(r != NULL);
	CHECK(bm25_segr_info(r)->ndocs == 3 && bm25_segr_info(r)->total_dl == 8);
	CHECK(bm25_segr_lookup(r, "a", 1, &ti) && ti.df == 2 && ti.max_tf == 2);
	CHECK(!bm25_segr_lookup(r, "zz", 2, &ti));
	CHECK(bm25_segr_lookup(r, "a", 1, &ti));
	CHECK(bm25_cursor_open(&c, r, &ti, NULL) == CORE_OK);
	CHECK(c.doc == 0 && DocOf(&c) == 10 && bm25_cursor_tf(&c) == 2 && bm25_cursor_dl(&c) == 4);
	pos = bm25_cursor_positions(&c);
	CHECK(pos && pos[0] == 0 && pos[1] == 2);
	bm25_cursor_next(&c);
	CHECK(c.doc == 2 && DocOf(&c) == 30 && bm25_cursor_tf(&c) == 1 && bm25_cursor_dl(&c) == 2);
	pos = bm25_cursor_positions(&c);
	CHECK(pos && pos[0] == 1);
	bm25_cursor_next(&c);
	CHECK(c.doc == BM25_DOC_END && bm25_cursor_status(&c) == CORE_OK);
	bm25_cursor_close(&c);
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
}

/* --- exact top-k against exhaustive scoring --- */

static uint64_t rng_state = 88172645463325252ULL;

static uint32_t
Rand(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t) (rng_state % n);
}

/* Random documents over a Zipf-ish vocabulary "w0".."w199". */
static char **
RandomDocs(size_t n)
{
	char	  **docs = malloc(n * sizeof(char *));

	for (size_t i = 0; i < n; i++)
	{
		size_t		len = 1 + Rand(60);
		char	   *d = malloc(len * 6 + 1);
		size_t		at = 0;

		for (size_t j = 0; j < len; j++)
		{
			uint32_t	w = Rand(1 + Rand(200));

			at += (size_t) sprintf(d + at, "w%u ", w);
		}
		d[at] = '\0';
		docs[i] = d;
	}
	return docs;
}

static double
ExhaustiveScore(Bm25Bag *bag, const char *doc, const char **terms, const double *idf,
				size_t nterms, const Bm25Params *p)
{
	double		s = 0;

	Tokenize(bag, doc);
	for (size_t t = 0; t < nterms; t++)
	{
		long		j = bm25_terms_find(bm25_bag_terms(bag), bm25_bag_nterms(bag), terms[t],
										strlen(terms[t]));

		if (j >= 0)
			s += idf[t] * bm25_tf_part(p, bm25_bag_terms(bag)[j].tf, bm25_bag_dl(bag));
	}
	return s;
}

/* A query of up to three terms ranked top 10 over one segment. */
typedef struct RankedQuery
{
	const char *terms[3];
	double		idf[3];			/* 0 for a term the segment lacks */
	size_t		nt;
	Bm25Cursor	cur[3];
	size_t		nr;
	Bm25TopK	top;
} RankedQuery;

/* Rank query (NULL-terminated past fewer than 3) over r of n documents. */
static void
RankQuery(RankedQuery *rq, Bm25SegReader *r, size_t n, const char *const *query, Bm25Params *p)
{
	Bm25RankTerm rt[3];

	rq->nt = 0;
	rq->nr = 0;
	for (int i = 0; i < 3 && query[i]; i++)
	{
		Bm25TermInfo ti;

		rq->terms[rq->nt] = query[i];
		rq->idf[rq->nt] = 0;
		if (bm25_segr_lookup(r, query[i], strlen(query[i]), &ti))
		{
			rq->idf[rq->nt] = bm25_idf(n, ti.df);
			CHECK(bm25_cursor_open(&rq->cur[rq->nr], r, &ti, NULL) == CORE_OK);
			rt[rq->nr].cursor = &rq->cur[rq->nr];
			rt[rq->nr].idf = rq->idf[rq->nt];
			rq->nr++;
		}
		rq->nt++;
	}
	bm25_params_prepare(p);
	CHECK(bm25_topk_init(&rq->top, 10));
	CHECK(bm25_rank_segment(&rq->top, p, rt, rq->nr, NULL, NULL, NULL) == CORE_OK);
	bm25_topk_sort(&rq->top);
}

static void
RankedQueryFree(RankedQuery *rq)
{
	for (size_t i = 0; i < rq->nr; i++)
		bm25_cursor_close(&rq->cur[i]);
	bm25_topk_free(&rq->top);
}

/*
 * Top-k equals exhaustive scoring with the writer's k1 and b and average
 * length (blocks bounded by their recorded largest tf parts), with the
 * average length grown or shrunk since (the parts scaled), and with other
 * k1 and b (the parts unusable: impacts only).
 */
UNIT_TEST(maxscore_top_k_equals_exhaustive_scoring)
{
	size_t		n = 3000;
	char	  **docs = RandomDocs(n);
	uint64_t   *ids = malloc(n * sizeof(uint64_t));
	MemStream	s;
	Bm25SegReader *r;
	Bm25Bag    *bag = bm25_bag_create();
	const char *queries[][3] = {{"w0", NULL, NULL}, {"w1", "w150", NULL}, {"w3", "w7", "w190"},
	{"w199", NULL, NULL}, {"w0", "w1", "w2"}};

	for (size_t i = 0; i < n; i++)
		ids[i] = (uint64_t) i * 7 + 3;
	r = BuildSegment(&s, (const char **) docs, ids, n);
	CHECK(r != NULL);
	for (size_t q = 0; q < 5 * 4; q++)
	{
		double		avgdl = (double) bm25_segr_info(r)->total_dl / (double) n;
		const double variants[4][3] = {{1.2, 0.75, 1.0}, {1.2, 0.75, 1.5}, {1.2, 0.75, 0.7},
		{2.0, 0.3, 1.0}};
		const double *v = variants[q / 5];
		Bm25Params	p = {v[0], v[1], avgdl * v[2], 0, 0};
		RankedQuery rq;
		Bm25TopK   *top = &rq.top;
		double	   *all = malloc(n * sizeof(double));

		RankQuery(&rq, r, n, queries[q % 5], &p);
		for (size_t i = 0; i < n; i++)
			all[i] = ExhaustiveScore(bag, docs[i], rq.terms, rq.idf, rq.nt, &p);
		/*
		 * Every hit has its exhaustive score, and no document beats a hit
		 * it is ranked below.  Sums in another order may differ in the last
		 * bits, so "beats" and "equal" allow 1e-12 relative.
		 */
		for (size_t h = 0; h < top->n; h++)
		{
			size_t		i = (size_t) ((top->hits[h].docid - 3) / 7);
			double		sc = top->hits[h].score;
			size_t		better = 0;

			CHECK_MSG(fabs(all[i] - sc) <= 1e-12 * sc, "query %zu hit %zu", q, h);
			for (size_t j = 0; j < n; j++)
				if (all[j] > sc * (1 + 1e-12))
					better++;
			CHECK_MSG(better <= h, "query %zu: hit %zu has %zu better documents", q, h, better);
		}
		{
			size_t		matches = 0;

			for (size_t i = 0; i < n; i++)
				matches += all[i] > 0;
			CHECK_MSG(top->n == (matches < 10 ? matches : 10), "query %zu: %zu hits of %zu", q, top->n,
					  matches);
		}
		RankedQueryFree(&rq);
		free(all);
	}
	for (size_t i = 0; i < n; i++)
		free(docs[i]);
	free(docs);
	free(ids);
	bm25_bag_free(bag);
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
}

typedef struct ScoredDoc
{
	uint64_t	id;
	double		score;
} ScoredDoc;

static int
CompareScoredDocs(const void *a, const void *b)
{
	const ScoredDoc *x = a;
	const ScoredDoc *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return x->id < y->id ? -1 : (x->id > y->id);
}

/*
 * Append to all[matches..] the documents (not dead[i], when dead is given)
 * that score above zero, exhaustively; returns the new count.
 */
static size_t
ScoreMatches(ScoredDoc *all, size_t matches, Bm25Bag *bag, const char **docs,
			 const uint64_t *ids, size_t n, const bool *dead, const char **terms,
			 const double *idf, size_t nterms, const Bm25Params *p)
{
	for (size_t i = 0; i < n; i++)
	{
		if (dead && dead[i])
			continue;
		all[matches].id = ids[i];
		all[matches].score = ExhaustiveScore(bag, docs[i], terms, idf, nterms, p);
		matches += all[matches].score > 0;
	}
	return matches;
}

/*
 * Every document four times over (the benchmark's corpus loaded 4x): many
 * documents tie exactly with the 10th score, and the top 10 is exactly the
 * first 10 of the exhaustive ranking by score, then doc id, whatever the
 * pruning passed over.
 */
UNIT_TEST(maxscore_ties_between_copies_fall_to_the_lower_doc_id)
{
	size_t		distinct = 800,
				n = 4 * distinct;
	char	  **base = RandomDocs(distinct);
	const char **docs = malloc(n * sizeof(char *));
	uint64_t   *ids = malloc(n * sizeof(uint64_t));
	MemStream	s;
	Bm25SegReader *r;
	Bm25Bag    *bag = bm25_bag_create();
	const char *queries[][3] = {{"w0", "w1", "w2"}, {"w0", "w1", "w190"}, {"w2", NULL, NULL},
	{"w1", "w5", NULL}};
	ScoredDoc  *all = malloc(n * sizeof(ScoredDoc));

	for (size_t i = 0; i < n; i++)
	{
		docs[i] = base[i % distinct];
		ids[i] = (uint64_t) (i / distinct) * 100000 + (i % distinct) * 7 + 3;
	}
	r = BuildSegment(&s, docs, ids, n);
	CHECK(r != NULL);
	for (size_t q = 0; q < 4; q++)
	{
		Bm25Params	p = {1.2, 0.75, (double) bm25_segr_info(r)->total_dl / (double) n, 0, 0};
		RankedQuery rq;
		Bm25TopK   *top = &rq.top;

		RankQuery(&rq, r, n, queries[q], &p);
		for (size_t i = 0; i < n; i++)
		{
			all[i].id = ids[i];
			all[i].score = ExhaustiveScore(bag, docs[i], rq.terms, rq.idf, rq.nt, &p);
		}
		qsort(all, n, sizeof(ScoredDoc), CompareScoredDocs);
		CHECK_MSG(top->n == 10, "query %zu: %zu hits", q, top->n);
		for (size_t h = 0; h < top->n; h++)
			CHECK_MSG(top->hits[h].docid == all[h].id && top->hits[h].score == all[h].score,
					  "query %zu hit %zu: doc %llu, exhaustive doc %llu", q, h,
					  (unsigned long long) top->hits[h].docid, (unsigned long long) all[h].id);
		/* the test means something only if the 10th score is tied */
		CHECK_MSG(all[9].score == all[10].score || all[9].score == all[8].score,
				  "query %zu: no tie at the 10th score", q);
		RankedQueryFree(&rq);
	}
	for (size_t i = 0; i < distinct; i++)
		free(base[i]);
	free(base);
	free(docs);
	free(ids);
	free(all);
	bm25_bag_free(bag);
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
}

/* --- the query language --- */

/* Tokenize every leaf with the simple tokenizer, as the glue does. */
static CoreStatus
LeafTokens(void *arg, Bm25QNode *leaf)
{
	Bm25Bag    *bag = arg;
	const Bm25DocTerm *t;

	Tokenize(bag, leaf->text);
	t = bm25_bag_terms(bag);
	for (size_t i = 0; i < bm25_bag_nterms(bag); i++)
		for (uint32_t j = 0; j < t[i].tf; j++)
			if (bm25_qleaf_add_token(leaf, t[i].term, t[i].len, t[i].pos[j], NULL) != CORE_OK)
				return CORE_ERR_NOMEM;
	return CORE_OK;
}

static Bm25QNode *
Query(const char *q, Bm25Bag *bag)
{
	Bm25QNode  *n = NULL;

	if (bm25_query_parse(q, strlen(q), &n, NULL) != CORE_OK || n == NULL)
		return NULL;
	bm25_query_walk_leaves(n, LeafTokens, bag);
	return bm25_query_simplify(n);
}

static bool
Matches(const char *q, const char *doc)
{
	Bm25Bag    *qb = bm25_bag_create();
	Bm25Bag    *db = bm25_bag_create();
	Bm25QNode  *n = Query(q, qb);
	bool		hit;

	Tokenize(db, doc);
	hit = n && bm25_query_match_doc(n, bm25_bag_terms(db), bm25_bag_nterms(db));
	bm25_query_free(n);
	bm25_bag_free(qb);
	bm25_bag_free(db);
	return hit;
}

UNIT_TEST(query_operators_follow_not_and_or_precedence)
{
	CHECK(Matches("fox dog", "a dog"));
	CHECK(!Matches("fox AND dog", "a dog"));
	CHECK(Matches("cat OR fox AND dog", "a cat"));
	CHECK(!Matches("(cat OR fox) AND dog", "a cat"));
	CHECK(Matches("fox AND NOT cat", "a fox"));
	CHECK(!Matches("fox AND NOT cat", "a fox and a cat"));
	/* lower-case words are words, not operators */
	CHECK(Matches("fox and dog", "and"));
}

UNIT_TEST(phrases_need_consecutive_positions_in_query_order)
{
	CHECK(Matches("\"brown fox\"", "the quick brown fox"));
	CHECK(!Matches("\"fox brown\"", "the quick brown fox"));
	CHECK(!Matches("\"quick fox\"", "the quick brown fox"));
	CHECK(Matches("\"a b a\"", "x a b a y"));
	CHECK(!Matches("\"a b a\"", "a b b a"));
}

static const char *
ParseError(const char *q, CoreError *err)
{
	Bm25QNode  *n = NULL;

	memset(err, 0, sizeof(*err));
	if (bm25_query_parse(q, strlen(q), &n, err) == CORE_OK)
	{
		bm25_query_free(n);
		return NULL;
	}
	return err->msg;
}

UNIT_TEST(malformed_queries_are_errors_that_say_where)
{
	CoreError	err;
	const char *m;

	m = ParseError("a \"b c", &err);
	CHECK(m && strstr(m, "unterminated quoted phrase starting at character 3"));
	m = ParseError("(a OR b", &err);
	CHECK(m && strstr(m, "\"(\" at character 1 is not closed"));
	m = ParseError("a)", &err);
	CHECK(m && strstr(m, "\")\" at character 2"));
	m = ParseError("a AND", &err);
	CHECK(m && strstr(m, "found the end of the query"));
	m = ParseError("NOT a", &err);
	CHECK(m && strstr(m, "NOT must be joined by AND"));
	CHECK(ParseError("a AND NOT (b OR \"c d\")", &err) == NULL);
	CHECK(ParseError("   ", &err) == NULL);
}

UNIT_TEST(stop_word_leaves_drop_out_of_the_query)
{
	Bm25Bag    *bag = bm25_bag_create();
	Bm25QNode  *n;

	/* "," yields no token, like a stop word: "fox AND ," is just "fox" */
	n = Query("fox AND ,", bag);
	CHECK(n && n->kind == BM25_Q_TERM);
	bm25_query_free(n);
	/* an AND left with only a negation has nothing to match */
	n = Query(", AND NOT fox", bag);
	CHECK(n == NULL);
	bm25_bag_free(bag);
}

/* --- merging --- */

static bool
KeepOdd(void *arg, uint64_t docid)
{
	return docid % 2 == 1;
}

UNIT_TEST(merge_drops_dead_documents_and_recounts_statistics)
{
	const char *a_docs[] = {"x y", "x", "z z"};
	uint64_t	a_ids[] = {1, 2, 5};
	const char *b_docs[] = {"x z", "y"};
	uint64_t	b_ids[] = {3, 4};
	MemStream	sa,
				sb,
				out;
	Bm25SegReader *ra = BuildSegment(&sa, a_docs, a_ids, 3);
	Bm25SegReader *rb = BuildSegment(&sb, b_docs, b_ids, 2);
	Bm25SegReader *segs[2] = {ra, rb};
	Bm25SegReader *r = NULL;
	Bm25MergeSources src = {0};
	Bm25SegWriter *w;
	Bm25SegInfo info;
	uint64_t	ndead = 0;
	Bm25TermInfo ti;
	Bm25Cursor	c;

	bm25_buf_init(&out.buf);
	src.segs = segs;
	src.nsegs = 2;
	src.keep = KeepOdd;
	w = bm25_segw_create(true, MemSink, &out);
	CHECK(bm25_merge(&src, w, &info, &ndead, NULL) == CORE_OK);
	bm25_segw_free(w);
	/* kept: 1 "x y", 3 "x z", 5 "z z" */
	CHECK(ndead == 2 && info.ndocs == 3 && info.total_dl == 6);
	CHECK(bm25_segr_open(&info, MemRead, &out, &r, NULL) == CORE_OK);
	CHECK(bm25_segr_lookup(r, "x", 1, &ti) && ti.df == 2);
	CHECK(bm25_segr_lookup(r, "y", 1, &ti) && ti.df == 1);
	CHECK(bm25_segr_lookup(r, "z", 1, &ti) && ti.df == 2);
	CHECK(bm25_cursor_open(&c, r, &ti, NULL) == CORE_OK);
	CHECK(DocOf(&c) == 3 && bm25_cursor_positions(&c)[0] == 1);
	bm25_cursor_next(&c);
	CHECK(DocOf(&c) == 5 && bm25_cursor_tf(&c) == 2);
	bm25_cursor_close(&c);
	bm25_segr_free(r);
	bm25_segr_free(ra);
	bm25_segr_free(rb);
	bm25_buf_free(&sa.buf);
	bm25_buf_free(&sb.buf);
	bm25_buf_free(&out.buf);
}

/* Record the doc table entries i with dead(i) as deleted, through bytes. */
static void
RecordDead(Bm25SegReader *r, bool (*dead) (size_t))
{
	uint64_t   *docids;
	uint32_t   *dls;
	size_t		n = bm25_segr_info(r)->ndocs,
				m = 0;
	uint64_t   *ids = malloc(n * sizeof(uint64_t));
	uint32_t   *lens = malloc(n * sizeof(uint32_t));
	Bm25Deletes *d = NULL;
	Bm25Deletes *back = NULL;
	Bm25Buf		buf;

	CHECK(bm25_segr_doctable(r, &docids, &dls, NULL) == CORE_OK);
	for (size_t i = 0; i < n; i++)
		if (dead(i))
		{
			ids[m] = i;
			lens[m++] = dls[i];
		}
	CHECK(bm25_deletes_add(r, ids, lens, m, NULL, NULL, &d, NULL) == CORE_OK);
	bm25_buf_init(&buf);
	bm25_deletes_encode(d, &buf);
	CHECK(bm25_deletes_decode(buf.data, buf.len, n, &back, NULL) == CORE_OK);
	bm25_deletes_free(d);
	CHECK(bm25_deletes_decode(buf.data, buf.len - 1, n, &d, NULL) == CORE_ERR_CORRUPT && d == NULL);
	bm25_segr_set_deletes(r, back);
	bm25_buf_free(&buf);
	core_free(docids);
	core_free(dls);
	free(ids);
	free(lens);
}

static bool
DeadFirst(size_t i)
{
	return i % 10 == 0;
}

static bool
DeadSecond(size_t i)
{
	return i % 10 == 5;
}

/*
 * Deletions recorded in two rounds leave a segment that, with its figures
 * less the record's (N, total length, each df), cursors that pass over the
 * dead, ranks and merges exactly as a fresh build of the live documents.
 */
UNIT_TEST(recorded_deletions_equal_a_fresh_build_of_the_live_documents)
{
	size_t		n = 600,
				nlive = 0;
	char	  **docs = RandomDocs(n);
	const char **live = malloc(n * sizeof(char *));
	uint64_t   *ids = malloc(n * sizeof(uint64_t));
	uint64_t   *live_ids = malloc(n * sizeof(uint64_t));
	MemStream	s,
				fs,
				ms;
	Bm25SegReader *r,
			   *fresh,
			   *merged = NULL;
	const Bm25Deletes *d;
	const Bm25SegInfo *fi;
	Bm25MergeSources src = {0};
	Bm25SegWriter *w;
	Bm25SegInfo mi;

	for (size_t i = 0; i < n; i++)
	{
		ids[i] = (uint64_t) i * 3 + 1;
		if (!DeadFirst(i) && !DeadSecond(i))
		{
			live[nlive] = docs[i];
			live_ids[nlive++] = ids[i];
		}
	}
	r = BuildSegment(&s, (const char **) docs, ids, n);
	fresh = BuildSegment(&fs, live, live_ids, nlive);
	CHECK(r != NULL && fresh != NULL);
	RecordDead(r, DeadFirst);
	RecordDead(r, DeadSecond);
	d = bm25_segr_deletes(r);
	fi = bm25_segr_info(fresh);
	CHECK(d->ndead == n - nlive);
	CHECK(bm25_segr_info(r)->ndocs - d->ndead == fi->ndocs);
	CHECK(bm25_segr_info(r)->total_dl - d->dead_dl == fi->total_dl);

	CHECK(bm25_segr_load_terms(r, NULL) == CORE_OK);
	for (uint32_t i = 0; i < bm25_segr_info(r)->nterms; i++)
	{
		Bm25TermInfo ti,
					fti;
		size_t		len;
		const char *term = bm25_segr_term(r, i, &len, &ti);
		uint32_t	want = bm25_segr_lookup(fresh, term, len, &fti) ? fti.df : 0;
		Bm25Cursor	c,
					fc;

		CHECK_MSG(ti.df - bm25_deletes_term_dead(d, ti.off) == want, "term %.*s", (int) len, term);
		if (want == 0)
			continue;
		CHECK(bm25_cursor_open(&c, r, &ti, NULL) == CORE_OK);
		CHECK(bm25_cursor_open(&fc, fresh, &fti, NULL) == CORE_OK);
		while (fc.doc != BM25_DOC_END && DocOf(&c) == DocOf(&fc) &&
			   bm25_cursor_tf(&c) == bm25_cursor_tf(&fc))
		{
			bm25_cursor_next(&c);
			bm25_cursor_next(&fc);
		}
		CHECK_MSG(c.doc == BM25_DOC_END && fc.doc == BM25_DOC_END, "term %.*s", (int) len, term);
		bm25_cursor_close(&c);
		bm25_cursor_close(&fc);
	}

	/* top 10 of a frequent term pair, with the corrected statistics */
	{
		const char *terms[2] = {"w0", "w1"};
		Bm25Params	p = {1.2, 0.75, (double) fi->total_dl / (double) fi->ndocs, 0, 0};
		Bm25TopK	top,
					ftop;
		Bm25Cursor	c[2],
					fc[2];
		Bm25RankTerm rt[2],
					frt[2];

		bm25_params_prepare(&p);
		for (int t = 0; t < 2; t++)
		{
			Bm25TermInfo ti,
						fti;

			CHECK(bm25_segr_lookup(r, terms[t], 2, &ti) && bm25_segr_lookup(fresh, terms[t], 2, &fti));
			CHECK(bm25_cursor_open(&c[t], r, &ti, NULL) == CORE_OK);
			CHECK(bm25_cursor_open(&fc[t], fresh, &fti, NULL) == CORE_OK);
			rt[t].cursor = &c[t];
			frt[t].cursor = &fc[t];
			rt[t].idf = bm25_idf(bm25_segr_info(r)->ndocs - d->ndead,
								 ti.df - bm25_deletes_term_dead(d, ti.off));
			frt[t].idf = bm25_idf(fi->ndocs, fti.df);
			CHECK(rt[t].idf == frt[t].idf);
		}
		CHECK(bm25_topk_init(&top, 10) && bm25_topk_init(&ftop, 10));
		CHECK(bm25_rank_segment(&top, &p, rt, 2, NULL, NULL, NULL) == CORE_OK);
		CHECK(bm25_rank_segment(&ftop, &p, frt, 2, NULL, NULL, NULL) == CORE_OK);
		bm25_topk_sort(&top);
		bm25_topk_sort(&ftop);
		CHECK(top.n == 10 && ftop.n == 10);
		for (size_t h = 0; h < top.n; h++)
			CHECK_MSG(top.hits[h].docid == ftop.hits[h].docid &&
					  top.hits[h].score == ftop.hits[h].score, "hit %zu", h);
		for (int t = 0; t < 2; t++)
		{
			bm25_cursor_close(&c[t]);
			bm25_cursor_close(&fc[t]);
		}
		bm25_topk_free(&top);
		bm25_topk_free(&ftop);
	}

	/* a merge of the segment alone keeps only the live documents */
	src.segs = &r;
	src.nsegs = 1;
	bm25_buf_init(&ms.buf);
	w = bm25_segw_create(true, MemSink, &ms);
	CHECK(bm25_merge(&src, w, &mi, NULL, NULL) == CORE_OK);
	bm25_segw_free(w);
	CHECK(mi.ndocs == fi->ndocs && mi.total_dl == fi->total_dl && mi.nterms == fi->nterms);
	CHECK(bm25_segr_open(&mi, MemRead, &ms, &merged, NULL) == CORE_OK);

	for (size_t i = 0; i < n; i++)
		free(docs[i]);
	free(docs);
	free(live);
	free(ids);
	free(live_ids);
	bm25_segr_free(r);
	bm25_segr_free(fresh);
	bm25_segr_free(merged);
	bm25_buf_free(&s.buf);
	bm25_buf_free(&fs.buf);
	bm25_buf_free(&ms.buf);
}

static bool
DeadAroundFirstBlockEnd(size_t i)
{
	return i == 6 || i == 127 || i == 128;
}

/*
 * The ranking passes over a frequent term's postings inside a decoded
 * block and then moves its cursor there: to a later posting of the block,
 * or past the block's end into the next one, never onto a deleted one.
 */
UNIT_TEST(cursor_next_from_lands_on_the_next_live_posting_even_past_its_block)
{
	size_t		n = 300;
	const char **docs = malloc(n * sizeof(char *));
	uint64_t   *ids = malloc(n * sizeof(uint64_t));
	MemStream	s;
	Bm25SegReader *r;
	Bm25TermInfo ti;
	Bm25Cursor	c;

	for (size_t i = 0; i < n; i++)
	{
		docs[i] = "x";
		ids[i] = (uint64_t) i * 2 + 2;
	}
	r = BuildSegment(&s, docs, ids, n);
	CHECK(r != NULL);
	RecordDead(r, DeadAroundFirstBlockEnd);
	CHECK(bm25_segr_lookup(r, "x", 1, &ti) && ti.nblocks == 3);
	CHECK(bm25_cursor_open(&c, r, &ti, NULL) == CORE_OK);
	bm25_cursor_next_from(&c, 5);
	CHECK(c.block == 0 && c.idx == 5 && DocOf(&c) == ids[5]);
	bm25_cursor_next_from(&c, 6);
	CHECK(c.block == 0 && c.idx == 7 && DocOf(&c) == ids[7]);
	bm25_cursor_next_from(&c, 127);
	CHECK(c.block == 1 && DocOf(&c) == ids[129]);
	bm25_cursor_next_from(&c, c.n);
	CHECK(c.block == 2 && DocOf(&c) == ids[256] && bm25_cursor_status(&c) == CORE_OK);
	bm25_cursor_next_from(&c, c.n);
	CHECK(c.doc == BM25_DOC_END && bm25_cursor_status(&c) == CORE_OK);
	bm25_cursor_close(&c);
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
	free(docs);
	free(ids);
}

/* --- exact top-k over two segments, one with recorded deletions --- */

#define TWO_SEG_DISTINCT 1000
#define TWO_SEG_A 2000
#define TWO_SEG_B 1500

static bool two_seg_dead[TWO_SEG_A];

static bool
DeadMarked(size_t i)
{
	return two_seg_dead[i];
}

/*
 * Mark dead, in a segment of doc table index i holding doc id i * 5 + 1,
 * the documents at the last two and the first postings of every block of
 * term, where the cursor crosses from one block to the next.
 */
static void
MarkAroundBlockEnds(Bm25SegReader *r, const char *term)
{
	Bm25TermInfo ti;
	Bm25Cursor	c;

	CHECK(bm25_segr_lookup(r, term, strlen(term), &ti) && ti.nblocks > 2);
	CHECK(bm25_cursor_open(&c, r, &ti, NULL) == CORE_OK);
	for (uint32_t j = 0; c.doc != BM25_DOC_END; j++, bm25_cursor_next(&c))
		if (j % BM25_BLOCK_SIZE >= BM25_BLOCK_SIZE - 2 || (j > 0 && j % BM25_BLOCK_SIZE == 0))
			two_seg_dead[c.doc] = true;
	bm25_cursor_close(&c);
}

/*
 * The scan ranks every segment into one top k with statistics over all of
 * them; a segment's recorded deletions, clustered where the frequent
 * terms' cursors cross block ends, leave its live documents ranked exactly
 * as exhaustive scoring ranks them: the same scores and, at equal scores
 * (every document is there two or three times, in one segment or across
 * both), the lower doc id first, whichever segment is ranked first.  Rare
 * terms with frequent ones drive seeding, passing over and the block
 * skips; k = 1, 10 and more than the matches.
 */
UNIT_TEST(maxscore_over_two_segments_with_deletions_equals_exhaustive_ranking)
{
	char	  **base = RandomDocs(TWO_SEG_DISTINCT);
	const char *docs[TWO_SEG_A];
	uint64_t	ids_a[TWO_SEG_A];
	uint64_t	ids_b[TWO_SEG_B];
	MemStream	sa,
				sb;
	Bm25SegReader *segs[2];
	Bm25Bag    *bag = bm25_bag_create();
	const char *queries[][3] = {{"w190", "w0", "w1"}, {"w199", "w0", NULL},
	{"w150", "w1", "w2"}, {"w0", "w1", "w2"}};
	ScoredDoc  *all = malloc((TWO_SEG_A + TWO_SEG_B) * sizeof(ScoredDoc));
	uint64_t	ndocs = 0,
				total_dl = 0;
	int			ranked_by_ranges = 0;

	for (size_t i = 0; i < TWO_SEG_A; i++)
	{
		docs[i] = base[i % TWO_SEG_DISTINCT];
		ids_a[i] = (uint64_t) i * 5 + 1;
	}
	for (size_t i = 0; i < TWO_SEG_B; i++)
		ids_b[i] = 100000 + (uint64_t) i * 5 + 1;
	segs[0] = BuildSegment(&sa, docs, ids_a, TWO_SEG_A);
	segs[1] = BuildSegment(&sb, docs, ids_b, TWO_SEG_B);
	CHECK(segs[0] != NULL && segs[1] != NULL);
	memset(two_seg_dead, 0, sizeof(two_seg_dead));
	MarkAroundBlockEnds(segs[0], "w0");
	MarkAroundBlockEnds(segs[0], "w1");
	for (size_t i = 700; i < 760; i++)
		two_seg_dead[i] = true;
	RecordDead(segs[0], DeadMarked);
	for (int g = 0; g < 2; g++)
	{
		const Bm25Deletes *d = bm25_segr_deletes(segs[g]);

		ndocs += bm25_segr_info(segs[g])->ndocs - (d ? d->ndead : 0);
		total_dl += bm25_segr_info(segs[g])->total_dl - (d ? d->dead_dl : 0);
	}

	for (size_t q = 0; q < 4; q++)
	{
		Bm25Params	p = {1.2, 0.75, (double) total_dl / (double) ndocs, 0, 0};
		double		idf[3] = {0, 0, 0};
		size_t		nt = 0,
					matches = 0;

		bm25_params_prepare(&p);
		for (; nt < 3 && queries[q][nt]; nt++)
		{
			uint64_t	df = 0;

			for (int g = 0; g < 2; g++)
			{
				const Bm25Deletes *d = bm25_segr_deletes(segs[g]);
				Bm25TermInfo ti;

				if (bm25_segr_lookup(segs[g], queries[q][nt], strlen(queries[q][nt]), &ti))
					df += ti.df - (d ? bm25_deletes_term_dead(d, ti.off) : 0);
			}
			CHECK(df > 0);
			idf[nt] = bm25_idf(ndocs, df);
		}
		matches = ScoreMatches(all, 0, bag, docs, ids_a, TWO_SEG_A, two_seg_dead,
							   queries[q], idf, nt, &p);
		matches = ScoreMatches(all, matches, bag, docs, ids_b, TWO_SEG_B, NULL,
							   queries[q], idf, nt, &p);
		qsort(all, matches, sizeof(ScoredDoc), CompareScoredDocs);

		/* MaxScore, then range bounds wherever a term carries them */
		for (int kk = 0; kk < 12; kk++)
		{
			size_t		k = kk % 3 == 0 ? 1 : (kk % 3 == 1 ? 10 : matches + 5);
			bool		reversed = kk % 6 >= 3;
			bool		ranges = kk >= 6;
			Bm25TopK	top;

			CHECK(bm25_topk_init(&top, k));
			for (int g = reversed; g >= 0 && g <= 1; g += reversed ? -1 : 1)
			{
				Bm25Cursor	cur[3];
				Bm25RankTerm rt[3];
				size_t		nr = 0;

				for (size_t t = 0; t < nt; t++)
				{
					Bm25TermInfo ti;

					if (!bm25_segr_lookup(segs[g], queries[q][t], strlen(queries[q][t]), &ti))
						continue;
					CHECK(bm25_cursor_open(&cur[nr], segs[g], &ti, NULL) == CORE_OK);
					rt[nr].cursor = &cur[nr];
					rt[nr].idf = idf[t];
					nr++;
				}
				if (ranges && bm25_rank_ranges_usable(&p, rt, nr))
				{
					CHECK(bm25_rank_ranges(&top, &p, rt, nr, NULL, NULL, NULL) == CORE_OK);
					ranked_by_ranges++;
				}
				else
					CHECK(bm25_rank_maxscore(&top, &p, rt, nr, NULL, NULL, NULL) == CORE_OK);
				for (size_t t = 0; t < nr; t++)
					bm25_cursor_close(&cur[t]);
			}
			bm25_topk_sort(&top);
			CHECK_MSG(top.n == (k < matches ? k : matches), "query %zu k %zu%s%s: %zu hits of %zu",
					  q, k, reversed ? " reversed" : "", ranges ? " ranges" : "", top.n, matches);
			for (size_t h = 0; h < top.n; h++)
				CHECK_MSG(top.hits[h].docid == all[h].id && top.hits[h].score == all[h].score,
						  "query %zu k %zu%s%s hit %zu: doc %llu, exhaustive doc %llu", q, k,
						  reversed ? " reversed" : "", ranges ? " ranges" : "", h,
						  (unsigned long long) top.hits[h].docid,
						  (unsigned long long) all[h].id);
			bm25_topk_free(&top);
		}
	}
	/* the frequent terms carry ranges in both segments: each query used them */
	CHECK_MSG(ranked_by_ranges == 4 * 6 * 2, "ranked by ranges %d times", ranked_by_ranges);
	for (size_t i = 0; i < TWO_SEG_DISTINCT; i++)
		free(base[i]);
	free(base);
	free(all);
	bm25_bag_free(bag);
	bm25_segr_free(segs[0]);
	bm25_segr_free(segs[1]);
	bm25_buf_free(&sa.buf);
	bm25_buf_free(&sb.buf);
}

UNIT_TEST(corrupt_segment_is_an_error_not_a_crash)
{
	const char *docs[] = {"a b c", "a"};
	uint64_t	ids[] = {1, 2};
	MemStream	s;
	Bm25SegReader *r = BuildSegment(&s, docs, ids, 2);
	Bm25SegInfo info = *bm25_segr_info(r);
	Bm25SegReader *bad = NULL;
	CoreError	err = {0};

	/* a dictionary that claims more terms than it holds */
	info.nterms += 1000;
	CHECK(bm25_segr_open(&info, MemRead, &s, &bad, &err) == CORE_ERR_CORRUPT);
	CHECK(bad == NULL);
	/* a block header with a width past 64 bits */
	{
		Bm25TermInfo ti;
		Bm25Cursor	c;

		CHECK(bm25_segr_lookup(r, "a", 1, &ti));
		s.buf.data[ti.off + bm25_skip_table_size(ti.nblocks) + 1] = 200;
		CHECK(bm25_cursor_open(&c, r, &ti, &err) == CORE_ERR_CORRUPT);
		bm25_cursor_close(&c);
	}
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
}

/*
 * A doc table whose ids do not increase, or a dictionary whose term regions
 * do not, fails recording deletions instead of writing a record that every
 * later read would reject.
 */
UNIT_TEST(deletions_from_a_corrupt_segment_are_an_error)
{
	const char *docs[] = {"a b", "a", "b"};
	uint64_t	ids[] = {1, 2, 3};
	uint64_t	backwards[] = {2, 0};
	uint64_t	past[] = {3};
	uint32_t	dls[] = {1, 2};
	MemStream	s;
	Bm25SegReader *r = BuildSegment(&s, docs, ids, 3);
	const Bm25SegInfo *info = bm25_segr_info(r);
	Bm25Deletes *d = NULL;
	CoreError	err = {0};
	uint8_t		off0[8];
	uint8_t    *e0 = s.buf.data + info->dict_off;
	uint8_t    *e1 = e0 + 2 + 1 + 24;

	CHECK(bm25_deletes_add(r, backwards, dls, 2, NULL, NULL, &d, &err) == CORE_ERR_CORRUPT);
	CHECK(d == NULL && strstr(err.msg, "dead ordinal 0 at 1 is out of order"));
	memset(&err, 0, sizeof(err));
	CHECK(bm25_deletes_add(r, past, dls, 1, NULL, NULL, &d, &err) == CORE_ERR_CORRUPT);
	CHECK(d == NULL && strstr(err.msg, "dead ordinal 3 at 0"));
	/* swap the region offsets of "a" and "b" (u16 length, term, df u32, offset u64) */
	memcpy(off0, e0 + 2 + 1 + 4, 8);
	memcpy(e0 + 2 + 1 + 4, e1 + 2 + 1 + 4, 8);
	memcpy(e1 + 2 + 1 + 4, off0, 8);
	memset(&err, 0, sizeof(err));
	CHECK(bm25_deletes_add(r, ids, dls, 1, NULL, NULL, &d, &err) == CORE_ERR_CORRUPT);
	CHECK(d == NULL && strstr(err.msg, "term 1's region"));
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
}

UNIT_TEST(segment_writer_names_postings_by_doc_table_ordinal)
{
	uint64_t	docs[] = {7, 9, 40};
	uint32_t	dls[] = {1, 2, 3};
	uint64_t	stray[] = {9, 10};
	uint64_t	both[] = {7, 40};
	uint32_t	both_dls[] = {1, 3};
	uint32_t	wrong_dls[] = {1, 2};
	uint32_t	tfs[] = {1, 1};
	uint32_t	pos[] = {0, 0};
	MemStream	s;
	Bm25SegWriter *w;
	Bm25SegInfo info;
	Bm25SegReader *r = NULL;
	Bm25TermInfo ti;
	Bm25Cursor	c;
	CoreError	err = {0};
	uint64_t	ids[] = {2, 0};

	bm25_buf_init(&s.buf);
	w = bm25_segw_create(true, MemSink, &s);
	CHECK(bm25_segw_add_term(w, "a", 1, 2, both, tfs, both_dls, pos, &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "before the doc table"));
	CHECK(bm25_segw_set_docs(w, 3, docs, dls, NULL) == CORE_OK);
	memset(&err, 0, sizeof(err));
	CHECK(bm25_segw_add_term(w, "a", 1, 2, stray, tfs, dls, pos, &err) == CORE_ERR_INVALID);
	CHECK(strstr(err.msg, "term \"a\" has a document that is not in the doc table"));
	/* a posting's length must be its document's */
	CHECK(bm25_segw_add_term(w, "a", 1, 2, both, tfs, wrong_dls, pos, NULL) == CORE_ERR_INVALID);
	CHECK(bm25_segw_add_term(w, "b", 1, 2, both, tfs, both_dls, pos, NULL) == CORE_OK);
	CHECK(bm25_segw_finish(w, &info, NULL) == CORE_OK);
	bm25_segw_free(w);
	CHECK(bm25_segr_open(&info, MemRead, &s, &r, NULL) == CORE_OK);
	CHECK(bm25_segr_lookup(r, "b", 1, &ti));
	CHECK(bm25_cursor_open(&c, r, &ti, NULL) == CORE_OK);
	CHECK(c.doc == 0 && DocOf(&c) == 7);
	bm25_cursor_next(&c);
	CHECK(c.doc == 2 && DocOf(&c) == 40);
	bm25_cursor_close(&c);
	CHECK(bm25_segr_doc_ids(r, ids, 2, NULL) == CORE_OK && ids[0] == 40 && ids[1] == 7);
	ids[0] = 3;
	CHECK(bm25_segr_doc_ids(r, ids, 1, &err) == CORE_ERR_CORRUPT);
	/* a deletion record naming an ordinal past the doc table is corrupt */
	{
		Bm25Deletes one = {1, 1, (uint64_t[]) {3}, 0, NULL, NULL};
		Bm25Deletes *back = NULL;
		Bm25Buf		buf;

		bm25_buf_init(&buf);
		bm25_deletes_encode(&one, &buf);
		CHECK(bm25_deletes_decode(buf.data, buf.len, 3, &back, &err) == CORE_ERR_CORRUPT && back == NULL);
		CHECK(bm25_deletes_decode(buf.data, buf.len, 4, &back, NULL) == CORE_OK && back->ids[0] == 3);
		bm25_deletes_free(back);
		bm25_buf_free(&buf);
	}
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
}

/*
 * Rank one query over one segment by ranges or by MaxScore, with the
 * average length the segment's own times avgdl_factor.
 */
static CoreStatus
RankOne(Bm25SegReader *r, const char **terms, size_t nterms, size_t k, bool ranges,
		double avgdl_factor, Bm25TopK *top, CoreError *err)
{
	const Bm25SegInfo *info = bm25_segr_info(r);
	Bm25Params	p = {1.2, 0.75, (double) info->total_dl / (double) info->ndocs, 0, 0};
	Bm25Cursor	cur[4];
	Bm25RankTerm rt[4];
	size_t		nr = 0;
	CoreStatus	st;
	CoreError	local = {0};

	if (err == NULL)
		err = &local;
	p.avgdl *= avgdl_factor;
	bm25_params_prepare(&p);
	if (!bm25_topk_init(top, k))
		return CORE_ERR_NOMEM;
	for (size_t t = 0; t < nterms; t++)
	{
		Bm25TermInfo ti;

		if (!bm25_segr_lookup(r, terms[t], strlen(terms[t]), &ti))
			continue;
		/* named only, as the scan does: ranking opens what it reads */
		bm25_cursor_init(&cur[nr], r, &ti);
		rt[nr].cursor = &cur[nr];
		rt[nr].idf = bm25_idf(info->ndocs, ti.df);
		nr++;
	}
	if (ranges && !bm25_rank_ranges_usable(&p, rt, nr))
		st = core_error(err, CORE_ERR_INVALID, "no ranges");
	else if (ranges)
		st = bm25_rank_ranges(top, &p, rt, nr, NULL, NULL, err);
	else
		st = bm25_rank_maxscore(top, &p, rt, nr, NULL, NULL, err);
	for (size_t t = 0; t < nr; t++)
		bm25_cursor_close(&cur[t]);
	bm25_topk_sort(top);
	return st;
}

/* A build of no documents (an empty table) writes an empty segment. */
UNIT_TEST(segment_of_no_documents_builds_and_ranks_nothing)
{
	MemStream	s;
	Bm25SegReader *r = BuildSegment(&s, NULL, NULL, 0);
	const char *q[] = {"w0"};
	Bm25TopK	top;

	CHECK(r != NULL);
	CHECK(bm25_segr_info(r)->ndocs == 0 && bm25_segr_info(r)->nterms == 0);
	CHECK(RankOne(r, q, 1, 10, false, 1.0, &top, NULL) == CORE_OK && top.n == 0);
	bm25_topk_free(&top);
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
}

/*
 * Range bounds rank exactly as MaxScore where a document is longer than
 * their two-byte lengths hold and a tf is past one byte, and a corrupt
 * range area is an error, not a wrong answer.
 */
UNIT_TEST(range_ranking_handles_long_documents_large_tfs_and_corruption)
{
	size_t		n = 1500;
	char	  **base = RandomDocs(500);
	const char **docs = malloc(n * sizeof(char *));
	uint64_t   *ids = malloc(n * sizeof(uint64_t));
	char	   *longdoc = malloc(3 * 70002 + 1);
	char	   *manytf = malloc(3 * 301 + 1);
	const char *queries[][2] = {{"zq", "w0"}, {"w1", "w0"}, {"w0", NULL}};
	MemStream	s;
	Bm25SegReader *r;
	CoreError	err = {0};

	strcpy(longdoc, "w0");
	for (int i = 0; i < 70000; i++)
		memcpy(longdoc + 2 + 3 * i, " zq", 4);
	strcpy(manytf, "w0");
	for (int i = 0; i < 300; i++)
		memcpy(manytf + 2 + 3 * i, " w1", 4);
	for (size_t i = 0; i < n; i++)
	{
		docs[i] = base[i % 500];
		ids[i] = (uint64_t) i * 3 + 7;
	}
	docs[100] = longdoc;
	docs[200] = manytf;
	r = BuildSegment(&s, docs, ids, n);
	CHECK(r != NULL && bm25_segr_info(r)->range_min_df > 0);

	for (size_t q = 0; q < 3; q++)
	{
		size_t		nt = queries[q][1] ? 2 : 1;

		for (size_t k = 1; k <= 100; k *= 10)
		{
			Bm25TopK	a,
						b;
			bool		has_long = false;

			CHECK(RankOne(r, queries[q], nt, k, false, 1.0, &a, NULL) == CORE_OK);
			CHECK(RankOne(r, queries[q], nt, k, true, 1.0, &b, NULL) == CORE_OK);
			CHECK_MSG(a.n == b.n && a.n > 0, "query %zu k %zu: %zu and %zu hits", q, k, a.n, b.n);
			for (size_t h = 0; h < a.n; h++)
			{
				CHECK_MSG(a.hits[h].docid == b.hits[h].docid && a.hits[h].score == b.hits[h].score,
						  "query %zu k %zu hit %zu: %llu %.17g, by ranges %llu %.17g", q, k, h,
						  (unsigned long long) a.hits[h].docid, a.hits[h].score,
						  (unsigned long long) b.hits[h].docid, b.hits[h].score);
				has_long |= a.hits[h].docid == ids[100];
			}
			/* "zq w0": the long document is first, scored with its full length */
			CHECK(q != 0 || has_long);
			bm25_topk_free(&a);
			bm25_topk_free(&b);
		}
	}

	/* a range area with a bad tf width, then a chunk that ends before it starts */
	{
		Bm25TermInfo ti;
		Bm25Cursor	c;
		Bm25TermRanges tr;
		bool		has = false;
		const char *w1[] = {"w1"};
		Bm25TopK	top;
		uint8_t		saved[4];

		/* w1 has a tf of 300: two bytes a tf */
		CHECK(bm25_segr_lookup(r, "w1", 2, &ti));
		CHECK(bm25_cursor_open(&c, r, &ti, NULL) == CORE_OK);
		CHECK(bm25_term_ranges(&c, &tr, &has, NULL) == CORE_OK && has && tr.tf_width == 2);
		bm25_cursor_close(&c);
		s.buf.data[tr.best_off - BM25_RANGE_HEADER + 4] = 3;
		CHECK(RankOne(r, w1, 1, 10, true, 1.0, &top, &err) == CORE_ERR_CORRUPT);
		CHECK(strstr(err.msg, "range bounds of the term"));
		bm25_topk_free(&top);
		s.buf.data[tr.best_off - BM25_RANGE_HEADER + 4] = 2;
		memcpy(saved, s.buf.data + tr.chunk_off_off + 4, 4);
		memset(s.buf.data + tr.chunk_off_off + 4, 0, 4);
		memset(&err, 0, sizeof(err));
		CHECK(RankOne(r, w1, 1, 10, true, 1.0, &top, &err) == CORE_ERR_CORRUPT);
		CHECK(strstr(err.msg, "range chunk 0"));
		bm25_topk_free(&top);
		memcpy(s.buf.data + tr.chunk_off_off + 4, saved, 4);
		CHECK(RankOne(r, w1, 1, 10, true, 1.0, &top, NULL) == CORE_OK && top.n == 10);
		bm25_topk_free(&top);

		/* masks that claim every document of chunk 0: more than its tfs */
		{
			uint64_t	chunk0 = tr.chunks_off + bm25_get_u32(s.buf.data + tr.chunk_off_off);
			uint8_t		masks[2 * BM25_RANGE_CHUNK];

			memcpy(masks, s.buf.data + chunk0, sizeof(masks));
			memset(s.buf.data + chunk0, 0xFF, sizeof(masks));
			memset(&err, 0, sizeof(err));
			CHECK(RankOne(r, w1, 1, 10, true, 1.0, &top, &err) == CORE_ERR_CORRUPT);
			CHECK_MSG(strstr(err.msg, "lists more postings than it holds"), "%s", err.msg);
			bm25_topk_free(&top);
			memcpy(s.buf.data + chunk0, masks, sizeof(masks));
		}
	}
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
	for (size_t i = 0; i < 500; i++)
		free(base[i]);
	free(base);
	free(docs);
	free(ids);
	free(longdoc);
	free(manytf);
}

/*
 * A view of a segment held in memory, in pages of page bytes, that runs
 * out after budget pages as the AM's runs out of its share of the pool.
 */
typedef struct TestView
{
	const MemStream *s;
	size_t		page;
	size_t		budget;
	size_t		used;
	bool	   *seen;
} TestView;

static const uint8_t *
TestViewBytes(void *ctx, uint64_t off, size_t *len)
{
	TestView   *v = ctx;
	size_t		pg = off / v->page;
	size_t		left = v->page - off % v->page;

	if (off >= v->s->buf.len)
		return NULL;
	if (!v->seen[pg])
	{
		if (v->used == v->budget)
			return NULL;
		v->seen[pg] = true;
		v->used++;
	}
	if (left > v->s->buf.len - off)
		left = v->s->buf.len - off;
	*len = *len < left ? *len : left;
	return v->s->buf.data + off;
}

/* RankOne with the segment read through a TestView. */
static CoreStatus
RankViewed(Bm25SegReader *r, const MemStream *s, size_t page, size_t budget, const char **terms,
		   size_t nterms, size_t k, bool ranges, double avgdl_factor, Bm25TopK *top)
{
	TestView	v = {s, page, budget, 0, calloc(s->buf.len / page + 1, sizeof(bool))};
	CoreStatus	st;

	if (v.seen == NULL)
		return CORE_ERR_NOMEM;
	bm25_segr_set_view(r, TestViewBytes, &v);
	st = RankOne(r, terms, nterms, k, ranges, avgdl_factor, top, NULL);
	bm25_segr_set_view(r, NULL, NULL);
	free(v.seen);
	/* the view was read, within its budget */
	if (st == CORE_OK && (v.used == 0 || v.used > budget))
		st = CORE_ERR_INVALID;
	return st;
}

/*
 * top holds the first n documents of all (exhaustive, best first), ids and
 * scores equal; run names the ranking (k, or 100 + the view) in a failure.
 */
static void
CheckExhaustive(const Bm25TopK *top, const ScoredDoc *all, size_t n, double factor, size_t q,
				size_t run)
{
	CHECK_MSG(top->n == n, "factor %g query %zu run %zu: %zu hits, %zu expected", factor, q, run,
			  top->n, n);
	for (size_t h = 0; h < top->n; h++)
		CHECK_MSG(top->hits[h].docid == all[h].id && top->hits[h].score == all[h].score,
				  "factor %g query %zu run %zu hit %zu: %llu %.17g, exhaustive %llu %.17g",
				  factor, q, run, h, (unsigned long long) top->hits[h].docid,
				  top->hits[h].score, (unsigned long long) all[h].id, all[h].score);
}

/*
 * On a segment of 20,000 documents (1,250 ranges, more than ranking takes
 * best bound first, so the sweep in document order runs), ranking by
 * ranges equals exhaustive scoring with the average length as the segment
 * was written, lower (the stored bounds as they are) and higher (scaled
 * up), for k of 10 and past the matches (the sweep then scores them all);
 * for frequent terms, a frequent and a rare one, and rare terms that
 * together have as many postings as a frequent one; and read in place, in
 * small pages, with pages enough or running out of them.
 */
UNIT_TEST(range_ranking_sweeps_a_large_segment_exactly_as_statistics_move)
{
	size_t		n = 20000;
	char	  **base = RandomDocs(2000);
	const char **docs = malloc(n * sizeof(char *));
	uint64_t   *ids = malloc(n * sizeof(uint64_t));
	ScoredDoc  *all = malloc(n * sizeof(ScoredDoc));
	const char *queries[][3] = {{"w0", "w1", "w2"}, {"w3", "w150", NULL}, {"w7", NULL, NULL},
	{"w195", "w197", "w199"}};
	const size_t nqueries = sizeof(queries) / sizeof(queries[0]);
	const double factors[] = {0.7, 1.0, 1.4};
	Bm25Bag    *bag = bm25_bag_create();
	MemStream	s;
	Bm25SegReader *r;

	for (size_t i = 0; i < n; i++)
	{
		docs[i] = base[i % 2000];
		ids[i] = (uint64_t) i * 2 + 1;
	}
	r = BuildSegment(&s, docs, ids, n);
	CHECK(r != NULL && bm25_nranges(bm25_segr_info(r)->ndocs) > 1000);
	{
		/* the last query's terms are rare, and enough postings together */
		uint64_t	sum = 0;
		uint32_t	min_df = bm25_segr_info(r)->range_min_df;

		for (size_t t = 0; t < 3; t++)
		{
			Bm25TermInfo ti;

			CHECK(bm25_segr_lookup(r, queries[nqueries - 1][t], strlen(queries[nqueries - 1][t]), &ti));
			CHECK_MSG(ti.df < min_df, "%s: df %u", queries[nqueries - 1][t], ti.df);
			sum += ti.df;
		}
		CHECK_MSG(sum >= min_df, "%llu postings, %u needed", (unsigned long long) sum, min_df);
	}
	/* with AVX2 where the machine has it, then the scalar loops */
	for (size_t f = 0; f < 6; f++)
		for (size_t q = 0; q < nqueries; q++)
		{
			const Bm25SegInfo *info = bm25_segr_info(r);
			/* as RankOne computes it, to the last bit */
			Bm25Params	p = {1.2, 0.75, (double) info->total_dl / (double) info->ndocs * factors[f % 3], 0, 0};
			size_t		nt = 0,
						matches = 0;
			double		idf[3];

			bm25_params_prepare(&p);
			bm25_rank_ranges_scalar_only(f >= 3);
			for (; nt < 3 && queries[q][nt]; nt++)
			{
				Bm25TermInfo ti;

				CHECK(bm25_segr_lookup(r, queries[q][nt], strlen(queries[q][nt]), &ti));
				idf[nt] = bm25_idf(info->ndocs, ti.df);
			}
			matches = ScoreMatches(all, 0, bag, docs, ids, n, NULL, queries[q], idf, nt, &p);
			qsort(all, matches, sizeof(ScoredDoc), CompareScoredDocs);
			for (size_t kk = 0; kk < 2; kk++)
			{
				size_t		k = kk == 0 ? 10 : matches + 5;
				Bm25TopK	top;

				CHECK(RankOne(r, queries[q], nt, k, true, factors[f % 3], &top, NULL) == CORE_OK);
				CheckExhaustive(&top, all, k < matches ? k : matches, factors[f % 3], q, k);
				bm25_topk_free(&top);
			}
			for (size_t v = 0; v < 4; v++)
			{
				/* pages of 97 or 4,000 bytes, enough of them or too few */
				size_t		page = v % 2 ? 4000 : 97;
				size_t		budget = v < 2 ? SIZE_MAX : (v % 2 ? 3 : 60);
				Bm25TopK	top;

				CHECK(RankViewed(r, &s, page, budget, queries[q], nt, 10, true, factors[f % 3], &top) == CORE_OK);
				CheckExhaustive(&top, all, 10 < matches ? 10 : matches, factors[f % 3], q, 100 + v);
				bm25_topk_free(&top);
			}
		}
	bm25_rank_ranges_scalar_only(false);
	{
		/*
		 * Nothing the reader remembers of one view outlives it: rank
		 * through a copy, spoil the copy, then rank through another.
		 */
		MemStream	a = s,
					b = s;
		Bm25TopK	plain,
					viewed;

		a.buf.data = malloc(s.buf.len);
		b.buf.data = malloc(s.buf.len);
		memcpy(a.buf.data, s.buf.data, s.buf.len);
		memcpy(b.buf.data, s.buf.data, s.buf.len);
		CHECK(RankOne(r, queries[0], 3, 10, true, 1.0, &plain, NULL) == CORE_OK);
		CHECK(RankViewed(r, &a, 4000, SIZE_MAX, queries[0], 3, 10, true, 1.0, &viewed) == CORE_OK);
		bm25_topk_free(&viewed);
		memset(a.buf.data, 0xAB, s.buf.len);
		CHECK(RankViewed(r, &b, 4000, SIZE_MAX, queries[0], 3, 10, true, 1.0, &viewed) == CORE_OK);
		CHECK(viewed.n == plain.n);
		for (size_t h = 0; h < plain.n; h++)
			CHECK(viewed.hits[h].docid == plain.hits[h].docid && viewed.hits[h].score == plain.hits[h].score);
		bm25_topk_free(&plain);
		bm25_topk_free(&viewed);
		free(a.buf.data);
		free(b.buf.data);
	}
	bm25_segr_free(r);
	bm25_buf_free(&s.buf);
	bm25_bag_free(bag);
	for (size_t i = 0; i < 2000; i++)
		free(base[i]);
	free(base);
	free(docs);
	free(ids);
	free(all);
}

/* bm25_float_up is the least float at or above its argument. */
UNIT_TEST(float_up_is_the_least_float_not_below)
{
	const double edges[] = {0.0, 1e-46, 1e-40, 0.1, 1.0, 1.0 + 1e-12, 3.4e38, 3.4028235e38,
	3.5e38, -0.1, -1e-46};

	uint64_t	x = 88172645463325252ULL;	/* its own generator: Rand's
											 * sequence feeds later tests */

	for (int i = 0; i < 100000 + (int) (sizeof(edges) / sizeof(edges[0])); i++)
	{
		double		v;
		float		f,
					below;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v = i < 100000 ? (double) (x >> 34) / (double) (1 + (x & 0xFFFFF)) * (i % 7 == 0 ? 1e-30 : 1.0) :
			edges[i - 100000];
		f = bm25_float_up(v);
		below = nextafterf(f, -INFINITY);

		CHECK_MSG((double) f >= v && (double) below < v, "%.17g: %.9g", v, (double) f);
	}
}

/*
 * The AVX2 loops of range ranking give what the scalar loops give: the
 * same sums up to a rounding a term, the same best bound, the same mask
 * (ties and zeros included, and a group whose bounds are all zero), the
 * same count of postings.
 */
UNIT_TEST(range_ranking_avx2_loops_match_scalar)
{
	float		u[BM25_RANGE_GROUP];
	uint8_t		bytes[4][BM25_RANGE_GROUP];
	const uint8_t *q[4] = {bytes[0], bytes[1], bytes[2], bytes[3]};
	float		w[4];
	uint8_t		masks[2 * BM25_RANGE_CHUNK];

	if (!distance_isa_supported(KERNEL_ISA_AVX2))
	{
		printf("# skip: no AVX2 here\n");
		return;
	}
	for (int trial = 0; trial < 200; trial++)
	{
		size_t		nterms = (size_t) (trial % 5);
		float		best = 0.0f,
					sum_best,
					t;
		uint64_t	want = 0;

		for (size_t i = 0; i < nterms; i++)
		{
			w[i] = (float) (Rand(1000) + 1) / 997.0f;
			for (int k = 0; k < BM25_RANGE_GROUP; k++)
				/* many zeros and repeated values when the trial says so */
				bytes[i][k] = (uint8_t) (trial % 3 == 0 ? 0 : Rand(trial % 2 ? 4 : 256));
		}
		sum_best = bm25_group_sum_avx2(u, q, w, nterms);
		for (int k = 0; k < BM25_RANGE_GROUP; k++)
		{
			float		s = 0.0f;

			for (size_t i = 0; i < nterms; i++)
				s += w[i] * (float) bytes[i][k];
			CHECK_MSG(fabsf(u[k] - s) <= 1e-6f * fabsf(s), "trial %d k %d: %g against %g", trial, k,
					  (double) u[k], (double) s);
			best = u[k] > best ? u[k] : best;
		}
		CHECK(sum_best == best);
		CHECK(bm25_group_best_avx2(u) == best);
		/* the group's best, before any threshold, zero, or anything */
		t = trial % 5 == 0 ? best : trial % 5 == 1 ? -INFINITY : trial % 5 == 2 ? 0.0f :
			(float) Rand(1000) / 7.0f;
		for (int k = 0; k < BM25_RANGE_GROUP; k++)
			if (u[k] > 0.0f && u[k] >= t)
				want |= (uint64_t) 1 << k;
		CHECK_MSG(bm25_group_reaching_avx2(u, t) == want, "trial %d", trial);

		{
			/* a range's document bounds: masked adds, and which are not beaten */
			float		a[BM25_RANGE_DOCS] = {0},
						s[BM25_RANGE_DOCS] = {0};
			double		slack = 1.0 + 10.0 * FLT_EPSILON;
			double		theta = trial % 4 == 0 ? -INFINITY : (double) Rand(2000) / 7.0;
			uint32_t	not_beaten = 0;

			for (int t = 0; t < 4; t++)
			{
				uint32_t	m = (uint32_t) Rand(1u << 16);
				float		v = (float) Rand(1000) / 7.0f;

				bm25_mask_add_avx2(a, m, v);
				for (int b = 0; b < BM25_RANGE_DOCS; b++)
					if (m & (1u << b))
						s[b] += v;
			}
			for (int b = 0; b < BM25_RANGE_DOCS; b++)
			{
				CHECK_MSG(memcmp(&a[b], &s[b], sizeof(float)) == 0, "trial %d doc %d: %g against %g", trial, b,
						  (double) a[b], (double) s[b]);
				if (!((double) s[b] * slack < theta))
					not_beaten |= 1u << b;
			}
			CHECK_MSG(bm25_not_beaten_avx2(a, slack, theta) == not_beaten, "trial %d", trial);
		}
		if (trial == 0)
		{
			/* equality, zeros, infinities and NaN, on either side */
			float		e[BM25_RANGE_DOCS] = {0.0f, 1.5f, INFINITY, NAN, 2.0f, 0.0f, 1.5f, 3.0f,
			1.0f, 1.5f, 2.5f, INFINITY, NAN, 0.5f, 1.5f, 0.0f};
			double		slack = 1.0 + 10.0 * FLT_EPSILON;
			double		thetas[] = {(double) 1.5f * slack, 0.0, -INFINITY, INFINITY, NAN};

			for (size_t t = 0; t < sizeof(thetas) / sizeof(thetas[0]); t++)
			{
				uint32_t	want = 0;

				for (int b = 0; b < BM25_RANGE_DOCS; b++)
					if (!((double) e[b] * slack < thetas[t]))
						want |= 1u << b;
				CHECK_MSG(bm25_not_beaten_avx2(e, slack, thetas[t]) == want, "theta %g", thetas[t]);
			}
		}

		for (size_t b = 0; b < sizeof(masks); b++)
			masks[b] = (uint8_t) (trial % 4 == 0 ? 0xFF : Rand(256));
		for (uint32_t from = 0; from <= BM25_RANGE_CHUNK; from += 1 + (uint32_t) Rand(9))
		{
			uint32_t	to = from + (uint32_t) Rand(BM25_RANGE_CHUNK - from + 1);
			uint32_t	bits = 0;

			for (uint32_t m = from; m < to; m++)
				bits += (uint32_t) __builtin_popcount((uint32_t) masks[2 * m] | (uint32_t) masks[2 * m + 1] << 8);
			CHECK_MSG(bm25_count_postings_avx2(masks, from, to) == bits, "trial %d [%u, %u)", trial, from, to);
		}
	}
}

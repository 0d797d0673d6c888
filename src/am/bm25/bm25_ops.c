/*-------------------------------------------------------------------------
 *
 * bm25_ops.c
 *	  The SQL operators and functions of lance_bm25.
 *
 * body <@> 'q' is the ORDER BY operator: the index returns rows in order
 * with their negated score.  In a SELECT list it is called once per
 * returned row; where the index scan node itself evaluates it, the planner
 * hook of bm25_score.c has made it lance_bm25_scored, which takes the
 * score the scan computed for the row.  Elsewhere, and for rows no scan
 * has just returned, the row's text is scored: that needs the statistics
 * of the whole index (N, avgdl, df), which the function cannot see, so
 * every lance_bm25 ranking scan leaves them here and the function scores
 * the row's text with them.  Called for a query no scan in this backend
 * has ranked, it raises an error rather than make up a score.
 *
 * body @@@ 'q' is normally an index condition; evaluated by itself (a
 * filter, a sequential scan) it tokenizes like the index of the last
 * lance_bm25 scan in this backend, or with the built-in tokenizer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "am/bm25/bm25.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

typedef struct RememberedScan
{
	bool		valid;
	Bm25Tokenizer tok;
	char	   *query;
	double		k1;
	double		b;
	uint64		ndocs;
	double		avgdl;
	int			nterms;
	char	  **terms;
	uint32	   *lens;
	uint64	   *dfs;
	MemoryContext cxt;
} RememberedScan;

static RememberedScan last_scan;

void
Bm25RememberScan(const Bm25Tokenizer *tok, text *query, double k1, double b, uint64 ndocs,
				 double avgdl, const Bm25QToken *const *terms, const uint64 *dfs, size_t nterms)
{
	MemoryContext old;

	if (last_scan.cxt == NULL)
		last_scan.cxt = AllocSetContextCreate(TopMemoryContext, "lance_bm25 last scan",
											  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(last_scan.cxt);
	last_scan.valid = false;
	old = MemoryContextSwitchTo(last_scan.cxt);
	last_scan.tok = *tok;
	last_scan.query = text_to_cstring(query);
	last_scan.k1 = k1;
	last_scan.b = b;
	last_scan.ndocs = ndocs;
	last_scan.avgdl = avgdl;
	last_scan.nterms = (int) nterms;
	last_scan.terms = palloc(Max(nterms, 1) * sizeof(char *));
	last_scan.lens = palloc(Max(nterms, 1) * sizeof(uint32));
	last_scan.dfs = palloc(Max(nterms, 1) * sizeof(uint64));
	for (size_t i = 0; i < nterms; i++)
	{
		last_scan.terms[i] = pnstrdup(terms[i]->term, terms[i]->len);
		last_scan.lens[i] = terms[i]->len;
		last_scan.dfs[i] = dfs[i];
	}
	MemoryContextSwitchTo(old);
	last_scan.valid = true;
}

/* The functions take text or text[] documents (one C symbol, two SQL names). */
static bool
ArgIsArray(FunctionCallInfo fcinfo)
{
	return get_fn_expr_argtype(fcinfo->flinfo, 0) == TEXTARRAYOID;
}

static void
FreeBag(void *p)
{
	bm25_bag_free(p);
}

static void
FreeQuery(void *p)
{
	bm25_query_free(p);
}

/* The score of doc for query, with the statistics of the last scan. */
static double
ScoreRow(Datum doc, bool is_array, text *query)
{
	char	   *q = text_to_cstring(query);
	Bm25Bag    *bag;
	Bm25Params	p;
	double		score = 0.0;
	const Bm25DocTerm *terms;
	size_t		n;

	if (!last_scan.valid || strcmp(q, last_scan.query) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no lance_bm25 index scan has ranked the query \"%s\"", q),
				 errdetail("A BM25 score needs the statistics of the index, which only its scan knows."),
				 errhint("Use the operator in a query that orders by it through a lance_bm25 index: ORDER BY body <@> '...' LIMIT k.")));
	bag = bm25_bag_create();
	if (bag == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	Bm25Track(CurrentMemoryContext, FreeBag, bag);
	Bm25TokenizeDatum(&last_scan.tok, doc, is_array, bag);
	terms = bm25_bag_terms(bag);
	n = bm25_bag_nterms(bag);
	p.k1 = last_scan.k1;
	p.b = last_scan.b;
	p.avgdl = last_scan.avgdl;
	bm25_params_prepare(&p);
	for (int t = 0; t < last_scan.nterms; t++)
	{
		long		j = bm25_terms_find(terms, n, last_scan.terms[t], last_scan.lens[t]);

		if (j >= 0)
			score += bm25_idf(last_scan.ndocs, last_scan.dfs[t]) *
				bm25_tf_part(&p, terms[j].tf, bm25_bag_dl(bag));
	}
	return score;
}

PG_FUNCTION_INFO_V1(lance_bm25_rank);
Datum
lance_bm25_rank(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(-ScoreRow(PG_GETARG_DATUM(0), ArgIsArray(fcinfo), PG_GETARG_TEXT_PP(1)));
}

PG_FUNCTION_INFO_V1(lance_bm25_score);
Datum
lance_bm25_score(PG_FUNCTION_ARGS)
{
	PG_RETURN_FLOAT8(ScoreRow(PG_GETARG_DATUM(0), ArgIsArray(fcinfo), PG_GETARG_TEXT_PP(1)));
}

/*
 * lance_bm25_scored(body, query, index, ctid, negated): body <@> query or
 * lance_bm25_score(body, query) as the planner hook rewrote them in a
 * lance_bm25 scan node.
 */
PG_FUNCTION_INFO_V1(lance_bm25_scored);
Datum
lance_bm25_scored(PG_FUNCTION_ARGS)
{
	text	   *query = PG_GETARG_TEXT_PP(1);
	double		score;

	if (!Bm25PublishedScore(PG_GETARG_OID(2), query, (ItemPointer) PG_GETARG_POINTER(3), &score))
		score = ScoreRow(PG_GETARG_DATUM(0), ArgIsArray(fcinfo), query);
	PG_RETURN_FLOAT8(PG_GETARG_BOOL(4) ? -score : score);
}

PG_FUNCTION_INFO_V1(lance_bm25_match);
Datum
lance_bm25_match(PG_FUNCTION_ARGS)
{
	Datum		doc = PG_GETARG_DATUM(0);
	text	   *query = PG_GETARG_TEXT_PP(1);
	Bm25Tokenizer tok = {BM25_TOKENIZER_SIMPLE, InvalidOid, true};
	Bm25QNode  *root;
	Bm25Bag    *bag;
	bool		hit;

	if (last_scan.valid)
		tok = last_scan.tok;
	tok.positions = true;
	root = Bm25ParseQuery(&tok, query);
	if (root == NULL)
		PG_RETURN_BOOL(false);
	Bm25Track(CurrentMemoryContext, FreeQuery, root);
	bag = bm25_bag_create();
	if (bag == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	Bm25Track(CurrentMemoryContext, FreeBag, bag);
	Bm25TokenizeDatum(&tok, doc, ArgIsArray(fcinfo), bag);
	hit = bm25_query_match_doc(root, bm25_bag_terms(bag), bm25_bag_nterms(bag));
	PG_RETURN_BOOL(hit);
}

/* Check a query's syntax (for tests and for applications). */
PG_FUNCTION_INFO_V1(lance_bm25_parse);
Datum
lance_bm25_parse(PG_FUNCTION_ARGS)
{
	Bm25Tokenizer tok = {BM25_TOKENIZER_SIMPLE, InvalidOid, true};
	Bm25QNode  *root = Bm25ParseQuery(&tok, PG_GETARG_TEXT_PP(0));

	if (root)
		Bm25Track(CurrentMemoryContext, FreeQuery, root);
	PG_RETURN_BOOL(root != NULL);
}

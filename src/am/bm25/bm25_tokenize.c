/*-------------------------------------------------------------------------
 *
 * bm25_tokenize.c
 *	  Turn documents and queries into terms: the built-in "simple"
 *	  tokenizer, or any PostgreSQL text search configuration.
 *
 * With a configuration, a document's terms are exactly its to_tsvector():
 * the lexemes, tf = the number of positions the tsvector kept (at most 256
 * per lexeme; 1 for a lexeme without positions) and those positions.  That
 * is what an exact BM25 over tsvectors (and ../shared's english reference)
 * counts, stop words excluded from the length.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "am/bm25/bm25.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "kernels/bm25_tokenize.h"
#include "tsearch/ts_type.h"
#include "tsearch/ts_utils.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/regproc.h"

Bm25Tokenizer
Bm25TokenizerFromOptions(Relation index)
{
	Bm25Options *opts = (Bm25Options *) index->rd_options;
	Bm25Tokenizer tok;
	const char *cfg = "simple";

	tok.kind = BM25_TOKENIZER_SIMPLE;
	tok.ts_config = InvalidOid;
	tok.positions = opts ? opts->positions : true;
	if (opts && opts->text_config)
		cfg = (const char *) opts + opts->text_config;
	if (strcmp(cfg, "simple") != 0)
	{
		List	   *names = stringToQualifiedNameList(cfg);

		tok.kind = BM25_TOKENIZER_TSCONFIG;
		tok.ts_config = get_ts_config_oid(names, true);
		if (!OidIsValid(tok.ts_config))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("text search configuration \"%s\" does not exist", cfg),
					 errhint("Use \"simple\" for the built-in tokenizer, or a configuration listed by \\dF.")));
	}
	return tok;
}

/*
 * Elements of a text[] document are tokenized in turn, each starting this
 * many positions after the last token of the one before, so a phrase never
 * spans two elements (Lucene's position increment gap does the same).
 */
#define BM25_ELEMENT_GAP 100

typedef struct SimpleArg
{
	Bm25Bag    *bag;
	bool		positions;
	uint32		base;			/* added to every position */
	uint32		last;			/* largest position seen, plus one */
	CoreError	err;
	bool		failed;
} SimpleArg;

static int
SimpleToken(void *arg, const char *tok, size_t len, uint32_t pos)
{
	SimpleArg  *a = arg;

	pos += a->base;
	if (pos + 1 > a->last)
		a->last = pos + 1;
	if (len > BM25_MAX_TERM_LEN)
	{
		/* no real word is this long: not indexed, but it is part of dl */
		bm25_bag_add_length(a->bag, 1);
		return 0;
	}
	if (bm25_bag_add_term(a->bag, tok, len, 1, a->positions ? &pos : NULL, &a->err) != CORE_OK)
	{
		a->failed = true;
		return 1;
	}
	return 0;
}

/* Add a tsvector's lexemes; returns the largest position plus one. */
static uint32
TsvectorToBag(TSVector tsv, bool positions, uint32 base, Bm25Bag *bag)
{
	uint32		last = base;

	WordEntry  *we = ARRPTR(tsv);
	char	   *lexemes = STRPTR(tsv);
	CoreError	err = {0};
	uint32		posbuf[MAXNUMPOS];

	for (int i = 0; i < tsv->size; i++)
	{
		uint32		tf = 1;

		if (we[i].len > BM25_MAX_TERM_LEN)
			continue;
		if (we[i].haspos)
		{
			WordEntryPos *wp = POSDATAPTR(tsv, &we[i]);

			tf = POSDATALEN(tsv, &we[i]);
			for (uint32 j = 0; j < tf; j++)
			{
				posbuf[j] = WEP_GETPOS(wp[j]) + base;
				if (posbuf[j] + 1 > last)
					last = posbuf[j] + 1;
			}
		}
		else
			posbuf[0] = base;
		if (bm25_bag_add_term(bag, lexemes + we[i].pos, we[i].len, tf,
							  positions ? posbuf : NULL, &err) != CORE_OK)
			Bm25ReportCore(&err, "tokenizing", NULL);
	}
	return last;
}

/* Add one piece of text whose positions start at base; returns the end. */
static uint32
TokenizeInto(const Bm25Tokenizer *tok, text *doc, uint32 base, Bm25Bag *bag)
{
	if (tok->kind == BM25_TOKENIZER_SIMPLE)
	{
		SimpleArg	a = {bag, tok->positions, base, base, {0}, false};

		bm25_tokenize_simple(VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc), SimpleToken, &a);
		if (a.failed)
			Bm25ReportCore(&a.err, "tokenizing", NULL);
		return a.last;
	}
	else
	{
		TSVector	tsv = DatumGetTSVector(DirectFunctionCall2(to_tsvector_byid,
															   ObjectIdGetDatum(tok->ts_config),
															   PointerGetDatum(doc)));
		uint32		last = TsvectorToBag(tsv, tok->positions, base, bag);

		pfree(tsv);
		return last;
	}
}

/*
 * Tokenize a text or text[] document into bag (reset first, finished
 * after); NULL elements of an array are skipped.
 */
void
Bm25TokenizeDatum(const Bm25Tokenizer *tok, Datum value, bool is_array, Bm25Bag *bag)
{
	bm25_bag_reset(bag);
	if (!is_array)
		TokenizeInto(tok, DatumGetTextPP(value), 0, bag);
	else
	{
		ArrayType  *arr = DatumGetArrayTypeP(value);
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		uint32		base = 0;

		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
		{
			if (nulls[i])
				continue;
			base = TokenizeInto(tok, DatumGetTextPP(elems[i]), base, bag) + BM25_ELEMENT_GAP;
		}
	}
	bm25_bag_finish(bag);
}

/* Tokenize one text into bag (reset first, finished after). */
void
Bm25TokenizeText(const Bm25Tokenizer *tok, text *doc, Bm25Bag *bag)
{
	Bm25TokenizeDatum(tok, PointerGetDatum(doc), false, bag);
}

typedef struct LeafArg
{
	const Bm25Tokenizer *tok;
	Bm25Bag    *bag;
	CoreError	err;
} LeafArg;

/*
 * A leaf's tokens, with their positions so a phrase knows the gaps between
 * its words (stop words keep their place in a configuration's positions).
 */
static CoreStatus
TokenizeLeaf(void *arg, Bm25QNode *leaf)
{
	LeafArg    *a = arg;
	text	   *t = cstring_to_text_with_len(leaf->text, leaf->textlen);
	Bm25Tokenizer tok = *a->tok;
	const Bm25DocTerm *terms;
	size_t		n;

	tok.positions = true;
	Bm25TokenizeText(&tok, t, a->bag);
	terms = bm25_bag_terms(a->bag);
	n = bm25_bag_nterms(a->bag);
	/* tokens in text order: every occurrence of every term */
	for (size_t i = 0; i < n; i++)
		for (uint32 j = 0; j < terms[i].tf; j++)
		{
			CoreStatus	st = bm25_qleaf_add_token(leaf, terms[i].term, terms[i].len,
												  terms[i].pos[j], &a->err);

			if (st != CORE_OK)
				return st;
		}
	pfree(t);
	return CORE_OK;
}

/* Parse and tokenize a query; NULL when it has no term at all. */
Bm25QNode *
Bm25ParseQuery(const Bm25Tokenizer *tok, text *query)
{
	CoreError	err = {0};
	Bm25QNode  *root;
	LeafArg		a;
	char	   *q = text_to_cstring(query);

	if (bm25_query_parse(q, strlen(q), &root, &err) != CORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_SYNTAX_ERROR),
				 errmsg("syntax error in lance_bm25 query \"%s\": %s", q, err.msg),
				 errhint("Words are ORed; use AND, OR, NOT (upper case), \"quoted phrases\" and parentheses.")));
	if (root == NULL)
		return NULL;
	a.tok = tok;
	a.bag = bm25_bag_create();
	memset(&a.err, 0, sizeof(a.err));
	if (a.bag == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	if (bm25_query_walk_leaves(root, TokenizeLeaf, &a) != CORE_OK)
	{
		bm25_bag_free(a.bag);
		bm25_query_free(root);
		Bm25ReportCore(&a.err, "tokenizing a query", NULL);
	}
	bm25_bag_free(a.bag);
	return bm25_query_simplify(root);
}

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
#include "kernels/bm25_tokenize.h"
#include "tsearch/ts_type.h"
#include "tsearch/ts_utils.h"
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

typedef struct SimpleArg
{
	Bm25Bag    *bag;
	bool		positions;
	CoreError	err;
	bool		failed;
} SimpleArg;

static int
SimpleToken(void *arg, const char *tok, size_t len, uint32_t pos)
{
	SimpleArg  *a = arg;

	if (len > BM25_MAX_TERM_LEN)
		return 0;				/* no real word is this long; skip it */
	if (bm25_bag_add_term(a->bag, tok, len, 1, a->positions ? &pos : NULL, &a->err) != CORE_OK)
	{
		a->failed = true;
		return 1;
	}
	return 0;
}

static void
TsvectorToBag(TSVector tsv, bool positions, Bm25Bag *bag)
{
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
				posbuf[j] = WEP_GETPOS(wp[j]);
		}
		else
			posbuf[0] = 0;
		if (bm25_bag_add_term(bag, lexemes + we[i].pos, we[i].len, tf,
							  positions ? posbuf : NULL, &err) != CORE_OK)
			Bm25ReportCore(&err, "tokenizing", NULL);
	}
}

/* Tokenize a document into bag (reset first, finished after). */
void
Bm25TokenizeText(const Bm25Tokenizer *tok, text *doc, Bm25Bag *bag)
{
	bm25_bag_reset(bag);
	if (tok->kind == BM25_TOKENIZER_SIMPLE)
	{
		SimpleArg	a = {bag, tok->positions, {0}, false};

		bm25_tokenize_simple(VARDATA_ANY(doc), VARSIZE_ANY_EXHDR(doc), SimpleToken, &a);
		if (a.failed)
			Bm25ReportCore(&a.err, "tokenizing", NULL);
	}
	else
	{
		TSVector	tsv = DatumGetTSVector(DirectFunctionCall2(to_tsvector_byid,
															   ObjectIdGetDatum(tok->ts_config),
															   PointerGetDatum(doc)));

		TsvectorToBag(tsv, tok->positions, bag);
		pfree(tsv);
	}
	bm25_bag_finish(bag);
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

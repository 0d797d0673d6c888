/*-------------------------------------------------------------------------
 *
 * bm25_query.c
 *	  The BM25 query language: parsing, and boolean matching of documents.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_query.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

typedef enum LexKind
{
	LEX_END,
	LEX_WORD,
	LEX_QUOTED,
	LEX_LPAREN,
	LEX_RPAREN,
	LEX_AND,
	LEX_OR,
	LEX_NOT
} LexKind;

typedef struct Parser
{
	const char *q;
	size_t		len;
	size_t		at;				/* next unread byte */
	LexKind		kind;			/* the current token */
	size_t		start;			/* its text */
	size_t		tlen;
	size_t		tokpos;			/* where it starts, for messages */
	int			depth;
	CoreError  *err;
} Parser;

#define MAX_DEPTH 64

static inline bool
IsSpace(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static CoreStatus
Lex(Parser *p)
{
	while (p->at < p->len && IsSpace(p->q[p->at]))
		p->at++;
	p->tokpos = p->at;
	if (p->at >= p->len)
	{
		p->kind = LEX_END;
		return CORE_OK;
	}
	switch (p->q[p->at])
	{
		case '(':
			p->kind = LEX_LPAREN;
			p->at++;
			return CORE_OK;
		case ')':
			p->kind = LEX_RPAREN;
			p->at++;
			return CORE_OK;
		case '"':
			{
				const char *close = memchr(p->q + p->at + 1, '"', p->len - p->at - 1);

				if (close == NULL)
					return core_error(p->err, CORE_ERR_INVALID,
									  "unterminated quoted phrase starting at character %zu",
									  p->at + 1);
				p->kind = LEX_QUOTED;
				p->start = p->at + 1;
				p->tlen = (size_t) (close - (p->q + p->start));
				p->at = p->start + p->tlen + 1;
				return CORE_OK;
			}
		default:
			break;
	}
	p->start = p->at;
	while (p->at < p->len && !IsSpace(p->q[p->at]) &&
		   p->q[p->at] != '(' && p->q[p->at] != ')' && p->q[p->at] != '"')
		p->at++;
	p->tlen = p->at - p->start;
	p->kind = LEX_WORD;
	if (p->tlen == 3 && memcmp(p->q + p->start, "AND", 3) == 0)
		p->kind = LEX_AND;
	else if (p->tlen == 2 && memcmp(p->q + p->start, "OR", 2) == 0)
		p->kind = LEX_OR;
	else if (p->tlen == 3 && memcmp(p->q + p->start, "NOT", 3) == 0)
		p->kind = LEX_NOT;
	return CORE_OK;
}

static const char *
LexName(LexKind k)
{
	switch (k)
	{
		case LEX_END:
			return "the end of the query";
		case LEX_RPAREN:
			return "\")\"";
		case LEX_AND:
			return "AND";
		case LEX_OR:
			return "OR";
		default:
			return "a word";
	}
}

static Bm25QNode *
NewNode(Bm25QKind kind)
{
	Bm25QNode  *n = core_calloc(1, sizeof(Bm25QNode));

	if (n)
		n->kind = kind;
	return n;
}

static bool
AddKid(Bm25QNode *n, Bm25QNode *kid)
{
	Bm25QNode **nk = core_realloc(n->kids, (n->nkids + 1) * sizeof(Bm25QNode *));

	if (nk == NULL)
		return false;
	n->kids = nk;
	n->kids[n->nkids++] = kid;
	return true;
}

static CoreStatus ParseOr(Parser *p, Bm25QNode **out);

static CoreStatus
ParseUnary(Parser *p, Bm25QNode **out)
{
	CoreStatus	st;
	Bm25QNode  *n;

	*out = NULL;
	if (++p->depth > MAX_DEPTH)
		return core_error(p->err, CORE_ERR_INVALID, "query nests deeper than %d levels", MAX_DEPTH);
	switch (p->kind)
	{
		case LEX_NOT:
			if ((n = NewNode(BM25_Q_NOT)) == NULL)
				return core_error(p->err, CORE_ERR_NOMEM, "out of memory parsing a query");
			*out = n;
			if ((st = Lex(p)) != CORE_OK)
				return st;
			{
				Bm25QNode  *kid;

				st = ParseUnary(p, &kid);
				if (kid && !AddKid(n, kid))
				{
					bm25_query_free(kid);
					return core_error(p->err, CORE_ERR_NOMEM, "out of memory parsing a query");
				}
				if (st != CORE_OK)
					return st;
			}
			break;
		case LEX_LPAREN:
			{
				size_t		open = p->tokpos;

				if ((st = Lex(p)) != CORE_OK)
					return st;
				if (p->kind == LEX_RPAREN)
					return core_error(p->err, CORE_ERR_INVALID,
									  "empty parentheses at character %zu", open + 1);
				if ((st = ParseOr(p, out)) != CORE_OK)
					return st;
				if (p->kind != LEX_RPAREN)
					return core_error(p->err, CORE_ERR_INVALID,
									  "unbalanced parenthesis: \"(\" at character %zu is not closed",
									  open + 1);
				if ((st = Lex(p)) != CORE_OK)
					return st;
				break;
			}
		case LEX_WORD:
		case LEX_QUOTED:
			if ((n = NewNode(BM25_Q_TERM)) == NULL ||
				(n->text = core_malloc(p->tlen + 1)) == NULL)
			{
				core_free(n);
				return core_error(p->err, CORE_ERR_NOMEM, "out of memory parsing a query");
			}
			n->kind = p->kind == LEX_WORD ? BM25_Q_TERM : BM25_Q_PHRASE;
			memcpy(n->text, p->q + p->start, p->tlen);
			n->text[p->tlen] = '\0';
			n->textlen = p->tlen;
			*out = n;
			if ((st = Lex(p)) != CORE_OK)
				return st;
			break;
		default:
			return core_error(p->err, CORE_ERR_INVALID,
							  "expected a word, a quoted phrase, NOT or \"(\" at character %zu, found %s",
							  p->tokpos + 1, LexName(p->kind));
	}
	p->depth--;
	return CORE_OK;
}

static CoreStatus
ParseAnd(Parser *p, Bm25QNode **out)
{
	CoreStatus	st;
	Bm25QNode  *first;
	Bm25QNode  *n = NULL;

	st = ParseUnary(p, &first);
	*out = first;
	if (st != CORE_OK)
		return st;
	while (p->kind == LEX_AND)
	{
		Bm25QNode  *kid;

		if (n == NULL)
		{
			if ((n = NewNode(BM25_Q_AND)) == NULL || !AddKid(n, first))
			{
				core_free(n);
				return core_error(p->err, CORE_ERR_NOMEM, "out of memory parsing a query");
			}
			*out = n;
		}
		if ((st = Lex(p)) != CORE_OK)
			return st;
		st = ParseUnary(p, &kid);
		if (kid && !AddKid(n, kid))
		{
			bm25_query_free(kid);
			return core_error(p->err, CORE_ERR_NOMEM, "out of memory parsing a query");
		}
		if (st != CORE_OK)
			return st;
	}
	return CORE_OK;
}

static CoreStatus
ParseOr(Parser *p, Bm25QNode **out)
{
	CoreStatus	st;
	Bm25QNode  *first;
	Bm25QNode  *n = NULL;

	st = ParseAnd(p, &first);
	*out = first;
	if (st != CORE_OK)
		return st;
	while (p->kind != LEX_END && p->kind != LEX_RPAREN)
	{
		Bm25QNode  *kid;

		if (n == NULL)
		{
			if ((n = NewNode(BM25_Q_OR)) == NULL || !AddKid(n, first))
			{
				core_free(n);
				return core_error(p->err, CORE_ERR_NOMEM, "out of memory parsing a query");
			}
			*out = n;
		}
		if (p->kind == LEX_OR && (st = Lex(p)) != CORE_OK)
			return st;
		st = ParseAnd(p, &kid);
		if (kid && !AddKid(n, kid))
		{
			bm25_query_free(kid);
			return core_error(p->err, CORE_ERR_NOMEM, "out of memory parsing a query");
		}
		if (st != CORE_OK)
			return st;
	}
	return CORE_OK;
}

/* NOT only as an operand of an AND that also has a positive operand. */
static CoreStatus
CheckNot(const Bm25QNode *n, const Bm25QNode *parent, CoreError *err)
{
	if (n->kind == BM25_Q_NOT)
	{
		bool		ok = false;

		if (parent && parent->kind == BM25_Q_AND)
			for (size_t i = 0; i < parent->nkids; i++)
				if (parent->kids[i]->kind != BM25_Q_NOT)
					ok = true;
		if (!ok)
			return core_error(err, CORE_ERR_INVALID,
							  "NOT must be joined by AND to a term that is not negated, as in \"a AND NOT b\"");
	}
	for (size_t i = 0; i < n->nkids; i++)
	{
		CoreStatus	st = CheckNot(n->kids[i], n, err);

		if (st != CORE_OK)
			return st;
	}
	return CORE_OK;
}

CoreStatus
bm25_query_parse(const char *q, size_t len, Bm25QNode **out, CoreError *err)
{
	Parser		p = {q, len, 0, LEX_END, 0, 0, 0, 0, err};
	CoreStatus	st;
	Bm25QNode  *root = NULL;

	*out = NULL;
	if ((st = Lex(&p)) != CORE_OK)
		return st;
	if (p.kind == LEX_END)
		return CORE_OK;
	st = ParseOr(&p, &root);
	if (st == CORE_OK && p.kind == LEX_RPAREN)
		st = core_error(err, CORE_ERR_INVALID,
						"unbalanced parenthesis: \")\" at character %zu has no \"(\"", p.tokpos + 1);
	if (st == CORE_OK)
		st = CheckNot(root, NULL, err);
	if (st != CORE_OK)
	{
		bm25_query_free(root);
		return st;
	}
	*out = root;
	return CORE_OK;
}

void
bm25_query_free(Bm25QNode *n)
{
	if (n == NULL)
		return;
	for (size_t i = 0; i < n->nkids; i++)
		bm25_query_free(n->kids[i]);
	for (size_t i = 0; i < n->ntoks; i++)
		core_free(n->toks[i].term);
	core_free(n->kids);
	core_free(n->toks);
	core_free(n->text);
	core_free(n);
}

CoreStatus
bm25_qleaf_add_token(Bm25QNode *leaf, const char *term, size_t len, uint32_t pos, CoreError *err)
{
	Bm25QToken *nt;
	char	   *t;

	if (len == 0 || len > BM25_MAX_TERM_LEN)
		return CORE_OK;
	nt = core_realloc(leaf->toks, (leaf->ntoks + 1) * sizeof(Bm25QToken));
	if (nt == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory tokenizing a query");
	leaf->toks = nt;
	if ((t = core_malloc(len)) == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory tokenizing a query");
	memcpy(t, term, len);
	nt[leaf->ntoks].term = t;
	nt[leaf->ntoks].len = (uint32_t) len;
	nt[leaf->ntoks].pos = pos;
	leaf->ntoks++;
	return CORE_OK;
}

CoreStatus
bm25_query_walk_leaves(Bm25QNode *n, CoreStatus (*fn) (void *arg, Bm25QNode *leaf), void *arg)
{
	if (n->kind == BM25_Q_TERM || n->kind == BM25_Q_PHRASE)
		return fn(arg, n);
	for (size_t i = 0; i < n->nkids; i++)
	{
		CoreStatus	st = bm25_query_walk_leaves(n->kids[i], fn, arg);

		if (st != CORE_OK)
			return st;
	}
	return CORE_OK;
}

Bm25QNode *
bm25_query_simplify(Bm25QNode *n)
{
	size_t		keep = 0;
	bool		positive = false;

	if (n == NULL)
		return NULL;
	if (n->kind == BM25_Q_TERM || n->kind == BM25_Q_PHRASE)
	{
		if (n->ntoks == 0)
		{
			bm25_query_free(n);
			return NULL;
		}
		return n;
	}
	for (size_t i = 0; i < n->nkids; i++)
	{
		Bm25QNode  *k = bm25_query_simplify(n->kids[i]);

		if (k)
		{
			n->kids[keep++] = k;
			if (k->kind != BM25_Q_NOT)
				positive = true;
		}
	}
	n->nkids = keep;
	/* an AND left with only negations has nothing to subtract from */
	if (keep == 0 || (n->kind == BM25_Q_AND && !positive))
	{
		bm25_query_free(n);
		return NULL;
	}
	if (keep == 1 && n->kind != BM25_Q_NOT)
	{
		Bm25QNode  *only = n->kids[0];

		n->nkids = 0;
		bm25_query_free(n);
		return only;
	}
	return n;
}

static bool
CollectRank(const Bm25QNode *n, const Bm25QToken ***out, size_t *nout, size_t *cap)
{
	if (n->kind == BM25_Q_NOT)
		return true;
	for (size_t i = 0; i < n->ntoks; i++)
	{
		const Bm25QToken *t = &n->toks[i];
		bool		dup = false;

		for (size_t j = 0; j < *nout && !dup; j++)
			dup = (*out)[j]->len == t->len && memcmp((*out)[j]->term, t->term, t->len) == 0;
		if (dup)
			continue;
		if (*nout == *cap)
		{
			size_t		nc = *cap ? *cap * 2 : 8;
			const Bm25QToken **np = core_realloc((void *) *out, nc * sizeof(Bm25QToken *));

			if (np == NULL)
				return false;
			*out = np;
			*cap = nc;
		}
		(*out)[(*nout)++] = t;
	}
	for (size_t i = 0; i < n->nkids; i++)
		if (!CollectRank(n->kids[i], out, nout, cap))
			return false;
	return true;
}

CoreStatus
bm25_query_rank_terms(const Bm25QNode *n, const Bm25QToken ***out, size_t *nout, CoreError *err)
{
	size_t		cap = 0;

	*out = NULL;
	*nout = 0;
	if (n && !CollectRank(n, out, nout, &cap))
	{
		core_free((void *) *out);
		*out = NULL;
		*nout = 0;
		return core_error(err, CORE_ERR_NOMEM, "out of memory collecting query terms");
	}
	return CORE_OK;
}

/* --- matching one document --- */

static bool
HasPos(const uint32_t *pos, uint32_t n, int64_t want)
{
	uint32_t	lo = 0,
				hi = n;

	if (want < 0 || want > UINT32_MAX)
		return false;
	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (pos[mid] == (uint32_t) want)
			return true;
		if (pos[mid] < (uint32_t) want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/*
 * Phrase check: some position p of token 0 such that every token i occurs
 * at p + (pos_i - pos_0).  pos[i] / tf[i] are the document's positions.
 */
static bool
PhraseAt(const Bm25QNode *n, const uint32_t *const *pos, const uint32_t *tf)
{
	for (uint32_t k = 0; k < tf[0]; k++)
	{
		int64_t		base = (int64_t) pos[0][k] - n->toks[0].pos;
		bool		all = true;

		for (size_t i = 1; i < n->ntoks && all; i++)
			all = HasPos(pos[i], tf[i], base + n->toks[i].pos);
		if (all)
			return true;
	}
	return false;
}

bool
bm25_query_match_doc(const Bm25QNode *n, const Bm25DocTerm *terms, size_t nterms)
{
	switch (n->kind)
	{
		case BM25_Q_TERM:
			for (size_t i = 0; i < n->ntoks; i++)
				if (bm25_terms_find(terms, nterms, n->toks[i].term, n->toks[i].len) >= 0)
					return true;
			return false;
		case BM25_Q_PHRASE:
			{
				const uint32_t *pos[64];
				uint32_t	tf[64];

				if (n->ntoks == 0 || n->ntoks > 64)
					return false;
				for (size_t i = 0; i < n->ntoks; i++)
				{
					long		j = bm25_terms_find(terms, nterms, n->toks[i].term, n->toks[i].len);

					if (j < 0 || terms[j].pos == NULL)
						return false;
					pos[i] = terms[j].pos;
					tf[i] = terms[j].tf;
				}
				return PhraseAt(n, pos, tf);
			}
		case BM25_Q_AND:
			for (size_t i = 0; i < n->nkids; i++)
			{
				const Bm25QNode *k = n->kids[i];

				if (k->kind == BM25_Q_NOT)
				{
					if (bm25_query_match_doc(k->kids[0], terms, nterms))
						return false;
				}
				else if (!bm25_query_match_doc(k, terms, nterms))
					return false;
			}
			return true;
		case BM25_Q_OR:
			for (size_t i = 0; i < n->nkids; i++)
				if (bm25_query_match_doc(n->kids[i], terms, nterms))
					return true;
			return false;
		case BM25_Q_NOT:
			return false;
	}
	return false;
}

/* --- matching a segment --- */

void
bm25_docset_free(Bm25DocSet *s)
{
	core_free(s->ids);
	s->ids = NULL;
	s->n = s->cap = 0;
}

static bool
SetPush(Bm25DocSet *s, uint64_t id)
{
	if (s->n == s->cap)
	{
		size_t		nc = s->cap ? s->cap * 2 : 64;
		uint64_t   *ni = core_realloc(s->ids, nc * sizeof(uint64_t));

		if (ni == NULL)
			return false;
		s->ids = ni;
		s->cap = nc;
	}
	s->ids[s->n++] = id;
	return true;
}

typedef enum SetOp
{
	SET_UNION,
	SET_INTERSECT,
	SET_MINUS
} SetOp;

/* a = a op b */
static bool
SetCombine(Bm25DocSet *a, const Bm25DocSet *b, SetOp op)
{
	Bm25DocSet	r = {0};
	size_t		i = 0,
				j = 0;
	bool		ok = true;

	while (ok && (i < a->n || j < b->n))
	{
		if (j >= b->n || (i < a->n && a->ids[i] < b->ids[j]))
		{
			if (op != SET_INTERSECT)
				ok = SetPush(&r, a->ids[i]);
			i++;
		}
		else if (i >= a->n || b->ids[j] < a->ids[i])
		{
			if (op == SET_UNION)
				ok = SetPush(&r, b->ids[j]);
			j++;
		}
		else
		{
			if (op != SET_MINUS)
				ok = SetPush(&r, a->ids[i]);
			i++;
			j++;
		}
		if (op == SET_INTERSECT && (i >= a->n || j >= b->n))
			break;
	}
	bm25_docset_free(a);
	*a = r;
	return ok;
}

static CoreStatus
CursorErr(Bm25Cursor *c, CoreError *err)
{
	return core_error(err, bm25_cursor_status(c), "%s", c->err.msg);
}

static CoreStatus
MatchTerm(const Bm25QNode *n, const Bm25SegReader *r, Bm25DocSet *out, CoreError *err)
{
	for (size_t t = 0; t < n->ntoks; t++)
	{
		Bm25TermInfo ti;
		Bm25Cursor	c;
		Bm25DocSet	one = {0};
		CoreStatus	st;

		if (!bm25_segr_lookup(r, n->toks[t].term, n->toks[t].len, &ti))
			continue;
		if ((st = bm25_cursor_open(&c, r, &ti, err)) != CORE_OK)
		{
			bm25_cursor_close(&c);
			return st;
		}
		for (; c.doc != BM25_DOC_END; bm25_cursor_next(&c))
			if (!SetPush(&one, c.doc))
			{
				bm25_cursor_close(&c);
				bm25_docset_free(&one);
				return core_error(err, CORE_ERR_NOMEM, "out of memory matching a query");
			}
		st = bm25_cursor_status(&c) != CORE_OK ? CursorErr(&c, err) : CORE_OK;
		bm25_cursor_close(&c);
		if (st == CORE_OK && out->n == 0)
		{
			bm25_docset_free(out);
			*out = one;
			continue;
		}
		if (st == CORE_OK && !SetCombine(out, &one, SET_UNION))
			st = core_error(err, CORE_ERR_NOMEM, "out of memory matching a query");
		bm25_docset_free(&one);
		if (st != CORE_OK)
			return st;
	}
	return CORE_OK;
}

static CoreStatus
MatchPhrase(const Bm25QNode *n, const Bm25SegReader *r, Bm25DocSet *out, CoreError *err)
{
	Bm25Cursor *cs;
	size_t		nt = n->ntoks;
	size_t		opened = 0;
	CoreStatus	st = CORE_OK;

	if (nt == 0 || nt > 64)
		return CORE_OK;
	if (!bm25_segr_info(r)->positions)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "phrase \"%s\" needs positions, but the index was built with positions = off",
						  n->text);
	if ((cs = core_calloc(nt, sizeof(Bm25Cursor))) == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory matching a query");
	for (; opened < nt; opened++)
	{
		Bm25TermInfo ti;

		if (!bm25_segr_lookup(r, n->toks[opened].term, n->toks[opened].len, &ti))
			goto done;
		if ((st = bm25_cursor_open(&cs[opened], r, &ti, err)) != CORE_OK)
		{
			opened++;
			goto done;
		}
	}
	for (;;)
	{
		uint64_t	d = 0;
		bool		same = true;
		const uint32_t *pos[64];
		uint32_t	tf[64];

		for (size_t i = 0; i < nt; i++)
			if (cs[i].doc > d)
				d = cs[i].doc;
		if (d == BM25_DOC_END)
			break;
		for (size_t i = 0; i < nt; i++)
		{
			bm25_cursor_seek(&cs[i], d);
			if (cs[i].doc != d)
				same = false;
		}
		if (!same)
			continue;
		for (size_t i = 0; i < nt; i++)
		{
			if ((pos[i] = bm25_cursor_positions(&cs[i])) == NULL)
				goto done;
			tf[i] = bm25_cursor_tf(&cs[i]);
		}
		if (PhraseAt(n, pos, tf) && !SetPush(out, d))
		{
			st = core_error(err, CORE_ERR_NOMEM, "out of memory matching a query");
			goto done;
		}
		bm25_cursor_next(&cs[0]);
	}
done:
	for (size_t i = 0; i < opened; i++)
	{
		if (st == CORE_OK && bm25_cursor_status(&cs[i]) != CORE_OK)
			st = CursorErr(&cs[i], err);
		bm25_cursor_close(&cs[i]);
	}
	core_free(cs);
	return st;
}

CoreStatus
bm25_query_match_segment(const Bm25QNode *n, const Bm25SegReader *r, Bm25DocSet *out,
						 CoreError *err)
{
	CoreStatus	st = CORE_OK;

	out->n = 0;
	switch (n->kind)
	{
		case BM25_Q_TERM:
			return MatchTerm(n, r, out, err);
		case BM25_Q_PHRASE:
			return MatchPhrase(n, r, out, err);
		case BM25_Q_NOT:
			return core_error(err, CORE_ERR_INVALID, "NOT without a positive term");
		case BM25_Q_AND:
		case BM25_Q_OR:
			{
				bool		first = true;

				/* positive operands first, so an AND has a set to subtract from */
				for (int pass = 0; pass < 2 && st == CORE_OK; pass++)
					for (size_t i = 0; i < n->nkids && st == CORE_OK; i++)
					{
						const Bm25QNode *k = n->kids[i];
						bool		neg = k->kind == BM25_Q_NOT;
						Bm25DocSet	s = {0};

						if (neg != (pass == 1))
							continue;
						st = bm25_query_match_segment(neg ? k->kids[0] : k, r, &s, err);
						if (st == CORE_OK)
						{
							if (first)
							{
								bm25_docset_free(out);
								*out = s;
								s.ids = NULL;
								first = false;
							}
							else if (!SetCombine(out, &s, n->kind == BM25_Q_OR ? SET_UNION :
												 (neg ? SET_MINUS : SET_INTERSECT)))
								st = core_error(err, CORE_ERR_NOMEM, "out of memory matching a query");
						}
						bm25_docset_free(&s);
						/* an empty intersection stays empty */
						if (n->kind == BM25_Q_AND && !first && out->n == 0)
							return st;
					}
				return st;
			}
	}
	return st;
}

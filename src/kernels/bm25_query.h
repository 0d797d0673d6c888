/*-------------------------------------------------------------------------
 *
 * bm25_query.h
 *	  The BM25 query language: parsing, and boolean matching of documents.
 *
 * Syntax (see docs/bm25.md):
 *		query  := or
 *		or     := and { ["OR"] and }		words side by side are ORed
 *		and    := unary { "AND" unary }
 *		unary  := "NOT" unary | "(" or ")" | '"' words '"' | word
 * AND, OR and NOT are operators only in upper case.  NOT must stand beside a
 * positive operand of an AND ("a AND NOT b"): a query cannot match "every
 * document except", since the index lists only documents with terms.
 *
 * The parser leaves each word and phrase as raw text; the caller tokenizes
 * it with the index's tokenizer (bm25_qleaf_add_token) and then calls
 * bm25_query_simplify, which drops leaves that produced no token (a stop
 * word) the way a bag-of-words reference drops them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_BM25_QUERY_H
#define LANCEDB_KERNELS_BM25_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "kernels/bm25_memindex.h"
#include "kernels/bm25_segment.h"

typedef enum Bm25QKind
{
	BM25_Q_TERM,				/* a word: any of its tokens */
	BM25_Q_PHRASE,				/* tokens at the same relative positions */
	BM25_Q_AND,
	BM25_Q_OR,
	BM25_Q_NOT
} Bm25QKind;

typedef struct Bm25QToken
{
	char	   *term;
	uint32_t	len;
	uint32_t	pos;			/* position reported by the tokenizer */
} Bm25QToken;

typedef struct Bm25QNode
{
	Bm25QKind	kind;
	char	   *text;			/* leaves: the raw word or phrase */
	size_t		textlen;
	Bm25QToken *toks;
	size_t		ntoks;
	struct Bm25QNode **kids;
	size_t		nkids;
} Bm25QNode;

extern CoreStatus bm25_query_parse(const char *q, size_t len, Bm25QNode **out, CoreError *err);
extern void bm25_query_free(Bm25QNode *n);
extern CoreStatus bm25_qleaf_add_token(Bm25QNode *leaf, const char *term, size_t len,
									   uint32_t pos, CoreError *err);

/* Call fn on every leaf (for tokenizing). */
extern CoreStatus bm25_query_walk_leaves(Bm25QNode *n,
										 CoreStatus (*fn) (void *arg, Bm25QNode *leaf),
										 void *arg);

/* Drop empty leaves; returns the new root, or NULL when nothing is left. */
extern Bm25QNode *bm25_query_simplify(Bm25QNode *n);

/* The distinct tokens outside NOT, for ranking (array of pointers into n). */
extern CoreStatus bm25_query_rank_terms(const Bm25QNode *n, const Bm25QToken ***out,
										size_t *nout, CoreError *err);

/* Does a document (its sorted terms, with positions for phrases) match? */
extern bool bm25_query_match_doc(const Bm25QNode *n, const Bm25DocTerm *terms, size_t nterms);

/* A sorted set of doc ids. */
typedef struct Bm25DocSet
{
	uint64_t   *ids;
	size_t		n;
	size_t		cap;
} Bm25DocSet;

extern void bm25_docset_free(Bm25DocSet *s);

/* The documents of one segment that match (their ordinals, sorted). */
extern CoreStatus bm25_query_match_segment(const Bm25QNode *n, const Bm25SegReader *r,
										   Bm25DocSet *out, CoreError *err);

#endif							/* LANCEDB_KERNELS_BM25_QUERY_H */

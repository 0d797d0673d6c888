/*-------------------------------------------------------------------------
 *
 * bm25_memindex.h
 *	  In-memory BM25 inversion: a document's bag of terms, and an inverted
 *	  index of many documents waiting to be written as a segment.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_BM25_MEMINDEX_H
#define LANCEDB_KERNELS_BM25_MEMINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* One distinct term of a document: tf occurrences at pos[0..tf) (sorted). */
typedef struct Bm25DocTerm
{
	const char *term;
	uint32_t	len;
	uint32_t	tf;
	const uint32_t *pos;		/* NULL when positions are not kept */
} Bm25DocTerm;

/*
 * A document's terms.  Add tokens (or whole terms with their positions),
 * then finish: terms come out sorted by bytes, positions sorted.  dl is the
 * sum of tf.
 */
typedef struct Bm25Bag Bm25Bag;

extern Bm25Bag *bm25_bag_create(void);
extern void bm25_bag_free(Bm25Bag *bag);
extern void bm25_bag_reset(Bm25Bag *bag);
extern CoreStatus bm25_bag_add(Bm25Bag *bag, const char *term, size_t len, uint32_t pos,
							   CoreError *err);

/* Add a term tf times, with positions (npos == tf) or without (pos NULL). */
extern CoreStatus bm25_bag_add_term(Bm25Bag *bag, const char *term, size_t len, uint32_t tf,
									const uint32_t *pos, CoreError *err);
/* Count a token in the length without indexing it (one too long to keep). */
extern void bm25_bag_add_length(Bm25Bag *bag, uint32_t n);
extern void bm25_bag_finish(Bm25Bag *bag);
extern size_t bm25_bag_nterms(const Bm25Bag *bag);
extern const Bm25DocTerm *bm25_bag_terms(const Bm25Bag *bag);
extern uint32_t bm25_bag_dl(const Bm25Bag *bag);

/* Binary search over sorted terms (after finish); -1 when absent. */
extern long bm25_terms_find(const Bm25DocTerm *terms, size_t n, const char *term, size_t len);

/*
 * Many documents inverted in memory; bm25_mem_bytes() says how much memory
 * it holds so a build can spill when it passes maintenance_work_mem.
 */
typedef struct Bm25MemIndex Bm25MemIndex;

/* One term's postings, doc ids increasing once sorted by bm25_mem_terms(). */
typedef struct Bm25MemTerm
{
	char	   *term;
	uint32_t	len;
	bool		sorted;
	size_t		n;
	size_t		cap;
	uint64_t   *docids;
	uint32_t   *tfs;
	uint32_t   *dls;
	size_t		npos;
	size_t		poscap;
	uint32_t   *pos;
} Bm25MemTerm;

extern Bm25MemIndex *bm25_mem_create(bool positions);
extern void bm25_mem_free(Bm25MemIndex *m);
extern CoreStatus bm25_mem_add_doc(Bm25MemIndex *m, uint64_t docid, uint32_t dl,
								   const Bm25DocTerm *terms, size_t nterms, CoreError *err);
extern size_t bm25_mem_bytes(const Bm25MemIndex *m);
extern size_t bm25_mem_ndocs(const Bm25MemIndex *m);
extern bool bm25_mem_positions(const Bm25MemIndex *m);

/*
 * The terms in byte order with their postings sorted by doc id; the array
 * belongs to the index.  NULL when out of memory.
 */
extern Bm25MemTerm **bm25_mem_terms(Bm25MemIndex *m, size_t *nterms);

/* The documents, sorted by doc id (arrays belong to the index). */
extern void bm25_mem_docs(Bm25MemIndex *m, const uint64_t **docids, const uint32_t **dls,
						  size_t *ndocs);

#endif							/* LANCEDB_KERNELS_BM25_MEMINDEX_H */

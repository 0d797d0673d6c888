/*-------------------------------------------------------------------------
 *
 * bm25_tokenize.h
 *	  The built-in "simple" tokenizer of the BM25 index.
 *
 * It is the reference tokenizer of ../shared/bench-bm25/bm25_ref.py: A-Z
 * is lowercased, a token is a maximal run of [a-z0-9], and every other byte
 * (punctuation, space, any byte of a non-ASCII character) separates tokens.
 * Positions count tokens from 0.  No stemming, no stop words.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_BM25_TOKENIZE_H
#define LANCEDB_KERNELS_BM25_TOKENIZE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Called once per token; tok is lowercased into a scratch buffer that lives
 * until the callback returns.  A nonzero return stops the scan early.
 */
typedef int (*Bm25TokenFn) (void *arg, const char *tok, size_t len, uint32_t pos);

/* Tokenize text[0..len); returns the number of tokens seen. */
extern uint32_t bm25_tokenize_simple(const char *text, size_t len,
									 Bm25TokenFn fn, void *arg);

#endif							/* LANCEDB_KERNELS_BM25_TOKENIZE_H */

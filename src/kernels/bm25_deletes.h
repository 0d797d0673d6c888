/*-------------------------------------------------------------------------
 *
 * bm25_deletes.h
 *	  The documents deleted from an immutable BM25 segment, recorded beside
 *	  it instead of rewriting it.
 *
 * VACUUM of rows spread over the table would otherwise rewrite every
 * segment.  A deletion record lists the segment's dead documents (their
 * doc table ordinals, sorted), their total length, and for every term that
 * lost documents how many (keyed by the offset of the term's region, unique
 * in the segment), so that N, the total length and each df over the live documents are the
 * segment's own figures minus the record's: exactly what a fresh build of
 * the live documents would count.  A reader given the record hides the
 * dead documents from its cursors; block bounds still count them, which
 * keeps them upper bounds.
 *
 * Encoding (little endian): ndead u64, dead_dl u64, nterms u32, ndead
 * ordinals u64, then nterms (offset u64, dead u32) pairs, offsets increasing.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_BM25_DELETES_H
#define LANCEDB_KERNELS_BM25_DELETES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "kernels/bm25_codec.h"
#include "kernels/bm25_segment.h"

struct Bm25Deletes
{
	uint64_t	ndead;
	uint64_t	dead_dl;		/* their total length */
	uint64_t   *ids;			/* ndead ordinals, increasing */
	uint32_t	nterms;			/* terms that lost documents */
	uint64_t   *term_off;		/* their regions' offsets, increasing */
	uint32_t   *term_dead;		/* documents each lost */
};

extern void bm25_deletes_free(Bm25Deletes *d);
extern void bm25_deletes_encode(const Bm25Deletes *d, Bm25Buf *out);

/* Decode a record of a segment of ndocs documents; malformed is an error. */
extern CoreStatus bm25_deletes_decode(const uint8_t *p, size_t len, uint64_t ndocs,
									  Bm25Deletes **out, CoreError *err);

/*
 * The reader's record (if any) plus n more dead documents of its segment,
 * ids (ordinals) increasing and live in the reader, dls their lengths (ids or term
 * regions out of order are CORE_ERR_CORRUPT).  Walks every posting list of
 * the segment once to count what each term loses; cancel
 * (may be NULL) is polled every few hundred terms, and nonzero stops with
 * CORE_ERR_CANCELED.
 */
extern CoreStatus bm25_deletes_add(Bm25SegReader *r, const uint64_t *ids, const uint32_t *dls,
								   size_t n, int (*cancel) (void *), void *cancel_arg,
								   Bm25Deletes **out, CoreError *err);

/* Is ordinal id in the record? */
extern bool bm25_deletes_has(const Bm25Deletes *d, uint64_t id);

/* How many documents the term whose region is at off lost. */
extern uint32_t bm25_deletes_term_dead(const Bm25Deletes *d, uint64_t off);

/* First index i >= from with ids[i] >= id (n when none). */
extern size_t bm25_deletes_lower_bound(const Bm25Deletes *d, size_t from, uint64_t id);

#endif							/* LANCEDB_KERNELS_BM25_DELETES_H */

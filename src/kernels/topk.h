/*-------------------------------------------------------------------------
 *
 * topk.h
 *	  A bounded selection of the k smallest keys: a max-heap of k entries.
 *
 * Flat vector search streams every row's distance through one of these and
 * keeps the k best; the heap's root is the worst entry kept, so a row that
 * cannot enter is rejected with one comparison against topk_worst().
 *
 * Entries are ordered by (tier, key, seq) ascending.  The tier lets a
 * caller rank values that are not ordinary numbers after all of them, as
 * SQL orders NaN after every number and NULL after NaN; seq breaks ties
 * deterministically (flat search passes the row's position in the scan, so
 * equal distances come back in scan order).  payload is carried along.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_TOPK_H
#define LANCEDB_KERNELS_TOPK_H

#include <stdbool.h>
#include <stdint.h>

typedef struct TopkEntry
{
	uint8_t		tier;			/* ranks before key: 0 first */
	double		key;			/* compared within a tier; never NaN */
	uint64_t	seq;			/* breaks ties of (tier, key) */
	uint64_t	payload;		/* carried, not compared */
} TopkEntry;

typedef struct TopK TopK;

/* A selection of at most k (>= 1) entries, or NULL when out of memory. */
extern TopK *topk_new(int64_t k);
extern void topk_free(TopK *t);

/* Forget every entry, keeping the memory, for the next selection. */
extern void topk_reset(TopK *t);

/* Entries held now (at most k). */
extern int64_t topk_count(const TopK *t);

/* Whether k entries are held, so a new one must beat topk_worst(). */
extern bool topk_full(const TopK *t);

/* The worst entry held; only when topk_count() > 0. */
extern const TopkEntry *topk_worst(const TopK *t);

/* Whether a sorts before b. */
extern bool topk_entry_less(const TopkEntry *a, const TopkEntry *b);

/*
 * Offer an entry: kept if fewer than k are held or it sorts before the
 * worst one, which it then replaces.  Returns false only when the heap
 * could not grow (out of memory); the selection is unchanged then.
 */
extern bool topk_push(TopK *t, const TopkEntry *e);

/*
 * Empty the selection into out (room for topk_count() entries), best
 * first; returns how many were written.
 */
extern int64_t topk_drain_sorted(TopK *t, TopkEntry *out);

#endif							/* LANCEDB_KERNELS_TOPK_H */

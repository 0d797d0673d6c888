/*-------------------------------------------------------------------------
 *
 * topk.h
 *	  A bounded max-heap that keeps the k smallest (distance, id) pairs.
 *
 * Selecting k of n candidates this way costs O(n log k) and k slots of
 * memory, where sorting every candidate costs O(n log n) and n slots.  Ties
 * on distance are broken by id, so a selection never depends on the order
 * the candidates arrive in.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_TOPK_H
#define LANCEDB_KERNELS_TOPK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct TopkItem
{
	float		dist;
	uint64_t	id;
} TopkItem;

typedef struct Topk Topk;

/* A heap for k >= 1 items, or NULL when out of memory. */
extern Topk *topk_create(size_t k);
extern void topk_free(Topk *heap);

/* Forget every item, keeping the capacity. */
extern void topk_reset(Topk *heap);

/* Offer a candidate; returns whether it was kept. */
extern bool topk_push(Topk *heap, float dist, uint64_t id);

/* Number of items held. */
extern size_t topk_count(const Topk *heap);

/* Whether (dist, id) comes before (other_dist, other_id). */
static inline bool
topk_before(float dist, uint64_t id, float other_dist, uint64_t other_id)
{
	return dist < other_dist || (dist == other_dist && id < other_id);
}

/*
 * Move the items into out (topk_count entries) nearest first; the heap is
 * empty afterwards.  Returns the number written.
 */
extern size_t topk_drain_sorted(Topk *heap, TopkItem *out);

#endif							/* LANCEDB_KERNELS_TOPK_H */

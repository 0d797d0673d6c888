/*-------------------------------------------------------------------------
 *
 * sq8_pair.h
 *	  Distances between two vectors that are both held as 8-bit codes.
 *
 * A vector coded by sq8_encode stands for lo + step * c[i].  Between two
 * such vectors a and b, squared L2 and the inner product expand into
 * per-vector terms (sum c[i], sum c[i]^2, known once per vector) and one
 * cross term, the integer sum a.c[i] * b.c[i].  That sum is exact in 32
 * bits (up to 66,000 dimensions) and costs a fraction of decoding both
 * vectors to floats and comparing those: a graph build compares stored
 * elements with each other when it prunes neighbour lists, and this is
 * what it uses.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_SQ8_PAIR_H
#define LANCEDB_KERNELS_SQ8_PAIR_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/distance.h"

/* what a pair distance needs of one coded vector */
typedef struct Sq8CodeStats
{
	float		lo;
	float		step;
	uint32_t	sum;			/* sum of the codes */
	uint32_t	sumsq;			/* sum of their squares */
} Sq8CodeStats;

/* sum a[i] * b[i] over dim codes, exactly */
typedef uint32_t (*Sq8CodeDotFn) (const uint8_t *a, const uint8_t *b, size_t dim);

/* the fastest code dot product this CPU runs */
extern Sq8CodeDotFn sq8_code_dot(void);

/* the code dot product of one ISA, or NULL where this CPU cannot run it */
extern Sq8CodeDotFn sq8_code_dot_for(KernelIsa isa);

/* fill the sums of stats from the codes (lo and step are the caller's) */
extern void sq8_code_sums(const uint8_t *c, size_t dim, Sq8CodeStats *stats);

/* squared L2 between the decoded vectors, from their stats and dot */
extern double sq8_pair_l2sq(const Sq8CodeStats *a, const Sq8CodeStats *b,
							uint32_t dot, size_t dim);

/* inner product of the decoded vectors, from their stats and dot */
extern double sq8_pair_ip(const Sq8CodeStats *a, const Sq8CodeStats *b,
						  uint32_t dot, size_t dim);

#endif							/* LANCEDB_KERNELS_SQ8_PAIR_H */

/*-------------------------------------------------------------------------
 *
 * sq8.h
 *	  8-bit scalar quantization of float32 vectors, and distances from a
 *	  float32 query to quantized vectors.
 *
 * A vector is stored as one byte per dimension plus two floats of its own:
 * x[i] is approximated by lo + step * c[i], with lo the vector's minimum
 * and step its range / 255, so every element is within step / 2 of its
 * value.  Per-vector parameters need no training pass and no global state,
 * and a vector's codes never change when others are added.
 *
 * The distance kernels exist in scalar, AVX2+FMA and AVX-512F versions,
 * each in its own file built with its own -m flags; sq8_kernels() follows
 * the path distance_kernels() has selected, so lancedb.kernel switches
 * both.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_SQ8_H
#define LANCEDB_KERNELS_SQ8_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/distance.h"

typedef struct Sq8Kernels
{
	const char *name;			/* "scalar", "avx2", "avx512" */

	/* sum (q[i] - (lo + step c[i]))^2 */
	float		(*l2sq) (const float *q, const uint8_t *c, float lo, float step, size_t dim);
	/* sum q[i] c[i]; the caller adds lo * sum q[i] and scales by step */
	float		(*dot) (const float *q, const uint8_t *c, size_t dim);
	/* sum |q[i] - (lo + step c[i])| */
	float		(*l1) (const float *q, const uint8_t *c, float lo, float step, size_t dim);
} Sq8Kernels;

/* The path matching distance_kernels()'s current selection. */
extern const Sq8Kernels *sq8_kernels(void);

/* The table of one path, or NULL when this CPU cannot run it. */
extern const Sq8Kernels *sq8_kernels_for(KernelIsa isa);

/* Quantize x: codes[dim], *lo and *step. */
extern void sq8_encode(const float *x, size_t dim, uint8_t *codes, float *lo, float *step);

/* The values the codes stand for. */
extern void sq8_decode(const uint8_t *codes, size_t dim, float lo, float step, float *out);

#endif							/* LANCEDB_KERNELS_SQ8_H */

/*-------------------------------------------------------------------------
 *
 * sq8_pair_impl.h
 *	  The code dot product of each ISA, for sq8_pair.c to choose from.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_SQ8_PAIR_IMPL_H
#define LANCEDB_KERNELS_SQ8_PAIR_IMPL_H

#include "kernels/sq8_pair.h"

extern uint32_t sq8_code_dot_scalar(const uint8_t *a, const uint8_t *b, size_t dim);
#if defined(__x86_64__) || defined(__i386__)
#define SQ8_PAIR_HAVE_X86 1
extern uint32_t sq8_code_dot_avx2(const uint8_t *a, const uint8_t *b, size_t dim);
extern uint32_t sq8_code_dot_avx512(const uint8_t *a, const uint8_t *b, size_t dim);
#endif

#endif							/* LANCEDB_KERNELS_SQ8_PAIR_IMPL_H */

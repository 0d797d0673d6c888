/*-------------------------------------------------------------------------
 *
 * sq8_impl.h
 *	  Internal to the sq8 kernels: each path's table.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_SQ8_IMPL_H
#define LANCEDB_KERNELS_SQ8_IMPL_H

#include "kernels/sq8.h"

extern const Sq8Kernels sq8_scalar_kernels;
#if defined(__x86_64__) || defined(__i386__)
#define SQ8_HAVE_X86 1
extern const Sq8Kernels sq8_avx2_kernels;
extern const Sq8Kernels sq8_avx512_kernels;
#endif

#endif							/* LANCEDB_KERNELS_SQ8_IMPL_H */

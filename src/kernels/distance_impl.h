/*-------------------------------------------------------------------------
 *
 * distance_impl.h
 *	  The per-instruction-set tables behind distance.h; internal to kernels.
 *
 * Each table is defined in the file built for its instruction set.  Only
 * distance_dispatch.c reads them, and it hands out a table only after
 * checking that the CPU and the OS can run that set.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_DISTANCE_IMPL_H
#define LANCEDB_KERNELS_DISTANCE_IMPL_H

#include "kernels/distance.h"

extern const DistanceKernels distance_scalar_table;

#if defined(__x86_64__) || defined(__i386__)
#define DISTANCE_HAVE_X86 1
extern const DistanceKernels distance_avx2_table;
extern const DistanceKernels distance_avx512_table;
#endif

#endif							/* LANCEDB_KERNELS_DISTANCE_IMPL_H */

/*-------------------------------------------------------------------------
 *
 * kmeans_impl.h
 *	  The per-instruction-set nearest-centroid searches behind k-means.
 *
 * Each returns the first j minimizing g[j] + cnorm[j] over j < k (k >= 1)
 * and stores that minimum in *best: after sgemm has put -2 x.c into g, this
 * is the nearest centroid up to the row's own norm.  Scanning the sgemm
 * output is half of an assignment pass's time when done one float at a
 * time, hence the SIMD versions.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_KMEANS_IMPL_H
#define LANCEDB_KERNELS_KMEANS_IMPL_H

#include <stddef.h>

typedef size_t (*KmeansArgminFn) (const float *g, const float *cnorm, size_t k,
								  float *best);

extern size_t kmeans_argmin_scalar(const float *g, const float *cnorm, size_t k,
								   float *best);
extern size_t kmeans_argmin_avx2(const float *g, const float *cnorm, size_t k,
								 float *best);
extern size_t kmeans_argmin_avx512(const float *g, const float *cnorm, size_t k,
								   float *best);

#endif							/* LANCEDB_KERNELS_KMEANS_IMPL_H */

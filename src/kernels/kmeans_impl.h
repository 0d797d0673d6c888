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
#include <stdint.h>

typedef size_t (*KmeansArgminFn) (const float *g, const float *cnorm, size_t k,
								  float *best);

extern size_t kmeans_argmin_scalar(const float *g, const float *cnorm, size_t k,
								   float *best);
extern size_t kmeans_argmin_avx2(const float *g, const float *cnorm, size_t k,
								 float *best);
extern size_t kmeans_argmin_avx512(const float *g, const float *cnorm, size_t k,
								   float *best);

/* The argmin for the selected distance kernels' instruction set. */
extern KmeansArgminFn kmeans_select_argmin(void);

/*
 * The nearest and second nearest of k centroids to one row of dim floats,
 * for passes with bounds in few dimensions (kmeans_bounds.h), where sgemm's
 * inner products of 8 floats waste most of its work.  The centroids come
 * transposed, dimension by dimension (ct[d * kpad + j]), kpad a multiple of
 * KMEANS_NEAREST2_LANES, with cnorm[j] = +inf for the padding.  Like the
 * argmin above it minimizes |c|^2 - 2 x.c (accumulated by fused
 * multiply-adds in dimension order, so every version gives the same bits)
 * and returns the first j reaching the minimum, in *best, and the second
 * smallest value (+inf for k = 1) in *second.  On rows far from the
 * origin this expansion loses most of its digits to cancellation: callers
 * that need distances recompute them directly or allow for its error
 * (kmeans_bounds.c).  dim is at most KMEANS_NEAREST2_MAX_DIM.
 */
#define KMEANS_NEAREST2_LANES 16
#define KMEANS_NEAREST2_MAX_DIM 32

typedef size_t (*KmeansNearest2Fn) (const float *x, const float *ct,
									const float *cnorm, size_t kpad,
									size_t dim, float *best, float *second);

extern size_t kmeans_nearest2_scalar(const float *x, const float *ct,
									 const float *cnorm, size_t kpad,
									 size_t dim, float *best, float *second);
extern size_t kmeans_nearest2_avx512(const float *x, const float *ct,
									 const float *cnorm, size_t kpad,
									 size_t dim, float *best, float *second);

/*
 * kmeans_nearest2_avx512 for two rows at once, the same answers for each
 * (the first row's returned, the second's in *nearest1): every load of the
 * centroids serves both rows' multiply-adds.
 */
extern size_t kmeans_nearest2_pair_avx512(const float *x0, const float *x1,
										  const float *ct, const float *cnorm,
										  size_t kpad, size_t dim,
										  float *best0, float *second0,
										  size_t *nearest1, float *best1,
										  float *second1);

/*
 * Only the nearest of the search above (the same index), for encoding,
 * which has no use for the second: a third fewer vector operations per
 * block of centroids.
 */
typedef size_t (*KmeansNearestFn) (const float *x, const float *ct,
								   const float *cnorm, size_t kpad,
								   size_t dim);

extern size_t kmeans_nearest_scalar(const float *x, const float *ct,
									const float *cnorm, size_t kpad,
									size_t dim);
extern size_t kmeans_nearest_avx512(const float *x, const float *ct,
									const float *cnorm, size_t kpad,
									size_t dim);

/*
 * kmeans_nearest_avx512 for two rows at once, the same answer for each:
 * every load of the codewords serves both rows' multiply-adds.
 */
extern void kmeans_nearest_pair_avx512(const float *x0, const float *x1,
									   const float *ct, const float *cnorm,
									   size_t kpad, size_t dim,
									   size_t *nearest0, size_t *nearest1);

/* The search for the selected instruction set, as kmeans_select_nearest2. */
extern KmeansNearestFn kmeans_select_nearest(size_t dim);

/*
 * The nearest-two search for the selected distance kernels' instruction set
 * (the scalar one past the SIMD one's dimensions).
 */
extern KmeansNearest2Fn kmeans_select_nearest2(size_t dim);

/*
 * The centroid update's sums: for each of n rows of dim floats, in row
 * order, its floats [d0, d1) are added as doubles to its centroid's sums
 * (sums[assign[i] * dim + d]).  Every element sees the same additions in
 * the same order in every version, so all give the same bits; the SIMD
 * ones only do 4 or 8 of them at once.  The scalar loop was a tenth of a
 * build's CPU (bench/ivfpq/README.md).
 */
typedef void (*KmeansSumRowsFn) (const float *x, size_t n, size_t dim,
								 const int32_t *assign, double *sums,
								 size_t d0, size_t d1);

extern void kmeans_sum_rows_scalar(const float *x, size_t n, size_t dim,
								   const int32_t *assign, double *sums,
								   size_t d0, size_t d1);
extern void kmeans_sum_rows_avx2(const float *x, size_t n, size_t dim,
								 const int32_t *assign, double *sums,
								 size_t d0, size_t d1);
extern void kmeans_sum_rows_avx512(const float *x, size_t n, size_t dim,
								   const int32_t *assign, double *sums,
								   size_t d0, size_t d1);

/* The sums for the selected distance kernels' instruction set. */
extern KmeansSumRowsFn kmeans_select_sum_rows(void);

/*
 * Each row's squared distance to its own centroid, dist[i] = |x_i -
 * c_assign[i]|^2 for n rows, the same bits as distance_kernels()->l2sq
 * gives pair by pair.  A pass with bounds needs it for every row, in few
 * dimensions, where calling the distance kernel once per row cost more
 * than its arithmetic (5% of a build in kmeans_bounds_settle).
 */
typedef void (*KmeansOwnDistFn) (const float *x, size_t n, size_t dim,
								 const float *centroids,
								 const int32_t *assign, float *dist);

extern void kmeans_own_dist_generic(const float *x, size_t n, size_t dim,
									const float *centroids,
									const int32_t *assign, float *dist);
extern void kmeans_own_dist_avx512(const float *x, size_t n, size_t dim,
								   const float *centroids,
								   const int32_t *assign, float *dist);

/* Up to this many dimensions kmeans_own_dist_avx512 takes one vector a row. */
#define KMEANS_OWN_DIST_AVX512_MAX_DIM 16

/* The own-centroid distances for the distance kernels' ISA and dim. */
extern KmeansOwnDistFn kmeans_select_own_dist(size_t dim);

#endif							/* LANCEDB_KERNELS_KMEANS_IMPL_H */

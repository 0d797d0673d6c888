/*-------------------------------------------------------------------------
 *
 * kmeans_bounds.h
 *	  Hamerly's bounds for k-means: passes that prove most rows keep their
 *	  centroid without comparing them with every centroid.
 *
 * G. Hamerly, "Making k-means even faster", SDM 2010.  Each row keeps a
 * lower bound on its distance to every centroid but its own.  A pass
 * computes the row's exact distance d to its own centroid (one distance,
 * which the error needs anyway); if d is below that bound, or below half
 * the distance from its centroid to the nearest other centroid, no other
 * centroid can be nearer (triangle inequality) and the row is settled.
 * Only the other rows are compared with all k centroids, which also gives
 * their bound anew (the second-nearest distance, less its rounding
 * error).  After the update step
 * every bound drops by the farthest any other centroid moved.
 *
 * The assignments are Lloyd's: the bounds only skip comparisons whose
 * outcome they prove.  That pays where centroids are few dimensions apart
 * relative to how far they move: PQ subspaces (8-16 dimensions, 256
 * codewords) settle most rows after a few passes; in 128 dimensions the
 * bound falls too fast to settle any (bench/ivfpq/README.md).
 *
 * Internal to kmeans.c; never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_KMEANS_BOUNDS_H
#define LANCEDB_KERNELS_KMEANS_BOUNDS_H

#include <stddef.h>
#include <stdint.h>

/*
 * Up to this dimension kmeans_train uses the bounds unless told otherwise
 * (and can: the per-row search behind them takes at most this many, which
 * kmeans.c asserts against KMEANS_NEAREST2_MAX_DIM).
 */
#define KMEANS_BOUNDS_MAX_DIM	32

typedef struct KmeansBounds KmeansBounds;

/* Bounds for n rows and k centroids of dim floats; NULL when out of memory. */
extern KmeansBounds *kmeans_bounds_create(size_t n, size_t k, size_t dim);
extern void kmeans_bounds_free(KmeansBounds *b);

/*
 * Settle what the bounds prove: for every row, its squared distance to its
 * centroid goes to dist[i]; the rows the bounds cannot settle are listed in
 * pending (n entries at most) and counted in the return value.
 */
extern size_t kmeans_bounds_settle(KmeansBounds *b, const float *x, size_t n,
								   const float *centroids,
								   const int32_t *assign, float *dist,
								   uint32_t *pending);

/*
 * A row compared with every centroid: second is the nearest-two search's
 * second smallest value for it (|c|^2 - 2 x.c, kmeans_impl.h; infinity
 * with one centroid), xnorm the row's squared norm, cmax2 the largest
 * squared centroid norm, which bound the rounding error of that value.
 */
extern void kmeans_bounds_reset(KmeansBounds *b, size_t row, float xnorm,
								float second, float cmax2);

/*
 * The centroids moved from old to now: lower every bound by the farthest
 * move of a centroid other than the row's own, and remember each
 * centroid's distance to its nearest neighbour for the next pass.
 */
extern void kmeans_bounds_moved(KmeansBounds *b, const float *old,
								const float *now, const int32_t *assign,
								size_t n);

#endif							/* LANCEDB_KERNELS_KMEANS_BOUNDS_H */

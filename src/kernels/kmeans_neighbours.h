/*-------------------------------------------------------------------------
 *
 * kmeans_neighbours.h
 *	  Lloyd passes that compare each row only with the centroids nearest
 *	  its own.
 *
 * Once full passes have put every row with its nearest centroid, a later pass
 * rarely moves a row further than to a centroid near the one it has: in
 * 128 dimensions with a thousand centroids, a row's best candidates are
 * its centroid's few dozen nearest neighbours.  So each such pass groups
 * the rows by centroid and compares the rows of centroid j only with the
 * `count` centroids nearest j (j included), one small sgemm per group,
 * instead of every row with all k centroids.  The neighbour lists are
 * recomputed every pass from the centroids' own distances (k x k, cheap
 * beside rows x k).
 *
 * This is an approximation: a row whose true nearest centroid is not among
 * its centroid's neighbours stays with a worse one.  It never does worse
 * than the row's own centroid, which is always a candidate, so a pass
 * never raises the error (Lloyd's argument holds).  With count >= k it is
 * a full pass.  Rows keep their place in their group and groups their
 * order, so any number of threads gives the same assignments.
 *
 * Internal to kmeans.c; never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_KMEANS_NEIGHBOURS_H
#define LANCEDB_KERNELS_KMEANS_NEIGHBOURS_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/*
 * Passes that compare every row with every centroid before the first pass
 * over neighbours only.  The first passes move centroids furthest, so rows
 * cross to centroids that are not yet near their own; on the IVF-PQ
 * benchmark sample (256,000 x 128, 1000 centroids after the hierarchical
 * levels) two full passes then ten over 64 neighbours reach the error of
 * eight full passes, where one full pass then eleven over 64 neighbours
 * leave 0.3% more (bench/ivfpq/README.md).
 */
#define KMEANS_NEIGHBOURS_FULL_PASSES 2

typedef struct KmeansNeighbours KmeansNeighbours;

/*
 * Scratch for passes over n rows with k centroids, each compared with
 * min(count, k) of them; NULL when out of memory.
 */
extern KmeansNeighbours *kmeans_neighbours_create(size_t n, size_t k,
												  size_t count);
extern void kmeans_neighbours_free(KmeansNeighbours *nb);

/*
 * One assignment pass: row i, now with centroid assign[i], goes to the
 * nearest of that centroid's neighbours in next[i], at squared distance
 * dist[i] (from xnorm[i], the row's squared norm).  Runs on up to
 * `threads` threads, which never call back.
 */
extern CoreStatus kmeans_neighbours_pass(KmeansNeighbours *nb, const float *x,
										 size_t n, size_t dim,
										 const float *centroids, size_t k,
										 int threads, const int32_t *assign,
										 int32_t *next, float *dist,
										 const float *xnorm, CoreError *err);

#endif							/* LANCEDB_KERNELS_KMEANS_NEIGHBOURS_H */

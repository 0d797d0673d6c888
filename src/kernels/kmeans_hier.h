/*-------------------------------------------------------------------------
 *
 * kmeans_hier.h
 *	  Hierarchical k-means for many centroids, as LanceDB trains IVF.
 *
 * Flat k-means costs rows x k distances per pass; with LanceDB's sample of
 * 256 rows per centroid that grows with k squared, and at a thousand lists
 * it is most of an index build.  LanceDB (lance-index, kmeans.rs) trains
 * more than 256 centroids hierarchically: first 16 clusters, then each
 * cluster split further, 16 at a time.  Here each of the 16 clusters gets a
 * share of the k centroids in proportion to its rows and is trained on its
 * own rows, recursively while a share is still above 256; a pass then costs
 * about rows x (16 + k / 16) distances instead of rows x k.  A few flat
 * passes over all rows at the end let rows cross between the first-level
 * clusters, which the levels alone never revisit; after the first two,
 * those may compare each row only with the centroids nearest its own.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_KMEANS_HIER_H
#define LANCEDB_KERNELS_KMEANS_HIER_H

#include <stddef.h>

#include "core/error.h"
#include "kernels/kmeans.h"

/* Up to this many centroids training is flat (LanceDB's threshold). */
#define KMEANS_HIER_MIN_K	256

/* Clusters per level (LanceDB's hierarchical_k). */
#define KMEANS_HIER_BRANCH	16

/*
 * Flat passes after the levels.  On 256,000 sampled rows of the IVF-PQ
 * benchmark data (1M x 128, a mixture of 1000 Gaussians; 1000 centroids),
 * against flat k-means from random rows (18 passes): the levels alone
 * leave 12% more error; 5 full passes 0.4% less error, but the lists hold
 * fewer of a query's true neighbours (96.2% of the top 10 in its 4 nearest
 * lists against 97.4%); 8 full passes 1.7% less error and 98.4% of the
 * neighbours.  The passes after the first two compare each row only with
 * the KMEANS_HIER_REFINE_NEIGHBOURS centroids nearest its own
 * (kmeans_neighbours.h), about a sixteenth of a full pass: 2 full and 10
 * such passes reach the error of 8 full ones in half their time
 * (bench/ivfpq/README.md).
 */
#define KMEANS_HIER_REFINE_PASSES	12

/* Centroids a row is compared with in those passes (opts->neighbours). */
#define KMEANS_HIER_REFINE_NEIGHBOURS	64

/*
 * Train k centroids on n rows of x (n >= k).  With k <= KMEANS_HIER_MIN_K
 * this is kmeans_train.  Otherwise every level runs kmeans_train with
 * opts->max_iterations, and then up to refine_passes flat passes polish all
 * k centroids (0: none), over opts->neighbours centroids per row after the
 * first passes when that is not 0 (the levels always compare with all);
 * opts->sse_out (refine_passes entries),
 * iterations_run and rows_compared describe those passes.  The rows of x
 * are reordered while training and put back before returning, whatever the
 * outcome: no copy of the rows is made.  The same
 * seed gives the same centroids for any number of threads.
 */
extern CoreStatus kmeans_train_hierarchical(float *x, size_t n, size_t dim,
											size_t k, int refine_passes,
											KmeansOptions *opts,
											float *centroids, CoreError *err);

#endif							/* LANCEDB_KERNELS_KMEANS_HIER_H */

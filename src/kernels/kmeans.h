/*-------------------------------------------------------------------------
 *
 * kmeans.h
 *	  Lloyd's k-means over float32 rows, with the distance matrix from sgemm.
 *
 * The assignment step is the cost of k-means: n rows against k centroids.
 * Written as ||x||^2 - 2 x.c + ||c||^2 the middle term is one matrix
 * product, which OpenBLAS's sgemm runs near the machine's peak; the norms
 * are computed once per pass.  A scalar path (one distance kernel call per
 * row) gives the same assignments and exists to check the sgemm path and
 * for tiny inputs.
 *
 * Training starts from k distinct rows drawn with a seeded generator (the
 * same seed gives the same centroids), stops after max_iterations passes,
 * when the total squared error improves by less than a relative 1e-4 (as
 * LanceDB's k-means does) or when a pass moves no row (the next would
 * repeat it), and repairs a cluster that lost all its rows by splitting
 * the largest one, so every centroid stays useful.  In few dimensions (PQ
 * subspaces) the passes keep Hamerly's bounds and compare only the rows
 * they cannot settle with every centroid (kmeans_bounds.h); in many, the
 * caller may have passes after the first compare each row only with the
 * centroids nearest its own (kmeans_neighbours.h).
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_KMEANS_H
#define LANCEDB_KERNELS_KMEANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/*
 * Called between passes and between blocks of rows; returning true stops
 * the work with CORE_ERR_CANCELED (the Postgres side checks for interrupts
 * here without long-jumping through core code).
 */
typedef bool (*KmeansCancelFn) (void *arg);

/* Whether Lloyd's passes use Hamerly's bounds (kmeans_bounds.h). */
typedef enum KmeansBoundsUse
{
	KMEANS_BOUNDS_AUTO = 0,		/* up to KMEANS_BOUNDS_MAX_DIM dimensions,
								 * centroids in 1 MB (kmeans.c) */
	KMEANS_BOUNDS_NEVER,
	KMEANS_BOUNDS_ALWAYS
} KmeansBoundsUse;

typedef struct KmeansOptions
{
	int			max_iterations; /* passes of assign + update, >= 1 */
	uint64_t	seed;			/* picks the initial rows */
	KmeansCancelFn cancel;		/* may be NULL */
	void	   *cancel_arg;
	double	   *sse_out;		/* if not NULL, the error after each pass
								 * (max_iterations entries, unused ones 0) */
	int			iterations_run; /* set by kmeans_train and kmeans_refine */
	int			threads;		/* threads for the passes, the caller's
								 * included; 0 or 1: the caller's only.  The
								 * cancel callback is only ever called from
								 * the caller's thread, between passes. */
	KmeansBoundsUse bounds;		/* the same assignments either way, up to
								 * rounding; only the work differs */
	uint64_t	rows_compared;	/* set: rows compared with all k centroids,
								 * over all passes */
	size_t		neighbours;		/* after the first passes, compare each row
								 * only with this many centroids nearest its
								 * own (kmeans_neighbours.h); 0: with all.
								 * Not where bounds are used. */
} KmeansOptions;

/*
 * Train k centroids (k * dim floats into centroids) on n rows of x.
 * Needs n >= k; CORE_ERR_INVALID otherwise.
 */
extern CoreStatus kmeans_train(const float *x, size_t n, size_t dim, size_t k,
							   KmeansOptions *opts, float *centroids,
							   CoreError *err);

/*
 * kmeans_train's passes starting from the given k centroids instead of k
 * rows: polishes centroids trained some other way (kmeans_hier.h).
 */
extern CoreStatus kmeans_refine(const float *x, size_t n, size_t dim, size_t k,
								KmeansOptions *opts, float *centroids,
								CoreError *err);

/*
 * Nearest centroid of each row: assign[i] and, if dist is not NULL, the
 * squared distance dist[i].  use_blas picks the sgemm path.
 */
extern CoreStatus kmeans_assign(const float *x, size_t n, size_t dim,
								const float *centroids, size_t k, bool use_blas,
								int32_t *assign, float *dist,
								KmeansCancelFn cancel, void *cancel_arg,
								CoreError *err);

/*
 * kmeans_assign's sgemm path with the rows split over up to `threads`
 * threads (see core/parallel.h); nothing is called back.
 */
extern CoreStatus kmeans_assign_threads(const float *x, size_t n, size_t dim,
										const float *centroids, size_t k,
										int threads, int32_t *assign,
										float *dist, CoreError *err);

/*
 * Cap the threads sgemm may start in this process (OpenBLAS's own pool;
 * by default one per core).
 */
extern void kmeans_blas_threads(int n);

/* The seeded generator the module uses (splitmix64), for callers' sampling. */
extern uint64_t kmeans_random(uint64_t *state);

#endif							/* LANCEDB_KERNELS_KMEANS_H */

/*-------------------------------------------------------------------------
 *
 * index_ivf.h
 *	  Searching an IVF_PQ or IVF_FLAT vector index that LanceDB built.
 *
 * The index of uuid U lives in _indices/U/ of the dataset, as two Lance
 * files (docs/lance-index-format.md): index.idx holds the IVF centroids,
 * auxiliary.idx, partition after partition, each indexed row's id and its
 * PQ code (with the PQ codebook) or, for IVF_FLAT, its vector.  A search
 * ranks the centroids, scores the rows of the nprobes nearest partitions,
 * and offers each to a caller's top-k with its distance; the caller
 * re-ranks exactly.
 *
 * What the index stores and how it ranks depend on its metric, as in
 * LanceDB: partitions are ranked by l2 (by dot for dot), the query
 * normalized first for cosine.  PQ codes quantize, for l2 and cosine, each
 * vector's residual to its partition's centroid (the vectors normalized
 * first for cosine) and, for dot, the vectors themselves; the key is the
 * approximate squared l2 distance or negative dot product.  IVF_FLAT's key
 * is the stored vector's squared l2, cosine or negative dot distance.
 *
 * An index this reader does not understand (another type, 4-bit codes,
 * codebooks of another float width, the legacy single-file layout) opens
 * with CORE_ERR_UNSUPPORTED, so the caller can search without it.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_INDEX_IVF_H
#define LANCEDB_LANCE_INDEX_IVF_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"
#include "kernels/topk.h"
#include "storage/storage.h"

typedef enum LanceIvfMetric
{
	LANCE_IVF_L2,
	LANCE_IVF_COSINE,
	LANCE_IVF_DOT
} LanceIvfMetric;

/* How the index stores each partition's rows. */
typedef enum LanceIvfKind
{
	LANCE_IVF_KIND_PQ,			/* IVF_PQ: 8-bit PQ codes */
	LANCE_IVF_KIND_FLAT			/* IVF_FLAT: the vectors themselves */
} LanceIvfKind;

typedef struct LanceIvfIndex LanceIvfIndex;

/*
 * Open the index of the given uuid of the dataset at `dataset` (relative
 * to the storage root): reads both files whole (metadata, centroids,
 * codebook, every row id and code).  The opened index keeps no reference
 * to the storage, so it may outlive it and serve many searches.
 */
extern CoreStatus lance_ivf_open(Storage *st, const char *dataset, const char *uuid,
								   LanceIvfIndex **out, CoreError *err);
extern void lance_ivf_close(LanceIvfIndex *ix);

extern LanceIvfKind lance_ivf_kind(const LanceIvfIndex *ix);
extern LanceIvfMetric lance_ivf_metric(const LanceIvfIndex *ix);
extern int	lance_ivf_dim(const LanceIvfIndex *ix);
extern int	lance_ivf_num_partitions(const LanceIvfIndex *ix);
extern int	lance_ivf_num_sub_vectors(const LanceIvfIndex *ix);	/* 0 for FLAT */
extern uint64_t lance_ivf_num_rows(const LanceIvfIndex *ix);

/* The memory the opened index holds, in bytes. */
extern uint64_t lance_ivf_memory(const LanceIvfIndex *ix);

/* Whether a row id of the index still names a live row; false drops it. */
typedef bool (*LanceIvfRowFilter) (uint64_t row_id, void *arg);

/*
 * Offer every row of the nprobes partitions nearest q (dim floats) that
 * the filter keeps to out, keyed by approximate distance, with the row id
 * as payload and seq; then the rows of the next nearest partitions, while
 * out holds fewer than min_results rows (so that a LIMIT is honoured
 * whenever that many rows exist; LanceDB would stop at nprobes and return
 * fewer).  Rows that cannot enter a
 * full top-k are skipped.
 */
extern CoreStatus lance_ivf_search(LanceIvfIndex *ix, const float *q, int nprobes,
								   int64_t min_results, LanceIvfRowFilter filter, void *arg,
								   TopK *out, CoreError *err);

#endif							/* LANCEDB_LANCE_INDEX_IVF_H */

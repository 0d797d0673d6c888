/*-------------------------------------------------------------------------
 *
 * index_ivfpq.h
 *	  Searching an IVF_PQ vector index that LanceDB built.
 *
 * The index of uuid U lives in _indices/U/ of the dataset, as two Lance
 * files (docs/lance-index-format.md): index.idx holds the IVF centroids,
 * auxiliary.idx the PQ codebook and, partition after partition, each
 * indexed row's id and PQ code.  A search ranks the centroids, scans the
 * codes of the nprobes nearest partitions with an asymmetric distance
 * table, and offers every row to a caller's top-k with its approximate
 * distance; the caller re-ranks exactly.
 *
 * What the index stores and how it ranks depend on its metric, as in
 * LanceDB: for l2 the codes quantize each vector's residual to its
 * partition's centroid; for cosine the vectors were normalized first and
 * ranked by l2; for dot the codes quantize the vectors themselves.  The
 * approximate key is the squared l2 distance (of the normalized query for
 * cosine) or the negative dot product.
 *
 * An index this reader does not understand (another type, 4-bit codes,
 * codebooks of another float width, the legacy single-file layout) opens
 * with CORE_ERR_UNSUPPORTED, so the caller can search without it.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_INDEX_IVFPQ_H
#define LANCEDB_LANCE_INDEX_IVFPQ_H

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

typedef struct LanceIvfPq LanceIvfPq;

/*
 * Open the index of the given uuid of the dataset at `dataset` (relative
 * to the storage root): reads both files whole (metadata, centroids,
 * codebook, every row id and code).  The opened index keeps no reference
 * to the storage, so it may outlive it and serve many searches.
 */
extern CoreStatus lance_ivfpq_open(Storage *st, const char *dataset, const char *uuid,
								   LanceIvfPq **out, CoreError *err);
extern void lance_ivfpq_close(LanceIvfPq *ix);

extern LanceIvfMetric lance_ivfpq_metric(const LanceIvfPq *ix);
extern int	lance_ivfpq_dim(const LanceIvfPq *ix);
extern int	lance_ivfpq_num_partitions(const LanceIvfPq *ix);
extern int	lance_ivfpq_num_sub_vectors(const LanceIvfPq *ix);
extern uint64_t lance_ivfpq_num_rows(const LanceIvfPq *ix);

/* The memory the opened index holds, in bytes. */
extern uint64_t lance_ivfpq_memory(const LanceIvfPq *ix);

/* Whether a row id of the index still names a live row; false drops it. */
typedef bool (*LanceIvfRowFilter) (uint64_t row_id, void *arg);

/*
 * Offer every row of the nprobes partitions nearest q (dim floats) that
 * the filter keeps to out, keyed by approximate distance, with the row id
 * as payload and seq.  Rows that cannot enter a full top-k are skipped.
 */
extern CoreStatus lance_ivfpq_search(LanceIvfPq *ix, const float *q, int nprobes,
									 LanceIvfRowFilter filter, void *arg, TopK *out,
									 CoreError *err);

#endif							/* LANCEDB_LANCE_INDEX_IVFPQ_H */

/*-------------------------------------------------------------------------
 *
 * pq.h
 *	  Product quantization: codebooks, encoding and asymmetric distances.
 *
 * A vector of dim floats is cut into m sub-vectors of dim/m floats; each
 * sub-vector is replaced by the number of its nearest centroid among 2^nbits
 * trained for that subspace (one byte per sub-vector for nbits = 8).  A
 * codebook is m * ksub * dsub floats, subspace after subspace.
 *
 * Search compares a query with codes without decoding them (ADC, Jegou et
 * al., "Product quantization for nearest neighbor search", 2011, sec. 3.1):
 * a table of m * ksub partial distances from the query's sub-vectors to
 * every centroid is built once, and a code's distance is the sum of m table
 * entries.  pq_scan does those lookups for many codes at once with SIMD
 * gathers; it reads the codes transposed (all first sub-codes, then all
 * second ones ...), which is what lets one vector load feed 8 or 16 codes.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_PQ_H
#define LANCEDB_KERNELS_PQ_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "kernels/kmeans.h"

/* The only code width: one byte per sub-vector. */
#define PQ_NBITS	8
#define PQ_KSUB		(1 << PQ_NBITS)

typedef enum PqMetric
{
	PQ_METRIC_L2,				/* table holds squared distances */
	PQ_METRIC_DOT				/* table holds negative dot products */
} PqMetric;

/*
 * Train m codebooks of PQ_KSUB centroids on n rows (dim must be a multiple
 * of m, and n >= PQ_KSUB).  Each subspace runs k-means with opts, its seed
 * offset by the subspace number; with opts->threads > 1, up to that many
 * subspaces train at once, each on one thread, with the same results.
 */
extern CoreStatus pq_train(const float *x, size_t n, size_t dim, size_t m,
						   KmeansOptions *opts, float *codebook, CoreError *err);

/* Encode n rows into n * m bytes, row after row (nearest centroid per subspace). */
extern CoreStatus pq_encode(const float *codebook, size_t dim, size_t m,
							const float *x, size_t n, uint8_t *codes,
							CoreError *err);

/* pq_encode with blocks of rows on up to `threads` threads (core/parallel.h). */
extern CoreStatus pq_encode_threads(const float *codebook, size_t dim, size_t m,
									const float *x, size_t n, int threads,
									uint8_t *codes, CoreError *err);

/* Decode n codes back to n rows of dim floats. */
extern void pq_decode(const float *codebook, size_t dim, size_t m,
					  const uint8_t *codes, size_t n, float *out);

/* Fill table[m * PQ_KSUB] with the query's partial distances. */
extern void pq_table(const float *codebook, size_t dim, size_t m,
					 PqMetric metric, const float *q, float *table);

/*
 * out[i] = sum over j of table[j * PQ_KSUB + codes_t[j * n + i]] for the n
 * codes stored transposed in codes_t (m rows of n bytes).
 */
extern void pq_scan(const float *table, size_t m, const uint8_t *codes_t,
					size_t n, float *out);

#endif							/* LANCEDB_KERNELS_PQ_H */

/*-------------------------------------------------------------------------
 *
 * pq_impl.h
 *	  The per-instruction-set code scanners behind pq_scan (pq.c picks one).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_PQ_IMPL_H
#define LANCEDB_KERNELS_PQ_IMPL_H

#include <stddef.h>
#include <stdint.h>

typedef void (*PqScanFn) (const float *table, size_t m,
						  const uint8_t *codes_t, size_t n, float *out);

extern void pq_scan_scalar(const float *table, size_t m,
						   const uint8_t *codes_t, size_t n, float *out);
extern void pq_scan_avx2(const float *table, size_t m,
						 const uint8_t *codes_t, size_t n, float *out);
extern void pq_scan_avx512(const float *table, size_t m,
						   const uint8_t *codes_t, size_t n, float *out);

#endif							/* LANCEDB_KERNELS_PQ_IMPL_H */

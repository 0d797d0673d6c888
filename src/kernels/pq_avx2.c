/*-------------------------------------------------------------------------
 *
 * pq_avx2.c
 *	  ADC code scanning with AVX2 gathers, 8 codes per step.
 *
 * Each sub-quantizer's 8 code bytes widen to 8 lanes of table offsets and
 * one gather fetches their partial distances; the sums stay in a register
 * across the m sub-quantizers.  The sum runs in the same order as the scalar
 * scan (sub-quantizer 0 first), so results are bit-identical to it.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/pq.h"
#include "kernels/pq_impl.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <string.h>

#define LANES 8

void
pq_scan_avx2(const float *table, size_t m, const uint8_t *codes_t, size_t n,
			 float *out)
{
	size_t		i = 0;

	for (; i + LANES <= n; i += LANES)
	{
		__m256		acc = _mm256_setzero_ps();

		for (size_t j = 0; j < m; j++)
		{
			int64_t		bytes;
			__m256i		idx;

			memcpy(&bytes, codes_t + j * n + i, sizeof(bytes));
			idx = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128(bytes));
			acc = _mm256_add_ps(acc, _mm256_i32gather_ps(table + j * PQ_KSUB, idx, 4));
		}
		_mm256_storeu_ps(out + i, acc);
	}
	for (; i < n; i++)
	{
		float		s = 0.0f;

		for (size_t j = 0; j < m; j++)
			s += table[j * PQ_KSUB + codes_t[j * n + i]];
		out[i] = s;
	}
}

#endif

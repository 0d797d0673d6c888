/*-------------------------------------------------------------------------
 *
 * pq_avx512.c
 *	  ADC code scanning with AVX-512 gathers, 16 codes per step.
 *
 * As pq_avx2.c with twice the lanes; the sum runs sub-quantizer 0 first, as
 * the scalar scan does, so results are bit-identical to it.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/pq.h"
#include "kernels/pq_impl.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#define LANES 16

void
pq_scan_avx512(const float *table, size_t m, const uint8_t *codes_t, size_t n,
			   float *out)
{
	size_t		i = 0;

	for (; i + LANES <= n; i += LANES)
	{
		__m512		acc = _mm512_setzero_ps();

		for (size_t j = 0; j < m; j++)
		{
			__m128i		bytes = _mm_loadu_si128((const __m128i *) (codes_t + j * n + i));
			__m512i		idx = _mm512_cvtepu8_epi32(bytes);

			acc = _mm512_add_ps(acc, _mm512_i32gather_ps(idx, table + j * PQ_KSUB, 4));
		}
		_mm512_storeu_ps(out + i, acc);
	}
	if (i < n)
	{
		__mmask16	mask = (__mmask16) ((1u << (n - i)) - 1);
		__m512		acc = _mm512_setzero_ps();

		for (size_t j = 0; j < m; j++)
		{
			__m128i		bytes = _mm_maskz_loadu_epi8(mask, codes_t + j * n + i);
			__m512i		idx = _mm512_cvtepu8_epi32(bytes);

			acc = _mm512_add_ps(acc, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), mask, idx,
															   table + j * PQ_KSUB, 4));
		}
		_mm512_mask_storeu_ps(out + i, mask, acc);
	}
}

#endif

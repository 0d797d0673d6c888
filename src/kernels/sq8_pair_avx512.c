/*-------------------------------------------------------------------------
 *
 * sq8_pair_avx512.c
 *	  The code dot product for AVX-512BW: thirty-two codes widened to
 *	  16-bit lanes per step, multiplied and summed in pairs into 32-bit
 *	  lanes (vpmaddwd), the tail under a byte mask.
 *
 * Built with the AVX-512 F/VL/BW/DQ flags; only reached through
 * sq8_code_dot_for().
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/sq8_pair_impl.h"

#ifdef SQ8_PAIR_HAVE_X86

#include <immintrin.h>

uint32_t
sq8_code_dot_avx512(const uint8_t *a, const uint8_t *b, size_t dim)
{
	__m512i		acc0 = _mm512_setzero_si512();
	__m512i		acc1 = _mm512_setzero_si512();
	size_t		i = 0;

	for (; i + 64 <= dim; i += 64)
	{
		__m512i		a0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *) (a + i)));
		__m512i		b0 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *) (b + i)));
		__m512i		a1 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *) (a + i + 32)));
		__m512i		b1 = _mm512_cvtepu8_epi16(_mm256_loadu_si256((const __m256i *) (b + i + 32)));

		acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(a0, b0));
		acc1 = _mm512_add_epi32(acc1, _mm512_madd_epi16(a1, b1));
	}
	for (; i < dim; i += 32)
	{
		__mmask32	m = dim - i >= 32 ? (__mmask32) 0xFFFFFFFF : (__mmask32) ((1u << (dim - i)) - 1);
		__m512i		a0 = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, a + i));
		__m512i		b0 = _mm512_cvtepu8_epi16(_mm256_maskz_loadu_epi8(m, b + i));

		acc0 = _mm512_add_epi32(acc0, _mm512_madd_epi16(a0, b0));
	}
	return (uint32_t) _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1));
}

#endif							/* SQ8_PAIR_HAVE_X86 */

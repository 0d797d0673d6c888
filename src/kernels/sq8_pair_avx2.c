/*-------------------------------------------------------------------------
 *
 * sq8_pair_avx2.c
 *	  The code dot product for AVX2: sixteen codes widened to 16-bit
 *	  lanes per step, multiplied and summed in pairs into 32-bit lanes
 *	  (vpmaddwd; a code fits a signed 16-bit lane, a pair sum an int32).
 *	  The last dim % 16 codes go through the scalar loop.
 *
 * Built with -mavx2 -mfma; only reached through sq8_code_dot_for().
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/sq8_pair_impl.h"

#ifdef SQ8_PAIR_HAVE_X86

#include <immintrin.h>

uint32_t
sq8_code_dot_avx2(const uint8_t *a, const uint8_t *b, size_t dim)
{
	__m256i		acc = _mm256_setzero_si256();
	__m128i		s;
	size_t		i = 0;

	for (; i + 16 <= dim; i += 16)
	{
		__m256i		wa = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *) (a + i)));
		__m256i		wb = _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *) (b + i)));

		acc = _mm256_add_epi32(acc, _mm256_madd_epi16(wa, wb));
	}
	s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
	return (uint32_t) _mm_cvtsi128_si32(s) + sq8_code_dot_scalar(a + i, b + i, dim - i);
}

#endif							/* SQ8_PAIR_HAVE_X86 */

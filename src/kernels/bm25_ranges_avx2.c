/*-------------------------------------------------------------------------
 *
 * bm25_ranges_avx2.c
 *	  The two loops of range ranking that run over every range of a
 *	  segment, with AVX2 (see bm25_ranges.h).
 *
 * They decide nothing exactly: a bound summed with FMA differs from the
 * scalar sum by far less than the ranking's slack, in either direction.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_ranges.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

void
bm25_add_scaled_avx2(float *u, const uint8_t *q, size_t n, float w)
{
	const __m256 vw = _mm256_set1_ps(w);
	size_t		i = 0;

	for (; i + 8 <= n; i += 8)
	{
		__m128i		bytes = _mm_loadl_epi64((const __m128i *) (q + i));
		__m256		v = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes));

		_mm256_storeu_ps(u + i, _mm256_fmadd_ps(v, vw, _mm256_loadu_ps(u + i)));
	}
	for (; i < n; i++)
		u[i] += w * (float) q[i];
}

float
bm25_group_best_avx2(const float *u)
{
	__m256		m = _mm256_loadu_ps(u);
	__m128		h;

	for (int k = 8; k < BM25_RANGE_GROUP; k += 8)
		m = _mm256_max_ps(m, _mm256_loadu_ps(u + k));
	h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
	h = _mm_max_ps(h, _mm_movehl_ps(h, h));
	h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
	return _mm_cvtss_f32(h);
}

uint64_t
bm25_group_reaching_avx2(const float *u, float t)
{
	const __m256 vt = _mm256_set1_ps(t);
	const __m256 zero = _mm256_setzero_ps();
	uint64_t	mask = 0;

	for (int k = 0; k < BM25_RANGE_GROUP; k += 8)
	{
		__m256		v = _mm256_loadu_ps(u + k);
		__m256		hit = _mm256_and_ps(_mm256_cmp_ps(v, vt, _CMP_GE_OQ),
										_mm256_cmp_ps(v, zero, _CMP_GT_OQ));

		mask |= (uint64_t) (uint32_t) _mm256_movemask_ps(hit) << k;
	}
	return mask;
}

#endif

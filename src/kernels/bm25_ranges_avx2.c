/*-------------------------------------------------------------------------
 *
 * bm25_ranges_avx2.c
 *	  The loops of range ranking that run over every range of a segment
 *	  or every mask of a chunk, with AVX2 (see bm25_ranges.h).
 *
 * They decide nothing exactly: a bound summed with FMA differs from the
 * scalar sum by far less than the ranking's slack, in either direction.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_ranges.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <string.h>

/* Eight bytes of q from i on, as floats. */
static inline __m256
Widen(const uint8_t *q, int i)
{
	return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *) (q + i))));
}

float
bm25_group_sum_avx2(float *u, const uint8_t *const *q, const float *w, size_t nterms)
{
	/* a group's 64 sums stay in eight registers while the terms add in */
	__m256		a0 = _mm256_setzero_ps(),
				a1 = a0,
				a2 = a0,
				a3 = a0,
				a4 = a0,
				a5 = a0,
				a6 = a0,
				a7 = a0;
	__m256		m;
	__m128		h;

	_Static_assert(BM25_RANGE_GROUP == 64, "a group is eight registers of bounds");
	for (size_t t = 0; t < nterms; t++)
	{
		const __m256 vw = _mm256_set1_ps(w[t]);
		const uint8_t *b = q[t];

		a0 = _mm256_fmadd_ps(Widen(b, 0), vw, a0);
		a1 = _mm256_fmadd_ps(Widen(b, 8), vw, a1);
		a2 = _mm256_fmadd_ps(Widen(b, 16), vw, a2);
		a3 = _mm256_fmadd_ps(Widen(b, 24), vw, a3);
		a4 = _mm256_fmadd_ps(Widen(b, 32), vw, a4);
		a5 = _mm256_fmadd_ps(Widen(b, 40), vw, a5);
		a6 = _mm256_fmadd_ps(Widen(b, 48), vw, a6);
		a7 = _mm256_fmadd_ps(Widen(b, 56), vw, a7);
	}
	_mm256_storeu_ps(u, a0);
	_mm256_storeu_ps(u + 8, a1);
	_mm256_storeu_ps(u + 16, a2);
	_mm256_storeu_ps(u + 24, a3);
	_mm256_storeu_ps(u + 32, a4);
	_mm256_storeu_ps(u + 40, a5);
	_mm256_storeu_ps(u + 48, a6);
	_mm256_storeu_ps(u + 56, a7);
	m = _mm256_max_ps(_mm256_max_ps(_mm256_max_ps(a0, a1), _mm256_max_ps(a2, a3)),
					  _mm256_max_ps(_mm256_max_ps(a4, a5), _mm256_max_ps(a6, a7)));
	h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
	h = _mm_max_ps(h, _mm_movehl_ps(h, h));
	h = _mm_max_ss(h, _mm_shuffle_ps(h, h, 1));
	return _mm_cvtss_f32(h);
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

/*
 * v added to the bounds of a range's documents that mask holds: the same
 * sums as adding them one by one, without a loop over bits that
 * mispredicts.  The others add +0, and x + (+0) is x for every x but -0,
 * which a bound summed up from +0 never is.
 */
_Static_assert(BM25_RANGE_DOCS == 16, "a range's bounds are two registers");

void
bm25_mask_add_avx2(float *bound, uint32_t mask, float v)
{
	const __m256i bits = _mm256_setr_epi32(1, 2, 4, 8, 16, 32, 64, 128);
	const __m256i lo = _mm256_set1_epi32((int) (mask & 0xFF));
	const __m256i hi = _mm256_set1_epi32((int) ((mask >> 8) & 0xFF));
	const __m256 vv = _mm256_set1_ps(v);
	__m256		in_lo = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(lo, bits), bits));
	__m256		in_hi = _mm256_castsi256_ps(_mm256_cmpeq_epi32(_mm256_and_si256(hi, bits), bits));

	_mm256_storeu_ps(bound, _mm256_add_ps(_mm256_loadu_ps(bound), _mm256_and_ps(vv, in_lo)));
	_mm256_storeu_ps(bound + 8, _mm256_add_ps(_mm256_loadu_ps(bound + 8), _mm256_and_ps(vv, in_hi)));
}

/*
 * Which of a range's 16 bounds are not beaten: bound * slack, in double
 * precision as Beaten computes it, not below theta (NaN counts as not
 * below, as there).
 */
uint32_t
bm25_not_beaten_avx2(const float *bound, double slack, double theta)
{
	const __m256d vs = _mm256_set1_pd(slack);
	const __m256d vt = _mm256_set1_pd(theta);
	uint32_t	mask = 0;

	for (int k = 0; k < 16; k += 4)
	{
		__m256d		b = _mm256_mul_pd(_mm256_cvtps_pd(_mm_loadu_ps(bound + k)), vs);

		mask |= (uint32_t) _mm256_movemask_pd(_mm256_cmp_pd(b, vt, _CMP_NLT_UQ)) << k;
	}
	return mask;
}

/* Every AVX2 processor has POPCNT; the build's baseline need not. */
__attribute__((target("popcnt")))
uint32_t
bm25_count_postings_avx2(const uint8_t *masks, uint32_t from, uint32_t to)
{
	uint32_t	n = 0;

	for (; from + 4 <= to; from += 4)
	{
		uint64_t	w;

		memcpy(&w, masks + 2 * from, 8);
		n += (uint32_t) __builtin_popcountll(w);
	}
	for (; from < to; from++)
		n += (uint32_t) __builtin_popcount((uint32_t) masks[2 * from] |
										   (uint32_t) masks[2 * from + 1] << 8);
	return n;
}

#endif

/*-------------------------------------------------------------------------
 *
 * sq8_avx2.c
 *	  Distances to 8-bit quantized vectors for AVX2 with FMA (8 lanes).
 *
 * Built with -mavx2 -mfma; only reached through sq8_kernels_for(), after
 * the distance module has checked the CPU and the OS.  Eight codes are
 * widened to eight int32 and converted to floats per step; two
 * accumulators keep two FMA chains in flight.  The last dim % 8 elements
 * go through the scalar formula.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/sq8_impl.h"

#ifdef SQ8_HAVE_X86

#include <immintrin.h>
#include <math.h>
#include <string.h>

/* eight codes as floats */
static inline __m256
load8(const uint8_t *c)
{
	long long	bits;

	memcpy(&bits, c, sizeof(bits));
	return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_cvtsi64_si128(bits)));
}

static inline float
hsum(__m256 v)
{
	__m128		s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));

	s = _mm_add_ps(s, _mm_movehl_ps(s, s));
	s = _mm_add_ss(s, _mm_movehdup_ps(s));
	return _mm_cvtss_f32(s);
}

static float
avx2_l2sq(const float *q, const uint8_t *c, float lo, float step, size_t dim)
{
	__m256		vlo = _mm256_set1_ps(lo);
	__m256		vstep = _mm256_set1_ps(step);
	__m256		acc0 = _mm256_setzero_ps();
	__m256		acc1 = _mm256_setzero_ps();
	size_t		i = 0;
	float		sum;

	for (; i + 16 <= dim; i += 16)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(q + i), _mm256_fmadd_ps(load8(c + i), vstep, vlo));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(q + i + 8), _mm256_fmadd_ps(load8(c + i + 8), vstep, vlo));

		acc0 = _mm256_fmadd_ps(d0, d0, acc0);
		acc1 = _mm256_fmadd_ps(d1, d1, acc1);
	}
	for (; i + 8 <= dim; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(q + i), _mm256_fmadd_ps(load8(c + i), vstep, vlo));

		acc0 = _mm256_fmadd_ps(d, d, acc0);
	}
	sum = hsum(_mm256_add_ps(acc0, acc1));
	for (; i < dim; i++)
	{
		float		d = q[i] - (lo + step * (float) c[i]);

		sum += d * d;
	}
	return sum;
}

static float
avx2_dot(const float *q, const uint8_t *c, size_t dim)
{
	__m256		acc0 = _mm256_setzero_ps();
	__m256		acc1 = _mm256_setzero_ps();
	size_t		i = 0;
	float		sum;

	for (; i + 16 <= dim; i += 16)
	{
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8(c + i), acc0);
		acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i + 8), load8(c + i + 8), acc1);
	}
	for (; i + 8 <= dim; i += 8)
		acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), load8(c + i), acc0);
	sum = hsum(_mm256_add_ps(acc0, acc1));
	for (; i < dim; i++)
		sum += q[i] * (float) c[i];
	return sum;
}

static float
avx2_l1(const float *q, const uint8_t *c, float lo, float step, size_t dim)
{
	__m256		vlo = _mm256_set1_ps(lo);
	__m256		vstep = _mm256_set1_ps(step);
	__m256		sign = _mm256_set1_ps(-0.0f);
	__m256		acc = _mm256_setzero_ps();
	size_t		i = 0;
	float		sum;

	for (; i + 8 <= dim; i += 8)
	{
		__m256		d = _mm256_sub_ps(_mm256_loadu_ps(q + i), _mm256_fmadd_ps(load8(c + i), vstep, vlo));

		acc = _mm256_add_ps(acc, _mm256_andnot_ps(sign, d));
	}
	sum = hsum(acc);
	for (; i < dim; i++)
		sum += fabsf(q[i] - (lo + step * (float) c[i]));
	return sum;
}

const Sq8Kernels sq8_avx2_kernels = {
	.name = "avx2",
	.l2sq = avx2_l2sq,
	.dot = avx2_dot,
	.l1 = avx2_l1,
};

#endif							/* SQ8_HAVE_X86 */

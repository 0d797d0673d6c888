/*-------------------------------------------------------------------------
 *
 * sq8_avx512.c
 *	  Distances to 8-bit quantized vectors for AVX-512F (16 lanes).
 *
 * Built with the AVX-512 flags; only reached through sq8_kernels_for(),
 * after the distance module has checked the CPU and the OS.  Sixteen codes
 * are widened to int32 and converted per step; the tail of dim % 16
 * elements is a masked step, whose masked-off lanes read 0 in the query
 * and contribute nothing (their codes are never read either).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/sq8_impl.h"

#ifdef SQ8_HAVE_X86

#include <immintrin.h>

static inline __m512
load16(const uint8_t *c)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *) c)));
}

static inline __m512
load16_masked(const uint8_t *c, __mmask16 m)
{
	return _mm512_cvtepi32_ps(_mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, c)));
}

static float
avx512_l2sq(const float *q, const uint8_t *c, float lo, float step, size_t dim)
{
	__m512		vlo = _mm512_set1_ps(lo);
	__m512		vstep = _mm512_set1_ps(step);
	__m512		acc0 = _mm512_setzero_ps();
	__m512		acc1 = _mm512_setzero_ps();
	size_t		i = 0;

	for (; i + 32 <= dim; i += 32)
	{
		__m512		d0 = _mm512_sub_ps(_mm512_loadu_ps(q + i), _mm512_fmadd_ps(load16(c + i), vstep, vlo));
		__m512		d1 = _mm512_sub_ps(_mm512_loadu_ps(q + i + 16), _mm512_fmadd_ps(load16(c + i + 16), vstep, vlo));

		acc0 = _mm512_fmadd_ps(d0, d0, acc0);
		acc1 = _mm512_fmadd_ps(d1, d1, acc1);
	}
	for (; i < dim; i += 16)
	{
		__mmask16	m = dim - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (dim - i)) - 1);
		__m512		d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, q + i),
											_mm512_fmadd_ps(load16_masked(c + i, m), vstep, vlo));

		acc0 = _mm512_fmadd_ps(d, d, acc0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

static float
avx512_dot(const float *q, const uint8_t *c, size_t dim)
{
	__m512		acc0 = _mm512_setzero_ps();
	__m512		acc1 = _mm512_setzero_ps();
	size_t		i = 0;

	for (; i + 32 <= dim; i += 32)
	{
		acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i), load16(c + i), acc0);
		acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(q + i + 16), load16(c + i + 16), acc1);
	}
	for (; i < dim; i += 16)
	{
		__mmask16	m = dim - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (dim - i)) - 1);

		acc0 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, q + i), load16_masked(c + i, m), acc0);
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

static float
avx512_l1(const float *q, const uint8_t *c, float lo, float step, size_t dim)
{
	__m512		vlo = _mm512_set1_ps(lo);
	__m512		vstep = _mm512_set1_ps(step);
	__m512		acc = _mm512_setzero_ps();
	size_t		i = 0;

	for (; i < dim; i += 16)
	{
		__mmask16	m = dim - i >= 16 ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (dim - i)) - 1);
		__m512		d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, q + i),
											_mm512_fmadd_ps(load16_masked(c + i, m), vstep, vlo));

		acc = _mm512_add_ps(acc, _mm512_abs_ps(d));
	}
	return _mm512_reduce_add_ps(acc);
}

const Sq8Kernels sq8_avx512_kernels = {
	.name = "avx512",
	.l2sq = avx512_l2sq,
	.dot = avx512_dot,
	.l1 = avx512_l1,
};

#endif							/* SQ8_HAVE_X86 */

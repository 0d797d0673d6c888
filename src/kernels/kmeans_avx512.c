/*-------------------------------------------------------------------------
 *
 * kmeans_avx512.c
 *	  k-means's nearest-centroid searches with AVX-512 (see kmeans_impl.h):
 *	  the argmin over an sgemm row (kmeans_avx2.c's, widened to 16 lanes),
 *	  the nearest-two and nearest-only searches over transposed centroids
 *	  (two rows at a time; a lone row takes both places), the centroid
 *	  update's sums, and each row's distance to its own centroid.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/kmeans_impl.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <math.h>
#include <stdbool.h>

#define LANES 16


size_t
kmeans_argmin_avx512(const float *g, const float *cnorm, size_t k, float *best)
{
	const __m512 inf = _mm512_set1_ps(INFINITY);
	__m512		vbest = inf;
	__m512i		vidx = _mm512_setzero_si512();
	__m512i		cur = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	const __m512i step = _mm512_set1_epi32(LANES);
	size_t		j = 0;
	float		b;
	__mmask16	eq;

	for (; j < k; j += LANES)
	{
		__mmask16	live = k - j >= LANES ? (__mmask16) 0xFFFF : (__mmask16) ((1u << (k - j)) - 1);
		/* lanes past the end read as +inf and never win */
		__m512		v = _mm512_add_ps(_mm512_mask_loadu_ps(inf, live, g + j),
									  _mm512_mask_loadu_ps(inf, live, cnorm + j));
		__mmask16	lt = _mm512_cmp_ps_mask(v, vbest, _CMP_LT_OQ);

		vbest = _mm512_mask_mov_ps(vbest, lt, v);
		vidx = _mm512_mask_mov_epi32(vidx, lt, cur);
		cur = _mm512_add_epi32(cur, step);
	}
	b = _mm512_reduce_min_ps(vbest);
	eq = _mm512_cmp_ps_mask(vbest, _mm512_set1_ps(b), _CMP_EQ_OQ);
	*best = b;
	return (size_t) _mm512_mask_reduce_min_epi32(eq, vidx);
}

/*
 * Fold one block of values into each lane's minimum (and where) and, if
 * want_second, second smallest: a new minimum pushes the old one to second
 * place.  The candidate goes first in _mm512_min_ps, which returns its
 * second operand when either is NaN: a NaN never displaces a number, as in
 * the scalar search's less-than comparisons.  The minima do not depend on
 * want_second.
 */
static inline __attribute__((always_inline)) void
update_lanes(__m512 v, bool want_second, __m512 *b1, __m512 *b2, __m512i *i1,
			 __m512i *cur)
{
	__mmask16	lt = _mm512_cmp_ps_mask(v, *b1, _CMP_LT_OQ);

	if (want_second)
		*b2 = _mm512_min_ps(_mm512_mask_mov_ps(v, lt, *b1), *b2);
	*b1 = _mm512_mask_mov_ps(*b1, lt, v);
	*i1 = _mm512_mask_mov_epi32(*i1, lt, *cur);
	*cur = _mm512_add_epi32(*cur, _mm512_set1_epi32(LANES));
}

/* The nearest of one row's lane minima, the first index on ties. */
static inline size_t
nearest_of(__m512 b1, __m512i i1)
{
	__mmask16	eq = _mm512_cmp_ps_mask(b1, _mm512_set1_ps(_mm512_reduce_min_ps(b1)),
									_CMP_EQ_OQ);

	return (size_t) _mm512_mask_reduce_min_epi32(eq, i1);
}

/*
 * A row's answer from its lanes: the smallest minimum and, among equal
 * ones, the first index; as second, any lane's second or another lane's
 * minimum.
 */
static inline size_t
finish_two(__m512 b1, __m512 b2, __m512i i1, float *best, float *second)
{
	size_t		bi = nearest_of(b1, i1);
	float		s = _mm512_reduce_min_ps(b2);
	__mmask16	others = _mm512_cmp_epi32_mask(i1, _mm512_set1_epi32((int) bi), _MM_CMPINT_NE);
	float		o = _mm512_mask_reduce_min_ps(others, b1);

	*best = _mm512_reduce_min_ps(b1);
	*second = o < s ? o : s;
	return bi;
}

/* Two rows' lanes in a search: minima, where they are, and seconds. */
typedef struct PairLanes
{
	__m512		b1[2];
	__m512		b2[2];			/* untouched without want_second */
	__m512i		i1[2];
} PairLanes;

/*
 * The searches' shared body: rows x0 and x1 against every block of
 * centroids, each row's lanes into out.  Inlined into each caller with
 * want_second a constant, so the nearest-only search carries no seconds.
 */
static inline __attribute__((always_inline)) void
search_pair(const float *x0, const float *x1, const float *ct,
			const float *cnorm, size_t kpad, size_t dim, bool want_second,
			PairLanes *out)
{
	__m512i		cur0 = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
	__m512i		cur1 = cur0;
	size_t		j = 0;
	__m512		xb0[KMEANS_NEAREST2_MAX_DIM];
	__m512		xb1[KMEANS_NEAREST2_MAX_DIM];

	for (int r = 0; r < 2; r++)
	{
		out->b1[r] = _mm512_set1_ps(INFINITY);
		out->b2[r] = _mm512_set1_ps(INFINITY);
		out->i1[r] = _mm512_setzero_si512();
	}
	for (size_t d = 0; d < dim; d++)
	{
		xb0[d] = _mm512_set1_ps(-2.0f * x0[d]);
		xb1[d] = _mm512_set1_ps(-2.0f * x1[d]);
	}
	/*
	 * Four blocks of centroids at a time for each of the two rows: eight
	 * chains of dim dependent multiply-adds interleave, where one chain
	 * alone would wait on each add's latency, and each load of a block
	 * feeds both rows.  Each row's sums still run dimension by dimension
	 * (kmeans_impl.h) and its blocks update its minima in order.
	 */
	for (; j + 4 * LANES <= kpad; j += 4 * LANES)
	{
		__m512		a[4];
		__m512		c[4];

#pragma GCC unroll 4
		for (size_t b = 0; b < 4; b++)
			a[b] = c[b] = _mm512_loadu_ps(cnorm + j + b * LANES);
		for (size_t d = 0; d < dim; d++)
		{
			const float *cd = ct + d * kpad + j;

#pragma GCC unroll 4
			for (size_t b = 0; b < 4; b++)
			{
				__m512		w = _mm512_loadu_ps(cd + b * LANES);

				a[b] = _mm512_fmadd_ps(xb0[d], w, a[b]);
				c[b] = _mm512_fmadd_ps(xb1[d], w, c[b]);
			}
		}
#pragma GCC unroll 4
		for (size_t b = 0; b < 4; b++)
		{
			update_lanes(a[b], want_second, &out->b1[0], &out->b2[0],
						 &out->i1[0], &cur0);
			update_lanes(c[b], want_second, &out->b1[1], &out->b2[1],
						 &out->i1[1], &cur1);
		}
	}
	for (; j < kpad; j += LANES)
	{
		__m512		a0 = _mm512_loadu_ps(cnorm + j);
		__m512		c0 = a0;

		for (size_t d = 0; d < dim; d++)
		{
			__m512		w = _mm512_loadu_ps(ct + d * kpad + j);

			a0 = _mm512_fmadd_ps(xb0[d], w, a0);
			c0 = _mm512_fmadd_ps(xb1[d], w, c0);
		}
		update_lanes(a0, want_second, &out->b1[0], &out->b2[0], &out->i1[0],
					 &cur0);
		update_lanes(c0, want_second, &out->b1[1], &out->b2[1], &out->i1[1],
					 &cur1);
	}
}

/*
 * A row alone (the odd one of a run, or a caller with one row) rides in both
 * places of a pair: each multiply-add is done twice, the price of keeping
 * one body, and the answers are the pair's bit for bit.
 */
size_t
kmeans_nearest2_avx512(const float *x, const float *ct, const float *cnorm,
					   size_t kpad, size_t dim, float *best, float *second)
{
	size_t		n1;
	float		b1;
	float		s1;

	return kmeans_nearest2_pair_avx512(x, x, ct, cnorm, kpad, dim, best, second,
									   &n1, &b1, &s1);
}

size_t
kmeans_nearest2_pair_avx512(const float *x0, const float *x1, const float *ct,
							const float *cnorm, size_t kpad, size_t dim,
							float *best0, float *second0, size_t *nearest1,
							float *best1, float *second1)
{
	PairLanes	l;

	search_pair(x0, x1, ct, cnorm, kpad, dim, true, &l);
	*nearest1 = finish_two(l.b1[1], l.b2[1], l.i1[1], best1, second1);
	return finish_two(l.b1[0], l.b2[0], l.i1[0], best0, second0);
}

void
kmeans_nearest_pair_avx512(const float *x0, const float *x1, const float *ct,
						   const float *cnorm, size_t kpad, size_t dim,
						   size_t *nearest0, size_t *nearest1)
{
	PairLanes	l;

	search_pair(x0, x1, ct, cnorm, kpad, dim, false, &l);
	*nearest0 = nearest_of(l.b1[0], l.i1[0]);
	*nearest1 = nearest_of(l.b1[1], l.i1[1]);
}

/* As kmeans_nearest2_avx512: a lone row does each multiply-add twice. */
size_t
kmeans_nearest_avx512(const float *x, const float *ct, const float *cnorm,
					  size_t kpad, size_t dim)
{
	size_t		n0;
	size_t		n1;

	kmeans_nearest_pair_avx512(x, x, ct, cnorm, kpad, dim, &n0, &n1);
	return n0;
}

void
kmeans_sum_rows_avx512(const float *x, size_t n, size_t dim,
					   const int32_t *assign, double *sums, size_t d0,
					   size_t d1)
{
	size_t		len = d1 - d0;
	size_t		full = len / 8 * 8;
	__mmask8	tail = (__mmask8) ((1u << (len - full)) - 1);

	for (size_t i = 0; i < n; i++)
	{
		double	   *s = sums + (size_t) assign[i] * dim + d0;
		const float *xi = x + i * dim + d0;
		size_t		d = 0;

		for (; d < full; d += 8)
			_mm512_storeu_pd(s + d,
							 _mm512_add_pd(_mm512_loadu_pd(s + d),
										   _mm512_cvtps_pd(_mm256_loadu_ps(xi + d))));
		if (tail)
			_mm512_mask_storeu_pd(s + d, tail,
								  _mm512_add_pd(_mm512_maskz_loadu_pd(tail, s + d),
												_mm512_cvtps_pd(_mm256_maskz_loadu_ps(tail, xi + d))));
	}
}

/* the row fits one vector and its 16-bit mask */
_Static_assert(KMEANS_OWN_DIST_AVX512_MAX_DIM <= LANES,
			   "kmeans_own_dist_avx512 takes one vector a row");

/*
 * The distance kernel (distance_avx512.c, one_to_one) sums dim <= 16
 * squared differences in one vector, the other accumulators staying zero,
 * and reduces it with _mm512_reduce_add_ps; adding those zeros changes no
 * bit of a sum of squares, so the same vector and reduction here give the
 * kernel's result without its call.  Past one vector that no longer holds:
 * such a dim takes the kernel itself.
 */
void
kmeans_own_dist_avx512(const float *x, size_t n, size_t dim,
					   const float *centroids, const int32_t *assign,
					   float *dist)
{
	__mmask16	m;

	if (dim > KMEANS_OWN_DIST_AVX512_MAX_DIM)
	{
		kmeans_own_dist_generic(x, n, dim, centroids, assign, dist);
		return;
	}
	m = (__mmask16) ((1u << dim) - 1);

	for (size_t i = 0; i < n; i++)
	{
		__m512		d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, x + i * dim),
									  _mm512_maskz_loadu_ps(m, centroids + (size_t) assign[i] * dim));

		dist[i] = _mm512_reduce_add_ps(_mm512_fmadd_ps(d, d, _mm512_setzero_ps()));
	}
}

#endif

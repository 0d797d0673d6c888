/*-------------------------------------------------------------------------
 *
 * kmeans_avx2.c
 *	  Nearest-centroid search over an sgemm row, and the centroid update's
 *	  sums, with AVX2 (see kmeans_impl.h).
 *
 * Each lane keeps its own minimum and where it was seen, updated only on a
 * strictly smaller value, so a lane remembers its first minimum; the lanes
 * are then reduced to the smallest value and, among equal ones, the
 * smallest index: the same answer as the scalar loop.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/kmeans_impl.h"

#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <math.h>

#define LANES 8

size_t
kmeans_argmin_avx2(const float *g, const float *cnorm, size_t k, float *best)
{
	__m256		vbest = _mm256_set1_ps(INFINITY);
	__m256i		vidx = _mm256_setzero_si256();
	__m256i		cur = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
	const __m256i step = _mm256_set1_epi32(LANES);
	float		lane_best[LANES];
	int			lane_idx[LANES];
	size_t		j = 0;
	float		b;
	size_t		bi;

	for (; j + LANES <= k; j += LANES)
	{
		__m256		v = _mm256_add_ps(_mm256_loadu_ps(g + j), _mm256_loadu_ps(cnorm + j));
		__m256		lt = _mm256_cmp_ps(v, vbest, _CMP_LT_OQ);

		vbest = _mm256_blendv_ps(vbest, v, lt);
		vidx = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(vidx),
													_mm256_castsi256_ps(cur), lt));
		cur = _mm256_add_epi32(cur, step);
	}
	_mm256_storeu_ps(lane_best, vbest);
	_mm256_storeu_si256((__m256i *) lane_idx, vidx);

	b = INFINITY;
	bi = 0;
	for (int l = 0; l < LANES; l++)
		if (lane_best[l] < b || (lane_best[l] == b && (size_t) lane_idx[l] < bi))
		{
			b = lane_best[l];
			bi = (size_t) lane_idx[l];
		}
	/* the tail comes after every index above, so only a smaller value wins */
	for (; j < k; j++)
		if (g[j] + cnorm[j] < b)
		{
			b = g[j] + cnorm[j];
			bi = j;
		}
	*best = b;
	return bi;
}

void
kmeans_sum_rows_avx2(const float *x, size_t n, size_t dim,
					 const int32_t *assign, double *sums, size_t d0, size_t d1)
{
	size_t		full = d0 + (d1 - d0) / 4 * 4;

	for (size_t i = 0; i < n; i++)
	{
		double	   *s = sums + (size_t) assign[i] * dim;
		const float *xi = x + i * dim;
		size_t		d = d0;

		for (; d < full; d += 4)
			_mm256_storeu_pd(s + d, _mm256_add_pd(_mm256_loadu_pd(s + d),
												  _mm256_cvtps_pd(_mm_loadu_ps(xi + d))));
		for (; d < d1; d++)
			s[d] += xi[d];
	}
}

#endif

/*-------------------------------------------------------------------------
 *
 * kmeans_bounds.c
 *	  Hamerly's bounds for k-means passes (see kmeans_bounds.h).
 *
 * Bounds are Euclidean distances, not squared ones: the triangle
 * inequality holds for those.  The distances tested against them are
 * computed directly, as sums of squared differences, whose rounding error
 * is relative (about dim * FLT_EPSILON) and covered by the test's small
 * relative margin.  The bounds themselves come from the nearest-two
 * search's |c|^2 - 2 x.c + |x|^2, whose error is relative to
 * (|x| + |c|)^2 instead: on rows far from the origin (PQ residuals are not
 * centred in every subspace) it exceeds a gap of a few percent between
 * close centroids, so a bound on it is subtracted first.  Rounding can then only send a row to a full comparison it
 * did not need, never settle one that a full comparison would move.
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <math.h>

#include "core/alloc.h"
#include "kernels/distance.h"
#include "kernels/kmeans_bounds.h"
#include "kernels/kmeans_impl.h"

/* A row settles only when its distance is below its bound by this much. */
#define KMEANS_BOUNDS_MARGIN	(1.0f - 1.0f / 4096.0f)

struct KmeansBounds
{
	size_t		k;
	size_t		dim;
	float	   *lower;			/* per row: distance to any other centroid is
								 * at least this */
	float	   *half_gap;		/* per centroid: half the distance to its
								 * nearest other centroid */
	float	   *dists;			/* k scratch distances */
};

KmeansBounds *
kmeans_bounds_create(size_t n, size_t k, size_t dim)
{
	KmeansBounds *b = core_malloc(sizeof(KmeansBounds));

	if (b == NULL)
		return NULL;
	b->k = k;
	b->dim = dim;
	b->lower = core_mallocarray(n, sizeof(float));
	b->half_gap = core_mallocarray(k, sizeof(float));
	b->dists = core_mallocarray(k, sizeof(float));
	if (b->lower == NULL || b->half_gap == NULL || b->dists == NULL)
	{
		kmeans_bounds_free(b);
		return NULL;
	}
	/* nothing is proven before the first full pass */
	for (size_t i = 0; i < n; i++)
		b->lower[i] = 0.0f;
	for (size_t j = 0; j < k; j++)
		b->half_gap[j] = 0.0f;
	return b;
}

void
kmeans_bounds_free(KmeansBounds *b)
{
	if (b == NULL)
		return;
	core_free(b->lower);
	core_free(b->half_gap);
	core_free(b->dists);
	core_free(b);
}

size_t
kmeans_bounds_settle(KmeansBounds *b, const float *x, size_t n,
					 const float *centroids, const int32_t *assign,
					 float *dist, uint32_t *pending)
{
	size_t		npending = 0;

	kmeans_select_own_dist(b->dim) (x, n, b->dim, centroids, assign, dist);
	for (size_t i = 0; i < n; i++)
	{
		float		d2 = dist[i];
		float		bound = b->lower[i] > b->half_gap[assign[i]] ?
			b->lower[i] : b->half_gap[assign[i]];

		if (!(sqrtf(d2) < bound * KMEANS_BOUNDS_MARGIN))
			pending[npending++] = (uint32_t) i;
	}
	return npending;
}

/*
 * The search's value less its worst rounding error: dim + 2 roundings (the
 * multiply-adds and the two norms), each at most FLT_EPSILON relative to
 * (|x| + |c|)^2, which is at most 2 (|x|^2 + |c|^2) (no square roots).
 */
void
kmeans_bounds_reset(KmeansBounds *b, size_t row, float xnorm, float second,
					float cmax2)
{
	float		lower = xnorm + second -
		(float) (b->dim + 2) * FLT_EPSILON * 2.0f * (xnorm + cmax2);

	b->lower[row] = lower > 0.0f ? sqrtf(lower) : 0.0f;
}

void
kmeans_bounds_moved(KmeansBounds *b, const float *old, const float *now,
					const int32_t *assign, size_t n)
{
	const DistanceKernels *dk = distance_kernels();
	float		max1 = 0.0f;	/* farthest move */
	float		max2 = 0.0f;	/* farthest move of any other centroid */
	size_t		far = 0;		/* the centroid that moved farthest */

	for (size_t j = 0; j < b->k; j++)
	{
		float		m = sqrtf(dk->l2sq(old + j * b->dim, now + j * b->dim, b->dim));

		/* a NaN move proves nothing: it must clear the bounds, not be lost */
		if (isnan(m))
			m = INFINITY;

		if (m > max1)
		{
			max2 = max1;
			max1 = m;
			far = j;
		}
		else if (m > max2)
			max2 = m;
	}
	for (size_t i = 0; i < n; i++)
	{
		float		l = b->lower[i] - ((size_t) assign[i] == far ? max2 : max1);

		b->lower[i] = l > 0.0f ? l : 0.0f;
	}

	/* half the gap to the nearest neighbour, for the next pass */
	for (size_t j = 0; j < b->k; j++)
	{
		float		nearest = INFINITY;

		dk->l2sq_many(now + j * b->dim, now, b->k, b->dim, b->dists);
		for (size_t o = 0; o < b->k; o++)
			if (o != j && b->dists[o] < nearest)
				nearest = b->dists[o];
		b->half_gap[j] = isinf(nearest) ? 0.0f : 0.5f * sqrtf(nearest);
	}
}

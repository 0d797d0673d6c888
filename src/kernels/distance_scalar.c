/*-------------------------------------------------------------------------
 *
 * distance_scalar.c
 *	  Portable float32 distance kernels, the path every CPU can run.
 *
 * Each loop keeps four partial sums so consecutive additions do not wait on
 * each other (floating-point addition has a latency of several cycles and
 * the compiler may not reassociate it for us).  The order of summation
 * therefore differs from a plain left-to-right loop; the error bound the
 * unit tests use holds for any order.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "kernels/distance_impl.h"

/* Return the squared Euclidean distance of a and b. */
static float
scalar_l2sq(const float *a, const float *b, size_t dim)
{
	float		s0 = 0.0f,
				s1 = 0.0f,
				s2 = 0.0f,
				s3 = 0.0f;
	size_t		i = 0;

	for (; i + 4 <= dim; i += 4)
	{
		float		d0 = a[i] - b[i];
		float		d1 = a[i + 1] - b[i + 1];
		float		d2 = a[i + 2] - b[i + 2];
		float		d3 = a[i + 3] - b[i + 3];

		s0 += d0 * d0;
		s1 += d1 * d1;
		s2 += d2 * d2;
		s3 += d3 * d3;
	}
	for (; i < dim; i++)
	{
		float		d = a[i] - b[i];

		s0 += d * d;
	}
	return (s0 + s1) + (s2 + s3);
}

/* Return the inner product of a and b. */
static float
scalar_dot(const float *a, const float *b, size_t dim)
{
	float		s0 = 0.0f,
				s1 = 0.0f,
				s2 = 0.0f,
				s3 = 0.0f;
	size_t		i = 0;

	for (; i + 4 <= dim; i += 4)
	{
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < dim; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

/* Return the taxicab (L1) distance of a and b. */
static float
scalar_l1(const float *a, const float *b, size_t dim)
{
	float		s0 = 0.0f,
				s1 = 0.0f,
				s2 = 0.0f,
				s3 = 0.0f;
	size_t		i = 0;

	for (; i + 4 <= dim; i += 4)
	{
		s0 += fabsf(a[i] - b[i]);
		s1 += fabsf(a[i + 1] - b[i + 1]);
		s2 += fabsf(a[i + 2] - b[i + 2]);
		s3 += fabsf(a[i + 3] - b[i + 3]);
	}
	for (; i < dim; i++)
		s0 += fabsf(a[i] - b[i]);
	return (s0 + s1) + (s2 + s3);
}

/* Compute a.b, |a|^2 and |b|^2 in one pass over both vectors. */
static void
scalar_dot_norms(const float *a, const float *b, size_t dim,
				 float *dot, float *norm_a, float *norm_b)
{
	float		d0 = 0.0f,
				d1 = 0.0f,
				na0 = 0.0f,
				na1 = 0.0f,
				nb0 = 0.0f,
				nb1 = 0.0f;
	size_t		i = 0;

	for (; i + 2 <= dim; i += 2)
	{
		d0 += a[i] * b[i];
		d1 += a[i + 1] * b[i + 1];
		na0 += a[i] * a[i];
		na1 += a[i + 1] * a[i + 1];
		nb0 += b[i] * b[i];
		nb1 += b[i + 1] * b[i + 1];
	}
	if (i < dim)
	{
		d0 += a[i] * b[i];
		na0 += a[i] * a[i];
		nb0 += b[i] * b[i];
	}
	*dot = d0 + d1;
	*norm_a = na0 + na1;
	*norm_b = nb0 + nb1;
}

/* Squared L2 of q against each of n rows. */
static void
scalar_l2sq_many(const float *q, const float *base, size_t n, size_t dim,
				 float *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
		out[i] = scalar_l2sq(q, base + i * dim, dim);
}

/* Inner product of q with each of n rows. */
static void
scalar_dot_many(const float *q, const float *base, size_t n, size_t dim,
				float *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
		out[i] = scalar_dot(q, base + i * dim, dim);
}

/* L1 distance of q to each of n rows. */
static void
scalar_l1_many(const float *q, const float *base, size_t n, size_t dim,
			   float *out)
{
	size_t		i;

	for (i = 0; i < n; i++)
		out[i] = scalar_l1(q, base + i * dim, dim);
}

/* Inner product with q and squared norm of each of n rows. */
static void
scalar_dot_norms_many(const float *q, const float *base, size_t n,
					  size_t dim, float *dots, float *norms)
{
	size_t		i;

	for (i = 0; i < n; i++)
	{
		const float *x = base + i * dim;
		float		d0 = 0.0f,
					d1 = 0.0f,
					n0 = 0.0f,
					n1 = 0.0f;
		size_t		j = 0;

		for (; j + 2 <= dim; j += 2)
		{
			d0 += q[j] * x[j];
			d1 += q[j + 1] * x[j + 1];
			n0 += x[j] * x[j];
			n1 += x[j + 1] * x[j + 1];
		}
		if (j < dim)
		{
			d0 += q[j] * x[j];
			n0 += x[j] * x[j];
		}
		dots[i] = d0 + d1;
		norms[i] = n0 + n1;
	}
}

const DistanceKernels distance_scalar_table = {
	.isa = KERNEL_ISA_SCALAR,
	.name = "scalar",
	.l2sq = scalar_l2sq,
	.dot = scalar_dot,
	.l1 = scalar_l1,
	.dot_norms = scalar_dot_norms,
	.l2sq_many = scalar_l2sq_many,
	.dot_many = scalar_dot_many,
	.l1_many = scalar_l1_many,
	.dot_norms_many = scalar_dot_norms_many,
};

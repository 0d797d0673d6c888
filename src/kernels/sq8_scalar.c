/*-------------------------------------------------------------------------
 *
 * sq8_scalar.c
 *	  Scalar 8-bit quantization: encoding, decoding, and the portable
 *	  distance path (also the reference the SIMD paths are tested against).
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>

#include "kernels/sq8_impl.h"

void
sq8_encode(const float *x, size_t dim, uint8_t *codes, float *lo, float *step)
{
	float		min = dim > 0 ? x[0] : 0.0f;
	float		max = min;

	for (size_t i = 1; i < dim; i++)
	{
		if (x[i] < min)
			min = x[i];
		if (x[i] > max)
			max = x[i];
	}
	*lo = min;
	/* a constant vector needs no step: every code is 0 */
	*step = max > min ? (max - min) / 255.0f : 0.0f;
	for (size_t i = 0; i < dim; i++)
	{
		float		c = *step > 0.0f ? rintf((x[i] - min) / *step) : 0.0f;

		codes[i] = (uint8_t) (c < 0.0f ? 0.0f : c > 255.0f ? 255.0f : c);
	}
}

void
sq8_decode(const uint8_t *codes, size_t dim, float lo, float step, float *out)
{
	for (size_t i = 0; i < dim; i++)
		out[i] = lo + step * (float) codes[i];
}

static float
scalar_l2sq(const float *q, const uint8_t *c, float lo, float step, size_t dim)
{
	float		sum = 0.0f;

	for (size_t i = 0; i < dim; i++)
	{
		float		d = q[i] - (lo + step * (float) c[i]);

		sum += d * d;
	}
	return sum;
}

static float
scalar_dot(const float *q, const uint8_t *c, size_t dim)
{
	float		sum = 0.0f;

	for (size_t i = 0; i < dim; i++)
		sum += q[i] * (float) c[i];
	return sum;
}

static float
scalar_l1(const float *q, const uint8_t *c, float lo, float step, size_t dim)
{
	float		sum = 0.0f;

	for (size_t i = 0; i < dim; i++)
		sum += fabsf(q[i] - (lo + step * (float) c[i]));
	return sum;
}

const Sq8Kernels sq8_scalar_kernels = {
	.name = "scalar",
	.l2sq = scalar_l2sq,
	.dot = scalar_dot,
	.l1 = scalar_l1,
};

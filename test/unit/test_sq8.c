/*-------------------------------------------------------------------------
 *
 * test_sq8.c
 *	  Unit tests for 8-bit scalar quantization and its distance kernels.
 *
 * Each path this CPU runs is compared with a double-precision evaluation
 * of the same formula on the decoded values, for every dim from 1 to 300
 * and 1536, on inputs starting one byte / one float past an aligned
 * address.  The tolerance follows the float32 summation bound used in
 * test_distance.c: gamma_{p + n} times the sum of the terms' magnitudes,
 * with p = 4 roundings per term (decode's multiply and add, the
 * difference, the square) and n the number of terms.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/sq8.h"
#include "unit.h"

#define MAXDIM 1536

static float
pseudo_random(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return (float) ((*state >> 8) & 0xFFFF) / 32768.0f - 1.0f;
}

static double
gamma_bound(size_t k)
{
	double		u = ldexp(1.0, -24);

	return (double) k * u / (1.0 - (double) k * u);
}

/* one path against the double reference on one dim; false on a mismatch */
static int
check_path(const Sq8Kernels *k, size_t dim, uint32_t seed, char *why, size_t whylen)
{
	static float qbuf[MAXDIM + 1];
	static float xbuf[MAXDIM];
	static uint8_t cbuf[MAXDIM + 1];
	const float *q = qbuf + 1;
	uint8_t    *c = cbuf + 1;
	float		lo,
				step;
	double		l2 = 0,
				l2mag = 0,
				dot = 0,
				dotmag = 0,
				l1 = 0;
	double		bound = gamma_bound(4 + dim);

	for (size_t i = 0; i < dim; i++)
	{
		qbuf[i + 1] = pseudo_random(&seed);
		xbuf[i] = pseudo_random(&seed) * 3.0f + 0.5f;
	}
	sq8_encode(xbuf, dim, c, &lo, &step);
	for (size_t i = 0; i < dim; i++)
	{
		double		x = (double) lo + (double) step * c[i];
		double		d = (double) q[i] - x;

		l2 += d * d;
		l2mag += (fabs(q[i]) + fabs(x)) * (fabs(q[i]) + fabs(x));
		dot += (double) q[i] * c[i];
		dotmag += fabs((double) q[i] * c[i]);
		l1 += fabs(d);
	}
	if (fabs(k->l2sq(q, c, lo, step, dim) - l2) > bound * l2mag + 1e-6)
	{
		snprintf(why, whylen, "%s l2sq dim %zu: %g vs %g", k->name, dim,
				 k->l2sq(q, c, lo, step, dim), l2);
		return 0;
	}
	if (fabs(k->dot(q, c, dim) - dot) > bound * dotmag + 1e-6)
	{
		snprintf(why, whylen, "%s dot dim %zu: %g vs %g", k->name, dim, k->dot(q, c, dim), dot);
		return 0;
	}
	if (fabs(k->l1(q, c, lo, step, dim) - l1) > bound * sqrt(l2mag) * sqrt((double) dim) + 1e-6)
	{
		snprintf(why, whylen, "%s l1 dim %zu: %g vs %g", k->name, dim, k->l1(q, c, lo, step, dim), l1);
		return 0;
	}
	return 1;
}

UNIT_TEST(sq8_every_path_matches_the_reference_on_every_dim)
{
	char		why[200];

	for (int isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		const Sq8Kernels *k = sq8_kernels_for((KernelIsa) isa);

		if (k == NULL)
			continue;
		for (size_t dim = 1; dim <= 300; dim++)
			CHECK_MSG(check_path(k, dim, (uint32_t) dim * 7919u, why, sizeof(why)), "%s", why);
		CHECK_MSG(check_path(k, MAXDIM, 42, why, sizeof(why)), "%s", why);
	}
}

UNIT_TEST(sq8_decoded_values_are_within_half_a_step)
{
	float		x[257];
	float		back[257];
	uint8_t		c[257];
	float		lo,
				step;
	uint32_t	seed = 1;

	for (int i = 0; i < 257; i++)
		x[i] = pseudo_random(&seed) * 100.0f;
	sq8_encode(x, 257, c, &lo, &step);
	sq8_decode(c, 257, lo, step, back);
	for (int i = 0; i < 257; i++)
		CHECK_MSG(fabsf(back[i] - x[i]) <= step * 0.5f + fabsf(x[i]) * 1e-6f,
				  "element %d: %g decoded as %g (step %g)", i, x[i], back[i], step);
}

UNIT_TEST(sq8_constant_vector_is_exact)
{
	float		x[5] = {2.5f, 2.5f, 2.5f, 2.5f, 2.5f};
	float		back[5];
	uint8_t		c[5];
	float		lo,
				step;

	sq8_encode(x, 5, c, &lo, &step);
	sq8_decode(c, 5, lo, step, back);
	CHECK(step == 0.0f);
	for (int i = 0; i < 5; i++)
		CHECK(back[i] == 2.5f);
}

UNIT_TEST(sq8_follows_the_distance_selection)
{
	CHECK(distance_kernels_select("scalar"));
	CHECK(strcmp(sq8_kernels()->name, "scalar") == 0);
	CHECK(distance_kernels_select("auto"));
	CHECK(strcmp(sq8_kernels()->name, distance_kernels()->name) == 0);
}

/*-------------------------------------------------------------------------
 *
 * test_sq8_pair.c
 *	  Unit tests for distances between two vectors held as 8-bit codes.
 *
 * The dot product of codes is an integer sum, so every ISA's path must
 * equal the scalar loop exactly, for every dim from 1 to 300 and for the
 * largest dimension lance_hnsw indexes at its default m = 16, on inputs
 * one byte past an aligned address.  The distances expanded from
 * per-vector sums are compared with a double-precision evaluation on the
 * values the codes stand for.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/sq8.h"
#include "kernels/sq8_pair.h"
#include "unit.h"

/* HnswMaxDim(16): the largest lance_hnsw dimension at the default m */
#define MAXDIM 7496

static uint32_t
next_random(uint32_t *state)
{
	*state = *state * 1664525u + 1013904223u;
	return *state >> 8;
}

UNIT_TEST(sq8_code_dot_is_exact_on_every_path_and_dim)
{
	static uint8_t abuf[MAXDIM + 1];
	static uint8_t bbuf[MAXDIM + 1];
	uint8_t    *a = abuf + 1;
	uint8_t    *b = bbuf + 1;
	uint32_t	state = 7;

	for (size_t i = 0; i < MAXDIM; i++)
	{
		a[i] = (uint8_t) next_random(&state);
		b[i] = (uint8_t) next_random(&state);
	}
	/* the largest products, where a 16-bit lane would overflow */
	memset(a + MAXDIM - 70, 255, 70);
	memset(b + MAXDIM - 70, 255, 70);
	for (int isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		Sq8CodeDotFn dot = sq8_code_dot_for((KernelIsa) isa);

		if (dot == NULL)
			continue;
		for (size_t dim = 1; dim <= 300; dim++)
		{
			uint64_t	want = 0;

			for (size_t i = 0; i < dim; i++)
				want += (uint64_t) a[i] * b[i];
			CHECK_MSG(dot(a, b, dim) == want, "isa %d dim %zu: %u, want %llu",
					  isa, dim, dot(a, b, dim), (unsigned long long) want);
		}
		CHECK_MSG(dot(a, b, MAXDIM) == sq8_code_dot_for(KERNEL_ISA_SCALAR) (a, b, MAXDIM),
				  "isa %d dim %d", isa, MAXDIM);
	}
}

/* the pair distances of two encoded random vectors against doubles */
static void
check_pair(size_t dim, uint32_t seed, double *l2err, double *iperr)
{
	static float x[MAXDIM];
	static float y[MAXDIM];
	static uint8_t cx[MAXDIM];
	static uint8_t cy[MAXDIM];
	Sq8CodeStats sx;
	Sq8CodeStats sy;
	double		l2 = 0.0;
	double		ip = 0.0;
	double		mag = 0.0;
	uint32_t	dot;

	for (size_t i = 0; i < dim; i++)
	{
		x[i] = (float) (next_random(&seed) % 20001) / 1000.0f - 10.0f;
		/* y near x, so the distance is small next to the norms */
		y[i] = x[i] + (float) (next_random(&seed) % 201) / 1000.0f - 0.1f;
	}
	sq8_encode(x, dim, cx, &sx.lo, &sx.step);
	sq8_encode(y, dim, cy, &sy.lo, &sy.step);
	sq8_code_sums(cx, dim, &sx);
	sq8_code_sums(cy, dim, &sy);
	for (size_t i = 0; i < dim; i++)
	{
		/* decoded in double, so that only the expansion's rounding shows */
		double		dx = (double) sx.lo + (double) sx.step * cx[i];
		double		dy = (double) sy.lo + (double) sy.step * cy[i];

		l2 += (dx - dy) * (dx - dy);
		ip += dx * dy;
		mag += fabs(dx * dy);
	}
	dot = sq8_code_dot()(cx, cy, dim);
	/* relative to the distance itself, far smaller than the terms summed */
	*l2err = fabs(sq8_pair_l2sq(&sx, &sy, dot, dim) - l2) / (l2 + 1e-12);
	*iperr = fabs(sq8_pair_ip(&sx, &sy, dot, dim) - ip) / (mag + 1e-12);
}

UNIT_TEST(sq8_pair_distances_match_the_decoded_vectors)
{
	size_t		dims[] = {1, 2, 3, 16, 31, 128, 769, 1536, MAXDIM};

	for (size_t k = 0; k < sizeof(dims) / sizeof(dims[0]); k++)
	{
		double		l2err;
		double		iperr;

		check_pair(dims[k], (uint32_t) dims[k] * 31u, &l2err, &iperr);
		/*
		 * Double rounding of terms some 10^4 times the distance: about
		 * 1e-12 of it.
		 */
		CHECK_MSG(l2err < 1e-9, "dim %zu: l2 relative error %g", dims[k], l2err);
		CHECK_MSG(iperr < 1e-12, "dim %zu: ip relative error %g", dims[k], iperr);
	}
}

UNIT_TEST(sq8_pair_l2_of_a_vector_with_itself_is_zero)
{
	float		x[64];
	uint8_t		c[64];
	Sq8CodeStats s;
	uint32_t	seed = 3;

	for (int i = 0; i < 64; i++)
		x[i] = (float) (next_random(&seed) % 1000) * 1000.0f;
	sq8_encode(x, 64, c, &s.lo, &s.step);
	sq8_code_sums(c, 64, &s);
	/* the two norms and twice the dot product are the same rounded terms */
	CHECK(sq8_pair_l2sq(&s, &s, sq8_code_dot()(c, c, 64), 64) == 0.0);
}

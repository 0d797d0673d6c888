/*-------------------------------------------------------------------------
 *
 * sq8_pair.c
 *	  Code-to-code distances: the scalar dot product, the per-vector sums,
 *	  the expansion of the distances, and the choice of kernel.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/sq8_pair.h"
#include "kernels/sq8_pair_impl.h"

uint32_t
sq8_code_dot_scalar(const uint8_t *a, const uint8_t *b, size_t dim)
{
	uint32_t	acc = 0;

	for (size_t i = 0; i < dim; i++)
		acc += (uint32_t) a[i] * b[i];
	return acc;
}

Sq8CodeDotFn
sq8_code_dot_for(KernelIsa isa)
{
	if (!distance_isa_supported(isa))
		return NULL;
	switch (isa)
	{
		case KERNEL_ISA_SCALAR:
			return sq8_code_dot_scalar;
#ifdef SQ8_PAIR_HAVE_X86
		case KERNEL_ISA_AVX2:
			return sq8_code_dot_avx2;
		case KERNEL_ISA_AVX512:
			return sq8_code_dot_avx512;
#endif
		default:
			return NULL;
	}
}

Sq8CodeDotFn
sq8_code_dot(void)
{
	Sq8CodeDotFn f = sq8_code_dot_for(distance_kernels()->isa);

	return f != NULL ? f : sq8_code_dot_scalar;
}

void
sq8_code_sums(const uint8_t *c, size_t dim, Sq8CodeStats *stats)
{
	uint32_t	sum = 0;
	uint32_t	sumsq = 0;

	for (size_t i = 0; i < dim; i++)
	{
		sum += c[i];
		sumsq += (uint32_t) c[i] * c[i];
	}
	stats->sum = sum;
	stats->sumsq = sumsq;
}

/*
 * With x[i] = lo_a + s_a a[i] and y[i] = lo_b + s_b b[i], d = lo_a - lo_b:
 * sum (x - y)^2 = n d^2 + s_a^2 sum a^2 + s_b^2 sum b^2
 *				   + 2 d (s_a sum a - s_b sum b) - 2 s_a s_b sum ab.
 * The terms are large next to a small distance, hence double precision.
 */
double
sq8_pair_l2sq(const Sq8CodeStats *a, const Sq8CodeStats *b, uint32_t dot, size_t dim)
{
	double		d = (double) a->lo - b->lo;
	double		sa = a->step;
	double		sb = b->step;
	double		r;

	r = (double) dim * d * d + sa * sa * a->sumsq + sb * sb * b->sumsq +
		2.0 * d * (sa * a->sum - sb * b->sum) - 2.0 * sa * sb * dot;
	/* rounding can leave a tiny negative for identical vectors */
	return r > 0.0 ? r : 0.0;
}

/* sum x y = n lo_a lo_b + lo_a s_b sum b + lo_b s_a sum a + s_a s_b sum ab */
double
sq8_pair_ip(const Sq8CodeStats *a, const Sq8CodeStats *b, uint32_t dot, size_t dim)
{
	double		sa = a->step;
	double		sb = b->step;

	return (double) dim * a->lo * b->lo + (double) a->lo * sb * b->sum +
		(double) b->lo * sa * a->sum + sa * sb * dot;
}

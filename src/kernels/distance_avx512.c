/*-------------------------------------------------------------------------
 *
 * distance_avx512.c
 *	  Float32 distance kernels for AVX-512 (16 lanes).
 *
 * Built with -mavx512f -mavx512vl -mavx512bw -mavx512dq -mfma; nothing here
 * may run before distance_dispatch.c has checked the CPU and that the OS
 * saves the ZMM and mask registers.
 *
 * The loops have the shape of distance_avx2.c's (four accumulators one to
 * one; four rows per pass sharing each query load, two accumulators per row,
 * one to many, prefetching ahead in address order), twice as wide; the
 * reasons are in that file's header.  Tails use AVX-512's masked loads: the
 * lanes past the end are zero in both inputs and their memory is not
 * touched (a masked-off lane cannot fault), so they add 0 to every kernel.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/distance_impl.h"

#ifdef DISTANCE_HAVE_X86

#include <immintrin.h>
#include <stdint.h>

#define LANES 16
#define ROWS 4					/* rows per pass of the one-to-many loops */
#define CACHE_LINE 64
#define PREFETCH_BYTES 4096	/* how far ahead of the current rows to fetch */
/* lines the loops consume per chunk of LANES floats in each of ROWS rows */
#define PREFETCH_LINES (ROWS * LANES * (int) sizeof(float) / CACHE_LINE)

#define ALWAYS_INLINE inline __attribute__((always_inline))

typedef __m512 (*StepFn) (__m512 acc, __m512 q, __m512 x);

/* Mask selecting the first r (1..15) lanes. */
static ALWAYS_INLINE __mmask16
tail_mask(size_t r)
{
	return (__mmask16) ((1u << r) - 1);
}

/* Add the two 256-bit halves of v. */
static ALWAYS_INLINE __m256
fold(__m512 v)
{
	return _mm256_add_ps(_mm512_castps512_ps256(v), _mm512_extractf32x8_ps(v, 1));
}

/* Sum each of four vectors' lanes into one lane of the result, in order. */
static ALWAYS_INLINE __m128
hsum4(__m512 a, __m512 b, __m512 c, __m512 d)
{
	__m256		ab = _mm256_hadd_ps(fold(a), fold(b));
	__m256		cd = _mm256_hadd_ps(fold(c), fold(d));
	__m256		abcd = _mm256_hadd_ps(ab, cd);

	/* low half holds lanes 0-3 of each input's sum, high half lanes 4-7 */
	return _mm_add_ps(_mm256_castps256_ps128(abcd),
					  _mm256_extractf128_ps(abcd, 1));
}

/* acc + (q - x)^2; q - x so the subtraction can read x from memory */
static ALWAYS_INLINE __m512
l2_step(__m512 acc, __m512 q, __m512 x)
{
	__m512		d = _mm512_sub_ps(q, x);

	return _mm512_fmadd_ps(d, d, acc);
}

/* acc + q * x */
static ALWAYS_INLINE __m512
dot_step(__m512 acc, __m512 q, __m512 x)
{
	return _mm512_fmadd_ps(q, x, acc);
}

/* acc + |q - x| */
static ALWAYS_INLINE __m512
l1_step(__m512 acc, __m512 q, __m512 x)
{
	return _mm512_add_ps(acc, _mm512_abs_ps(_mm512_sub_ps(q, x)));
}

/*
 * Prefetch `lines` cache lines from pf on, in address order.  See the file
 * header: the one-to-many loops read ROWS rows in lockstep, a pattern the
 * hardware prefetchers follow badly, so they fetch the data ahead of them
 * themselves, as much per iteration as the iteration consumes.  A prefetch
 * never faults, so running past the end of the rows is harmless.
 */
static ALWAYS_INLINE const char *
prefetch_lines(const char *pf, int lines)
{
	int			k;

	for (k = 0; k < lines; k++)
		_mm_prefetch(pf + k * CACHE_LINE, _MM_HINT_T0);
	return pf + lines * CACHE_LINE;
}

/*
 * Reduce a and b with step over dim floats; the shared one-to-one loop.
 * kmeans_own_dist_avx512 (kmeans_avx512.c) reproduces its l2sq bits for
 * dim <= 16 without the call, relying on this shape: such a dim takes one
 * step from zero in a single accumulator (s0 or, masked, s1), the others
 * stay zero, and _mm512_reduce_add_ps sums the lanes.  A change here must
 * keep that or change it there (test_kmeans.c compares the two).
 */
static ALWAYS_INLINE float
one_to_one(const float *a, const float *b, size_t dim, StepFn step)
{
	__m512		s0 = _mm512_setzero_ps();
	__m512		s1 = _mm512_setzero_ps();
	__m512		s2 = _mm512_setzero_ps();
	__m512		s3 = _mm512_setzero_ps();
	size_t		i = 0;

	for (; i + 4 * LANES <= dim; i += 4 * LANES)
	{
		s0 = step(s0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
		s1 = step(s1, _mm512_loadu_ps(a + i + LANES),
				  _mm512_loadu_ps(b + i + LANES));
		s2 = step(s2, _mm512_loadu_ps(a + i + 2 * LANES),
				  _mm512_loadu_ps(b + i + 2 * LANES));
		s3 = step(s3, _mm512_loadu_ps(a + i + 3 * LANES),
				  _mm512_loadu_ps(b + i + 3 * LANES));
	}
	for (; i + LANES <= dim; i += LANES)
		s0 = step(s0, _mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
	if (i < dim)
	{
		__mmask16	m = tail_mask(dim - i);

		s1 = step(s1, _mm512_maskz_loadu_ps(m, a + i),
				  _mm512_maskz_loadu_ps(m, b + i));
	}
	return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1),
											  _mm512_add_ps(s2, s3)));
}

/*
 * Reduce q against n rows with step, ROWS rows per pass; the shared
 * one-to-many loop.  Leftover rows go through the one-to-one loop.
 */
static ALWAYS_INLINE void
one_to_many(const float *q, const float *base, size_t n, size_t dim,
			float *out, StepFn step)
{
	size_t		r = 0;

	for (; r + ROWS <= n; r += ROWS)
	{
		const float *x0 = base + r * dim;
		const float *x1 = x0 + dim;
		const float *x2 = x1 + dim;
		const float *x3 = x2 + dim;
		const char *pf = (const char *) ((uintptr_t) x0 + PREFETCH_BYTES);
		__m512		a0 = _mm512_setzero_ps(),
					b0 = _mm512_setzero_ps();
		__m512		a1 = _mm512_setzero_ps(),
					b1 = _mm512_setzero_ps();
		__m512		a2 = _mm512_setzero_ps(),
					b2 = _mm512_setzero_ps();
		__m512		a3 = _mm512_setzero_ps(),
					b3 = _mm512_setzero_ps();
		size_t		i = 0;

		for (; i + 2 * LANES <= dim; i += 2 * LANES)
		{
			__m512		qa = _mm512_loadu_ps(q + i);
			__m512		qb = _mm512_loadu_ps(q + i + LANES);

			pf = prefetch_lines(pf, PREFETCH_LINES);
			a0 = step(a0, qa, _mm512_loadu_ps(x0 + i));
			a1 = step(a1, qa, _mm512_loadu_ps(x1 + i));
			a2 = step(a2, qa, _mm512_loadu_ps(x2 + i));
			a3 = step(a3, qa, _mm512_loadu_ps(x3 + i));
			pf = prefetch_lines(pf, PREFETCH_LINES);
			b0 = step(b0, qb, _mm512_loadu_ps(x0 + i + LANES));
			b1 = step(b1, qb, _mm512_loadu_ps(x1 + i + LANES));
			b2 = step(b2, qb, _mm512_loadu_ps(x2 + i + LANES));
			b3 = step(b3, qb, _mm512_loadu_ps(x3 + i + LANES));
		}
		if (i + LANES <= dim)
		{
			__m512		qa = _mm512_loadu_ps(q + i);

			pf = prefetch_lines(pf, PREFETCH_LINES);
			a0 = step(a0, qa, _mm512_loadu_ps(x0 + i));
			a1 = step(a1, qa, _mm512_loadu_ps(x1 + i));
			a2 = step(a2, qa, _mm512_loadu_ps(x2 + i));
			a3 = step(a3, qa, _mm512_loadu_ps(x3 + i));
			i += LANES;
		}
		if (i < dim)
		{
			__mmask16	m = tail_mask(dim - i);
			__m512		qb = _mm512_maskz_loadu_ps(m, q + i);

			b0 = step(b0, qb, _mm512_maskz_loadu_ps(m, x0 + i));
			b1 = step(b1, qb, _mm512_maskz_loadu_ps(m, x1 + i));
			b2 = step(b2, qb, _mm512_maskz_loadu_ps(m, x2 + i));
			b3 = step(b3, qb, _mm512_maskz_loadu_ps(m, x3 + i));
		}
		_mm_storeu_ps(out + r, hsum4(_mm512_add_ps(a0, b0),
									 _mm512_add_ps(a1, b1),
									 _mm512_add_ps(a2, b2),
									 _mm512_add_ps(a3, b3)));
	}
	for (; r < n; r++)
		out[r] = one_to_one(q, base + r * dim, dim, step);
}

/* Return the squared Euclidean distance of a and b. */
static float
avx512_l2sq(const float *a, const float *b, size_t dim)
{
	return one_to_one(a, b, dim, l2_step);
}

/* Return the inner product of a and b. */
static float
avx512_dot(const float *a, const float *b, size_t dim)
{
	return one_to_one(a, b, dim, dot_step);
}

/* Return the taxicab (L1) distance of a and b. */
static float
avx512_l1(const float *a, const float *b, size_t dim)
{
	return one_to_one(a, b, dim, l1_step);
}

/* Squared L2 of q against each of n rows. */
static void
avx512_l2sq_many(const float *q, const float *base, size_t n, size_t dim,
				 float *out)
{
	one_to_many(q, base, n, dim, out, l2_step);
}

/* Inner product of q with each of n rows. */
static void
avx512_dot_many(const float *q, const float *base, size_t n, size_t dim,
				float *out)
{
	one_to_many(q, base, n, dim, out, dot_step);
}

/* L1 distance of q to each of n rows. */
static void
avx512_l1_many(const float *q, const float *base, size_t n, size_t dim,
			   float *out)
{
	one_to_many(q, base, n, dim, out, l1_step);
}

/*
 * Compute a.b, |a|^2 and |b|^2 in one pass; two accumulators per sum give
 * six independent FMA chains.
 */
static void
avx512_dot_norms(const float *a, const float *b, size_t dim,
				 float *dot, float *norm_a, float *norm_b)
{
	__m512		d0 = _mm512_setzero_ps(),
				d1 = _mm512_setzero_ps();
	__m512		na0 = _mm512_setzero_ps(),
				na1 = _mm512_setzero_ps();
	__m512		nb0 = _mm512_setzero_ps(),
				nb1 = _mm512_setzero_ps();
	size_t		i = 0;

	for (; i + 2 * LANES <= dim; i += 2 * LANES)
	{
		__m512		x0 = _mm512_loadu_ps(a + i);
		__m512		y0 = _mm512_loadu_ps(b + i);
		__m512		x1 = _mm512_loadu_ps(a + i + LANES);
		__m512		y1 = _mm512_loadu_ps(b + i + LANES);

		d0 = _mm512_fmadd_ps(x0, y0, d0);
		na0 = _mm512_fmadd_ps(x0, x0, na0);
		nb0 = _mm512_fmadd_ps(y0, y0, nb0);
		d1 = _mm512_fmadd_ps(x1, y1, d1);
		na1 = _mm512_fmadd_ps(x1, x1, na1);
		nb1 = _mm512_fmadd_ps(y1, y1, nb1);
	}
	if (i + LANES <= dim)
	{
		__m512		x0 = _mm512_loadu_ps(a + i);
		__m512		y0 = _mm512_loadu_ps(b + i);

		d0 = _mm512_fmadd_ps(x0, y0, d0);
		na0 = _mm512_fmadd_ps(x0, x0, na0);
		nb0 = _mm512_fmadd_ps(y0, y0, nb0);
		i += LANES;
	}
	if (i < dim)
	{
		__mmask16	m = tail_mask(dim - i);
		__m512		x1 = _mm512_maskz_loadu_ps(m, a + i);
		__m512		y1 = _mm512_maskz_loadu_ps(m, b + i);

		d1 = _mm512_fmadd_ps(x1, y1, d1);
		na1 = _mm512_fmadd_ps(x1, x1, na1);
		nb1 = _mm512_fmadd_ps(y1, y1, nb1);
	}
	*dot = _mm512_reduce_add_ps(_mm512_add_ps(d0, d1));
	*norm_a = _mm512_reduce_add_ps(_mm512_add_ps(na0, na1));
	*norm_b = _mm512_reduce_add_ps(_mm512_add_ps(nb0, nb1));
}

/*
 * Inner product with q and squared norm of each of n rows, ROWS rows per
 * pass: a dot and a norm sum per row is already eight independent chains.
 */
static void
avx512_dot_norms_many(const float *q, const float *base, size_t n,
					  size_t dim, float *dots, float *norms)
{
	size_t		r = 0;

	for (; r + ROWS <= n; r += ROWS)
	{
		const float *x0 = base + r * dim;
		const float *x1 = x0 + dim;
		const float *x2 = x1 + dim;
		const float *x3 = x2 + dim;
		const char *pf = (const char *) ((uintptr_t) x0 + PREFETCH_BYTES);
		__m512		d0 = _mm512_setzero_ps(),
					n0 = _mm512_setzero_ps();
		__m512		d1 = _mm512_setzero_ps(),
					n1 = _mm512_setzero_ps();
		__m512		d2 = _mm512_setzero_ps(),
					n2 = _mm512_setzero_ps();
		__m512		d3 = _mm512_setzero_ps(),
					n3 = _mm512_setzero_ps();
		size_t		i = 0;

		for (; i < dim; i += LANES)
		{
			/* the last chunk may be partial; a full mask costs nothing */
			__mmask16	m = dim - i >= LANES ? (__mmask16) 0xFFFF : tail_mask(dim - i);
			__m512		qv = _mm512_maskz_loadu_ps(m, q + i);
			__m512		v0 = _mm512_maskz_loadu_ps(m, x0 + i);
			__m512		v1 = _mm512_maskz_loadu_ps(m, x1 + i);
			__m512		v2 = _mm512_maskz_loadu_ps(m, x2 + i);
			__m512		v3 = _mm512_maskz_loadu_ps(m, x3 + i);

			pf = prefetch_lines(pf, PREFETCH_LINES);
			d0 = _mm512_fmadd_ps(qv, v0, d0);
			n0 = _mm512_fmadd_ps(v0, v0, n0);
			d1 = _mm512_fmadd_ps(qv, v1, d1);
			n1 = _mm512_fmadd_ps(v1, v1, n1);
			d2 = _mm512_fmadd_ps(qv, v2, d2);
			n2 = _mm512_fmadd_ps(v2, v2, n2);
			d3 = _mm512_fmadd_ps(qv, v3, d3);
			n3 = _mm512_fmadd_ps(v3, v3, n3);
		}
		_mm_storeu_ps(dots + r, hsum4(d0, d1, d2, d3));
		_mm_storeu_ps(norms + r, hsum4(n0, n1, n2, n3));
	}
	for (; r < n; r++)
	{
		float		unused;

		avx512_dot_norms(q, base + r * dim, dim, &dots[r], &unused, &norms[r]);
	}
}

const DistanceKernels distance_avx512_table = {
	.isa = KERNEL_ISA_AVX512,
	.name = "avx512",
	.l2sq = avx512_l2sq,
	.dot = avx512_dot,
	.l1 = avx512_l1,
	.dot_norms = avx512_dot_norms,
	.l2sq_many = avx512_l2sq_many,
	.dot_many = avx512_dot_many,
	.l1_many = avx512_l1_many,
	.dot_norms_many = avx512_dot_norms_many,
};

#endif							/* DISTANCE_HAVE_X86 */

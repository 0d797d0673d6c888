/*-------------------------------------------------------------------------
 *
 * distance.h
 *	  Float32 distance kernels with one dispatch table chosen at run time.
 *
 * Every kernel exists in a scalar version and in versions for AVX2+FMA and
 * AVX-512F, each compiled in its own file with its own -m flags so nothing
 * is built for a CPU that may not run it.  The table is picked once, on
 * first use, from the CPU's features; LANCEDB_KERNEL in the environment or
 * distance_kernels_select() (the lancedb.kernel GUC) can force a path.  A
 * LANCEDB_KERNEL that names no path this CPU runs is ignored ("auto").
 *
 * Conventions shared by every path:
 *	- inputs need no alignment;
 *	- l2sq is the squared Euclidean distance (callers take the root);
 *	- the *_many kernels compare one query with n vectors stored row after
 *	  row (stride = dim floats) and write n results.
 *
 * This header is the module's whole API and never includes postgres.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_DISTANCE_H
#define LANCEDB_KERNELS_DISTANCE_H

#include <stdbool.h>
#include <stddef.h>

typedef enum KernelIsa
{
	KERNEL_ISA_SCALAR,
	KERNEL_ISA_AVX2,
	KERNEL_ISA_AVX512,
	KERNEL_ISA_COUNT
} KernelIsa;

typedef float (*DistanceOneFn) (const float *a, const float *b, size_t dim);
typedef void (*DistanceManyFn) (const float *q, const float *base, size_t n,
								size_t dim, float *out);

typedef struct DistanceKernels
{
	KernelIsa	isa;
	const char *name;			/* "scalar", "avx2", "avx512" */

	DistanceOneFn l2sq;			/* sum (a-b)^2 */
	DistanceOneFn dot;			/* sum a*b */
	DistanceOneFn l1;			/* sum |a-b| */
	/* dot(a,b), |a|^2 and |b|^2 in one pass, for cosine */
	void		(*dot_norms) (const float *a, const float *b, size_t dim,
							  float *dot, float *norm_a, float *norm_b);

	DistanceManyFn l2sq_many;
	DistanceManyFn dot_many;
	DistanceManyFn l1_many;
	/* dot(q, x_i) into dots[i] and |x_i|^2 into norms[i] */
	void		(*dot_norms_many) (const float *q, const float *base, size_t n,
								   size_t dim, float *dots, float *norms);
} DistanceKernels;

/* The selected table; the first call picks the best path the CPU supports. */
extern const DistanceKernels *distance_kernels(void);

/*
 * Force a path by name ("auto", "scalar", "avx2", "avx512").  Returns false,
 * leaving the selection as it was, for an unknown name or a path this CPU
 * cannot run.
 */
extern bool distance_kernels_select(const char *name);

/* The table of one path, or NULL when this CPU cannot run it. */
extern const DistanceKernels *distance_kernels_for(KernelIsa isa);

/* Whether this CPU (and OS) can run a path. */
extern bool distance_isa_supported(KernelIsa isa);

/* Cosine distance 1 - dot/sqrt(|a|^2 |b|^2), clamped to [0, 2]; NaN when a norm is 0. */
extern double distance_cosine_from_parts(double dot, double norm_a, double norm_b);

#endif							/* LANCEDB_KERNELS_DISTANCE_H */

/*-------------------------------------------------------------------------
 *
 * bench_kernels.c
 *	  Print the speed of every distance kernel on every path this CPU runs.
 *
 * Three parts, each the best of many repetitions because the machines we
 * run on are shared and noisy:
 *	1. the machine: the clock, from a chain of dependent integer adds (one
 *	   cycle each); each path's peak float32 rate, from a loop of independent
 *	   multiply-adds that never touches memory (FMAs for AVX2 and AVX-512;
 *	   for the scalar path SSE2 multiplies and adds, since that is what gcc
 *	   makes of its C); and the memory bandwidth of a read-only pass and of
 *	   memcpy over buffers far larger than the caches;
 *	2. one-to-one kernels on one pair of vectors (in L1) at dims 128, 768
 *	   and 1536;
 *	3. one-to-many kernels at dim 128 over 32 rows (in L1), 1000 rows (in
 *	   L2) and 1M rows (512 MB, from DRAM).
 * Flops are counted per dimension as the arithmetic the kernel must do:
 * l2sq 3 (sub, mul, add), dot 2, l1 3 (sub, abs, add), cosine 6 one to one
 * (three dot products) and 4 one to many (the query's norm is computed once
 * per call, so only the dot and the row's norm are per row).  Cosine times
 * include turning the parts into a distance (a sqrt and a divide per row).
 *
 * The benchmark builds for any CPU: the peak and bandwidth loops that need
 * AVX2 or AVX-512 are compiled for them with target attributes and called
 * only when distance_isa_supported() says the CPU can run them.
 *
 *-------------------------------------------------------------------------
 */
#include <float.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/distance.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define BENCH_X86 1
#endif

/*
 * The host is shared and its noise comes in bursts (a neighbour on the
 * other hyperthread of our core, an interrupt): so the timings are many
 * short repetitions, 0.1 ms each where the work allows, spread over PASSES
 * passes through everything, and the best one counts.  A repetition that
 * cannot be short (a pass over 512 MB) gets fewer rounds, so that no
 * measurement takes more than ROUND_BUDGET_NS per pass.
 */
#define PASSES 4
#define REPS 25					/* rounds per pass, at most */
#define MIN_REP_NS 100000.0		/* a repetition lasts at least 0.1 ms */
#define ROUND_BUDGET_NS 150e6	/* time per measurement per pass, roughly */

#define MANY_DIM 128
#define BIG_ROWS (1024 * 1024)	/* 1M x 128 floats = 512 MB */

typedef enum BenchKernel
{
	BK_L2SQ,
	BK_DOT,
	BK_L1,
	BK_COSINE,
	BK_COUNT
} BenchKernel;

static const char *const bk_names[BK_COUNT] = {"l2sq", "dot", "l1", "cosine"};
static const double flops_one[BK_COUNT] = {3, 2, 3, 6};
static const double flops_many[BK_COUNT] = {3, 2, 3, 4};

/* Benchmarked work: run iters units of it. */
typedef void (*WorkFn) (void *ctx, uint64_t iters);

typedef struct KernelCtx
{
	const DistanceKernels *t;
	BenchKernel kernel;
	const float *q;
	const float *base;			/* one vector (one to one) or n rows */
	size_t		n;
	size_t		dim;
	float	   *out;
	float	   *out2;
	double		sink;			/* results feed this so none is dead code */
} KernelCtx;

/* The machine, best over all passes. */
static double peak_gflops[KERNEL_ISA_COUNT];
static double clock_ghz;
static double read_gbs;
static double copy_gbs;

/* The dims of the one-to-one table and the cases of the one-to-many one. */
#define N_ONE_DIMS 3
#define N_MANY_CASES 3
static const size_t one_dims[N_ONE_DIMS] = {128, 768, 1536};
static const size_t many_rows[N_MANY_CASES] = {
	32,							/* 16 KB: in L1 */
	1000,						/* 500 KB: in L2 */
	BIG_ROWS,					/* 512 MB: from DRAM */
};

/* The paths this CPU runs, and each kernel's best ns per distance on them. */
static const DistanceKernels *paths[KERNEL_ISA_COUNT];
static int	npaths;
static double one_ns[BK_COUNT][N_ONE_DIMS][KERNEL_ISA_COUNT];
static double many_ns[BK_COUNT][N_MANY_CASES][KERNEL_ISA_COUNT];

static volatile double global_sink;

/* Return the monotonic clock in nanoseconds. */
static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e9 + (double) ts.tv_nsec;
}

/*
 * Return how many units of work make one repetition last MIN_REP_NS, and
 * in *rep_ns how long such a repetition took.
 */
static uint64_t
calibrate(WorkFn fn, void *ctx, uint64_t min_iters, double *rep_ns)
{
	uint64_t	iters = min_iters ? min_iters : 1;

	for (;;)
	{
		double		t = now_ns();

		fn(ctx, iters);
		t = now_ns() - t;
		if (t >= MIN_REP_NS)
		{
			*rep_ns = t;
			return iters;
		}
		iters *= (t > MIN_REP_NS / 16) ? 2 : 8;
	}
}

/*
 * Time the same work on nctx contexts (one per path): rounds that each run
 * every context once, so a burst of noise hits all paths alike rather than
 * one.  best[i] is lowered to context i's best nanoseconds per unit;
 * callers start it at DBL_MAX.
 */
static void
best_ns_interleaved(WorkFn fn, void **ctxs, int nctx, uint64_t min_iters,
					double *best)
{
	uint64_t	iters[KERNEL_ISA_COUNT];
	double		round_ns = 0.0;
	int			rounds,
				rep,
				i;

	for (i = 0; i < nctx; i++)
	{
		double		rep_ns;

		iters[i] = calibrate(fn, ctxs[i], min_iters, &rep_ns);
		round_ns += rep_ns;
	}
	rounds = (int) (ROUND_BUDGET_NS / round_ns);
	if (rounds > REPS)
		rounds = REPS;
	if (rounds < 3)
		rounds = 3;
	for (rep = 0; rep < rounds; rep++)
	{
		for (i = 0; i < nctx; i++)
		{
			double		t = now_ns();

			fn(ctxs[i], iters[i]);
			t = (now_ns() - t) / (double) iters[i];
			if (t < best[i])
				best[i] = t;
		}
	}
}

/* Time work on one context; return the best nanoseconds per unit. */
static double
best_ns_per_unit(WorkFn fn, void *ctx, uint64_t min_iters)
{
	double		best = DBL_MAX;

	best_ns_interleaved(fn, &ctx, 1, min_iters, &best);
	return best;
}

/* Fill v with pseudo-random floats in [-1, 1). */
static void
fill_random(float *v, size_t n, uint32_t seed)
{
	uint32_t	x = seed * 2654435761u + 1;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		x = x * 1664525u + 1013904223u;
		v[i] = (float) (int32_t) x / 2147483648.0f;
	}
}

/* Allocate 64-byte aligned memory or exit. */
static void *
alloc_or_die(size_t bytes)
{
	void	   *p = aligned_alloc(64, (bytes + 63) / 64 * 64);

	if (p == NULL)
	{
		fprintf(stderr, "bench_kernels: cannot allocate %zu bytes\n", bytes);
		exit(1);
	}
	return p;
}

/* ---- the machine ---------------------------------------------------- */

/* Run iters rounds of 16 dependent one-cycle integer adds. */
static void
work_add_chain(void *ctx, uint64_t iters)
{
	uint64_t	x = 1;
	uint64_t	i;

	for (i = 0; i < iters; i++)
	{
#ifdef BENCH_X86
		/* in asm so the compiler cannot fold the chain into one multiply */
		__asm__ volatile("add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
						 "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
						 "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
						 "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0"
						 : "+r"(x));
#elif defined(__aarch64__)
		__asm__ volatile("add %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\t"
						 "add %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\t"
						 "add %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\t"
						 "add %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0\n\tadd %0, %0, %0"
						 : "+r"(x));
#else
#error "bench_kernels: no dependent-add chain for this architecture"
#endif
	}
	global_sink = (double) x;
}

#ifdef BENCH_X86

#define SCALAR_PEAK_FLOPS (12 * 4 * 2)	/* per unit of work_peak_scalar */

/*
 * The scalar path's ceiling: gcc -O2 turns its four-sum loops into SSE2
 * (the x86-64 baseline, 4 lanes) with separate multiplies and adds, so
 * measure that.  Twelve independent a = a * m + c chains, 8 flops a step.
 */
static void
work_peak_scalar(void *ctx, uint64_t iters)
{
	volatile float seed = 1.0f;
	__m128		m = _mm_set1_ps(seed * 0.999999f);
	__m128		c = _mm_set1_ps(seed * 1e-7f);
	__m128		a0 = _mm_set1_ps(seed),
				a1 = _mm_set1_ps(seed + 1),
				a2 = _mm_set1_ps(seed + 2),
				a3 = _mm_set1_ps(seed + 3),
				a4 = _mm_set1_ps(seed + 4),
				a5 = _mm_set1_ps(seed + 5),
				a6 = _mm_set1_ps(seed + 6),
				a7 = _mm_set1_ps(seed + 7),
				a8 = _mm_set1_ps(seed + 8),
				a9 = _mm_set1_ps(seed + 9),
				a10 = _mm_set1_ps(seed + 10),
				a11 = _mm_set1_ps(seed + 11);
	uint64_t	i;

	/* named variables, not an array, so they stay in registers */
	for (i = 0; i < iters; i++)
	{
		a0 = _mm_add_ps(_mm_mul_ps(a0, m), c);
		a1 = _mm_add_ps(_mm_mul_ps(a1, m), c);
		a2 = _mm_add_ps(_mm_mul_ps(a2, m), c);
		a3 = _mm_add_ps(_mm_mul_ps(a3, m), c);
		a4 = _mm_add_ps(_mm_mul_ps(a4, m), c);
		a5 = _mm_add_ps(_mm_mul_ps(a5, m), c);
		a6 = _mm_add_ps(_mm_mul_ps(a6, m), c);
		a7 = _mm_add_ps(_mm_mul_ps(a7, m), c);
		a8 = _mm_add_ps(_mm_mul_ps(a8, m), c);
		a9 = _mm_add_ps(_mm_mul_ps(a9, m), c);
		a10 = _mm_add_ps(_mm_mul_ps(a10, m), c);
		a11 = _mm_add_ps(_mm_mul_ps(a11, m), c);
	}
	a0 = _mm_add_ps(_mm_add_ps(_mm_add_ps(a0, a1), _mm_add_ps(a2, a3)),
					_mm_add_ps(_mm_add_ps(a4, a5), _mm_add_ps(a6, a7)));
	a0 = _mm_add_ps(a0, _mm_add_ps(_mm_add_ps(a8, a9), _mm_add_ps(a10, a11)));
	global_sink = _mm_cvtss_f32(a0);
}

#else

#define SCALAR_PEAK_FLOPS (12 * 2)

/* Off x86, a plain C version of the same chains. */
static void
work_peak_scalar(void *ctx, uint64_t iters)
{
	volatile float seed = 1.0f;
	float		m = seed * 0.999999f,
				c = seed * 1e-7f;
	float		a[12];
	uint64_t	i;
	int			k;

	for (k = 0; k < 12; k++)
		a[k] = seed + (float) k;
	for (i = 0; i < iters; i++)
	{
		for (k = 0; k < 12; k++)
			a[k] = a[k] * m + c;
	}
	for (k = 1; k < 12; k++)
		a[0] += a[k];
	global_sink = a[0];
}

#endif

#ifdef BENCH_X86

/* AVX2 FMA: twelve independent chains of 8 lanes. */
__attribute__((target("avx2,fma")))
static void
work_peak_avx2(void *ctx, uint64_t iters)
{
	volatile float seed = 1.0f;
	__m256		m = _mm256_set1_ps(seed * 0.999999f);
	__m256		c = _mm256_set1_ps(seed * 1e-7f);
	__m256		a0 = _mm256_set1_ps(seed),
				a1 = _mm256_set1_ps(seed + 1),
				a2 = _mm256_set1_ps(seed + 2),
				a3 = _mm256_set1_ps(seed + 3),
				a4 = _mm256_set1_ps(seed + 4),
				a5 = _mm256_set1_ps(seed + 5),
				a6 = _mm256_set1_ps(seed + 6),
				a7 = _mm256_set1_ps(seed + 7),
				a8 = _mm256_set1_ps(seed + 8),
				a9 = _mm256_set1_ps(seed + 9),
				a10 = _mm256_set1_ps(seed + 10),
				a11 = _mm256_set1_ps(seed + 11);
	uint64_t	i;
	float		lanes[8];

	for (i = 0; i < iters; i++)
	{
		a0 = _mm256_fmadd_ps(a0, m, c);
		a1 = _mm256_fmadd_ps(a1, m, c);
		a2 = _mm256_fmadd_ps(a2, m, c);
		a3 = _mm256_fmadd_ps(a3, m, c);
		a4 = _mm256_fmadd_ps(a4, m, c);
		a5 = _mm256_fmadd_ps(a5, m, c);
		a6 = _mm256_fmadd_ps(a6, m, c);
		a7 = _mm256_fmadd_ps(a7, m, c);
		a8 = _mm256_fmadd_ps(a8, m, c);
		a9 = _mm256_fmadd_ps(a9, m, c);
		a10 = _mm256_fmadd_ps(a10, m, c);
		a11 = _mm256_fmadd_ps(a11, m, c);
	}
	a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
					   _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
	a0 = _mm256_add_ps(a0, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
	_mm256_storeu_ps(lanes, a0);
	global_sink = lanes[0];
}

/* AVX-512 FMA: twelve independent chains of 16 lanes. */
__attribute__((target("avx512f,fma")))
static void
work_peak_avx512(void *ctx, uint64_t iters)
{
	volatile float seed = 1.0f;
	__m512		m = _mm512_set1_ps(seed * 0.999999f);
	__m512		c = _mm512_set1_ps(seed * 1e-7f);
	__m512		a0 = _mm512_set1_ps(seed),
				a1 = _mm512_set1_ps(seed + 1),
				a2 = _mm512_set1_ps(seed + 2),
				a3 = _mm512_set1_ps(seed + 3),
				a4 = _mm512_set1_ps(seed + 4),
				a5 = _mm512_set1_ps(seed + 5),
				a6 = _mm512_set1_ps(seed + 6),
				a7 = _mm512_set1_ps(seed + 7),
				a8 = _mm512_set1_ps(seed + 8),
				a9 = _mm512_set1_ps(seed + 9),
				a10 = _mm512_set1_ps(seed + 10),
				a11 = _mm512_set1_ps(seed + 11);
	uint64_t	i;

	for (i = 0; i < iters; i++)
	{
		a0 = _mm512_fmadd_ps(a0, m, c);
		a1 = _mm512_fmadd_ps(a1, m, c);
		a2 = _mm512_fmadd_ps(a2, m, c);
		a3 = _mm512_fmadd_ps(a3, m, c);
		a4 = _mm512_fmadd_ps(a4, m, c);
		a5 = _mm512_fmadd_ps(a5, m, c);
		a6 = _mm512_fmadd_ps(a6, m, c);
		a7 = _mm512_fmadd_ps(a7, m, c);
		a8 = _mm512_fmadd_ps(a8, m, c);
		a9 = _mm512_fmadd_ps(a9, m, c);
		a10 = _mm512_fmadd_ps(a10, m, c);
		a11 = _mm512_fmadd_ps(a11, m, c);
	}
	a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
					   _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
	a0 = _mm512_add_ps(a0, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
	global_sink = _mm512_reduce_add_ps(a0);
}

#endif							/* BENCH_X86 */

typedef struct StreamCtx
{
	float	   *src;
	float	   *dst;
	size_t		nfloats;
} StreamCtx;

#ifdef BENCH_X86
/* Read every float of src once with AVX2 loads (iters passes). */
__attribute__((target("avx2")))
static void
work_read_avx2(void *ctx, uint64_t iters)
{
	StreamCtx  *s = ctx;
	__m256		a0 = _mm256_setzero_ps(),
				a1 = _mm256_setzero_ps(),
				a2 = _mm256_setzero_ps(),
				a3 = _mm256_setzero_ps();
	float		lanes[8];
	uint64_t	it;
	size_t		i;

	for (it = 0; it < iters; it++)
	{
		for (i = 0; i + 32 <= s->nfloats; i += 32)
		{
			a0 = _mm256_add_ps(a0, _mm256_load_ps(s->src + i));
			a1 = _mm256_add_ps(a1, _mm256_load_ps(s->src + i + 8));
			a2 = _mm256_add_ps(a2, _mm256_load_ps(s->src + i + 16));
			a3 = _mm256_add_ps(a3, _mm256_load_ps(s->src + i + 24));
		}
	}
	_mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
	global_sink = lanes[0];
}
#endif

/* Read every float of src once (iters passes), four sums. */
static void
work_read_scalar(void *ctx, uint64_t iters)
{
	StreamCtx  *s = ctx;
	float		a0 = 0,
				a1 = 0,
				a2 = 0,
				a3 = 0;
	uint64_t	it;
	size_t		i;

	for (it = 0; it < iters; it++)
	{
		for (i = 0; i + 4 <= s->nfloats; i += 4)
		{
			a0 += s->src[i];
			a1 += s->src[i + 1];
			a2 += s->src[i + 2];
			a3 += s->src[i + 3];
		}
	}
	global_sink = a0 + a1 + a2 + a3;
}

/* Copy src to dst (iters times). */
static void
work_memcpy(void *ctx, uint64_t iters)
{
	StreamCtx  *s = ctx;
	uint64_t	it;

	for (it = 0; it < iters; it++)
		memcpy(s->dst, s->src, s->nfloats * sizeof(float));
	global_sink = s->dst[s->nfloats / 2];
}

/* Raise *best to x if x is higher. */
static void
keep_max(double *best, double x)
{
	if (x > *best)
		*best = x;
}

/* Measure the clock, each path's FMA peak and memory bandwidth. */
static void
measure_machine(float *big, size_t big_floats)
{
	StreamCtx	s;

	/* 16 dependent adds per unit, one cycle each */
	keep_max(&clock_ghz, 16.0 / best_ns_per_unit(work_add_chain, NULL, 1000000));

	keep_max(&peak_gflops[KERNEL_ISA_SCALAR],
			 SCALAR_PEAK_FLOPS / best_ns_per_unit(work_peak_scalar, NULL, 1000000));
#ifdef BENCH_X86
	if (distance_isa_supported(KERNEL_ISA_AVX2))
		keep_max(&peak_gflops[KERNEL_ISA_AVX2],
				 12 * 8 * 2 / best_ns_per_unit(work_peak_avx2, NULL, 1000000));
	if (distance_isa_supported(KERNEL_ISA_AVX512))
		keep_max(&peak_gflops[KERNEL_ISA_AVX512],
				 12 * 16 * 2 / best_ns_per_unit(work_peak_avx512, NULL, 1000000));
#endif

	/* read: the whole 512 MB buffer; memcpy: its lower half onto its upper */
	s.src = big;
	s.dst = big + big_floats / 2;
	s.nfloats = big_floats;
#ifdef BENCH_X86
	if (distance_isa_supported(KERNEL_ISA_AVX2))
		keep_max(&read_gbs, big_floats * sizeof(float) /
				 best_ns_per_unit(work_read_avx2, &s, 1));
	else
#endif
		keep_max(&read_gbs, big_floats * sizeof(float) /
				 best_ns_per_unit(work_read_scalar, &s, 1));
	s.nfloats = big_floats / 2;
	keep_max(&copy_gbs, s.nfloats * sizeof(float) /
			 best_ns_per_unit(work_memcpy, &s, 1));
}

/* Print what measure_machine found. */
static void
print_machine(void)
{
	int			p;

	printf("machine (one core; best of %d passes)\n", PASSES);
	printf("  clock             %6.2f GHz   (dependent integer adds, 1 cycle each)\n",
		   clock_ghz);
	for (p = 0; p < npaths; p++)
	{
		KernelIsa	isa = paths[p]->isa;

		printf("  peak %-7s      %6.1f GFLOP/s = %4.1f flops/cycle (%s)\n",
			   paths[p]->name, peak_gflops[isa], peak_gflops[isa] / clock_ghz,
			   isa == KERNEL_ISA_SCALAR ? "independent SSE2 mul+add, what gcc makes of the C" :
			   isa == KERNEL_ISA_AVX2 ? "independent 8-lane FMAs in registers" :
			   "independent 16-lane FMAs in registers");
	}
	printf("  read bandwidth    %6.1f GB/s   (sum of a 512 MB buffer)\n", read_gbs);
	printf("  memcpy            %6.1f GB/s   copied (256 MB -> 256 MB; twice that moved)\n\n",
		   copy_gbs);
}

/* ---- the kernels ---------------------------------------------------- */

/* Run one one-to-one kernel iters times on the same pair. */
static void
work_one(void *ctx, uint64_t iters)
{
	KernelCtx  *k = ctx;
	const DistanceKernels *t = k->t;
	float		acc = 0.0f;
	double		dacc = 0.0;
	float		dot,
				na,
				nb;
	uint64_t	i;

	switch (k->kernel)
	{
		case BK_L2SQ:
			for (i = 0; i < iters; i++)
				acc += t->l2sq(k->q, k->base, k->dim);
			break;
		case BK_DOT:
			for (i = 0; i < iters; i++)
				acc += t->dot(k->q, k->base, k->dim);
			break;
		case BK_L1:
			for (i = 0; i < iters; i++)
				acc += t->l1(k->q, k->base, k->dim);
			break;
		default:
			for (i = 0; i < iters; i++)
			{
				t->dot_norms(k->q, k->base, k->dim, &dot, &na, &nb);
				dacc += distance_cosine_from_parts(dot, na, nb);
			}
			break;
	}
	k->sink += acc + dacc;
}

/* Run one one-to-many kernel over all n rows, iters times. */
static void
work_many(void *ctx, uint64_t iters)
{
	KernelCtx  *k = ctx;
	const DistanceKernels *t = k->t;
	float		qdot,
				qn,
				unused;
	uint64_t	it;
	size_t		r;

	for (it = 0; it < iters; it++)
	{
		switch (k->kernel)
		{
			case BK_L2SQ:
				t->l2sq_many(k->q, k->base, k->n, k->dim, k->out);
				break;
			case BK_DOT:
				t->dot_many(k->q, k->base, k->n, k->dim, k->out);
				break;
			case BK_L1:
				t->l1_many(k->q, k->base, k->n, k->dim, k->out);
				break;
			default:
				t->dot_norms(k->q, k->q, k->dim, &qdot, &qn, &unused);
				t->dot_norms_many(k->q, k->base, k->n, k->dim, k->out, k->out2);
				for (r = 0; r < k->n; r++)
					k->out[r] = (float) distance_cosine_from_parts(k->out[r], qn,
																   k->out2[r]);
				break;
		}
		k->sink += k->out[it % k->n];
	}
}

/* Collect the paths this CPU runs and reset their timings. */
static void
find_paths(void)
{
	int			isa,
				k,
				i;

	for (isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		const DistanceKernels *t = distance_kernels_for((KernelIsa) isa);

		if (t)
			paths[npaths++] = t;
	}
	for (k = 0; k < BK_COUNT; k++)
	{
		for (i = 0; i < KERNEL_ISA_COUNT; i++)
		{
			int			j;

			for (j = 0; j < N_ONE_DIMS; j++)
				one_ns[k][j][i] = DBL_MAX;
			for (j = 0; j < N_MANY_CASES; j++)
				many_ns[k][j][i] = DBL_MAX;
		}
	}
}

/* Time every one-to-one kernel on every path, lowering one_ns. */
static void
measure_one_to_one(const float *a, const float *b)
{
	int			p,
				k,
				d;

	for (k = 0; k < BK_COUNT; k++)
	{
		for (d = 0; d < N_ONE_DIMS; d++)
		{
			KernelCtx	ctx[KERNEL_ISA_COUNT];
			void	   *ctxp[KERNEL_ISA_COUNT];

			for (p = 0; p < npaths; p++)
			{
				ctx[p] = (KernelCtx) {paths[p], (BenchKernel) k, a, b, 1, one_dims[d]};
				ctxp[p] = &ctx[p];
			}
			best_ns_interleaved(work_one, ctxp, npaths, 1000, one_ns[k][d]);
			for (p = 0; p < npaths; p++)
				global_sink += ctx[p].sink;
		}
	}
}

/* Print the one-to-one table. */
static void
print_one_to_one(void)
{
	int			p,
				k,
				d;

	printf("one to one: one pair of vectors, in L1; ns per distance\n");
	printf("  %-7s %-7s", "", "");
	for (d = 0; d < N_ONE_DIMS; d++)
		printf(" | dim %-23zu", one_dims[d]);
	printf("\n  %-7s %-7s", "path", "kernel");
	for (d = 0; d < N_ONE_DIMS; d++)
		printf(" | %7s %7s %5s %5s", "ns", "GFLOP/s", "%peak", "xscal");
	printf("\n");
	for (p = 0; p < npaths; p++)
	{
		for (k = 0; k < BK_COUNT; k++)
		{
			printf("  %-7s %-7s", paths[p]->name, bk_names[k]);
			for (d = 0; d < N_ONE_DIMS; d++)
			{
				double		ns = one_ns[k][d][p];
				double		gflops = flops_one[k] * (double) one_dims[d] / ns;

				printf(" | %7.2f %7.1f %4.0f%% %5.1f", ns, gflops,
					   100.0 * gflops / peak_gflops[paths[p]->isa],
					   one_ns[k][d][0] / ns);
			}
			printf("\n");
		}
	}
	printf("\n");
}

/* Time every one-to-many kernel on every path, lowering many_ns. */
static void
measure_one_to_many(const float *q, const float *big, float *out, float *out2)
{
	int			p,
				k,
				c;

	for (k = 0; k < BK_COUNT; k++)
	{
		for (c = 0; c < N_MANY_CASES; c++)
		{
			KernelCtx	ctx[KERNEL_ISA_COUNT];
			void	   *ctxp[KERNEL_ISA_COUNT];
			double		ns[KERNEL_ISA_COUNT];

			for (p = 0; p < npaths; p++)
			{
				ctx[p] = (KernelCtx) {paths[p], (BenchKernel) k, q, big,
				many_rows[c], MANY_DIM, out, out2};
				ctxp[p] = &ctx[p];
				ns[p] = DBL_MAX;
			}
			/* one unit is a pass over all the rows */
			best_ns_interleaved(work_many, ctxp, npaths, 1, ns);
			for (p = 0; p < npaths; p++)
			{
				ns[p] /= (double) many_rows[c];
				if (ns[p] < many_ns[k][c][p])
					many_ns[k][c][p] = ns[p];
				global_sink += ctx[p].sink;
			}
		}
	}
}

/* Print the one-to-many table. */
static void
print_one_to_many(void)
{
	int			p,
				k,
				c;

	printf("one to many: dim %d, rows contiguous; ns per distance\n", MANY_DIM);
	printf("  %-7s %-7s | %-27s | %-27s | %s\n", "", "",
		   "L1: 32 rows (16 KB)", "L2: 1000 rows (500 KB)",
		   "DRAM: 1M rows (512 MB)");
	printf("  %-7s %-7s", "path", "kernel");
	for (c = 0; c < N_MANY_CASES; c++)
		printf(" | %7s %7s %5s %5s", "ns", "GFLOP/s", "%peak", "xscal");
	printf(" %6s %5s\n", "GB/s", "%read");
	for (p = 0; p < npaths; p++)
	{
		for (k = 0; k < BK_COUNT; k++)
		{
			double		gbs = MANY_DIM * sizeof(float) / many_ns[k][N_MANY_CASES - 1][p];

			printf("  %-7s %-7s", paths[p]->name, bk_names[k]);
			for (c = 0; c < N_MANY_CASES; c++)
			{
				double		ns = many_ns[k][c][p];
				double		gflops = flops_many[k] * MANY_DIM / ns;

				printf(" | %7.2f %7.1f %4.0f%% %5.1f", ns, gflops,
					   100.0 * gflops / peak_gflops[paths[p]->isa],
					   many_ns[k][c][0] / ns);
			}
			printf(" %6.1f %4.0f%%\n", gbs, 100.0 * gbs / read_gbs);
		}
	}
	printf("\n");
}

int
main(void)
{
	size_t		big_floats = (size_t) BIG_ROWS * MANY_DIM;
	size_t		maxdim = one_dims[N_ONE_DIMS - 1];
	float	   *big = alloc_or_die(big_floats * sizeof(float));
	float	   *a = alloc_or_die(maxdim * sizeof(float));
	float	   *b = alloc_or_die(maxdim * sizeof(float));
	float	   *out = alloc_or_die(BIG_ROWS * sizeof(float));
	float	   *out2 = alloc_or_die(BIG_ROWS * sizeof(float));
	double		start = now_ns();
	int			pass;

	/* touch every page now so no timing pays for first-touch faults */
	fill_random(big, big_floats, 4);
	fill_random(a, maxdim, 1);
	fill_random(b, maxdim, 2);
	memset(out, 0, BIG_ROWS * sizeof(float));
	memset(out2, 0, BIG_ROWS * sizeof(float));
	find_paths();

	printf("lancedb_fdw distance kernels; auto-selected path: %s\n\n",
		   distance_kernels()->name);
	for (pass = 0; pass < PASSES; pass++)
	{
		measure_machine(big, big_floats);
		measure_one_to_one(a, b);
		/* the query is row 0 of the rows, the memcpy leaves it as it was */
		measure_one_to_many(big, big, out, out2);
	}
	print_machine();
	print_one_to_one();
	print_one_to_many();
	printf("total %.1f s\n", (now_ns() - start) / 1e9);
	free(big);
	free(a);
	free(b);
	free(out);
	free(out2);
	return 0;
}

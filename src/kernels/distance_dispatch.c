/*-------------------------------------------------------------------------
 *
 * distance_dispatch.c
 *	  Pick the distance kernels this CPU can run, once.
 *
 * This file is compiled without any -m flags: it runs on every x86-64 CPU
 * and only reads the other paths' tables (data), never calls into them,
 * until cpuid and xgetbv have shown that both the CPU and the OS support
 * the instruction set.  The OS check matters: a CPU may have AVX-512 while
 * the kernel (or a hypervisor) does not save the ZMM registers on a context
 * switch, and then the instructions fault or corrupt state.
 *
 * The selection is one pointer, set on first use from LANCEDB_KERNEL (when
 * it names a path this CPU can run) or else the widest supported path, and
 * replaced only by distance_kernels_select().  Atomic loads and stores keep
 * it well-defined if core code ever calls in from several threads.
 *
 *-------------------------------------------------------------------------
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <strings.h>

#include "kernels/distance_impl.h"

#ifdef DISTANCE_HAVE_X86
#include <cpuid.h>
#endif

/* Bits of the supported-set mask; SUPPORT_KNOWN says it has been computed. */
#define SUPPORT_KNOWN	(1u << 31)

static unsigned int isa_support;	/* 0 until first computed */
static const DistanceKernels *selected;

static const char *const isa_names[KERNEL_ISA_COUNT] = {
	[KERNEL_ISA_SCALAR] = "scalar",
	[KERNEL_ISA_AVX2] = "avx2",
	[KERNEL_ISA_AVX512] = "avx512",
};

#ifdef DISTANCE_HAVE_X86

/* XCR0 bits: state the OS saves and restores on a context switch. */
#define XCR0_SSE		(1u << 1)
#define XCR0_YMM		(1u << 2)
#define XCR0_OPMASK		(1u << 5)
#define XCR0_ZMM_HI256	(1u << 6)
#define XCR0_HI16_ZMM	(1u << 7)

/* Read XCR0; only valid once cpuid has reported OSXSAVE. */
static uint64_t
read_xcr0(void)
{
	uint32_t	eax,
				edx;

	/* the _xgetbv() intrinsic would need -mxsave, which this file avoids */
	__asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
	return ((uint64_t) edx << 32) | eax;
}

/* Compute the set of paths both the CPU and the OS support. */
static unsigned int
detect_isa_support(void)
{
	unsigned int mask = 1u << KERNEL_ISA_SCALAR;
	unsigned int eax,
				ebx,
				ecx,
				edx;
	unsigned int ecx1;
	uint64_t	xcr0;
	bool		avx2;

	if (!__get_cpuid(1, &eax, &ebx, &ecx1, &edx))
		return mask;
	/* without OSXSAVE, xgetbv is an illegal instruction */
	if (!(ecx1 & bit_OSXSAVE) || !(ecx1 & bit_AVX) || !(ecx1 & bit_FMA))
		return mask;
	xcr0 = read_xcr0();
	if ((xcr0 & (XCR0_SSE | XCR0_YMM)) != (XCR0_SSE | XCR0_YMM))
		return mask;
	if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
		return mask;

	avx2 = (ebx & bit_AVX2) != 0;
	if (avx2)
		mask |= 1u << KERNEL_ISA_AVX2;

	/* the AVX-512 file is built for F, VL, BW and DQ, so it needs all four */
	if (avx2 &&
		(ebx & bit_AVX512F) && (ebx & bit_AVX512VL) &&
		(ebx & bit_AVX512BW) && (ebx & bit_AVX512DQ) &&
		(xcr0 & (XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM)) ==
		(XCR0_OPMASK | XCR0_ZMM_HI256 | XCR0_HI16_ZMM))
		mask |= 1u << KERNEL_ISA_AVX512;

	return mask;
}

#else							/* !DISTANCE_HAVE_X86 */

/* Only the scalar path exists off x86. */
static unsigned int
detect_isa_support(void)
{
	return 1u << KERNEL_ISA_SCALAR;
}

#endif							/* DISTANCE_HAVE_X86 */

/* Return the supported-set mask, detecting it on first use. */
static unsigned int
isa_support_mask(void)
{
	unsigned int mask = __atomic_load_n(&isa_support, __ATOMIC_RELAXED);

	if (!(mask & SUPPORT_KNOWN))
	{
		/* detection is idempotent, so a race only repeats it */
		mask = detect_isa_support() | SUPPORT_KNOWN;
		__atomic_store_n(&isa_support, mask, __ATOMIC_RELAXED);
	}
	return mask;
}

bool
distance_isa_supported(KernelIsa isa)
{
	if ((int) isa < 0 || isa >= KERNEL_ISA_COUNT)
		return false;
	return (isa_support_mask() & (1u << isa)) != 0;
}

/* Return the table of a path without checking support. */
static const DistanceKernels *
table_of(KernelIsa isa)
{
	switch (isa)
	{
		case KERNEL_ISA_SCALAR:
			return &distance_scalar_table;
#ifdef DISTANCE_HAVE_X86
		case KERNEL_ISA_AVX2:
			return &distance_avx2_table;
		case KERNEL_ISA_AVX512:
			return &distance_avx512_table;
#endif
		default:
			return NULL;
	}
}

const DistanceKernels *
distance_kernels_for(KernelIsa isa)
{
	if (!distance_isa_supported(isa))
		return NULL;
	return table_of(isa);
}

/* Return the widest path this CPU can run. */
static const DistanceKernels *
best_table(void)
{
	int			isa;

	for (isa = KERNEL_ISA_COUNT - 1; isa > KERNEL_ISA_SCALAR; isa--)
	{
		const DistanceKernels *t = distance_kernels_for((KernelIsa) isa);

		if (t)
			return t;
	}
	return &distance_scalar_table;
}

/*
 * Resolve a path name to a table: NULL for an unknown name or a path this
 * CPU cannot run.  "auto" is the widest supported path.
 */
static const DistanceKernels *
table_by_name(const char *name)
{
	int			isa;

	if (name == NULL)
		return NULL;
	if (strcasecmp(name, "auto") == 0)
		return best_table();
	for (isa = 0; isa < KERNEL_ISA_COUNT; isa++)
	{
		if (strcasecmp(name, isa_names[isa]) == 0)
			return distance_kernels_for((KernelIsa) isa);
	}
	return NULL;
}

const DistanceKernels *
distance_kernels(void)
{
	const DistanceKernels *t = __atomic_load_n(&selected, __ATOMIC_ACQUIRE);

	if (t == NULL)
	{
		const DistanceKernels *expected = NULL;
		const char *env = getenv("LANCEDB_KERNEL");

		/* an unusable LANCEDB_KERNEL falls back to auto rather than fail */
		t = table_by_name(env);
		if (t == NULL)
			t = best_table();
		/* keep a selection made concurrently by distance_kernels_select() */
		if (!__atomic_compare_exchange_n(&selected, &expected, t, false,
										 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			t = expected;
	}
	return t;
}

bool
distance_kernels_select(const char *name)
{
	const DistanceKernels *t = table_by_name(name);

	if (t == NULL)
		return false;
	__atomic_store_n(&selected, t, __ATOMIC_RELEASE);
	return true;
}

/*
 * Cosine distance from the parts dot_norms computes, with pgvector's rules:
 * sqrt of the product rather than a product of roots (one rounding fewer),
 * the similarity clamped to [-1, 1] so rounding never yields a distance
 * below 0 or above 2, and NaN when either vector is zero, since the angle
 * to a zero vector is undefined.
 */
double
distance_cosine_from_parts(double dot, double norm_a, double norm_b)
{
	double		prod = norm_a * norm_b;
	double		similarity;

	if (prod == 0.0)
		return NAN;
	similarity = dot / sqrt(prod);
	if (similarity > 1.0)
		similarity = 1.0;
	else if (similarity < -1.0)
		similarity = -1.0;
	/* a NaN input fails both comparisons and comes out as NaN */
	return 1.0 - similarity;
}

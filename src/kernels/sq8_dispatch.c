/*-------------------------------------------------------------------------
 *
 * sq8_dispatch.c
 *	  Pick the sq8 path that matches the distance kernels' selection.
 *
 * The distance module already decides, once, which instruction sets the
 * CPU and the OS support, and which one is selected; following it keeps
 * one switch (lancedb.kernel, LANCEDB_KERNEL) for every kernel.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/sq8_impl.h"

const Sq8Kernels *
sq8_kernels_for(KernelIsa isa)
{
	if (!distance_isa_supported(isa))
		return NULL;
	switch (isa)
	{
		case KERNEL_ISA_SCALAR:
			return &sq8_scalar_kernels;
#ifdef SQ8_HAVE_X86
		case KERNEL_ISA_AVX2:
			return &sq8_avx2_kernels;
		case KERNEL_ISA_AVX512:
			return &sq8_avx512_kernels;
#endif
		default:
			return NULL;
	}
}

const Sq8Kernels *
sq8_kernels(void)
{
	const Sq8Kernels *k = sq8_kernels_for(distance_kernels()->isa);

	return k != NULL ? k : &sq8_scalar_kernels;
}

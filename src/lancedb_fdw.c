/*-------------------------------------------------------------------------
 *
 * lancedb_fdw.c
 *	  Module entry point: the magic block and the GUCs shared by all parts.
 *
 * lancedb.kernel picks the distance kernels (src/kernels) every distance
 * in the extension runs on: "auto" lets the kernels choose (LANCEDB_KERNEL
 * from the server's environment if it names a usable path, otherwise the
 * widest instruction set the CPU and OS support); "scalar", "avx2" and
 * "avx512" force a path, for comparing results or timings.  Forcing a path
 * this machine cannot run is refused when it is set, rather than faulting
 * on an illegal instruction later.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <stdlib.h>

#include "am/bm25/bm25.h"
#include "am/hnsw/hnsw.h"
#include "am/ivfpq/ivfpq.h"
#include "fdw/copy_fast.h"
#include "fdw/fdw_search.h"
#include "fdw/search_index.h"
#include "fmgr.h"
#include "kernels/distance.h"
#include "utils/guc.h"

PG_MODULE_MAGIC;

/* -1 stands for "auto"; the others are KernelIsa values */
#define KERNEL_AUTO (-1)

static const struct config_enum_entry kernel_options[] = {
	{"auto", KERNEL_AUTO, false},
	{"scalar", KERNEL_ISA_SCALAR, false},
	{"avx2", KERNEL_ISA_AVX2, false},
	{"avx512", KERNEL_ISA_AVX512, false},
	{NULL, 0, false}
};

static int	lancedb_kernel = KERNEL_AUTO;

void		_PG_init(void);

/*
 * Refuse a path this CPU (or OS) cannot run.  Unknown names never get
 * here: the enum GUC rejects them and lists the valid ones.
 */
static bool
check_kernel(int *newval, void **extra, GucSource source)
{
	if (*newval == KERNEL_AUTO || distance_isa_supported((KernelIsa) *newval))
		return true;

	GUC_check_errmsg("distance kernel \"%s\" is not supported on this machine",
					 *newval == KERNEL_ISA_AVX2 ? "avx2" : "avx512");
	GUC_check_errdetail("The CPU or the operating system lacks the instruction set.");
	GUC_check_errhint("Use \"auto\" to pick the best path this machine supports.");
	return false;
}

/*
 * Switch the kernels' dispatch table.  The check hook has vouched for the
 * value, so a refusal here would be a bug.
 */
static void
assign_kernel(int newval, void *extra)
{
	const char *name;

	switch (newval)
	{
		case KERNEL_ISA_SCALAR:
			name = "scalar";
			break;
		case KERNEL_ISA_AVX2:
			name = "avx2";
			break;
		case KERNEL_ISA_AVX512:
			name = "avx512";
			break;
		default:

			/*
			 * "auto" keeps the kernels' own rule, which honours
			 * LANCEDB_KERNEL; a name it cannot use falls back to the widest
			 * path.
			 */
			if (distance_kernels_select(getenv("LANCEDB_KERNEL")))
				return;
			name = "auto";
			break;
	}

	/* an assign hook must not fail, so only note the impossible case */
	if (!distance_kernels_select(name))
		elog(WARNING, "distance kernel \"%s\" could not be selected", name);
}

/*
 * Define the extension's GUCs.
 */
void
_PG_init(void)
{
	DefineCustomEnumVariable("lancedb.kernel",
							 "Selects the instruction set the distance kernels use.",
							 "\"auto\" picks the widest one this machine supports.",
							 &lancedb_kernel,
							 KERNEL_AUTO,
							 kernel_options,
							 PGC_USERSET,
							 0,
							 check_kernel,
							 assign_kernel,
							 NULL);
	hnsw_init_gucs();
	IvfpqInit();
	Bm25Init();
	lance_search_init_gucs();
	lance_search_index_init_gucs();
	lance_copy_init();

	/*
	 * Last: this drops any placeholder under lancedb. not defined above, so
	 * a GUC defined after it would lose a value SET before the library
	 * loaded.
	 */
	MarkGUCPrefixReserved("lancedb");
}

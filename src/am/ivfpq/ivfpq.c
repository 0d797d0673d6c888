/*-------------------------------------------------------------------------
 *
 * ivfpq.c
 *	  lance_ivfpq: handler, reloptions, GUCs and cost estimate.
 *
 * The options and their defaults are LanceDB's IVF_PQ ones: lists
 * (num_partitions, about sqrt(rows)), num_sub_vectors (dim / 16, or dim / 8
 * when 16 does not divide dim), num_bits (8), sample_rate (256 training rows
 * per centroid) and max_iterations (50).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/amapi.h"
#include "access/genam.h"
#include "access/reloptions.h"
#include "am/ivfpq/ivfpq.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "kernels/kmeans.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"

int			ivfpq_nprobes = 20;
int			ivfpq_refine_factor = 1;

static relopt_kind ivfpq_relopt_kind;

/*
 * Define the reloptions and GUCs; called once from _PG_init.
 */
void
IvfpqInit(void)
{
	/*
	 * A backend is one of many processes sharing the CPUs; OpenBLAS's
	 * default of a thread per core in each of them oversubscribes the
	 * machine, and its threads spin while they wait.  On a loaded 2-core
	 * machine one thread built a 100k x 128 index in 3.5 s instead of 10.5 s.
	 * A build spreads its arithmetic over threads of its own, as many as
	 * its parallel-maintenance budget allows (ivfpq_build.c).
	 */
	kmeans_blas_threads(1);

	ivfpq_relopt_kind = add_reloption_kind();
	add_int_reloption(ivfpq_relopt_kind, "lists",
					  "Number of inverted lists (0: about the square root of the row count)",
					  0, 0, IVFPQ_MAX_LISTS, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "num_sub_vectors",
					  "Number of PQ sub-vectors (0: dim / 16, or dim / 8 when 16 does not divide dim)",
					  0, 0, 16000, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "num_bits",
					  "Bits per PQ sub-vector code",
					  PQ_NBITS, 1, 16, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "sample_rate",
					  "Training rows sampled per centroid",
					  IVFPQ_DEFAULT_SAMPLE_RATE, 2, 65536, AccessExclusiveLock);
	add_int_reloption(ivfpq_relopt_kind, "max_iterations",
					  "Maximum k-means passes",
					  IVFPQ_DEFAULT_MAX_ITERATIONS, 1, 1000, AccessExclusiveLock);

	DefineCustomIntVariable("lancedb.ivfpq_nprobes",
							"Sets the number of lists a lance_ivfpq scan probes first.",
							"More lists raise recall and cost time; a scan moves on to further lists "
							"only when the first ones run out of rows.",
							&ivfpq_nprobes, 20, 1, IVFPQ_MAX_LISTS,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lancedb.ivfpq_refine_factor",
							"Sets how many candidates a lance_ivfpq scan re-ranks with exact distances.",
							"Each batch re-ranks 10 times this many candidates chosen by PQ distance.",
							&ivfpq_refine_factor, 1, 1, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
}

/*
 * Parse and validate reloptions.
 */
static bytea *
ivfpqoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"lists", RELOPT_TYPE_INT, offsetof(IvfpqOptions, lists)},
		{"num_sub_vectors", RELOPT_TYPE_INT, offsetof(IvfpqOptions, num_sub_vectors)},
		{"num_bits", RELOPT_TYPE_INT, offsetof(IvfpqOptions, num_bits)},
		{"sample_rate", RELOPT_TYPE_INT, offsetof(IvfpqOptions, sample_rate)},
		{"max_iterations", RELOPT_TYPE_INT, offsetof(IvfpqOptions, max_iterations)},
	};

	return (bytea *) build_reloptions(reloptions, validate, ivfpq_relopt_kind,
									  sizeof(IvfpqOptions), tab, lengthof(tab));
}

/*
 * Name the build phases for pg_stat_progress_create_index.
 */
static char *
ivfpqbuildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case PROGRESS_IVFPQ_PHASE_SAMPLE:
			return "sampling rows";
		case PROGRESS_IVFPQ_PHASE_KMEANS:
			return "performing k-means";
		case PROGRESS_IVFPQ_PHASE_ASSIGN:
			return "assigning and encoding rows";
		case PROGRESS_IVFPQ_PHASE_LOAD:
			return "loading lists";
		default:
			return NULL;
	}
}

/*
 * Estimate the cost of a scan: the probed share of the index, all of it paid
 * before the first row (the lists are ranked before anything is returned).
 * Without ORDER BY the index is useless, so it is priced out.
 */
static void
ivfpqcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				  Cost *indexStartupCost, Cost *indexTotalCost,
				  Selectivity *indexSelectivity, double *indexCorrelation,
				  double *indexPages)
{
	GenericCosts costs;
	double		lists;
	double		ratio;
	double		seq_page_cost;
	Relation	index;

	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = get_float8_infinity();
		*indexTotalCost = get_float8_infinity();
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	MemSet(&costs, 0, sizeof(costs));
	genericcostestimate(root, path, loop_count, &costs);

	index = index_open(path->indexinfo->indexoid, NoLock);
	lists = IvfpqGetCache(index)->meta.lists;
	index_close(index, NoLock);
	ratio = Min(1.0, ivfpq_nprobes / lists);

	/* entry pages are read in list order, mostly sequentially */
	get_tablespace_page_costs(path->indexinfo->reltablespace, NULL, &seq_page_cost);
	costs.indexTotalCost -= costs.numIndexPages *
		(costs.spc_random_page_cost - seq_page_cost);

	*indexStartupCost = costs.indexTotalCost * ratio;
	*indexTotalCost = costs.indexTotalCost * ratio;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}

/*
 * Accept any opclass; the build checks the distance function it names.
 */
static bool
ivfpqvalidate(Oid opclassoid)
{
	return true;
}

PG_FUNCTION_INFO_V1(lance_ivfpq_handler);

/*
 * Return the access method's callbacks and properties.
 */
Datum
lance_ivfpq_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 0;
	am->amsupport = 1;
	am->amoptsprocnum = 0;
	am->amcanorder = false;
	am->amcanorderbyop = true;
	am->amcanbackward = false;
	am->amcanunique = false;
	am->amcanmulticol = false;
	am->amoptionalkey = true;
	am->amsearcharray = false;
	am->amsearchnulls = false;
	am->amstorage = false;
	am->amclusterable = false;
	am->ampredlocks = false;
	am->amcanparallel = false;
	am->amcaninclude = false;
	am->amusemaintenanceworkmem = false;
	am->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	am->amkeytype = InvalidOid;

	am->ambuild = ivfpqbuild;
	am->ambuildempty = ivfpqbuildempty;
	am->aminsert = ivfpqinsert;
	am->ambulkdelete = ivfpqbulkdelete;
	am->amvacuumcleanup = ivfpqvacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = ivfpqcostestimate;
	am->amoptions = ivfpqoptions;
	am->amproperty = NULL;
	am->ambuildphasename = ivfpqbuildphasename;
	am->amvalidate = ivfpqvalidate;
	am->amadjustmembers = NULL;
	am->ambeginscan = ivfpqbeginscan;
	am->amrescan = ivfpqrescan;
	am->amgettuple = ivfpqgettuple;
	am->amgetbitmap = NULL;
	am->amendscan = ivfpqendscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}

/*-------------------------------------------------------------------------
 *
 * hnsw.c
 *	  lance_hnsw: the access method handler, options, GUCs, cost estimate
 *	  and opclass validation.
 *
 * An opclass tells the index its metric through support function 1, a
 * function of no real argument that returns the metric's code: the index
 * then computes distances with the SIMD kernels directly instead of
 * calling the SQL distance function through fmgr for every pair.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/amvalidate.h"
#include "access/htup_details.h"
#include "am/hnsw/hnsw.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_opclass.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/selfuncs.h"
#include "utils/spccache.h"
#include "utils/syscache.h"

int			hnsw_ef_search = HNSW_DEFAULT_EF_SEARCH;
int			hnsw_max_scan_tuples = HNSW_DEFAULT_MAX_SCAN_TUPLES;

static relopt_kind hnsw_relopt_kind;

PG_FUNCTION_INFO_V1(lance_hnsw_handler);
PG_FUNCTION_INFO_V1(lance_hnsw_l2_metric);
PG_FUNCTION_INFO_V1(lance_hnsw_ip_metric);
PG_FUNCTION_INFO_V1(lance_hnsw_cosine_metric);
PG_FUNCTION_INFO_V1(lance_hnsw_l1_metric);

/* support function 1 of each opclass: the metric's code */
Datum
lance_hnsw_l2_metric(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(HNSW_METRIC_L2);
}

Datum
lance_hnsw_ip_metric(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(HNSW_METRIC_IP);
}

Datum
lance_hnsw_cosine_metric(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(HNSW_METRIC_COSINE);
}

Datum
lance_hnsw_l1_metric(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32(HNSW_METRIC_L1);
}

/* The metric of an index's opclass, from its support function. */
HnswMetric
HnswGetMetric(Relation index)
{
	FmgrInfo   *proc = index_getprocinfo(index, 1, HNSW_METRIC_PROC);
	int32		metric = DatumGetInt32(FunctionCall1(proc, (Datum) 0));

	if (metric < HNSW_METRIC_L2 || metric > HNSW_METRIC_L1)
		elog(ERROR, "support function of index \"%s\" returned unknown metric %d",
			 RelationGetRelationName(index), metric);
	return (HnswMetric) metric;
}

/*
 * Register the reloptions and GUCs; called from _PG_init.
 */
void
hnsw_init_gucs(void)
{
	hnsw_relopt_kind = add_reloption_kind();
	add_int_reloption(hnsw_relopt_kind, "m",
					  "Maximum number of links per element and level (twice that on level 0)",
					  HNSW_DEFAULT_M, HNSW_MIN_M, HNSW_MAX_M, AccessExclusiveLock);
	add_int_reloption(hnsw_relopt_kind, "ef_construction",
					  "Size of the candidate list while building the graph",
					  HNSW_DEFAULT_EF_CONSTRUCTION, HNSW_MIN_EF_CONSTRUCTION,
					  HNSW_MAX_EF_CONSTRUCTION, AccessExclusiveLock);

	DefineCustomIntVariable("lancedb.hnsw_ef_search",
							"Size of the candidate list of lance_hnsw scans.",
							"Larger values raise recall and cost time.",
							&hnsw_ef_search,
							HNSW_DEFAULT_EF_SEARCH, 1, HNSW_MAX_EF_SEARCH,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lancedb.hnsw_max_scan_tuples",
							"Elements a lance_hnsw scan may visit once past its first ef_search rows.",
							"Bounds the work of filtered queries whose filter rejects most rows.",
							&hnsw_max_scan_tuples,
							HNSW_DEFAULT_MAX_SCAN_TUPLES, 1, INT_MAX,
							PGC_USERSET, 0, NULL, NULL, NULL);
	/* for tests: 0 sends every forced link through the exclusive path */
	DefineCustomIntVariable("lancedb.hnsw_debug_forced_link_tries",
							"Tries a forced lance_hnsw link gets before inserts are held off (developer option).",
							NULL,
							&hnsw_debug_forced_link_tries,
							hnsw_debug_forced_link_tries, 0, INT_MAX,
							PGC_SUSET, GUC_NOT_IN_SAMPLE, NULL, NULL, NULL);
}

/* amoptions */
bytea *
hnswoptions(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"m", RELOPT_TYPE_INT, offsetof(HnswOptions, m)},
		{"ef_construction", RELOPT_TYPE_INT, offsetof(HnswOptions, efConstruction)},
	};

	return (bytea *) build_reloptions(reloptions, validate, hnsw_relopt_kind,
									  sizeof(HnswOptions), tab, lengthof(tab));
}

/*
 * amcostestimate.  Without an ORDER BY the index is useless, so its cost is
 * infinite.  With one, a scan visits about ef_search elements on level 0,
 * expanding each into up to 2m links of which roughly half are new, plus m
 * per upper level: that fraction of the index's pages and tuples is the
 * startup cost, and LIMIT k takes little more.
 */
static void
hnswcostestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				 Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation,
				 double *indexPages)
{
	GenericCosts costs;
	double		tuples = path->indexinfo->tuples;
	double		ratio = 1.0;
	int			m;

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

	{
		Relation	index = index_open(path->indexinfo->indexoid, NoLock);

		m = HnswOptionM(index);
		index_close(index, NoLock);
	}
	if (tuples > 1)
	{
		double		levels = log(tuples) / log((double) m);
		double		visited = levels * m + (double) hnsw_ef_search * m;

		ratio = Min(1.0, visited / tuples);
	}

	*indexStartupCost = costs.indexTotalCost * ratio;
	*indexTotalCost = costs.indexTotalCost;
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = costs.numIndexPages;
}

/*
 * amvalidate: every member is support function 1 of signature
 * (internal) -> internal, or an ordering operator on vectors of strategy
 * 1 sorted by float8.
 */
static bool
hnswvalidate(Oid opclassoid)
{
	bool		result = true;
	HeapTuple	classtup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	Form_pg_opclass classform;
	char	   *opclassname;
	CatCList   *proclist;
	CatCList   *oprlist;
	int			nproc = 0;

	if (!HeapTupleIsValid(classtup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	classform = (Form_pg_opclass) GETSTRUCT(classtup);
	opclassname = NameStr(classform->opcname);

	proclist = SearchSysCacheList1(AMPROCNUM, ObjectIdGetDatum(classform->opcfamily));
	for (int i = 0; i < proclist->n_members; i++)
	{
		Form_pg_amproc procform = (Form_pg_amproc) GETSTRUCT(&proclist->members[i]->tuple);

		if (procform->amprocnum != HNSW_METRIC_PROC ||
			!check_amproc_signature(procform->amproc, INTERNALOID, true, 1, 1, INTERNALOID))
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("lance_hnsw operator class \"%s\" has invalid support function %s with number %d",
							opclassname, format_procedure(procform->amproc),
							procform->amprocnum)));
			result = false;
		}
		else
			nproc++;
	}
	ReleaseSysCacheList(proclist);

	oprlist = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(classform->opcfamily));
	for (int i = 0; i < oprlist->n_members; i++)
	{
		Form_pg_amop oprform = (Form_pg_amop) GETSTRUCT(&oprlist->members[i]->tuple);

		if (oprform->amopstrategy != 1 || oprform->amoppurpose != AMOP_ORDER ||
			oprform->amopsortfamily == InvalidOid)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("lance_hnsw operator class \"%s\" has invalid operator %s: only ordering operators of strategy 1 are supported",
							opclassname, format_operator(oprform->amopopr))));
			result = false;
		}
	}
	ReleaseSysCacheList(oprlist);

	if (nproc != 1)
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("lance_hnsw operator class \"%s\" needs exactly one support function 1",
						opclassname)));
		result = false;
	}
	ReleaseSysCache(classtup);
	return result;
}

/* The handler: what lance_hnsw can do and its callbacks. */
Datum
lance_hnsw_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *amroutine = makeNode(IndexAmRoutine);

	amroutine->amstrategies = 0;
	amroutine->amsupport = HNSW_NPROC;
	amroutine->amoptsprocnum = 0;
	amroutine->amcanorder = false;
	amroutine->amcanorderbyop = true;
	amroutine->amcanbackward = false;
	amroutine->amcanunique = false;
	amroutine->amcanmulticol = false;
	amroutine->amoptionalkey = true;
	amroutine->amsearcharray = false;
	amroutine->amsearchnulls = false;
	amroutine->amstorage = false;
	amroutine->amclusterable = false;
	amroutine->ampredlocks = false;
	amroutine->amcanparallel = false;
	amroutine->amcaninclude = false;
	amroutine->amusemaintenanceworkmem = false;
	amroutine->amparallelvacuumoptions = VACUUM_OPTION_PARALLEL_BULKDEL;
	amroutine->amkeytype = InvalidOid;

	amroutine->ambuild = hnswbuild;
	amroutine->ambuildempty = hnswbuildempty;
	amroutine->aminsert = hnswinsert;
	amroutine->ambulkdelete = hnswbulkdelete;
	amroutine->amvacuumcleanup = hnswvacuumcleanup;
	amroutine->amcanreturn = NULL;
	amroutine->amcostestimate = hnswcostestimate;
	amroutine->amoptions = hnswoptions;
	amroutine->amproperty = NULL;
	amroutine->ambuildphasename = hnswbuildphasename;
	amroutine->amvalidate = hnswvalidate;
	amroutine->amadjustmembers = NULL;
	amroutine->ambeginscan = hnswbeginscan;
	amroutine->amrescan = hnswrescan;
	amroutine->amgettuple = hnswgettuple;
	amroutine->amgetbitmap = NULL;
	amroutine->amendscan = hnswendscan;
	amroutine->ammarkpos = NULL;
	amroutine->amrestrpos = NULL;
	amroutine->amestimateparallelscan = NULL;
	amroutine->aminitparallelscan = NULL;
	amroutine->amparallelrescan = NULL;

	PG_RETURN_POINTER(amroutine);
}

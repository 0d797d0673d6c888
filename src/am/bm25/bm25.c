/*-------------------------------------------------------------------------
 *
 * bm25.c
 *	  The lance_bm25 handler: reloptions, cost estimate, validation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/reloptions.h"
#include "am/bm25/bm25.h"
#include "catalog/pg_amop.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_type.h"
#include "commands/progress.h"
#include "commands/vacuum.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "utils/float.h"
#include "utils/syscache.h"
#include "utils/catcache.h"
#include "utils/selfuncs.h"

static relopt_kind bm25_relopt_kind;

void
Bm25Init(void)
{
	bm25_relopt_kind = add_reloption_kind();
	add_string_reloption(bm25_relopt_kind, "text_config",
						 "Text search configuration that tokenizes, or \"simple\" for the built-in tokenizer",
						 "simple", NULL, AccessExclusiveLock);
	add_real_reloption(bm25_relopt_kind, "k1", "BM25 term frequency saturation",
					   1.2, 0.0, 100.0, AccessExclusiveLock);
	add_real_reloption(bm25_relopt_kind, "b", "BM25 document length normalization",
					   0.75, 0.0, 1.0, AccessExclusiveLock);
	add_bool_reloption(bm25_relopt_kind, "positions", "Store term positions for phrase queries",
					   true, AccessExclusiveLock);
	Bm25InitScores();
}

static bytea *
bm25options(Datum reloptions, bool validate)
{
	static const relopt_parse_elt tab[] = {
		{"text_config", RELOPT_TYPE_STRING, offsetof(Bm25Options, text_config)},
		{"k1", RELOPT_TYPE_REAL, offsetof(Bm25Options, k1)},
		{"b", RELOPT_TYPE_REAL, offsetof(Bm25Options, b)},
		{"positions", RELOPT_TYPE_BOOL, offsetof(Bm25Options, positions)},
	};

	return (bytea *) build_reloptions(reloptions, validate, bm25_relopt_kind,
									  sizeof(Bm25Options), tab, lengthof(tab));
}

double
Bm25GetK1(Relation index)
{
	Bm25Options *opts = (Bm25Options *) index->rd_options;

	return opts ? opts->k1 : 1.2;
}

double
Bm25GetB(Relation index)
{
	Bm25Options *opts = (Bm25Options *) index->rd_options;

	return opts ? opts->b : 0.75;
}

/* Is the indexed column text[] (rather than text)? */
bool
Bm25IndexIsArray(Relation index)
{
	return TupleDescAttr(RelationGetDescr(index), 0)->atttypid == TEXTARRAYOID;
}

/* Turn a core failure into an error report naming the index. */
void
Bm25ReportCore(CoreError *err, const char *what, Relation index)
{
	int			code;

	switch (err->status)
	{
		case CORE_ERR_NOMEM:
			code = ERRCODE_OUT_OF_MEMORY;
			break;
		case CORE_ERR_CORRUPT:
			code = ERRCODE_INDEX_CORRUPTED;
			break;
		case CORE_ERR_CANCELED:
			code = ERRCODE_QUERY_CANCELED;
			break;
		case CORE_ERR_INVALID:
			code = ERRCODE_SYNTAX_ERROR;
			break;
		case CORE_ERR_UNSUPPORTED:
			code = ERRCODE_FEATURE_NOT_SUPPORTED;
			break;
		default:
			code = ERRCODE_INTERNAL_ERROR;
			break;
	}
	if (index)
		ereport(ERROR,
				(errcode(code),
				 errmsg("lance_bm25 index \"%s\": %s: %s",
						RelationGetRelationName(index), what, err->msg)));
	ereport(ERROR, (errcode(code), errmsg("%s: %s", what, err->msg)));
}

/*
 * All the work of a lance_bm25 scan happens before its first tuple and
 * touches a fraction of the index, so it is costed as a small startup cost.
 * A scan with neither ORDER BY nor a match clause cannot be done.
 */
static void
bm25costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
				 Cost *indexStartupCost, Cost *indexTotalCost,
				 Selectivity *indexSelectivity, double *indexCorrelation,
				 double *indexPages)
{
	GenericCosts costs;

	if (path->indexorderbys == NIL && path->indexclauses == NIL)
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
	*indexSelectivity = costs.indexSelectivity;
	*indexCorrelation = 0;
	*indexPages = Min(costs.numIndexPages, 64);
	/* the posting blocks a query reads are few, whatever the index size */
	*indexStartupCost = costs.indexStartupCost + *indexPages * 0.01 * random_page_cost;
	*indexTotalCost = *indexStartupCost + costs.numIndexTuples * cpu_index_tuple_cost;
}

/*
 * An operator class of lance_bm25 needs strategy 1 (@@@, a search
 * operator) and strategy 2 (<@>, an ordering operator), both taking the
 * class's input type and text, and nothing else.
 */
static bool
bm25validate(Oid opclassoid)
{
	HeapTuple	tup = SearchSysCache1(CLAOID, ObjectIdGetDatum(opclassoid));
	Form_pg_opclass cls;
	CatCList   *oprs;
	bool		seen[3] = {false, false, false};
	bool		ok = true;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for operator class %u", opclassoid);
	cls = (Form_pg_opclass) GETSTRUCT(tup);
	oprs = SearchSysCacheList1(AMOPSTRATEGY, ObjectIdGetDatum(cls->opcfamily));
	for (int i = 0; i < oprs->n_members; i++)
	{
		Form_pg_amop op = (Form_pg_amop) GETSTRUCT(&oprs->members[i]->tuple);
		bool		ordering = op->amoppurpose == AMOP_ORDER;

		if (op->amopstrategy < 1 || op->amopstrategy > 2 ||
			ordering != (op->amopstrategy == 2) ||
			op->amoprighttype != TEXTOID)
		{
			ereport(INFO,
					(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
					 errmsg("lance_bm25 operator family %u has an invalid operator with strategy %d",
							cls->opcfamily, op->amopstrategy)));
			ok = false;
			continue;
		}
		if (op->amoplefttype == cls->opcintype)
			seen[op->amopstrategy] = true;
	}
	if (!seen[1] || !seen[2])
	{
		ereport(INFO,
				(errcode(ERRCODE_INVALID_OBJECT_DEFINITION),
				 errmsg("lance_bm25 operator class \"%s\" lacks @@@ (strategy 1) or <@> (strategy 2)",
						NameStr(cls->opcname))));
		ok = false;
	}
	ReleaseCatCacheList(oprs);
	ReleaseSysCache(tup);
	return ok;
}

static char *
bm25buildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case 2:
			return "inverting documents";
		case 3:
			return "merging segments";
		default:
			return NULL;
	}
}

PG_FUNCTION_INFO_V1(lance_bm25_handler);
Datum
lance_bm25_handler(PG_FUNCTION_ARGS)
{
	IndexAmRoutine *am = makeNode(IndexAmRoutine);

	am->amstrategies = 2;
	am->amsupport = 0;
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

	am->ambuild = bm25build;
	am->ambuildempty = bm25buildempty;
	am->aminsert = bm25insert;
	am->ambulkdelete = bm25bulkdelete;
	am->amvacuumcleanup = bm25vacuumcleanup;
	am->amcanreturn = NULL;
	am->amcostestimate = bm25costestimate;
	am->amoptions = bm25options;
	am->amproperty = NULL;
	am->ambuildphasename = bm25buildphasename;
	am->amvalidate = bm25validate;
	am->amadjustmembers = NULL;
	am->ambeginscan = bm25beginscan;
	am->amrescan = bm25rescan;
	am->amgettuple = bm25gettuple;
	am->amgetbitmap = bm25getbitmap;
	am->amendscan = bm25endscan;
	am->ammarkpos = NULL;
	am->amrestrpos = NULL;
	am->amestimateparallelscan = NULL;
	am->aminitparallelscan = NULL;
	am->amparallelrescan = NULL;

	PG_RETURN_POINTER(am);
}

typedef struct TrackedObject
{
	MemoryContextCallback cb;
	void		(*fn) (void *);
	void	   *obj;
} TrackedObject;

static void
FreeTracked(void *arg)
{
	TrackedObject *t = arg;

	t->fn(t->obj);
}

/*
 * Free a core object (malloc'd, outside any memory context) when cxt is
 * reset or deleted, so an ERROR or a cancel between here and the end of the
 * query does not leak it.  Tracked objects are freed only that way.
 */
void
Bm25Track(MemoryContext cxt, void (*fn) (void *), void *obj)
{
	TrackedObject *t = MemoryContextAlloc(cxt, sizeof(TrackedObject));

	t->fn = fn;
	t->obj = obj;
	t->cb.func = FreeTracked;
	t->cb.arg = t;
	MemoryContextRegisterResetCallback(cxt, &t->cb);
}

/*
 * Core cancel hook, polled between units of work.  A pending interrupt is
 * served right here: a cancel or termination leaves by ERROR (the core's
 * scratch memory of that one call is lost with it), anything else (a
 * barrier, a log request) returns and the work goes on.
 */
int
Bm25CancelRequested(void *arg)
{
	CHECK_FOR_INTERRUPTS();
	return 0;
}

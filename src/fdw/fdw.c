/*-------------------------------------------------------------------------
 *
 * fdw.c
 *	  The lancedb_fdw handler and its planning callbacks.
 *
 * A Lance dataset's manifest knows exactly how many rows each version has
 * (physical rows minus deletions), so planning reads the manifest once: it
 * gives the planner exact row counts and lets `SELECT count(*)` without
 * quals be answered from it alone, as an aggregate pushed into a foreign
 * scan (the same upper-relation mechanism postgres_fdw uses).
 *
 * Simple quals on scalar columns (=, <, >, <=, >=, <>, IN, IS [NOT] NULL
 * against constants or parameters) are pushed into the scan: the scan
 * decodes the columns they use, evaluates them first, and converts the
 * other columns only for the rows that pass.  They are evaluated with
 * Postgres' own operators, so collations and NaN ordering are Postgres'.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "catalog/pg_aggregate.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/tlist.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/fmgroids.h"

#include "fdw/fdw_search.h"
#include "fdw/lance_fdw.h"
#include "fdw/lance_write.h"

/* What the planner learns about a foreign table (baserel->fdw_private). */
typedef struct LanceRelInfo
{
	LanceTableOptions *opts;
	uint64		version;		/* the version read, resolved if 0 */
	int			num_fragments;
	double		live_rows;
	Bitmapset  *attrs_used;		/* columns the query needs, offset by FirstLowInvalid... */
	List	   *pushed_quals;	/* RestrictInfos evaluated in the scan */
	List	   *local_quals;	/* RestrictInfos left to the executor */
} LanceRelInfo;

PG_FUNCTION_INFO_V1(lancedb_fdw_handler);

/* ---------------------------------------------------------------------
 * Which quals go into the scan
 * ---------------------------------------------------------------------
 */

/* Whether expr is a plain column of this relation with a scalar type. */
static bool
is_scalar_column(Expr *expr, RelOptInfo *baserel)
{
	Var		   *var;

	if (IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	if (!IsA(expr, Var))
		return false;
	var = (Var *) expr;
	if (var->varno != baserel->relid || var->varlevelsup != 0 || var->varattno <= 0)
		return false;
	/* arrays, jsonb and vectors are not "simple" */
	return !type_is_array(var->vartype) && var->vartype != JSONBOID &&
		get_typtype(var->vartype) == TYPTYPE_BASE &&
		var->vartype == getBaseType(var->vartype) &&
		(var->vartype < FirstNormalObjectId);
}

static bool
is_const_or_param(Expr *expr)
{
	if (IsA(expr, RelabelType))
		expr = ((RelabelType *) expr)->arg;
	return IsA(expr, Const) ||
		(IsA(expr, Param) && ((Param *) expr)->paramkind == PARAM_EXTERN);
}

/* A built-in comparison operator: =, <>, <, <=, >, >=. */
static bool
is_simple_comparison(Oid opno)
{
	char	   *name;
	bool		ok;

	if (opno >= FirstNormalObjectId)
		return false;
	name = get_opname(opno);
	ok = name != NULL &&
		(strcmp(name, "=") == 0 || strcmp(name, "<>") == 0 ||
		 strcmp(name, "<") == 0 || strcmp(name, "<=") == 0 ||
		 strcmp(name, ">") == 0 || strcmp(name, ">=") == 0);
	return ok && func_volatile(get_opcode(opno)) == PROVOLATILE_IMMUTABLE;
}

/* Whether one qual is simple enough to evaluate inside the scan. */
static bool
is_pushable_qual(Expr *clause, RelOptInfo *baserel)
{
	if (IsA(clause, OpExpr))
	{
		OpExpr	   *op = (OpExpr *) clause;
		Expr	   *l,
				   *r;

		if (list_length(op->args) != 2 || !is_simple_comparison(op->opno))
			return false;
		l = linitial(op->args);
		r = lsecond(op->args);
		return (is_scalar_column(l, baserel) && is_const_or_param(r)) ||
			(is_scalar_column(r, baserel) && is_const_or_param(l));
	}
	if (IsA(clause, ScalarArrayOpExpr))
	{
		ScalarArrayOpExpr *sa = (ScalarArrayOpExpr *) clause;

		return sa->useOr && is_simple_comparison(sa->opno) &&
			is_scalar_column(linitial(sa->args), baserel) &&
			is_const_or_param(lsecond(sa->args));
	}
	if (IsA(clause, NullTest))
	{
		NullTest   *nt = (NullTest *) clause;

		return !nt->argisrow && IsA(nt->arg, Var) &&
			((Var *) nt->arg)->varno == baserel->relid &&
			((Var *) nt->arg)->varattno > 0;
	}
	return false;
}

/* ---------------------------------------------------------------------
 * Planning callbacks
 * ---------------------------------------------------------------------
 */

/* Read the manifest once and keep only the numbers planning needs. */
static void
read_manifest_summary(LanceRelInfo *info)
{
	MemoryContext tmp = AllocSetContextCreate(CurrentMemoryContext,
											  "lancedb_fdw planning",
											  ALLOCSET_SMALL_SIZES);
	MemoryContext old = MemoryContextSwitchTo(tmp);
	LanceSource *src = lance_source_open(info->opts->location, info->opts->version,
										   info->opts->storage_options);

	info->version = lance_source_version(src);
	info->num_fragments = lance_source_manifest(src)->num_fragments;
	info->live_rows = (double) lance_source_live_rows(src);
	MemoryContextSwitchTo(old);
	MemoryContextDelete(tmp);
}

/*
 * lanceGetForeignRelSize
 *		Exact row count from the manifest, scaled by the quals' selectivity.
 */
static void
lanceGetForeignRelSize(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	LanceRelInfo *info = palloc0(sizeof(LanceRelInfo));
	ListCell   *lc;

	info->opts = lance_get_table_options(foreigntableid);
	info->opts->storage_options = lance_planner_storage_options(root, baserel, foreigntableid);
	read_manifest_summary(info);

	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (is_pushable_qual(ri->clause, baserel))
			info->pushed_quals = lappend(info->pushed_quals, ri);
		else
			info->local_quals = lappend(info->local_quals, ri);
	}

	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &info->attrs_used);
	foreach(lc, baserel->baserestrictinfo)
		pull_varattnos((Node *) lfirst_node(RestrictInfo, lc)->clause, baserel->relid,
					   &info->attrs_used);

	baserel->tuples = info->live_rows;
	baserel->rows = clamp_row_est(info->live_rows *
								  clauselist_selectivity(root, baserel->baserestrictinfo,
														 0, JOIN_INNER, NULL));
	baserel->fdw_private = info;
}

/* Columns the scan decodes, for costing. */
static int
count_columns(const Bitmapset *attrs_used)
{
	int			n = 0;
	int			x = -1;

	while ((x = bms_next_member(attrs_used, x)) >= 0)
	{
		if (x + FirstLowInvalidHeapAttributeNumber > 0)
			n++;
	}
	return n;
}

/*
 * lanceGetForeignPaths
 *		One path: a columnar scan whose cost grows with rows and columns read.
 */
static void
lanceGetForeignPaths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	LanceRelInfo *info = baserel->fdw_private;
	int			ncols = Max(count_columns(info->attrs_used), 1);
	Cost		startup = 10 * seq_page_cost;
	Cost		run;

	/* decoding ~8 bytes per value, then forming the rows that pass */
	run = seq_page_cost * (info->live_rows * ncols * 8.0 / BLCKSZ) +
		cpu_operator_cost * info->live_rows * list_length(info->pushed_quals) +
		cpu_tuple_cost * baserel->rows;

	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup, startup + run, NIL,
									 NULL, NULL, NIL));
	lance_search_add_paths(root, baserel, info->pushed_quals, info->local_quals,
						   info->live_rows);
}

/*
 * lanceGetForeignPlan
 *		Hand the executor the dataset, the columns and the pushed quals.
 */
static ForeignScan *
lanceGetForeignPlan(PlannerInfo *root, RelOptInfo *foreignrel, Oid foreigntableid,
					ForeignPath *best_path, List *tlist, List *scan_clauses,
					Plan *outer_plan)
{
	LanceRelInfo *info;
	List	   *local_exprs = NIL;
	List	   *pushed_exprs = NIL;
	List	   *attnums = NIL;
	List	   *fdw_private;
	ListCell   *lc;
	int			x = -1;

	/* count(*) pushed down: a scan of the upper relation */
	if (IS_UPPER_REL(foreignrel))
		return lance_make_count_plan(root, foreignrel, best_path, tlist);

	info = foreignrel->fdw_private;
	foreach(lc, scan_clauses)
	{
		RestrictInfo *ri = lfirst_node(RestrictInfo, lc);

		if (ri->pseudoconstant)
			continue;
		if (list_member_ptr(info->pushed_quals, ri))
			pushed_exprs = lappend(pushed_exprs, ri->clause);
		else
			local_exprs = lappend(local_exprs, ri->clause);
	}

	while ((x = bms_next_member(info->attrs_used, x)) >= 0)
	{
		AttrNumber	attno = x + FirstLowInvalidHeapAttributeNumber;

		/* a whole-row reference needs every column */
		if (attno == 0)
		{
			Relation	rel = RelationIdGetRelation(foreigntableid);

			attnums = NIL;
			for (int i = 1; i <= RelationGetNumberOfAttributes(rel); i++)
			{
				if (!TupleDescAttr(RelationGetDescr(rel), i - 1)->attisdropped)
					attnums = lappend_int(attnums, i);
			}
			RelationClose(rel);
			break;
		}
		if (attno > 0)
			attnums = lappend_int(attnums, attno);
	}

	/* a search path (fdw_search.c) carries its own entries for the plan */
	fdw_private = lance_scan_private(info->opts, info->version, info->num_fragments,
									 attnums, best_path->fdw_private != NIL
									 ? LANCE_SCAN_SEARCH : LANCE_SCAN_ROWS);
	fdw_private = list_concat(fdw_private, best_path->fdw_private);
	return make_foreignscan(tlist, local_exprs, foreignrel->relid,
							pushed_exprs, fdw_private, NIL, NIL, outer_plan);
}

/* ---------------------------------------------------------------------
 * count(*) from the manifest
 * ---------------------------------------------------------------------
 */

/* Whether a target-list entry is count(*) with nothing attached. */
static bool
is_plain_count_star(Expr *expr)
{
	Aggref	   *agg;

	if (!IsA(expr, Aggref))
		return false;
	agg = (Aggref *) expr;
	return agg->aggfnoid == F_COUNT_ && agg->aggstar && agg->aggfilter == NULL &&
		agg->aggdistinct == NIL && agg->aggorder == NIL &&
		agg->aggkind == AGGKIND_NORMAL && agg->agglevelsup == 0 &&
		agg->aggsplit == AGGSPLIT_SIMPLE;
}

/*
 * lanceGetForeignUpperPaths
 *		Offer `SELECT count(*) FROM t` (no quals, no grouping) as a scan that
 *		returns the manifest's row count without reading data.
 */
static void
lanceGetForeignUpperPaths(PlannerInfo *root, UpperRelationKind stage,
						  RelOptInfo *input_rel, RelOptInfo *output_rel, void *extra)
{
	Query	   *parse = root->parse;
	LanceRelInfo *info;
	PathTarget *target;
	ListCell   *lc;
	ForeignPath *path;

	if (stage != UPPERREL_GROUP_AGG || input_rel->reloptkind != RELOPT_BASEREL ||
		output_rel->fdw_private != NULL)
		return;
	info = input_rel->fdw_private;
	if (info == NULL || input_rel->baserestrictinfo != NIL ||
		parse->groupClause != NIL || parse->groupingSets != NIL ||
		parse->havingQual != NULL || !parse->hasAggs || parse->hasWindowFuncs)
		return;

	target = root->upper_targets[UPPERREL_GROUP_AGG];
	if (target->exprs == NIL)
		return;
	foreach(lc, target->exprs)
	{
		if (!is_plain_count_star(lfirst(lc)))
			return;
	}

	output_rel->fdw_private = info;
	path = create_foreign_upper_path(root, output_rel, target, 1,
									 10 * seq_page_cost, 10 * seq_page_cost + cpu_tuple_cost,
									 NIL, NULL, NIL);
	add_path(output_rel, (Path *) path);
}

/* The plan of a pushed-down count(*): one row, from the manifest. */
ForeignScan *
lance_make_count_plan(PlannerInfo *root, RelOptInfo *upperrel, ForeignPath *best_path,
					  List *tlist)
{
	LanceRelInfo *info = upperrel->fdw_private;
	List	   *fdw_private;
	List	   *scan_tlist = NIL;
	ListCell   *lc;

	foreach(lc, best_path->path.pathtarget->exprs)
		scan_tlist = lappend(scan_tlist,
							 makeTargetEntry(lfirst(lc), list_length(scan_tlist) + 1,
											 NULL, false));
	fdw_private = lance_scan_private(info->opts, info->version, info->num_fragments,
									 NIL, LANCE_SCAN_COUNT);
	return make_foreignscan(tlist, NIL, 0, NIL, fdw_private, scan_tlist, NIL, NULL);
}

/* ---------------------------------------------------------------------
 * The handler
 * ---------------------------------------------------------------------
 */

Datum
lancedb_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *routine = makeNode(FdwRoutine);

	routine->GetForeignRelSize = lanceGetForeignRelSize;
	routine->GetForeignPaths = lanceGetForeignPaths;
	routine->GetForeignPlan = lanceGetForeignPlan;
	routine->GetForeignUpperPaths = lanceGetForeignUpperPaths;
	routine->BeginForeignScan = lanceBeginForeignScan;
	routine->IterateForeignScan = lanceIterateForeignScan;
	routine->ReScanForeignScan = lanceReScanForeignScan;
	routine->EndForeignScan = lanceEndForeignScan;
	routine->ExplainForeignScan = lanceExplainForeignScan;
	routine->AnalyzeForeignTable = lanceAnalyzeForeignTable;
	routine->ImportForeignSchema = lanceImportForeignSchema;

	/* writing: fdw_modify.c */
	routine->IsForeignRelUpdatable = lanceIsForeignRelUpdatable;
	routine->AddForeignUpdateTargets = lanceAddForeignUpdateTargets;
	routine->PlanForeignModify = lancePlanForeignModify;
	routine->BeginForeignModify = lanceBeginForeignModify;
	routine->ExecForeignInsert = lanceExecForeignInsert;
	routine->ExecForeignBatchInsert = lanceExecForeignBatchInsert;
	routine->GetForeignModifyBatchSize = lanceGetForeignModifyBatchSize;
	routine->ExecForeignUpdate = lanceExecForeignUpdate;
	routine->ExecForeignDelete = lanceExecForeignDelete;
	routine->EndForeignModify = lanceEndForeignModify;
	routine->BeginForeignInsert = lanceBeginForeignInsert;
	routine->EndForeignInsert = lanceEndForeignInsert;

	PG_RETURN_POINTER(routine);
}

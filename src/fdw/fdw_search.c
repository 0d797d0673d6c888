/*-------------------------------------------------------------------------
 *
 * fdw_search.c
 *	  Flat nearest-neighbour search inside a Lance foreign scan.
 *
 * `SELECT ... FROM t [WHERE pushed quals] ORDER BY vec <op> q LIMIT k`
 * would otherwise read and convert every column of every row and sort them
 * all.  LanceDB answers the same query by reading only the vector column,
 * keeping a top-k, and fetching the other columns for the k winners; this
 * file does the same inside a foreign scan:
 *
 * Planning.  When the query's only relation is a Lance foreign table, the
 * scan can evaluate all its quals, the query's ordering is a single
 * ascending `col <op> q` (op one of our vector distances, col a vector
 * column, q a constant, a parameter or an uncorrelated sub-select) and a
 * LIMIT applies to
 * the scan's output (root->limit_tuples, which the planner sets only when
 * nothing between scan and LIMIT changes the row count), we add a path with
 * those pathkeys.  It carries k = LIMIT + OFFSET, and Postgres keeps its own
 * Limit node above it, so the scan may return exactly k rows.
 *
 * Execution.  The scan decodes the vector column and the columns of the
 * pushed quals only.  Without quals, each batch's distances come from the
 * one-to-many kernels in one call, and only rows that can still enter the
 * top-k go on; with quals, the quals decide first, as in the plain scan (a
 * pre-filter: `WHERE label = 'x' ... LIMIT 10` yields 10 rows when 10
 * match), and the rows that pass get a distance.  The best k are kept in a
 * bounded heap with their vectors.  Finally the query's other columns are
 * read for the winners only, by row address (late materialization), and
 * the rows come back in distance order.
 *
 * Exactness.  Postgres evaluates `col <op> q` above the scan with the
 * operator's own function, so our ranking must agree with it to the bit.
 * The one-to-many kernels add in a different order than the one-to-one
 * kernels the operators use, so their results may differ in the last bits.
 * They therefore only screen: a row enters the heap with the distance the
 * operator's function computes (same kernel table, same arithmetic), and
 * is screened out only when its screening distance exceeds the heap's
 * worst by more than a bound on the rounding error of both sums.  Ties
 * keep scan order; NaN (cosine against a zero vector) ranks after every
 * number and NULL after NaN, as Postgres sorts them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "access/stratnum.h"
#include "access/sysattr.h"
#include "catalog/dependency.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "fdw/convert.h"
#include "fdw/fdw_search.h"
#include "fdw/lance_fdw.h"
#include "fdw/search_index.h"
#include "fdw/search_prefilter.h"
#include "kernels/distance.h"
#include "kernels/topk.h"
#include "types/vector.h"

typedef enum LanceMetric
{
	LANCE_METRIC_L2,
	LANCE_METRIC_COSINE,
	LANCE_METRIC_DOT,
	LANCE_METRIC_L1,
	LANCE_METRIC_COUNT
} LanceMetric;

/* The operators we rank by: their function (in our extension) and names. */
static const struct
{
	const char *funcname;
	const char *opname;
	const char *label;			/* for EXPLAIN */
}			metrics[LANCE_METRIC_COUNT] = {
	[LANCE_METRIC_L2] = {"l2_distance", "<->", "l2"},
	[LANCE_METRIC_COSINE] = {"cosine_distance", "<=>", "cosine"},
	[LANCE_METRIC_DOT] = {"vector_negative_inner_product", "<#>", "negative inner product"},
	[LANCE_METRIC_L1] = {"l1_distance", "<+>", "l1"},
};

/*
 * The winners' vectors are kept from the ranking scan (so that reading the
 * winners by row address need not decode the vector pages again) when
 * k * dim floats fit in this many; otherwise they are read again.
 */
#define KEEP_VECTORS_MAX_FLOATS (16 * 1024 * 1024)

/* Ranks of TopkEntry.tier: numbers, then NaN, then NULL (SQL's order). */
#define TIER_NUMBER 0
#define TIER_NAN 1
#define TIER_NULL 2

/* The search's entries of a ForeignScan's fdw_private, after the scan's. */
enum LanceSearchPrivateIndex
{
	LanceSearchPrivMetric,		/* Integer: LanceMetric */
	LanceSearchPrivAttnum,		/* Integer: the vector column */
	LanceSearchPrivQueryLeft,	/* Boolean: the query is the left operand */
	LanceSearchPrivQuery,		/* Const or Param: the query vector */
	LanceSearchPrivLimit		/* Integer: k = LIMIT + OFFSET */
};

static bool search_pushdown = true;

/* Execution state of a search scan. */
typedef struct LanceSearchState
{
	Relation	rel;
	char	   *location;
	uint64		version_option;
	LanceMetric metric;
	bool		query_left;
	int64		k;
	MemoryContext scan_cxt;		/* core objects and results */
	LanceSource *source;
	TopK	   *heap;			/* while ranking; freed with scan_cxt on error */
	ExprState  *query;

	/* the ranking scan: column 0 is the vector, then the quals' columns */
	int			dim;
	const char *vec_name;
	LanceConverter *vec_conv;
	LanceIndexSearch *index;	/* LanceDB's index, when it answers the query */
	uint64	   *uncovered;		/* the fragments it does not cover */
	int			nuncovered;
	int			nqualcols;
	AttrNumber *qual_attnums;
	int		   *qual_scan_cols; /* each one's column in the batch */
	const char **scan_fields;	/* the batch's columns */
	LanceConverter **qual_convs;
	ExprState  *quals;

	/* the query's columns: from the kept vectors, or read by row address */
	int			nout;
	AttrNumber *out_attnums;
	LanceConverter **out_convs;
	int		   *out_take_col;	/* column of the take; -1 = the kept vector */
	int			ntake;
	const char **take_fields;
	bool		keep_vectors;

	/* one slot per heap entry (TopkEntry.payload): its row and vector */
	int64		nslots;
	int64		cap_slots;
	uint64	   *slot_addrs;
	bool	   *slot_null;
	float	   *slot_vecs;		/* dim floats per slot, if keep_vectors */

	bool		ranked;
	int64		nwinners;
	int64	   *winner_slots;	/* slot of each winner, nearest first */
	LanceBatch *winners;		/* the taken columns, in winner order */
	int64		next;
	int64		current_row_address;
} LanceSearchState;

/*
 * lance_search_init_gucs
 *		lancedb.search_pushdown turns the pushed-down search off, to compare
 *		with Postgres' own scan and sort.
 */
void
lance_search_init_gucs(void)
{
	DefineCustomBoolVariable("lancedb.search_pushdown",
							 "Ranks ORDER BY vector distance ... LIMIT queries on Lance foreign tables inside the scan.",
							 "When off, Postgres reads every row and sorts.",
							 &search_pushdown,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * Planning
 * ---------------------------------------------------------------------
 */

/* The metric of a distance operator of our extension, or -1. */
static int
operator_metric(Oid opno)
{
	Oid			funcid = get_opcode(opno);
	char	   *name;
	Oid			ext;

	if (!OidIsValid(funcid) || (name = get_func_name(funcid)) == NULL)
		return -1;
	for (int m = 0; m < LANCE_METRIC_COUNT; m++)
	{
		if (strcmp(name, metrics[m].funcname) != 0)
			continue;
		ext = get_extension_oid("lancedb_fdw", true);
		if (OidIsValid(ext) && getExtensionOfObject(ProcedureRelationId, funcid) == ext)
			return m;
		return -1;
	}
	return -1;
}

/* A vector column of this relation. */
static bool
is_vector_column(Expr *expr, RelOptInfo *baserel, Oid vectype)
{
	Var		   *var = (Var *) expr;

	return IsA(expr, Var) && var->varno == baserel->relid &&
		var->varlevelsup == 0 && var->varattno > 0 && var->vartype == vectype;
}

/*
 * A vector known when the scan starts and fixed for the whole query: a
 * constant, a query parameter, or the output of an uncorrelated sub-select
 * (`ORDER BY vec <-> (SELECT vec FROM t WHERE id = 5)`), which this query
 * level computes once, as an initplan.
 */
static bool
is_query_vector(PlannerInfo *root, Expr *expr, Oid vectype)
{
	Param	   *param = (Param *) expr;
	ListCell   *lc;

	if (exprType((Node *) expr) != vectype)
		return false;
	if (IsA(expr, Const))
		return true;
	if (!IsA(expr, Param))
		return false;
	if (param->paramkind == PARAM_EXTERN)
		return true;
	if (param->paramkind != PARAM_EXEC)
		return false;
	foreach(lc, root->init_plans)
	{
		SubPlan    *initplan = lfirst_node(SubPlan, lc);

		if (list_member_int(initplan->setParam, param->paramid))
			return true;
	}
	return false;
}

/*
 * Whether the pathkey is `col <op> q` ascending, nulls last, in float8's
 * ordering; if so, say which metric, column and query.
 */
static bool
match_search_pathkey(PlannerInfo *root, PathKey *pk, RelOptInfo *baserel, Oid vectype,
					 int *metric, AttrNumber *attnum, bool *query_left, Expr **query)
{
	EquivalenceClass *ec = pk->pk_eclass;
	ListCell   *lc;

	if (pk->pk_strategy != BTLessStrategyNumber || pk->pk_nulls_first ||
		ec->ec_has_volatile ||
		get_opfamily_member(pk->pk_opfamily, FLOAT8OID, FLOAT8OID,
							BTLessStrategyNumber) != Float8LessOperator)
		return false;

	foreach(lc, ec->ec_members)
	{
		EquivalenceMember *em = lfirst(lc);
		OpExpr	   *op = (OpExpr *) em->em_expr;
		Expr	   *l,
				   *r;
		int			m;

		if (em->em_is_child || em->em_is_const || !IsA(op, OpExpr) ||
			list_length(op->args) != 2 || !bms_equal(em->em_relids, baserel->relids))
			continue;
		l = linitial(op->args);
		r = lsecond(op->args);
		if (is_vector_column(l, baserel, vectype) && is_query_vector(root, r, vectype))
		{
			*attnum = ((Var *) l)->varattno;
			*query = r;
			*query_left = false;
		}
		else if (is_vector_column(r, baserel, vectype) && is_query_vector(root, l, vectype))
		{
			*attnum = ((Var *) r)->varattno;
			*query = l;
			*query_left = true;
		}
		else
			continue;
		if ((m = operator_metric(op->opno)) < 0)
			continue;
		*metric = m;
		return true;
	}
	return false;
}

/*
 * lance_search_add_paths
 *		Offer the ranked scan for `ORDER BY col <op> q LIMIT k`.
 */
void
lance_search_add_paths(PlannerInfo *root, RelOptInfo *baserel, List *pushed_quals,
					   List *local_quals, double live_rows)
{
	Query	   *parse = root->parse;
	Oid			vectype;
	int			metric;
	AttrNumber	attnum;
	bool		query_left;
	Expr	   *query;
	int			k;
	double		rows;
	double		passing;
	Bitmapset  *cols = NULL;
	ListCell   *lc;
	Cost		startup;
	List	   *priv;

	/*
	 * The LIMIT bounds this scan's output only when the table is the query's
	 * only relation and every qual runs in the scan; WITH TIES may need rows
	 * past k, and row locks are not ours to take.
	 */
	if (!search_pushdown || local_quals != NIL ||
		baserel->reloptkind != RELOPT_BASEREL ||
		bms_membership(root->all_baserels) != BMS_SINGLETON ||
		parse->commandType != CMD_SELECT || parse->rowMarks != NIL ||
		parse->limitOption == LIMIT_OPTION_WITH_TIES ||
		root->limit_tuples < 1 || root->limit_tuples > INT_MAX ||
		list_length(root->query_pathkeys) != 1)
		return;
	vectype = lance_vector_type_oid();
	if (!OidIsValid(vectype) ||
		!match_search_pathkey(root, linitial(root->query_pathkeys), baserel, vectype,
							  &metric, &attnum, &query_left, &query))
		return;

	k = (int) root->limit_tuples;
	rows = Min(baserel->rows, (double) k);

	/*
	 * Everything happens before the first row.  Priced as the plain scan
	 * prices itself, but reading only the vector and the quals' columns, and
	 * with one distance (a fraction of an operator: the kernels take several
	 * rows per instruction) per row that passes the quals, then k rows.  So
	 * it never costs more than the plain scan without the sort it saves.
	 */
	cols = bms_add_member(cols, attnum - FirstLowInvalidHeapAttributeNumber);
	foreach(lc, pushed_quals)
		pull_varattnos((Node *) lfirst_node(RestrictInfo, lc)->clause, baserel->relid, &cols);
	passing = baserel->rows;
	startup = 10 * seq_page_cost +
		seq_page_cost * (live_rows * bms_num_members(cols) * 8.0 / BLCKSZ) +
		cpu_operator_cost * live_rows * list_length(pushed_quals) +
		0.25 * cpu_operator_cost * passing;

	priv = list_make5(makeInteger(metric), makeInteger(attnum), makeBoolean(query_left),
					  copyObject(query), makeInteger(k));
	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, rows, startup,
									 startup + cpu_tuple_cost * rows,
									 root->query_pathkeys, NULL, NULL, priv));
}

/* ---------------------------------------------------------------------
 * Execution
 * ---------------------------------------------------------------------
 */

static void
search_error_callback(void *arg)
{
	LanceSearchState *st = arg;

	if (st->current_row_address >= 0)
		errcontext("Lance dataset \"%s\", fragment %u, row %u",
				   st->location,
				   (uint32) (st->current_row_address >> 32),
				   (uint32) st->current_row_address);
	else
		errcontext("Lance dataset \"%s\"", st->location);
}

/* The scan context's reset callback: what ranking holds outside it. */
static void
release_ranking(void *arg)
{
	LanceSearchState *st = arg;

	topk_free(st->heap);
	st->heap = NULL;
}

/*
 * Use LanceDB's index on the column when one answers this metric; the flat
 * scan then reads only the fragments it does not cover.  With quals, the
 * index searches only the rows that pass them (prefilter_index), as
 * LanceDB's default prefilter does.
 */
static void
open_index(LanceSearchState *st, ForeignScan *plan, const LanceField *vec_field)
{
	static const int ivf_metric[LANCE_METRIC_COUNT] = {
		[LANCE_METRIC_L2] = LANCE_IVF_L2,
		[LANCE_METRIC_COSINE] = LANCE_IVF_COSINE,
		[LANCE_METRIC_DOT] = LANCE_IVF_DOT,
		[LANCE_METRIC_L1] = -1,
	};

	if (ivf_metric[st->metric] < 0)
		return;
	st->index = lance_index_search_open(st->source, st->location, vec_field,
										ivf_metric[st->metric]);
	if (st->index != NULL)
		st->uncovered = lance_index_search_uncovered(st->index, &st->nuncovered);
}

/* Open the dataset and start the ranking scan: the vector, then the quals' columns. */
static void
open_search(LanceSearchState *st, ForeignScanState *node, ForeignScan *plan,
			AttrNumber vec_attnum, List *out_attnums)
{
	Bitmapset  *qual_attrs = NULL;
	const LanceSchema *schema;
	const char **scan_fields;
	LanceConverter *vec_conv;
	const LanceField *vec_field;
	ListCell   *lc;
	int			nscan = 1;
	int			x = -1;
	int			i = 0;

	st->source = lance_source_open(st->location, st->version_option,
								   lance_scan_storage_options(node));
	schema = lance_source_schema(st->source);
	vec_field = lance_bind_column(st->rel, schema, st->location, vec_attnum, &vec_conv);
	st->vec_conv = vec_conv;
	st->dim = vec_field->type.fixed_size;

	pull_varattnos((Node *) plan->fdw_exprs, plan->scan.scanrelid, &qual_attrs);
	st->nqualcols = bms_num_members(qual_attrs);
	st->qual_attnums = palloc(sizeof(AttrNumber) * (st->nqualcols + 1));
	st->qual_scan_cols = palloc(sizeof(int) * (st->nqualcols + 1));
	st->qual_convs = palloc(sizeof(LanceConverter *) * (st->nqualcols + 1));
	scan_fields = palloc(sizeof(char *) * (st->nqualcols + 1));
	scan_fields[0] = vec_field->name;
	while ((x = bms_next_member(qual_attrs, x)) >= 0)
	{
		AttrNumber	attnum = x + FirstLowInvalidHeapAttributeNumber;

		st->qual_attnums[i] = attnum;
		if (attnum == vec_attnum)
		{
			/* e.g. `vec IS NOT NULL`: the ranking column serves */
			st->qual_scan_cols[i] = 0;
			st->qual_convs[i] = vec_conv;
		}
		else
		{
			scan_fields[nscan] = lance_bind_column(st->rel, schema, st->location, attnum,
												   &st->qual_convs[i])->name;
			st->qual_scan_cols[i] = nscan++;
		}
		i++;
	}
	lance_source_start(st->source, scan_fields, nscan);
	st->scan_fields = scan_fields;
	st->vec_name = vec_field->name;
	open_index(st, plan, vec_field);

	st->keep_vectors = (double) st->k * st->dim <= KEEP_VECTORS_MAX_FLOATS;
	st->nout = list_length(out_attnums);
	st->out_attnums = palloc(sizeof(AttrNumber) * Max(st->nout, 1));
	st->out_convs = palloc(sizeof(LanceConverter *) * Max(st->nout, 1));
	st->out_take_col = palloc(sizeof(int) * Max(st->nout, 1));
	st->take_fields = palloc(sizeof(char *) * Max(st->nout, 1));
	i = 0;
	foreach(lc, out_attnums)
	{
		const LanceField *field;

		st->out_attnums[i] = lfirst_int(lc);
		field = lance_bind_column(st->rel, schema, st->location, st->out_attnums[i],
								  &st->out_convs[i]);
		if (st->out_attnums[i] == vec_attnum && st->keep_vectors)
			st->out_take_col[i] = -1;
		else
		{
			st->out_take_col[i] = st->ntake;
			st->take_fields[st->ntake++] = field->name;
		}
		i++;
	}
}

/*
 * lance_search_begin
 *		Open the dataset and prepare the ranking scan; ranking waits for the
 *		first row asked for, when parameters have their values.
 */
void
lance_search_begin(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	LanceSearchState *st = palloc0(sizeof(LanceSearchState));
	List	   *out_attnums;
	List	   *extra;
	MemoryContextCallback *cb;
	MemoryContext old;
	ErrorContextCallback errcb;

	node->fdw_state = st;
	lance_scan_private_parts(plan, &st->location, &st->version_option, &out_attnums, &extra);
	st->metric = intVal(list_nth(extra, LanceSearchPrivMetric));
	st->query_left = boolVal(list_nth(extra, LanceSearchPrivQueryLeft));
	st->k = intVal(list_nth(extra, LanceSearchPrivLimit));
	st->rel = node->ss.ss_currentRelation;
	st->current_row_address = -1;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st->scan_cxt = AllocSetContextCreate(node->ss.ps.state->es_query_cxt,
										 "lancedb_fdw search", ALLOCSET_DEFAULT_SIZES);
	cb = MemoryContextAlloc(st->scan_cxt, sizeof(MemoryContextCallback));
	cb->func = release_ranking;
	cb->arg = st;
	MemoryContextRegisterResetCallback(st->scan_cxt, cb);

	errcb.callback = search_error_callback;
	errcb.arg = st;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	old = MemoryContextSwitchTo(st->scan_cxt);
	open_search(st, node, plan, intVal(list_nth(extra, LanceSearchPrivAttnum)), out_attnums);
	MemoryContextSwitchTo(old);
	error_context_stack = errcb.previous;

	st->query = ExecInitExpr((Expr *) list_nth(extra, LanceSearchPrivQuery), (PlanState *) node);
	if (plan->fdw_exprs != NIL)
		st->quals = ExecInitQual(plan->fdw_exprs, (PlanState *) node);
}

/* The query vector's value for this run, copied to live as long as the scan. */
static Vector *
evaluate_query(ForeignScanState *node, LanceSearchState *st)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	bool		isnull;
	Datum		d = ExecEvalExprSwitchContext(st->query, econtext, &isnull);
	Vector	   *q = NULL;

	if (!isnull)
	{
		Vector	   *v = DatumGetVector(d);

		q = MemoryContextAlloc(st->scan_cxt, VARSIZE(v));
		memcpy(q, v, VARSIZE(v));
	}
	ResetExprContext(econtext);
	return q;
}

/*
 * Raise the operator's error for a query of another dimension, once a row
 * the operator would have been applied to turns up.
 */
static void
check_dimensions(LanceSearchState *st, const Vector *q)
{
	if (q->dim != st->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d",
						st->query_left ? q->dim : st->dim,
						st->query_left ? st->dim : q->dim)));
}

/*
 * The distance the operator's own function computes between row vector x
 * and the query, as (tier, key): same kernels, same operand order.
 */
static void
exact_distance(LanceSearchState *st, const float *x, const Vector *q, TopkEntry *e)
{
	const DistanceKernels *kern = distance_kernels();
	const float *a = st->query_left ? q->x : x;
	const float *b = st->query_left ? x : q->x;
	double		d;

	switch (st->metric)
	{
		case LANCE_METRIC_L2:
			d = sqrt((double) kern->l2sq(a, b, st->dim));
			break;
		case LANCE_METRIC_DOT:
			d = -(double) kern->dot(a, b, st->dim);
			break;
		case LANCE_METRIC_L1:
			d = (double) kern->l1(a, b, st->dim);
			break;
		default:
			{
				float		dot,
							na,
							nb;

				kern->dot_norms(a, b, st->dim, &dot, &na, &nb);
				d = distance_cosine_from_parts(dot, na, nb);
				break;
			}
	}
	e->tier = isnan(d) ? TIER_NAN : TIER_NUMBER;
	e->key = isnan(d) ? 0 : d;
}

/*
 * The distance a row must beat, up to rounding, to enter the heap: the
 * worst entry's once the heap is full of numbers, else infinity (any row
 * may enter).  It changes only when a row enters, so the ranking loop
 * keeps it in a local instead of asking the heap for every row.
 */
static double
entry_bound(TopK *heap)
{
	const TopkEntry *worst;

	if (!topk_full(heap))
		return INFINITY;
	worst = topk_worst(heap);
	return worst->tier == TIER_NUMBER ? worst->key : INFINITY;
}

/*
 * Whether row r of the batch passes the pushed quals; cols[i] is the
 * batch's column of the i-th qual column.
 */
static bool
row_passes_quals(ForeignScanState *node, LanceSearchState *st, LanceBatch *batch,
				 const int *cols, int64 r)
{
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	MemoryContext old;
	bool		pass;

	ExecClearTuple(slot);
	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts * sizeof(bool));
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	for (int i = 0; i < st->nqualcols; i++)
	{
		int			att = st->qual_attnums[i] - 1;

		slot->tts_values[att] = lance_convert_value(st->qual_convs[i],
													batch->columns[cols[i]],
													r, &slot->tts_isnull[att]);
	}
	ExecStoreVirtualTuple(slot);
	econtext->ecxt_scantuple = slot;
	pass = ExecQual(st->quals, econtext);
	MemoryContextSwitchTo(old);
	ResetExprContext(econtext);
	return pass;
}

/* Whether row r's vector has a null element. */
static bool
has_null_item(const LanceArray *vecs, int64 r, int dim)
{
	const LanceArray *items = vecs->children[0];

	if (items->null_count == 0)
		return false;
	for (int64 i = r * dim; i < (r + 1) * dim; i++)
	{
		if (!lance_array_is_valid(items, i))
			return true;
	}
	return false;
}

/*
 * Raise the error converting row r's vector raises, if any: a value type
 * vector cannot hold (a null element, NaN, an infinity) fails the plain
 * scan, so it fails the search too, whether or not the row would win.
 */
static void
check_vector_value(ForeignScanState *node, LanceSearchState *st, const LanceArray *vecs,
				   int64 r)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	MemoryContext old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	bool		isnull;

	(void) lance_convert_value(st->vec_conv, vecs, r, &isnull);
	MemoryContextSwitchTo(old);
	ResetExprContext(econtext);
}

/* Screening distances of a batch's rows: out[] and the error scale[]. */
static void
screen_batch(LanceSearchState *st, const Vector *q, const float *base, int64 n,
			 float *out, float *norms, double *scale)
{
	const DistanceKernels *kern = distance_kernels();
	double		qnorm = 0;

	switch (st->metric)
	{
		case LANCE_METRIC_L2:
			kern->l2sq_many(q->x, base, n, st->dim, out);
			for (int64 r = 0; r < n; r++)
			{
				out[r] = sqrtf(out[r]);
				scale[r] = out[r];
			}
			return;
		case LANCE_METRIC_L1:
			kern->l1_many(q->x, base, n, st->dim, out);
			for (int64 r = 0; r < n; r++)
				scale[r] = out[r];
			return;
		default:
			break;
	}

	/* dot products: the error scales with |q| |x|; cosine's is absolute */
	kern->dot_norms_many(q->x, base, n, st->dim, out, norms);
	qnorm = sqrt((double) kern->dot(q->x, q->x, st->dim));
	for (int64 r = 0; r < n; r++)
	{
		if (st->metric == LANCE_METRIC_DOT)
		{
			scale[r] = qnorm * sqrt((double) norms[r]);
			out[r] = -out[r];
		}
		else
		{
			scale[r] = 4.0;
			out[r] = (float) distance_cosine_from_parts(out[r], qnorm * qnorm, norms[r]);
		}
	}
}

/*
 * Offer a row to the heap; if it enters, keep its row address and vector
 * (x, or NULL for a NULL vector) in the slot of the entry it displaces.
 */
static void
keep_entry(LanceSearchState *st, TopkEntry *e, uint64 addr, const float *x)
{
	int64		slot;

	if (topk_full(st->heap))
	{
		if (!topk_entry_less(e, topk_worst(st->heap)))
			return;
		slot = (int64) topk_worst(st->heap)->payload;
	}
	else
	{
		if (st->nslots == st->cap_slots)
		{
			int64		cap = Min(Max(st->cap_slots * 2, 64), st->k);

			if (st->slot_addrs == NULL)
			{
				st->slot_addrs = MemoryContextAllocHuge(st->scan_cxt, sizeof(uint64) * cap);
				st->slot_null = MemoryContextAllocHuge(st->scan_cxt, sizeof(bool) * cap);
				if (st->keep_vectors)
					st->slot_vecs = MemoryContextAllocHuge(st->scan_cxt,
														   sizeof(float) * st->dim * cap);
			}
			else
			{
				st->slot_addrs = repalloc_huge(st->slot_addrs, sizeof(uint64) * cap);
				st->slot_null = repalloc_huge(st->slot_null, sizeof(bool) * cap);
				if (st->keep_vectors)
					st->slot_vecs = repalloc_huge(st->slot_vecs, sizeof(float) * st->dim * cap);
			}
			st->cap_slots = cap;
		}
		slot = st->nslots++;
	}
	st->slot_addrs[slot] = addr;
	st->slot_null[slot] = x == NULL;
	if (x != NULL && st->keep_vectors)
		memcpy(st->slot_vecs + slot * st->dim, x, sizeof(float) * st->dim);
	e->payload = (uint64) slot;
	if (!topk_push(st->heap, e))
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory for a top-" INT64_FORMAT " search", st->k)));
}

/*
 * Offer the index's candidates to the heap with their exact distances:
 * their vectors are read by row address, each by itself where the pages
 * allow, else as rows.  A candidate whose distance is not a number is
 * checked as a row, so that a value vector cannot hold raises its error.
 */
static void
rank_index_candidates(ForeignScanState *node, LanceSearchState *st, const Vector *q,
					  uint64 *seq)
{
	uint64	   *addrs;
	int64		n;
	float	   *direct;
	LanceBatch *batch = NULL;
	LanceArray *vecs = NULL;
	const float *base;

	check_dimensions(st, q);
	n = lance_index_search_candidates(st->index, q->x, st->k, &addrs);
	if (n == 0)
		return;
	direct = lance_index_search_vectors(st->index, addrs, n);
	for (int64 r = 0; r < n; r++)
	{
		TopkEntry	e;

		if (direct != NULL)
		{
			exact_distance(st, direct + r * st->dim, q, &e);
			if (e.tier == TIER_NUMBER && !isinf(e.key))
			{
				e.seq = (*seq)++;
				keep_entry(st, &e, addrs[r], direct + r * st->dim);
				continue;
			}
		}
		if (batch == NULL)
		{
			batch = lance_source_take(st->source, addrs, n, &st->vec_name, 1);
			vecs = batch->columns[0];
		}
		base = (const float *) vecs->children[0]->values;
		if (!lance_array_is_valid(vecs, r))
			continue;
		st->current_row_address = (int64) addrs[r];
		exact_distance(st, base + r * st->dim, q, &e);
		if (e.tier == TIER_NAN || isinf(e.key) || has_null_item(vecs, r, st->dim))
			check_vector_value(node, st, vecs, r);
		e.seq = (*seq)++;
		keep_entry(st, &e, addrs[r], base + r * st->dim);
	}
	st->current_row_address = -1;
}

/*
 * LanceDB's prefilter: the rows of the indexed fragments that pass the
 * quals, found by a scan of the quals' columns alone (not the vectors),
 * are the only rows the index may offer.  The scan runs on a second
 * opening of the same version, in a context of its own that it frees.
 * Integer comparisons and text equalities are tested on the columns
 * directly, once per row of the dataset being too many for the executor's
 * per-row cost.
 */
static void
prefilter_index(ForeignScanState *node, LanceSearchState *st)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "lancedb_fdw prefilter",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	LanceQualFilter *fast;
	LanceSource *filter;
	const char **fields;
	int		   *cols;
	int			nfields = 0;
	uint64	   *covered;
	int			ncovered;
	LanceBatch *batch;

	lance_index_search_restrict(st->index);
	old = MemoryContextSwitchTo(cxt);
	/* the version option, not its number: the same (maybe staged) dataset */
	filter = lance_source_open(st->location, st->version_option,
							   lance_scan_storage_options(node));
	fields = palloc(sizeof(char *) * Max(st->nqualcols, 1));
	cols = palloc(sizeof(int) * Max(st->nqualcols, 1));
	for (int i = 0; i < st->nqualcols; i++)
	{
		fields[nfields] = st->scan_fields[st->qual_scan_cols[i]];
		cols[i] = nfields++;
	}
	fast = lance_qual_filter_compile(plan->fdw_exprs, plan->scan.scanrelid, st->nqualcols,
									 st->qual_attnums, st->qual_convs);
	lance_source_start(filter, fields, nfields);
	covered = lance_index_search_covered(st->index, &ncovered);
	lance_source_only_fragments(filter, covered, ncovered);
	while ((batch = lance_source_next(filter)) != NULL)
	{
		for (int64 r = 0; r < batch->num_rows; r++)
		{
			st->current_row_address = (int64) batch->row_addrs[r];
			if (fast != NULL ? lance_qual_filter_pass(fast, batch, cols, r)
				: row_passes_quals(node, st, batch, cols, r))
				lance_index_search_allow(st->index, batch->row_addrs[r]);
		}
	}
	st->current_row_address = -1;
	MemoryContextSwitchTo(old);
	MemoryContextDelete(cxt);
}

/*
 * Rank every row that passes the quals and read the winners' columns.
 */
static void
rank_rows(ForeignScanState *node, LanceSearchState *st)
{
	MemoryContext old = MemoryContextSwitchTo(st->scan_cxt);
	Vector	   *q = evaluate_query(node, st);
	int64		cap = 0;
	float	   *approx = NULL;
	float	   *norms = NULL;
	double	   *scale = NULL;
	uint64		seq = 0;
	double		bound = INFINITY;

	/*
	 * Both the screening and the exact sum of dim terms are within about
	 * dim * FLT_EPSILON * scale of the true value (scale: a bound on the
	 * magnitude of the summed terms); twice that again is slack.
	 */
	double		tol_per_scale = 4.0 * (st->dim + 2) * FLT_EPSILON;
	LanceBatch *batch;
	TopkEntry  *best;
	uint64	   *addrs;
	int64		n;

	st->heap = topk_new(st->k);
	if (st->heap == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory for a top-" INT64_FORMAT " search", st->k)));

	/* a NULL query puts every row at a NULL distance: rank them all flat */
	if (st->index != NULL)
	{
		lance_source_only_fragments(st->source, q ? st->uncovered : NULL,
									q ? st->nuncovered : 0);
		if (q != NULL && st->quals != NULL)
			prefilter_index(node, st);
		if (q != NULL)
			rank_index_candidates(node, st, q, &seq);
	}
	while ((batch = lance_source_next(st->source)) != NULL)
	{
		LanceArray *vecs = batch->columns[0];
		const float *base = (const float *) vecs->children[0]->values;
		bool		any_vector = q != NULL && vecs->null_count < batch->num_rows;
		bool		screen;

		/*
		 * Without quals every row is ranked: screen the batch in one kernel
		 * call.  With quals, the quals decide first, as in the plain scan,
		 * and only the rows that pass get a distance.
		 */
		screen = any_vector && st->quals == NULL;
		if (screen)
		{
			check_dimensions(st, q);
			if (batch->num_rows > cap)
			{
				cap = batch->num_rows;
				if (approx != NULL)
				{
					pfree(approx);
					pfree(norms);
					pfree(scale);
				}
				approx = palloc(sizeof(float) * cap);
				norms = palloc(sizeof(float) * cap);
				scale = palloc(sizeof(double) * cap);
			}
			screen_batch(st, q, base, batch->num_rows, approx, norms, scale);
		}

		for (int64 r = 0; r < batch->num_rows; r++, seq++)
		{
			bool		valid = any_vector && lance_array_is_valid(vecs, r);
			TopkEntry	e;

			if (!valid)
			{
				if (topk_full(st->heap))
					continue;
			}
			else if (screen && isfinite(approx[r]) &&
					 approx[r] > bound + tol_per_scale * scale[r] &&
					 !has_null_item(vecs, r, st->dim))
				continue;
			st->current_row_address = (int64) batch->row_addrs[r];
			if (st->quals != NULL && !row_passes_quals(node, st, batch, st->qual_scan_cols, r))
				continue;
			e.seq = seq;
			if (valid)
			{
				check_dimensions(st, q);
				exact_distance(st, base + r * st->dim, q, &e);
				/* a non-finite distance comes from a non-finite element */
				if (e.tier == TIER_NAN || isinf(e.key) || has_null_item(vecs, r, st->dim))
					check_vector_value(node, st, vecs, r);
			}
			else
			{
				e.tier = TIER_NULL;
				e.key = 0;
			}
			keep_entry(st, &e, batch->row_addrs[r], valid ? base + r * st->dim : NULL);
			bound = entry_bound(st->heap);
		}
	}
	st->current_row_address = -1;

	n = topk_count(st->heap);
	best = palloc(sizeof(TopkEntry) * Max(n, 1));
	addrs = palloc(sizeof(uint64) * Max(n, 1));
	topk_drain_sorted(st->heap, best);
	topk_free(st->heap);
	st->heap = NULL;
	st->winner_slots = palloc(sizeof(int64) * Max(n, 1));
	for (int64 i = 0; i < n; i++)
	{
		st->winner_slots[i] = (int64) best[i].payload;
		addrs[i] = st->slot_addrs[best[i].payload];
	}
	st->nwinners = n;
	st->winners = n > 0 && st->ntake > 0
		? lance_source_take(st->source, addrs, n, st->take_fields, st->ntake) : NULL;
	st->next = 0;
	st->ranked = true;
	MemoryContextSwitchTo(old);
}

/*
 * lance_search_iterate
 *		The next winner, nearest first.
 */
TupleTableSlot *
lance_search_iterate(ForeignScanState *node)
{
	LanceSearchState *st = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	ErrorContextCallback errcb;
	MemoryContext old;
	int64		w;

	errcb.callback = search_error_callback;
	errcb.arg = st;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	if (!st->ranked)
		rank_rows(node, st);

	ExecClearTuple(slot);
	if (st->next >= st->nwinners)
	{
		error_context_stack = errcb.previous;
		return slot;
	}
	w = st->winner_slots[st->next];
	st->current_row_address = (int64) st->slot_addrs[w];
	memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts * sizeof(bool));
	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	for (int i = 0; i < st->nout; i++)
	{
		int			att = st->out_attnums[i] - 1;

		if (st->out_take_col[i] >= 0)
			slot->tts_values[att] = lance_convert_value(st->out_convs[i],
														st->winners->columns[st->out_take_col[i]],
														st->next, &slot->tts_isnull[att]);
		else if (!st->slot_null[w])
		{
			/* checked while ranking: a finite distance has finite elements */
			Vector	   *v = VectorNew(st->dim);

			memcpy(v->x, st->slot_vecs + w * st->dim, sizeof(float) * st->dim);
			slot->tts_values[att] = PointerGetDatum(v);
			slot->tts_isnull[att] = false;
		}
	}
	MemoryContextSwitchTo(old);
	ExecStoreVirtualTuple(slot);
	st->next++;
	st->current_row_address = -1;
	error_context_stack = errcb.previous;
	return slot;
}

/*
 * lance_search_rescan
 *		Rank again on the next fetch: a parameter may have changed.
 */
void
lance_search_rescan(ForeignScanState *node)
{
	LanceSearchState *st = node->fdw_state;

	if (st->source == NULL)
		return;
	st->ranked = false;
	st->winners = NULL;
	st->nwinners = 0;
	st->nslots = 0;
	lance_source_restart(st->source);
}

/*
 * lance_search_end
 *		Free the core's objects now rather than at the end of the query.
 */
void
lance_search_end(ForeignScanState *node)
{
	LanceSearchState *st = node->fdw_state;

	if (st != NULL && st->scan_cxt != NULL)
		MemoryContextDelete(st->scan_cxt);
}

/*
 * The index the search uses, if any; under plain EXPLAIN the scan was not
 * opened, so look the index up as the scan would.
 */
static void
explain_index(ForeignScanState *node, ExplainState *es)
{
	LanceSearchState *st = node->fdw_state;
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	List	   *out_attnums;
	List	   *extra;

	if (st->source == NULL)
	{
		lance_scan_private_parts(plan, &st->location, &st->version_option, &out_attnums, &extra);
		st->source = lance_source_open(st->location, st->version_option,
									   lance_scan_storage_options(node));
		open_index(st, plan,
				   lance_bind_column(st->rel, lance_source_schema(st->source), st->location,
									 intVal(list_nth(extra, LanceSearchPrivAttnum)), &st->vec_conv));
	}
	lance_index_search_explain(st->index, es);
}

/*
 * lance_search_explain
 *		The ordering, limit and metric ranked in the scan.
 */
void
lance_search_explain(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;
	char	   *location;
	uint64		version_option;
	List	   *out_attnums;
	List	   *extra;
	LanceMetric metric;
	AttrNumber	attnum;
	List	   *context;
	char	   *query;
	const char *column;

	lance_scan_private_parts(plan, &location, &version_option, &out_attnums, &extra);
	metric = intVal(list_nth(extra, LanceSearchPrivMetric));
	attnum = intVal(list_nth(extra, LanceSearchPrivAttnum));
	context = set_deparse_context_plan(es->deparse_cxt, (Plan *) plan, NIL);
	query = deparse_expression((Node *) list_nth(extra, LanceSearchPrivQuery), context,
							   es->verbose, false);
	column = quote_identifier(NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname));

	ExplainPropertyText("Lance Order By",
						boolVal(list_nth(extra, LanceSearchPrivQueryLeft))
						? psprintf("%s %s %s", query, metrics[metric].opname, column)
						: psprintf("%s %s %s", column, metrics[metric].opname, query),
						es);
	ExplainPropertyText("Lance Metric", metrics[metric].label, es);
	ExplainPropertyInteger("Lance Limit", NULL, intVal(list_nth(extra, LanceSearchPrivLimit)), es);
	explain_index(node, es);
}

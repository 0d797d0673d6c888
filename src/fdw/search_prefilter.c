/*-------------------------------------------------------------------------
 *
 * search_prefilter.c
 *	  Integer comparisons of a search's quals, tested on decoded columns
 *	  without the executor.
 *
 * An indexed search with quals first finds the rows that pass them over
 * every indexed row (LanceDB's prefilter), so the quals run once per row of
 * the dataset: through ExecQual that costs more than the index search
 * itself.  LanceDB evaluates such filters as vectorized comparisons over
 * Arrow arrays; for the commonest shape, `intcol op constant` with op one
 * of the integer btree comparisons (<, <=, =, >=, >), we do the same on
 * the decoded column.  The btree strategy gives the operator's meaning,
 * and comparisons between integers of any width are exact in int64, so the
 * answer is the operator's.  A NULL value passes no comparison, as the
 * operator, being strict, would yield NULL.  Any other qual sends the whole
 * filter back to ExecQual.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "nodes/primnodes.h"
#include "utils/lsyscache.h"

#include "fdw/search_prefilter.h"

/* One `column op value` comparison. */
typedef struct IntComparison
{
	int			col;			/* index into the qual columns */
	StrategyNumber strategy;	/* BTLessStrategyNumber .. BTGreaterStrategyNumber */
	int64		value;
} IntComparison;

struct LanceIntFilter
{
	int			n;
	IntComparison *cmps;
};

static bool
is_int_type(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

/*
 * Whether every value of the field converts to the column's type: else
 * the plain scan would raise an out-of-range error the comparison must
 * not hide.
 */
static bool
field_fits_column(const LanceField *field, Oid typid)
{
	switch (field->type.id)
	{
		case LANCE_TYPE_INT8:
		case LANCE_TYPE_INT16:
			return true;
		case LANCE_TYPE_INT32:
			return typid != INT2OID;
		case LANCE_TYPE_INT64:
			return typid == INT8OID;
		default:
			return false;
	}
}

static int64
const_int64(const Const *c)
{
	switch (c->consttype)
	{
		case INT2OID:
			return DatumGetInt16(c->constvalue);
		case INT4OID:
			return DatumGetInt32(c->constvalue);
		default:
			return DatumGetInt64(c->constvalue);
	}
}

/* The strategy with its operands swapped: `c < x` is `x > c`. */
static StrategyNumber
commute(StrategyNumber s)
{
	return BTMaxStrategyNumber + 1 - s;
}

/* Fill cmp from `var op const` or `const op var`; false for another shape. */
static bool
compile_one(Expr *qual, Index scanrelid, int nqualcols, const AttrNumber *qual_attnums,
			LanceConverter *const *convs, IntComparison *cmp)
{
	OpExpr	   *op;
	Node	   *left;
	Node	   *right;
	Var		   *var;
	Const	   *con;
	int			strategy;

	if (!IsA(qual, OpExpr))
		return false;
	op = (OpExpr *) qual;
	if (list_length(op->args) != 2)
		return false;
	left = linitial(op->args);
	right = lsecond(op->args);
	if (IsA(left, Var) && IsA(right, Const))
	{
		var = (Var *) left;
		con = (Const *) right;
	}
	else if (IsA(left, Const) && IsA(right, Var))
	{
		var = (Var *) right;
		con = (Const *) left;
	}
	else
		return false;
	if (var->varno != scanrelid || !is_int_type(var->vartype) || con->constisnull ||
		!is_int_type(con->consttype))
		return false;
	strategy = get_op_opfamily_strategy(op->opno, INTEGER_BTREE_FAM_OID);
	if (strategy < BTLessStrategyNumber || strategy > BTGreaterStrategyNumber)
		return false;

	cmp->col = -1;
	for (int i = 0; i < nqualcols; i++)
	{
		if (qual_attnums[i] == var->varattno)
			cmp->col = i;
	}
	if (cmp->col < 0 || !field_fits_column(convs[cmp->col]->field, var->vartype))
		return false;
	cmp->strategy = (var == (Var *) left) ? strategy : commute(strategy);
	cmp->value = const_int64(con);
	return true;
}

/*
 * lance_int_filter_compile
 *		The quals as integer comparisons, or NULL.
 */
LanceIntFilter *
lance_int_filter_compile(List *quals, Index scanrelid, int nqualcols,
						 const AttrNumber *qual_attnums, LanceConverter *const *convs)
{
	LanceIntFilter *f = palloc(sizeof(LanceIntFilter));
	ListCell   *lc;

	f->n = 0;
	f->cmps = palloc(sizeof(IntComparison) * Max(list_length(quals), 1));
	foreach(lc, quals)
	{
		if (!compile_one(lfirst(lc), scanrelid, nqualcols, qual_attnums, convs, &f->cmps[f->n]))
		{
			pfree(f->cmps);
			pfree(f);
			return NULL;
		}
		f->n++;
	}
	return f;
}

/* Row r of a signed integer array, widened. */
static int64
int_value(const LanceArray *a, int64 r)
{
	switch (a->type->id)
	{
		case LANCE_TYPE_INT8:
			return ((const int8 *) a->values)[r];
		case LANCE_TYPE_INT16:
			return ((const int16 *) a->values)[r];
		case LANCE_TYPE_INT32:
			return ((const int32 *) a->values)[r];
		default:
			return ((const int64 *) a->values)[r];
	}
}

/*
 * lance_int_filter_pass
 *		Whether row r passes every comparison.
 */
bool
lance_int_filter_pass(const LanceIntFilter *f, const LanceBatch *batch, const int *cols, int64 r)
{
	for (int i = 0; i < f->n; i++)
	{
		const IntComparison *c = &f->cmps[i];
		const LanceArray *a = batch->columns[cols[c->col]];
		int64		x;
		bool		pass;

		if (!lance_array_is_valid(a, r))
			return false;
		x = int_value(a, r);
		switch (c->strategy)
		{
			case BTLessStrategyNumber:
				pass = x < c->value;
				break;
			case BTLessEqualStrategyNumber:
				pass = x <= c->value;
				break;
			case BTEqualStrategyNumber:
				pass = x == c->value;
				break;
			case BTGreaterEqualStrategyNumber:
				pass = x >= c->value;
				break;
			default:
				pass = x > c->value;
				break;
		}
		if (!pass)
			return false;
	}
	return true;
}

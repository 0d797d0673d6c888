/*-------------------------------------------------------------------------
 *
 * search_prefilter.c
 *	  Integer comparisons and text equalities of a search's quals, tested
 *	  on decoded columns without the executor.
 *
 * An indexed search with quals first finds the rows that pass them over
 * every indexed row (LanceDB's prefilter), so the quals run once per row of
 * the dataset: through ExecQual that costs more than the index search
 * itself.  LanceDB evaluates such filters as vectorized comparisons over
 * Arrow arrays; for the commonest shapes we do the same on the decoded
 * column:
 *
 * - `intcol op constant`, op one of the integer btree comparisons (<, <=,
 *   =, >=, >): the btree strategy gives the operator's meaning, and
 *   integers of any width compare exactly in int64;
 * - `textcol = 'constant'` under a deterministic collation in a UTF-8
 *   database, where texteq compares bytes; each value's UTF-8 is verified
 *   as converting it would, so a bad value raises the same error.
 *
 * A NULL value passes no comparison, as the operator, being strict, would
 * yield NULL.  Any other qual sends the whole filter back to ExecQual.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_type.h"
#include "mb/pg_wchar.h"
#include "nodes/primnodes.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "fdw/search_prefilter.h"

/* One `column op value` comparison. */
typedef struct Comparison
{
	int			col;			/* index into the qual columns */
	StrategyNumber strategy;	/* BTLessStrategyNumber .. BTGreaterStrategyNumber */
	int64		value;			/* integers */
	const char *text;			/* text equality: the constant's bytes, or NULL */
	int			text_len;
} Comparison;

struct LanceQualFilter
{
	int			n;
	Comparison *cmps;
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

/* The index of the qual column var is, or -1. */
static int
qual_column(const Var *var, int nqualcols, const AttrNumber *qual_attnums)
{
	for (int i = 0; i < nqualcols; i++)
	{
		if (qual_attnums[i] == var->varattno)
			return i;
	}
	return -1;
}

/* Fill cmp from `textcol = const` under byte-wise equality; false if not. */
static bool
compile_text_equality(OpExpr *op, Var *var, Const *con, int nqualcols,
					  const AttrNumber *qual_attnums, LanceConverter *const *convs,
					  Comparison *cmp)
{
	const LanceConverter *conv;

	if (op->opno != TextEqualOperator || var->vartype != TEXTOID ||
		con->consttype != TEXTOID || GetDatabaseEncoding() != PG_UTF8 ||
		!get_collation_isdeterministic(op->inputcollid))
		return false;
	cmp->col = qual_column(var, nqualcols, qual_attnums);
	if (cmp->col < 0)
		return false;
	conv = convs[cmp->col];
	if (conv->kind != CONV_TEXT || (conv->field->type.id != LANCE_TYPE_STRING &&
									conv->field->type.id != LANCE_TYPE_LARGE_STRING))
		return false;
	cmp->strategy = BTEqualStrategyNumber;
	cmp->text = VARDATA_ANY(DatumGetPointer(con->constvalue));
	cmp->text_len = VARSIZE_ANY_EXHDR(DatumGetPointer(con->constvalue));
	return true;
}

/* Fill cmp from `var op const` or `const op var`; false for another shape. */
static bool
compile_one(Expr *qual, Index scanrelid, int nqualcols, const AttrNumber *qual_attnums,
			LanceConverter *const *convs, Comparison *cmp)
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
	if (var->varno != scanrelid || con->constisnull)
		return false;
	cmp->text = NULL;
	if (compile_text_equality(op, var, con, nqualcols, qual_attnums, convs, cmp))
		return true;
	if (!is_int_type(var->vartype) || !is_int_type(con->consttype))
		return false;
	strategy = get_op_opfamily_strategy(op->opno, INTEGER_BTREE_FAM_OID);
	if (strategy < BTLessStrategyNumber || strategy > BTGreaterStrategyNumber)
		return false;

	cmp->col = qual_column(var, nqualcols, qual_attnums);
	if (cmp->col < 0 || !field_fits_column(convs[cmp->col]->field, var->vartype))
		return false;
	cmp->strategy = (var == (Var *) left) ? strategy : commute(strategy);
	cmp->value = const_int64(con);
	return true;
}

/*
 * lance_qual_filter_compile
 *		The quals as integer comparisons and text equalities, or NULL.
 */
LanceQualFilter *
lance_qual_filter_compile(List *quals, Index scanrelid, int nqualcols,
						  const AttrNumber *qual_attnums, LanceConverter *const *convs)
{
	LanceQualFilter *f = palloc(sizeof(LanceQualFilter));
	ListCell   *lc;

	f->n = 0;
	f->cmps = palloc(sizeof(Comparison) * Max(list_length(quals), 1));
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
 * Whether row r of a string array equals the comparison's text; its bytes
 * are verified as UTF-8 first, as converting the value would.
 */
static bool
text_equals(const Comparison *c, const LanceArray *a, int64 r)
{
	int64		start = lance_array_offset(a, r);
	int64		len = lance_array_offset(a, r + 1) - start;
	const char *p = (const char *) a->values + start;

	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Lance string value of %lld bytes is too long", (long long) len)));
	(void) pg_verify_mbstr(PG_UTF8, p, (int) len, false);
	return len == c->text_len && memcmp(p, c->text, len) == 0;
}

/*
 * lance_qual_filter_pass
 *		Whether row r passes every comparison.
 */
bool
lance_qual_filter_pass(const LanceQualFilter *f, const LanceBatch *batch, const int *cols, int64 r)
{
	for (int i = 0; i < f->n; i++)
	{
		const Comparison *c = &f->cmps[i];
		const LanceArray *a = batch->columns[cols[c->col]];
		int64		x;
		bool		pass;

		if (!lance_array_is_valid(a, r))
			return false;
		if (c->text != NULL)
		{
			if (!text_equals(c, a, r))
				return false;
			continue;
		}
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

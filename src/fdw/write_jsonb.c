/*-------------------------------------------------------------------------
 *
 * write_jsonb.c
 *	  Lists of lists from jsonb: the inverse of how they are read.
 *
 * A list<list<T>> or list<fixed_size_list<T, n>> field reads as a jsonb
 * array of arrays (convert.c), ragged and with nulls at every level, so
 * that is what it is written from: a JSON null is a null list or item,
 * [] an empty one.  Each inner array becomes a Postgres array of the
 * items' natural type, its scalars read by that type's input function
 * (numbers, the strings a scan prints for NaN, bytea's "\x..." and dates),
 * and is pushed as the inner field's value by the converter that writes
 * array columns, which checks a fixed-size list's dimension and the
 * items' nullability and range.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"

#include "fdw/lance_write.h"

/* Where in a jsonb value an error arose, for its context line. */
typedef struct JsonbWritePos
{
	const char *field;
	int			list;			/* 1-based inner list, 0 before the first */
} JsonbWritePos;

static void
jsonb_write_context(void *arg)
{
	JsonbWritePos *pos = (JsonbWritePos *) arg;

	if (pos->list > 0)
		errcontext("element %d of the jsonb array written to Lance field \"%s\"",
				   pos->list, pos->field);
}

/* A JSON scalar as the text its Postgres type's input function reads. */
static char *
scalar_text(const JsonbValue *v, const JsonbWritePos *pos)
{
	switch (v->type)
	{
		case jbvString:
			return pnstrdup(v->val.string.val, v->val.string.len);
		case jbvNumeric:
			return DatumGetCString(DirectFunctionCall1(numeric_out,
													   NumericGetDatum(v->val.numeric)));
		case jbvBool:
			return pstrdup(v->val.boolean ? "true" : "false");
		default:
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("Lance field \"%s\" holds lists of lists, one level deeper items cannot be written",
							pos->field),
					 errhint("Give each inner list's items as JSON scalars.")));
	}
	return NULL;				/* keep the compiler quiet */
}

/* An inner JSON array as a one-dimensional array of the items' type. */
static Datum
inner_array(const LanceConverter *ic, JsonbContainer *c, const JsonbWritePos *pos)
{
	Oid			elemtype = ic->item->typid;
	Oid			infn;
	Oid			ioparam;
	int			n = JsonContainerSize(c);
	Datum	   *elems = palloc(Max(n, 1) * sizeof(Datum));
	bool	   *nulls = palloc(Max(n, 1) * sizeof(bool));
	int			dims[1] = {n};
	int			lbs[1] = {1};
	JsonbIterator *it = JsonbIteratorInit(c);
	JsonbValue	v;
	JsonbIteratorToken tok;
	int			i = 0;

	if (n == 0)
		return PointerGetDatum(construct_empty_array(elemtype));
	getTypeInputInfo(elemtype, &infn, &ioparam);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		nulls[i] = v.type == jbvNull;
		elems[i] = nulls[i] ? (Datum) 0
			: OidInputFunctionCall(infn, scalar_text(&v, pos), ioparam, -1);
		i++;
	}
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, elemtype,
											  ic->elmlen, ic->elmbyval, ic->elmalign));
}

/*
 * Push a jsonb array of arrays as one row of a list of lists (conv->item
 * set: see convert.h).
 */
void
lance_push_jsonb_lists(const LanceConverter *conv, LanceArray *a, Datum d, CoreError *err)
{
	Jsonb	   *jb = DatumGetJsonbP(d);
	JsonbWritePos pos = {conv->field->name, 0};
	ErrorContextCallback callback;
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken tok;

	if (!JB_ROOT_IS_ARRAY(jb) || JB_ROOT_IS_SCALAR(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("jsonb value for Lance field \"%s\" is not an array",
						conv->field->name),
				 errdetail("The field is a %s, written from a JSON array of arrays.",
						   conv->field->logical_type)));
	callback.callback = jsonb_write_context;
	callback.arg = &pos;
	callback.previous = error_context_stack;
	error_context_stack = &callback;
	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		pos.list++;
		if (v.type == jbvNull)
			lance_push_datum(conv->item, a->children[0], (Datum) 0, true, err);
		else if (v.type == jbvBinary && JsonContainerIsArray(v.val.binary.data))
			lance_push_datum(conv->item, a->children[0],
							 inner_array(conv->item, v.val.binary.data, &pos), false, err);
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("element %d of the jsonb value for Lance field \"%s\" is not an array or null",
							pos.list, conv->field->name),
					 errdetail("The field is a %s, written from a JSON array of arrays.",
							   conv->field->logical_type)));
	}
	error_context_stack = callback.previous;
	if (lance_array_push_list_end(a, err) != CORE_OK)
		lance_report_core_error(err);
}

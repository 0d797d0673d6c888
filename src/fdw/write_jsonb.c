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
 * (numbers; for floats also the strings a scan prints for NaN and the
 * infinities; strings for text, bytea's "\x...", dates and times),
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

/* The JSON type of a value, for messages. */
static const char *
json_type_name(const JsonbValue *v)
{
	switch (v->type)
	{
		case jbvString:
			return "string";
		case jbvNumeric:
			return "number";
		case jbvBool:
			return "boolean";
		default:
			return v->type == jbvBinary && JsonContainerIsObject(v->val.binary.data)
				? "object" : "array";
	}
}

static bool
is_number_kind(LanceConvKind kind)
{
	return kind == CONV_INT2 || kind == CONV_INT4 || kind == CONV_INT8 ||
		kind == CONV_NUMERIC || kind == CONV_FLOAT4 || kind == CONV_FLOAT8;
}

/*
 * Whether a JSON scalar may stand for an item of kind: numbers for
 * numeric kinds (and for floats the strings a scan prints for NaN and
 * the infinities), booleans for bool, strings for the rest (text, bytea's
 * "\x...", dates and times), so that [["12"]] is not taken for a bigint
 * nor [[1e2]] for a text.
 */
static bool
json_fits(const JsonbValue *v, LanceConvKind kind)
{
	if (kind == CONV_BOOL)
		return v->type == jbvBool;
	if ((kind == CONV_FLOAT4 || kind == CONV_FLOAT8) && v->type == jbvString)
	{
		const char *str = v->val.string.val;
		int			len = v->val.string.len;

		return (len == 3 && strncmp(str, "NaN", 3) == 0) ||
			(len == 8 && strncmp(str, "Infinity", 8) == 0) ||
			(len == 9 && strncmp(str, "-Infinity", 9) == 0);
	}
	if (is_number_kind(kind))
		return v->type == jbvNumeric;
	return v->type == jbvString;
}

/*
 * A JSON scalar as the text the item type's input function reads: an
 * integral number written with a fraction (1.0, as jsonb keeps it) loses
 * its zero fraction, so that integer types take it.
 */
static char *
scalar_text(const JsonbValue *v, LanceConvKind kind, Oid elemtype, const char *field)
{
	char	   *text;

	if (!json_fits(v, kind))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("JSON %s cannot be a %s item of Lance field \"%s\"",
						json_type_name(v), format_type_be(elemtype), field),
				 errdetail("Items of type %s are written from JSON %s.", format_type_be(elemtype),
						   kind == CONV_BOOL ? "booleans"
						   : kind == CONV_FLOAT4 || kind == CONV_FLOAT8
						   ? "numbers or the strings \"NaN\", \"Infinity\" and \"-Infinity\""
						   : is_number_kind(kind) ? "numbers" : "strings")));
	if (v->type == jbvString)
		return pnstrdup(v->val.string.val, v->val.string.len);
	if (v->type == jbvBool)
		return pstrdup(v->val.boolean ? "true" : "false");
	text = DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(v->val.numeric)));
	if (kind == CONV_INT2 || kind == CONV_INT4 || kind == CONV_INT8)
	{
		char	   *point = strchr(text, '.');
		char	   *end = text + strlen(text);

		while (point != NULL && end > point + 1 && end[-1] == '0')
			*--end = '\0';
		if (point != NULL && end == point + 1)
			*point = '\0';
	}
	return text;
}

/*
 * An inner JSON array as a one-dimensional array of the items' type
 * (conv is the list of lists' converter, conv->item the inner list's).
 */
static Datum
inner_array(const LanceConverter *conv, JsonbContainer *c)
{
	const LanceConverter *ic = conv->item;
	Oid			elemtype = ic->item->typid;
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
	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok != WJB_ELEM)
			continue;
		nulls[i] = v.type == jbvNull;
		elems[i] = nulls[i] ? (Datum) 0
			: InputFunctionCall((FmgrInfo *) &conv->item_input,
								scalar_text(&v, ic->item->kind, elemtype, conv->field->name),
								conv->item_ioparam, -1);
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
							 inner_array(conv, v.val.binary.data), false, err);
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

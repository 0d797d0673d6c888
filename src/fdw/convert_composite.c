/*-------------------------------------------------------------------------
 *
 * convert_composite.c
 *	  Lance structs as Postgres composite types, both ways.
 *
 * A foreign-table column of a composite type holds a struct field: each
 * attribute of the type names a member (by name, exactly), converted as
 * a column of the attribute's type would be.  Members the type has no
 * attribute for are not read, and are written as nulls.  Reading builds
 * the row value from the members' values at the struct's row; writing
 * pushes each attribute onto its member's array, then ends the struct.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "fdw/convert.h"
#include "fdw/lance_write.h"

/*
 * Fill in a converter from struct field conv->field to the composite
 * type conv->typid: a member converter per attribute.
 */
void
lance_composite_converter(LanceConverter *conv, const char *relname, const char *attname)
{
	const LanceField *field = conv->field;
	TupleDesc	desc = lookup_rowtype_tupdesc_copy(conv->typid, conv->typmod);

	conv->kind = CONV_COMPOSITE;
	conv->rowdesc = desc;
	conv->members = palloc0(sizeof(LanceConverter *) * Max(field->num_children, 1));
	conv->member_attr = palloc(sizeof(int) * Max(field->num_children, 1));
	for (int c = 0; c < field->num_children; c++)
		conv->member_attr[c] = -1;
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int			c;

		if (att->attisdropped)
			continue;
		for (c = 0; c < field->num_children; c++)
			if (strcmp(field->children[c]->name, NameStr(att->attname)) == 0)
				break;
		if (c == field->num_children)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
					 errmsg("attribute \"%s\" of type %s has no member in Lance struct field \"%s\"",
							NameStr(att->attname), format_type_be(conv->typid), field->name),
					 errdetail("Column \"%s\" of foreign table \"%s\" has that type.",
							   attname, relname),
					 errhint("Name each attribute of the type after a member of the struct.")));
		conv->member_attr[c] = i;
		conv->members[c] = lance_converter_for(field->children[c], att->atttypid, att->atttypmod,
											   relname, attname);
		conv->members[c]->parent = conv;
	}
}

/* The struct at `row` of a decoded array as a row value. */
Datum
lance_composite_datum(const LanceConverter *conv, const LanceArray *array, int64 row)
{
	TupleDesc	desc = conv->rowdesc;
	Datum	   *values = palloc0(sizeof(Datum) * Max(desc->natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(desc->natts, 1));

	memset(nulls, true, sizeof(bool) * Max(desc->natts, 1));
	for (int c = 0; c < conv->field->num_children; c++)
	{
		int			a = conv->member_attr[c];

		if (a >= 0)
			values[a] = lance_convert_value(conv->members[c], array->children[c], row, &nulls[a]);
	}
	return HeapTupleGetDatum(heap_form_tuple(desc, values, nulls));
}

/* Push a row value onto a struct array, member by member. */
void
lance_push_composite(const LanceConverter *conv, LanceArray *a, Datum d, CoreError *err)
{
	HeapTupleHeader th = DatumGetHeapTupleHeader(d);
	TupleDesc	desc = conv->rowdesc;
	HeapTupleData tuple;
	Datum	   *values = palloc(sizeof(Datum) * Max(desc->natts, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(desc->natts, 1));

	tuple.t_len = HeapTupleHeaderGetDatumLength(th);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = th;
	heap_deform_tuple(&tuple, desc, values, nulls);
	for (int c = 0; c < conv->field->num_children; c++)
	{
		int			i = conv->member_attr[c];

		if (i >= 0)
			lance_push_datum(conv->members[c], a->children[c], values[i], nulls[i], err);
		else if (!conv->field->children[c]->nullable)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("Lance struct member \"%s.%s\" is not nullable, but type %s has no attribute for it",
							conv->field->name, conv->field->children[c]->name,
							format_type_be(conv->typid))));
		else if (lance_array_append_nulls(a->children[c], 1, err) != CORE_OK)
			lance_report_core_error(err);
	}
	if (lance_array_push_struct_end(a, err) != CORE_OK)
		lance_report_core_error(err);
}

/*-------------------------------------------------------------------------
 *
 * write_sql.c
 *	  SQL functions that change whole datasets: create and restore.
 *
 * lance_create_table(foreign_table, version) creates the empty dataset a
 * foreign table points to, with one Lance field per column (its type
 * mapped the way IMPORT FOREIGN SCHEMA maps the other way, NOT NULL
 * columns as non-nullable fields), so the table is defined once, in SQL.
 *
 * lance_restore(foreign_table, version) commits a new version equal to an
 * old one, as LanceDB's restore does.  lance_cleanup(foreign_table,
 * older_than) removes old versions and the files only they needed.  Both take effect at once, not at
 * the end of the transaction: a Lance version cannot be rolled back.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/typcache.h"
#include "access/table.h"
#include "commands/defrem.h"
#include "foreign/foreign.h"

#include "fdw/lance_write.h"

PG_FUNCTION_INFO_V1(lance_create_table);
PG_FUNCTION_INFO_V1(lance_restore);
PG_FUNCTION_INFO_V1(lance_cleanup);
PG_FUNCTION_INFO_V1(lance_compact);

/* The foreign table's writable location, with ownership and privilege checked. */
static LanceTableOptions *
writable_table(Oid relid)
{
	LanceTableOptions *opts;

	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a foreign table", get_rel_name(relid))));
	/* whole-dataset changes are maintenance: the table's owner's, as VACUUM */
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER, OBJECT_FOREIGN_TABLE, get_rel_name(relid));
	opts = lance_get_table_options(relid);
	lance_check_local_write(opts->location);
	return opts;
}

/* The Lance logical type of a column's type, or an error naming both. */
static char *
lance_type_for(Oid typid, int32 typmod, const char *attname)
{
	switch (typid)
	{
		case BOOLOID:
			return "bool";
		case INT2OID:
			return "int16";
		case INT4OID:
			return "int32";
		case INT8OID:
			return "int64";
		case FLOAT4OID:
			return "float";
		case FLOAT8OID:
			return "double";
		case TEXTOID:
		case VARCHAROID:
			return "string";
		case BYTEAOID:
			return "binary";
		case DATEOID:
			return "date32:day";
		case TIMESTAMPOID:
			return "timestamp:us:-";
		case TIMESTAMPTZOID:
			return "timestamp:us:UTC";
		case TIMEOID:
			return "time64:us";
		default:
			break;
	}
	if (typid == NUMERICOID)
	{
		int32		tm = typmod - VARHDRSZ;
		int			precision = (tm >> 16) & 0xffff;

		/* the scale is an 11-bit signed field of the typmod (numeric.c) */
		int			scale = ((tm & 0x7ff) ^ 1024) - 1024;
		int			bits;
		int			max_digits;

		if (typmod < (int32) VARHDRSZ)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" needs a precision to become a Lance decimal field", attname),
					 errhint("Declare it as numeric(p, s), with p at most 76.")));
		if (precision > 76)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of type %s has more digits than a Lance decimal field holds",
							attname, format_type_with_typemod(typid, typmod)),
					 errdetail("Lance decimals hold at most 76 digits (decimal256).")));
		/* decimal128 holds 38 digits, as Arrow's does; wider ones take 256 bits */
		bits = precision <= 38 ? 128 : 256;
		max_digits = bits == 128 ? 38 : 76;

		/*
		 * Arrow refuses a scale above the precision; a negative one is held
		 * to as many digits as the field has, as Lance readers parse it.
		 */
		if (scale > precision || scale < -max_digits)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of type %s has a scale no Lance decimal field of its precision holds",
							attname, format_type_with_typemod(typid, typmod)),
					 errdetail("A decimal%d field of precision %d takes a scale from %d to %d.",
							   bits, precision, -max_digits, precision),
					 errhint("Declare the column with a scale in that range.")));
		return psprintf("decimal:%d:%d:%d", bits, precision, scale);
	}
	if (typid == lance_vector_type_oid())
	{
		if (typmod <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("column \"%s\" needs a dimension to become a Lance vector field", attname),
					 errhint("Declare it as vector(n).")));
		return psprintf("fixed_size_list:float:%d", typmod);
	}
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("column \"%s\" of type %s has no Lance field type this extension writes",
					attname, format_type_with_typemod(typid, typmod))));
	return NULL;
}

/* A field spec; parent is the position of the parent spec, -1 at top level. */
static LanceFieldSpec *
field_spec(const char *name, const char *logical_type, bool nullable, int parent)
{
	LanceFieldSpec *spec = palloc0(sizeof(LanceFieldSpec));

	spec->name = name;
	spec->logical_type = logical_type;
	spec->nullable = nullable;
	spec->parent_id = parent;
	return spec;
}

/*
 * Append the Lance fields of one column (or composite attribute) to
 * specs, in pre-order: the field, then an array's item (a list; of a
 * composite type, a list of structs) or a composite type's attributes (a
 * struct's members, named after them, composite ones becoming structs in
 * turn).  parent is the position of
 * the enclosing struct's spec, -1 at top level.
 */
static List *
column_fields(List *specs, const char *name, Oid typid, int32 typmod, bool nullable,
			  const char *attname, int parent)
{
	int			self = list_length(specs);
	Oid			elemtype = get_element_type(typid);

	if (elemtype != InvalidOid && typid != lance_vector_type_oid())
	{
		/* the item of a scalar type, or a struct for a composite type */
		specs = lappend(specs, field_spec(name, "list", nullable, parent));
		/* an array column's typmod is its elements' (numeric(p, s)[]) */
		return column_fields(specs, "item", elemtype, typmod, true, attname, self);
	}
	if (get_typtype(typid) == TYPTYPE_COMPOSITE)
	{
		TupleDesc	desc = lookup_rowtype_tupdesc_copy(typid, typmod);

		specs = lappend(specs, field_spec(name, "struct", nullable, parent));
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped)
				specs = column_fields(specs, pstrdup(NameStr(att->attname)), att->atttypid,
									  att->atttypmod, true,
									  psprintf("%s.%s", attname, NameStr(att->attname)), self);
		}
		return specs;
	}
	return lappend(specs, field_spec(name, lance_type_for(typid, typmod, attname), nullable, parent));
}

/*
 * lance_create_table
 *		Create the empty dataset of a foreign table from its columns.
 */
Datum
lance_create_table(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	char	   *version = text_to_cstring(PG_GETARG_TEXT_PP(1));
	LanceTableOptions *opts = writable_table(relid);
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	List	   *fields = NIL;
	LanceFieldSpec *specs;
	LanceFileVersion fv;
	Storage    *st;
	CoreError	err;
	CoreStatus	status;
	int			n = 0;
	ListCell   *lc;

	if (lance_file_version_parse(version, &fv, &err) != CORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Lance file version \"%s\"", version),
				 errhint("Use 2.0, 2.1 or 2.2.")));
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		const char *name;
		Oid			elemtype = get_element_type(att->atttypid);

		if (att->attisdropped)
			continue;
		name = lance_column_field_name(relid, att->attnum, NameStr(att->attname));
		/*
		 * Postgres does not enforce declared dimensions, so they are only
		 * taken for what the column's dataset should hold: more than two
		 * would silently make a flat list, and lists of lists of vectors
		 * or structs cannot be written.
		 */
		if (elemtype != InvalidOid &&
			(att->attndims > 2 ||
			 (att->attndims == 2 && (elemtype == lance_vector_type_oid() ||
									 get_typtype(elemtype) == TYPTYPE_COMPOSITE))))
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("column \"%s\" of type %s declared with %d dimensions cannot become a Lance field",
							NameStr(att->attname), format_type_be(att->atttypid), att->attndims),
					 errdetail("Lance lists of lists are written for scalar items only, and lists nest at most two deep."),
					 errhint("Declare one dimension for a list, or two of a scalar type for a list of lists, which reads and writes as jsonb.")));
		if (att->attndims == 2 && elemtype != InvalidOid)
		{
			/*
			 * Declared with two dimensions (bigint[][], text[][]): a list
			 * of lists, whose inner lists may differ in length, so it is
			 * read and written as jsonb.
			 */
			int			self = list_length(fields);

			fields = lappend(fields, field_spec(name, "list", !att->attnotnull, -1));
			fields = column_fields(fields, "item", att->atttypid, att->atttypmod, true,
								   NameStr(att->attname), self);
			continue;
		}
		fields = column_fields(fields, name, att->atttypid, att->atttypmod, !att->attnotnull,
							   NameStr(att->attname), -1);
	}
	table_close(rel, AccessShareLock);
	specs = palloc0(sizeof(LanceFieldSpec) * Max(list_length(fields), 1));
	foreach(lc, fields)
		specs[n++] = *(LanceFieldSpec *) lfirst(lc);

	if (lance_storage_open(opts->location, opts->storage_options, &st, &err) != CORE_OK)
		lance_report_core_error(&err);
	status = lance_dataset_create(st, "", specs, n, fv, &err);
	storage_close(st);
	if (status == CORE_ERR_CONFLICT)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("a Lance dataset already exists at \"%s\"", opts->location)));
	if (status != CORE_OK)
		lance_report_core_error(&err);
	PG_RETURN_VOID();
}

/*
 * lance_restore
 *		A new version equal to an old one; returns the version made.
 */
Datum
lance_restore(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int64		version = PG_GETARG_INT64(1);
	LanceTableOptions *opts = writable_table(relid);
	Storage    *st;
	CoreError	err;
	CoreStatus	status;
	uint64_t	made;

	if (version <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a Lance version is a positive integer")));
	if (lance_storage_open(opts->location, opts->storage_options, &st, &err) != CORE_OK)
		lance_report_core_error(&err);
	status = lance_dataset_restore(st, "", (uint64_t) version, &made, &err);
	storage_close(st);
	if (status == CORE_ERR_NOT_FOUND)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
				 errmsg("Lance dataset \"%s\" has no version " INT64_FORMAT, opts->location, version)));
	if (status != CORE_OK)
		lance_report_core_error(&err);
	PG_RETURN_INT64((int64) made);
}

/*
 * lance_cleanup
 *		Remove versions older than a cutoff and the files only they needed;
 *		returns what was removed.
 */
Datum
lance_cleanup(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	TimestampTz cutoff = PG_GETARG_TIMESTAMPTZ(1);
	LanceTableOptions *opts = writable_table(relid);
	Storage    *st;
	LanceCleanupStats stats;
	CoreError	err;
	CoreStatus	status;
	TupleDesc	tupdesc;
	Datum		values[3];
	bool		nulls[3] = {false, false, false};

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "lance_cleanup must return a row");
	if (lance_storage_open(opts->location, opts->storage_options, &st, &err) != CORE_OK)
		lance_report_core_error(&err);
	status = lance_dataset_cleanup(st, (int64_t) timestamptz_to_time_t(cutoff), &stats, &err);
	storage_close(st);
	if (status != CORE_OK)
		lance_report_core_error(&err);
	values[0] = Int64GetDatum((int64) stats.versions_removed);
	values[1] = Int64GetDatum((int64) stats.files_removed);
	values[2] = Int64GetDatum((int64) stats.bytes_removed);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}

/*
 * lance_compact
 *		Rewrite small fragments and fragments with deletions into new, full
 *		ones as one new version; returns the rows moved.
 */
Datum
lance_compact(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	LanceTableOptions *opts = writable_table(relid);
	LanceWriteOptions wopts;
	Storage    *st;
	LanceWriter *wr = NULL;
	CoreError	err;
	CoreStatus	status;
	int64_t		moved = 0;
	uint64_t	version;
	ListCell   *lc;

	memset(&wopts, 0, sizeof(wopts));
	foreach(lc, GetForeignTable(relid)->options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "max_rows_per_file") == 0)
			wopts.max_rows_per_file = lance_parse_max_rows_per_file(defGetString(def));
	}
	if (opts->version != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("foreign table \"%s\" is pinned to a version and cannot be compacted",
						get_rel_name(relid))));
	if (lance_storage_open(opts->location, opts->storage_options, &st, &err) != CORE_OK)
		lance_report_core_error(&err);
	status = lance_writer_open(st, "", &wopts, &wr, &err);
	if (status == CORE_OK)
		status = lance_writer_compact(wr, &moved, &err);
	if (status == CORE_OK)
		status = lance_writer_commit(wr, &version, &err);
	lance_writer_free(wr);
	storage_close(st);
	if (status != CORE_OK)
		lance_report_core_error(&err);
	PG_RETURN_INT64((int64) moved);
}

/*-------------------------------------------------------------------------
 *
 * copy_fast.c
 *	  COPY FROM in text or CSV format into a Lance foreign table, without
 *	  the executor's per-row path.
 *
 * A text COPY into a Lance table spent most of its time in Postgres'
 * per-row machinery (input functions, slots, ExecForeignInsert), the same
 * time a COPY into a heap table takes.  A ProcessUtility hook takes a
 * COPY FROM whose target is one of our foreign tables and runs it here:
 * Postgres' own BeginCopyFrom and NextCopyFromRawFields split lines into
 * fields (escapes, NULL strings, HEADER, CSV quoting, encodings stay
 * exactly Postgres'), then each field is parsed straight into the value
 * the column's input function would return, for the spellings a program
 * writes (field_parse.h), and handed to the writer the INSERT path uses
 * (lance_append_values), so transactions, savepoints and files are those
 * of any other write.  Any other spelling goes to the column's input
 * function, with the error context COPY sets, so results and errors are
 * the standard path's.
 *
 * The hook runs a COPY only when it can do all the standard path would;
 * otherwise (binary format, a WHERE clause, triggers, defaults or
 * generated columns it would have to compute, a partition, row-level
 * security, a table pinned to a version, an option it does not know, a
 * read-only transaction, a missing privilege) it hands the statement on
 * unchanged, and the standard path does the work or raises its own error.
 * lancedb.copy_fast_path = off hands every COPY on.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "commands/defrem.h"
#include "commands/progress.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/backend_progress.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"

#include "fdw/copy_fast.h"
#include "fdw/lance_write.h"
#include "kernels/field_parse.h"
#include "kernels/float_parse.h"
#include "types/vector.h"

/* 2000-01-01, Postgres' timestamp epoch, in microseconds after Unix's */
#define PG_EPOCH_UNIX_USECS (INT64CONST(10957) * USECS_PER_DAY)

/* How a column's fields become values. */
typedef enum FieldKind
{
	FIELD_INPUT,				/* the type's input function */
	FIELD_BOOL,
	FIELD_INT2,
	FIELD_INT4,
	FIELD_INT8,
	FIELD_FLOAT4,
	FIELD_FLOAT8,
	FIELD_TEXT,
	FIELD_TIMESTAMP,
	FIELD_VECTOR
} FieldKind;

/* One column of the COPY's column list. */
typedef struct CopyColumn
{
	int			attno;			/* 0-based attribute */
	const char *attname;
	FieldKind	kind;
	int32		typmod;
	FmgrInfo   *in_func;		/* from COPY's state */
	Oid			typioparam;
	bool		force_notnull;	/* CSV FORCE_NOT_NULL */
	bool		force_null;		/* CSV FORCE_NULL */
	/* FIELD_TEXT: the value's varlena, reused row after row */
	text	   *text_buf;
	Size		text_cap;
	/* FIELD_VECTOR: the value, of typmod dimensions, reused */
	Vector	   *vec;
} CopyColumn;

static bool lance_copy_fast_path = true;
static ProcessUtility_hook_type prev_utility_hook = NULL;

/* The options whose meaning the fast path keeps by using COPY's parser. */
static const char *const fast_options[] = {
	"format", "delimiter", "null", "header", "quote", "escape", "force_not_null",
	"force_null", "encoding", NULL
};

/* Whether every option is one COPY's own parser handles for us. */
static bool
options_are_fast(List *options)
{
	ListCell   *lc;

	foreach(lc, options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);
		bool		known = false;

		for (int i = 0; fast_options[i] && !known; i++)
			known = strcmp(def->defname, fast_options[i]) == 0;
		if (!known)
			return false;
		/* binary COPY has no text to parse: the standard path is as fast */
		if (strcmp(def->defname, "format") == 0 &&
			(def->arg == NULL || !IsA(def->arg, String) ||
			 (strcmp(strVal(def->arg), "text") != 0 && strcmp(strVal(def->arg), "csv") != 0)))
			return false;
	}
	return true;
}

/* Whether the user may read the COPY's source, as DoCopy requires. */
static bool
may_read_source(const CopyStmt *stmt)
{
	if (stmt->filename == NULL || superuser())
		return true;
	if (stmt->is_program)
		return has_privs_of_role(GetUserId(), ROLE_PG_EXECUTE_SERVER_PROGRAM);
	return has_privs_of_role(GetUserId(), ROLE_PG_READ_SERVER_FILES);
}

/*
 * Whether the standard path would do no more per row than parse the
 * listed columns and insert: no triggers, no partition constraint, no
 * generated column, and no omitted column it would fill with a default
 * (a column's own, or its domain's).
 */
static bool
rows_need_only_input(Relation rel, List *attnums)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);

	if (rel->trigdesc != NULL || rel->rd_rel->relispartition ||
		(tupdesc->constr && tupdesc->constr->has_generated_stored))
		return false;
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);

		if (att->attisdropped || list_member_int(attnums, att->attnum))
			continue;
		if (att->atthasdef || get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
			return false;
	}
	return true;
}

/*
 * Whether the user may insert into the listed columns, checked as DoCopy
 * checks it: through a range table entry asking for INSERT on them.
 */
static bool
may_insert(ParseState *pstate, Relation rel, List *attnums)
{
	ParseNamespaceItem *nsitem = addRangeTableEntryForRelation(pstate, rel, RowExclusiveLock,
															   NULL, false, false);
	RangeTblEntry *rte = nsitem->p_rte;
	ListCell   *lc;

	rte->requiredPerms = ACL_INSERT;
	foreach(lc, attnums)
		rte->insertedCols = bms_add_member(rte->insertedCols,
										   lfirst_int(lc) - FirstLowInvalidHeapAttributeNumber);
	return ExecCheckRTPerms(pstate->p_rtable, false);
}

/* The fast parser for a column's type, if it has one. */
static FieldKind
field_kind(Form_pg_attribute att)
{
	switch (att->atttypid)
	{
		case BOOLOID:
			return FIELD_BOOL;
		case INT2OID:
			return FIELD_INT2;
		case INT4OID:
			return FIELD_INT4;
		case INT8OID:
			return FIELD_INT8;
		case FLOAT4OID:
			return FIELD_FLOAT4;
		case FLOAT8OID:
			return FIELD_FLOAT8;
		case TEXTOID:
			return FIELD_TEXT;
		case TIMESTAMPOID:
			/* a precision rounds the fraction: the input function does */
			return att->atttypmod < 0 ? FIELD_TIMESTAMP : FIELD_INPUT;
		default:
			if (att->atttypid == lance_vector_type_oid() && att->atttypmod > 0)
				return FIELD_VECTOR;
			return FIELD_INPUT;
	}
}

/* Describe the COPY's columns, in the order their fields come. */
static CopyColumn *
copy_columns(CopyFromState cstate, Relation rel)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	CopyColumn *cols = palloc0(sizeof(CopyColumn) * list_length(cstate->attnumlist));
	ListCell   *lc;
	int			i = 0;

	foreach(lc, cstate->attnumlist)
	{
		CopyColumn *col = &cols[i++];
		Form_pg_attribute att = TupleDescAttr(tupdesc, lfirst_int(lc) - 1);

		col->attno = att->attnum - 1;
		col->attname = NameStr(att->attname);
		col->kind = field_kind(att);
		col->typmod = att->atttypmod;
		col->in_func = &cstate->in_functions[col->attno];
		col->typioparam = cstate->typioparams[col->attno];
		col->force_notnull = cstate->opts.force_notnull_flags[col->attno];
		col->force_null = cstate->opts.force_null_flags[col->attno];
		if (col->kind == FIELD_TEXT)
		{
			col->text_cap = 256;
			col->text_buf = palloc(col->text_cap);
		}
		else if (col->kind == FIELD_VECTOR)
		{
			col->vec = palloc0(VECTOR_SIZE(col->typmod));
			SET_VARSIZE(col->vec, VECTOR_SIZE(col->typmod));
			col->vec->dim = (int16) col->typmod;
		}
	}
	return cols;
}

/*
 * The value the fast parser of col reads from string, in *value; false
 * when string is not in the one spelling it reads.
 */
static bool
parse_canonical(CopyColumn *col, const char *string, Datum *value)
{
	int64_t		i64;
	const char *end;

	switch (col->kind)
	{
		case FIELD_BOOL:
			if ((string[0] != 't' && string[0] != 'f') || string[1] != '\0')
				return false;
			*value = BoolGetDatum(string[0] == 't');
			return true;
		case FIELD_INT2:
			if (!field_parse_int64(string, &i64) || i64 < PG_INT16_MIN || i64 > PG_INT16_MAX)
				return false;
			*value = Int16GetDatum((int16) i64);
			return true;
		case FIELD_INT4:
			if (!field_parse_int64(string, &i64) || i64 < PG_INT32_MIN || i64 > PG_INT32_MAX)
				return false;
			*value = Int32GetDatum((int32) i64);
			return true;
		case FIELD_INT8:
			if (!field_parse_int64(string, &i64))
				return false;
			*value = Int64GetDatum(i64);
			return true;
		case FIELD_FLOAT4:
			{
				float		f;

				if (!float_parse_fast(string, &f, &end) || *end != '\0')
					return false;
				*value = Float4GetDatum(f);
				return true;
			}
		case FIELD_FLOAT8:
			{
				double		d;

				if (!double_parse_fast(string, &d, &end) || *end != '\0')
					return false;
				*value = Float8GetDatum(d);
				return true;
			}
		case FIELD_TIMESTAMP:
			if (!field_parse_timestamp(string, &i64))
				return false;
			*value = TimestampGetDatum(i64 - PG_EPOCH_UNIX_USECS);
			return true;
		case FIELD_TEXT:
			{
				/* COPY has checked the encoding; textin only copies */
				Size		len = strlen(string);

				if (len + VARHDRSZ > col->text_cap)
				{
					col->text_cap = Max(len + VARHDRSZ, 2 * col->text_cap);
					col->text_buf = repalloc(col->text_buf, col->text_cap);
				}
				SET_VARSIZE(col->text_buf, len + VARHDRSZ);
				memcpy(VARDATA(col->text_buf), string, len);
				*value = PointerGetDatum(col->text_buf);
				return true;
			}
		case FIELD_VECTOR:
			if (!field_parse_float_list(string, col->vec->x, col->typmod))
				return false;
			*value = PointerGetDatum(col->vec);
			return true;
		case FIELD_INPUT:
			break;
	}
	return false;
}

/*
 * Read every row of the COPY and append it to the writer; the number of
 * rows.  Fields are read as NextCopyFrom reads them (the same checks, CSV
 * flags and error context), every field of a row before the row is
 * appended, as the standard path converts a row before inserting it.
 */
static uint64
copy_rows(CopyFromState cstate, Relation rel, LanceModifyState *ms)
{
	int			natts = RelationGetDescr(rel)->natts;
	int			ncols = list_length(cstate->attnumlist);
	CopyColumn *cols = copy_columns(cstate, rel);
	Datum	   *values = palloc0(sizeof(Datum) * natts);
	bool	   *nulls = palloc(sizeof(bool) * natts);
	MemoryContext row_cxt = AllocSetContextCreate(CurrentMemoryContext, "lancedb_fdw COPY row",
												  ALLOCSET_DEFAULT_SIZES);
	ErrorContextCallback errcallback;
	uint64		processed = 0;

	/* columns not listed stay null */
	memset(nulls, true, sizeof(bool) * natts);
	errcallback.callback = CopyFromErrorCallback;
	errcallback.arg = cstate;
	errcallback.previous = error_context_stack;
	error_context_stack = &errcallback;
	for (;;)
	{
		char	  **fields;
		int			nfields;
		MemoryContext old;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(row_cxt);
		old = MemoryContextSwitchTo(row_cxt);
		if (!NextCopyFromRawFields(cstate, &fields, &nfields))
		{
			MemoryContextSwitchTo(old);
			break;
		}
		if (nfields > ncols)
			ereport(ERROR,
					(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
					 errmsg("extra data after last expected column")));
		for (int i = 0; i < ncols; i++)
		{
			CopyColumn *col = &cols[i];
			char	   *string;

			if (i >= nfields)
				ereport(ERROR,
						(errcode(ERRCODE_BAD_COPY_FILE_FORMAT),
						 errmsg("missing data for column \"%s\"", col->attname)));
			string = fields[i];
			if (cstate->opts.csv_mode)
			{
				if (string == NULL && col->force_notnull)
					string = cstate->opts.null_print;
				else if (string != NULL && col->force_null &&
						 strcmp(string, cstate->opts.null_print) == 0)
					string = NULL;
			}
			cstate->cur_attname = col->attname;
			cstate->cur_attval = string;
			if (string != NULL && parse_canonical(col, string, &values[col->attno]))
				nulls[col->attno] = false;
			else
			{
				values[col->attno] = InputFunctionCall(col->in_func, string, col->typioparam,
													   col->typmod);
				nulls[col->attno] = string == NULL;
			}
			cstate->cur_attname = NULL;
			cstate->cur_attval = NULL;
		}
		lance_append_values(ms, values, nulls);
		MemoryContextSwitchTo(old);
		pgstat_progress_update_param(PROGRESS_COPY_TUPLES_PROCESSED, ++processed);
	}
	error_context_stack = errcallback.previous;
	MemoryContextDelete(row_cxt);
	return processed;
}

/*
 * Run stmt on the fast path if it is a COPY FROM it can run; false,
 * having done nothing the standard path would not do first (it looks the
 * relation up with the lock COPY FROM takes), when it is not.
 */
static bool
copy_fast(CopyStmt *stmt, const char *queryString, QueryEnvironment *queryEnv,
		  QueryCompletion *qc)
{
	Oid			relid;
	FdwRoutine *routine;
	Relation	rel;
	ParseState *pstate;
	List	   *attnums;
	CopyFromState cstate;
	LanceModifyState *ms;
	uint64		processed;

	if (!stmt->is_from || stmt->relation == NULL || stmt->query != NULL ||
		stmt->whereClause != NULL || !options_are_fast(stmt->options) ||
		XactReadOnly || IsInParallelMode() || !may_read_source(stmt))
		return false;
	relid = RangeVarGetRelid(stmt->relation, RowExclusiveLock, true);
	if (!OidIsValid(relid) || get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		return false;
	routine = GetFdwRoutineByRelId(relid);
	if (routine->ExecForeignInsert != lanceExecForeignInsert ||
		lance_get_table_options(relid)->version != 0)
		return false;

	rel = table_open(relid, NoLock);
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = queryString;
	pstate->p_queryEnv = queryEnv;
	attnums = CopyGetAttnums(RelationGetDescr(rel), rel, stmt->attlist);
	if (attnums == NIL || !rows_need_only_input(rel, attnums) ||
		!may_insert(pstate, rel, attnums) ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
	{
		free_parsestate(pstate);
		table_close(rel, NoLock);
		return false;
	}

	cstate = BeginCopyFrom(pstate, rel, NULL, stmt->filename, stmt->is_program, NULL,
						   stmt->attlist, stmt->options);
	if (cstate->num_defaults != 0)
		elog(ERROR, "lancedb_fdw: COPY fast path met a column default");
	ms = lance_begin_append(rel);
	ereport(DEBUG1,
			(errmsg_internal("COPY into foreign table \"%s\" runs on the Lance fast path",
							 RelationGetRelationName(rel))));
	processed = copy_rows(cstate, rel, ms);
	EndCopyFrom(cstate);
	free_parsestate(pstate);
	table_close(rel, NoLock);
	if (qc)
		SetQueryCompletion(qc, CMDTAG_COPY, processed);
	return true;
}

static void
lance_copy_utility(PlannedStmt *pstmt, const char *queryString, bool readOnlyTree,
				   ProcessUtilityContext context, ParamListInfo params,
				   QueryEnvironment *queryEnv, DestReceiver *dest, QueryCompletion *qc)
{
	if (lance_copy_fast_path && IsA(pstmt->utilityStmt, CopyStmt) &&
		copy_fast((CopyStmt *) pstmt->utilityStmt, queryString, queryEnv, qc))
		return;
	if (prev_utility_hook)
		prev_utility_hook(pstmt, queryString, readOnlyTree, context, params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
								dest, qc);
}

void
lance_copy_init(void)
{
	DefineCustomBoolVariable("lancedb.copy_fast_path",
							 "Runs COPY FROM into Lance foreign tables without the executor's per-row path.",
							 "Off runs every COPY on the standard path, to compare the two.",
							 &lance_copy_fast_path,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	prev_utility_hook = ProcessUtility_hook;
	ProcessUtility_hook = lance_copy_utility;
}

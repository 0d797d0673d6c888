/*-------------------------------------------------------------------------
 *
 * fdw_modify.c
 *	  INSERT, COPY FROM, UPDATE and DELETE on Lance foreign tables.
 *
 * Every change a Postgres transaction makes to one dataset goes into one
 * core LanceWriter, kept for the whole transaction (in a list that lives
 * in TopMemoryContext, since core objects outlive statements): inserted
 * rows are buffered and written as large data files, deletes are
 * collected per fragment.  At XACT_EVENT_PRE_COMMIT each writer commits
 * its changes as one new Lance version; a failure there (a conflict with
 * another writer, a full disk) is an ERROR that aborts the Postgres
 * transaction.  On abort the writers are dropped: the files they wrote
 * are orphans no manifest refers to, so no version appears.
 *
 * Row identity for UPDATE and DELETE is the Lance row address, carried by
 * the scan in the ctid (lance_write.h).  An UPDATE deletes the old row
 * and appends the new one, as LanceDB does.
 *
 * The writing transaction reads its own changes: a scan of a dataset this
 * transaction changed reads the writer's staged version (the version
 * read with the changes applied, buffered rows flushed to a data file)
 * instead of the newest committed one, so a later statement sees the
 * rows earlier ones appended and not those they deleted, and updates and
 * deletes rows of the staged fragments by their staged addresses.  A
 * statement reads the staged version of its start, so it can meet a row
 * twice (a join with two source rows): a DELETE deletes it once, as in a
 * heap table; a second UPDATE is an error, as LanceDB's merge_insert
 * refuses a row matched by two source rows.
 *
 * Subtransactions (SAVEPOINT, PL/pgSQL EXCEPTION blocks, psql's
 * ON_ERROR_ROLLBACK) map to writer savepoints: the first change a
 * subtransaction makes to a dataset sets one, so rolling the
 * subtransaction back takes back exactly its changes (rows half-pushed by
 * a failed statement included) and committing it hands them to the
 * parent.  Each writer keeps the ids of the subtransactions that hold its
 * savepoints, oldest first, to match the callbacks' events to them.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/appendinfo.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "fdw/lance_write.h"

/* Rows handed to ExecForeignBatchInsert at a time. */
#define LANCE_INSERT_BATCH_SIZE 1000

/* One dataset written by the current transaction. */
typedef struct XactWriter
{
	char	   *location;		/* in TopMemoryContext */
	Storage    *storage;
	LanceWriter *writer;
	List	   *subxids;		/* subtransactions holding a savepoint of
								 * writer, oldest first (an OID list) */
	struct XactWriter *next;
} XactWriter;

static XactWriter *xact_writers = NULL;
static bool callbacks_registered = false;

/* Execution state of one ModifyTable (or COPY) on a Lance table. */
struct LanceModifyState
{
	XactWriter *xw;
	char	   *location;
	int			nfields;		/* top-level fields of the schema */
	int		   *attr_of_field;	/* 0-based attribute per field, -1 = none */
	LanceConverter **convs;		/* per field, NULL when no column */
	AttrNumber	ctid_attno;		/* junk ctid in the plan's output */
	bool		v20;			/* 2.0 files: no null structs */
	MemoryContext temp_cxt;		/* per-row garbage of conversions */
};

/* ---------------------------------------------------------------------
 * Transaction-wide writers
 * ---------------------------------------------------------------------
 */

static void
free_xact_writers(void)
{
	XactWriter *xw = xact_writers;

	xact_writers = NULL;
	while (xw)
	{
		XactWriter *next = xw->next;

		lance_writer_free(xw->writer);
		storage_close(xw->storage);
		list_free(xw->subxids);
		pfree(xw->location);
		pfree(xw);
		xw = next;
	}
}

/* Commit every writer's changes as a new version of its dataset. */
static void
commit_xact_writers(void)
{
	for (XactWriter *xw = xact_writers; xw; xw = xw->next)
	{
		CoreError	err;
		uint64_t	version;

		if (!lance_writer_has_changes(xw->writer))
			continue;
		if (lance_writer_commit(xw->writer, &version, &err) == CORE_OK)
			continue;
		if (err.status == CORE_ERR_CONFLICT && lance_writer_conflict_version(xw->writer) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("could not serialize access to Lance dataset \"%s\" due to version " UINT64_FORMAT " committed by another writer",
							xw->location, lance_writer_conflict_version(xw->writer)),
					 errdetail("%s", err.msg),
					 errhint("Run the transaction again: it will read the newest version.")));
		ereport(ERROR,
				(errcode(err.status == CORE_ERR_CONFLICT
						 ? ERRCODE_T_R_SERIALIZATION_FAILURE : ERRCODE_FDW_ERROR),
				 errmsg("could not commit changes to Lance dataset \"%s\"", xw->location),
				 errdetail("%s", err.msg),
				 err.status == CORE_ERR_CONFLICT
				 ? errhint("Run the transaction again: it will read the newest version.") : 0));
	}
}

static void
lance_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PARALLEL_PRE_COMMIT:
			commit_xact_writers();
			break;
		case XACT_EVENT_PRE_PREPARE:
			for (XactWriter *xw = xact_writers; xw; xw = xw->next)
				if (lance_writer_has_changes(xw->writer))
					ereport(ERROR,
							(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
							 errmsg("cannot PREPARE a transaction that changed Lance dataset \"%s\"",
									xw->location)));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
		case XACT_EVENT_PREPARE:
			free_xact_writers();
			break;
	}
}

/*
 * A subtransaction ends: rolled back, its writer savepoints take back its
 * changes; committed, they become its parent's (or, at top level, part of
 * the transaction).  Children end before their parent, so a savepoint of
 * mySubid can only be the newest.
 */
static void
lance_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	if (event != SUBXACT_EVENT_ABORT_SUB && event != SUBXACT_EVENT_COMMIT_SUB)
		return;
	for (XactWriter *xw = xact_writers; xw; xw = xw->next)
	{
		int			n = list_length(xw->subxids);

		if (n == 0 || llast_oid(xw->subxids) != mySubid)
			continue;
		if (event == SUBXACT_EVENT_ABORT_SUB)
		{
			lance_writer_rollback_savepoint(xw->writer);
			xw->subxids = list_delete_last(xw->subxids);
			lance_source_forget(xw->location);
		}
		else if (parentSubid == TopSubTransactionId ||
				 (n >= 2 && list_nth_oid(xw->subxids, n - 2) == parentSubid))
		{
			/* the parent's savepoint (or none) already covers the changes */
			lance_writer_release_savepoint(xw->writer);
			xw->subxids = list_delete_last(xw->subxids);
		}
		else
			llast_oid(xw->subxids) = parentSubid;
	}
}

/* The transaction's writer for a dataset, opened on first use. */
static XactWriter *
xact_writer(const char *location, List *storage_options, int64 max_rows_per_file)
{
	XactWriter *xw;
	MemoryContext old;
	CoreError	err;
	CoreStatus	status;
	LanceWriteOptions wopts;

	for (xw = xact_writers; xw; xw = xw->next)
		if (strcmp(xw->location, location) == 0)
			return xw;

	if (!callbacks_registered)
	{
		RegisterXactCallback(lance_xact_callback, NULL);
		RegisterSubXactCallback(lance_subxact_callback, NULL);
		callbacks_registered = true;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	xw = palloc0(sizeof(XactWriter));
	xw->location = pstrdup(location);
	MemoryContextSwitchTo(old);

	memset(&wopts, 0, sizeof(wopts));
	wopts.max_rows_per_file = max_rows_per_file;
	status = lance_storage_open(location, storage_options, &xw->storage, &err);
	if (status == CORE_OK)
		status = lance_writer_open(xw->storage, "", &wopts, &xw->writer, &err);
	if (status != CORE_OK)
	{
		storage_close(xw->storage);
		pfree(xw->location);
		pfree(xw);
		if (status == CORE_ERR_NOT_FOUND)
			ereport(ERROR,
					(errcode(ERRCODE_FDW_TABLE_NOT_FOUND),
					 errmsg("no Lance dataset at \"%s\"", location),
					 errdetail("%s", err.msg)));
		lance_report_core_error(&err);
	}
	xw->next = xact_writers;
	xact_writers = xw;
	return xw;
}

/*
 * The version a scan of the dataset at location in this transaction
 * reads when it asks for the newest one: the staged version of this
 * transaction's changes, opened on st into *ds; false when this
 * transaction has not changed the dataset.
 */
bool
lance_xact_staged_dataset(const char *location, Storage *st, LanceDataset **ds)
{
	CoreError	err;

	for (XactWriter *xw = xact_writers; xw; xw = xw->next)
	{
		if (strcmp(xw->location, location) != 0)
			continue;
		if (!lance_writer_has_changes(xw->writer))
			return false;
		if (lance_writer_open_staged(xw->writer, st, ds, &err) != CORE_OK)
			lance_report_core_error(&err);
		return true;
	}
	return false;
}

/*
 * Before the current subtransaction's first change to the writer, set a
 * savepoint for rolling it back to; then make later reads in this
 * statement open the dataset again, to see the change.
 */
static void
note_change(XactWriter *xw)
{
	SubTransactionId cur = GetCurrentSubTransactionId();

	if (cur != TopSubTransactionId &&
		(xw->subxids == NIL || llast_oid(xw->subxids) != cur))
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);
		CoreError	err;

		/* the list grows first: dropping its last cell cannot fail */
		xw->subxids = lappend_oid(xw->subxids, cur);
		MemoryContextSwitchTo(old);
		if (lance_writer_savepoint(xw->writer, &err) != CORE_OK)
		{
			xw->subxids = list_delete_last(xw->subxids);
			lance_report_core_error(&err);
		}
	}
	lance_source_forget(xw->location);
}

/* ---------------------------------------------------------------------
 * Options and privileges
 * ---------------------------------------------------------------------
 */

/*
 * Check the current user may write local files, as COPY TO a file needs:
 * a dataset's files are created on the server's file system.
 */
void
lance_check_local_write(const char *location)
{
	if (!lance_location_is_local(location))
		return;
	if (!has_privs_of_role(GetUserId(), ROLE_PG_WRITE_SERVER_FILES))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to write Lance datasets on the server's file system"),
				 errdetail("Location \"%s\" is a local path.", location),
				 errhint("Only superusers and roles with privileges of the pg_write_server_files role may change local Lance datasets.")));
}

int64
lance_parse_max_rows_per_file(const char *value)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v <= 0 || v > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_ATTRIBUTE_VALUE),
				 errmsg("invalid value for option \"max_rows_per_file\": \"%s\"", value),
				 errdetail("The value must be a positive integer of at most %d.", PG_INT32_MAX)));
	return (int64) v;
}

static int64
table_max_rows_per_file(Oid relid)
{
	ListCell   *lc;

	foreach(lc, GetForeignTable(relid)->options)
	{
		DefElem    *def = lfirst_node(DefElem, lc);

		if (strcmp(def->defname, "max_rows_per_file") == 0)
			return lance_parse_max_rows_per_file(defGetString(def));
	}
	return 0;
}

/* ---------------------------------------------------------------------
 * Planning
 * ---------------------------------------------------------------------
 */

/*
 * lanceIsForeignRelUpdatable
 *		Tables pinned to a version are read-only: a past version is history.
 */
int
lanceIsForeignRelUpdatable(Relation rel)
{
	LanceTableOptions *opts = lance_get_table_options(RelationGetRelid(rel));

	if (opts->version != 0)
		return 0;
	return (1 << CMD_INSERT) | (1 << CMD_UPDATE) | (1 << CMD_DELETE);
}

/*
 * lanceAddForeignUpdateTargets
 *		UPDATE and DELETE identify rows by the row address in the ctid.
 */
void
lanceAddForeignUpdateTargets(PlannerInfo *root, Index rtindex, RangeTblEntry *target_rte,
							 Relation target_relation)
{
	Var		   *var = makeVar(rtindex, SelfItemPointerAttributeNumber, TIDOID, -1,
							  InvalidOid, 0);

	add_row_identity_var(root, var, rtindex, "ctid");
}

/*
 * lancePlanForeignModify
 *		Nothing to plan: the executor finds the dataset from the relation.
 */
List *
lancePlanForeignModify(PlannerInfo *root, ModifyTable *plan, Index resultRelation,
					   int subplan_index)
{
	return NIL;
}

/* ---------------------------------------------------------------------
 * Execution
 * ---------------------------------------------------------------------
 */

/*
 * Bind every top-level field of the dataset to the column that feeds it;
 * a field without a column gets nulls, which a non-nullable one refuses.
 */
static void
bind_fields(LanceModifyState *ms, Relation rel)
{
	const LanceSchema *schema = lance_writer_schema(ms->xw->writer);
	TupleDesc	tupdesc = RelationGetDescr(rel);
	CoreError	err;

	if (lance_writer_prepare_append(ms->xw->writer, &err) != CORE_OK)
		ereport(ERROR,
				(errcode(err.status == CORE_ERR_UNSUPPORTED
						 ? ERRCODE_FEATURE_NOT_SUPPORTED : ERRCODE_FDW_ERROR),
				 errmsg("cannot add rows to Lance dataset \"%s\"", ms->location),
				 errdetail("%s", err.msg)));
	ms->nfields = lance_schema_num_top(schema);
	ms->v20 = lance_writer_file_version(ms->xw->writer) == LANCE_FILE_V2_0;
	ms->attr_of_field = palloc(sizeof(int) * Max(ms->nfields, 1));
	ms->convs = palloc0(sizeof(LanceConverter *) * Max(ms->nfields, 1));
	for (int f = 0; f < ms->nfields; f++)
		ms->attr_of_field[f] = -1;
	for (int i = 0; i < tupdesc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(tupdesc, i);
		char	   *name;

		if (att->attisdropped)
			continue;
		name = lance_column_field_name(RelationGetRelid(rel), att->attnum, NameStr(att->attname));
		for (int f = 0; f < ms->nfields; f++)
		{
			const LanceField *field = lance_schema_top(schema, f);

			if (strcmp(field->name, name) != 0)
				continue;
			if (ms->attr_of_field[f] >= 0)
				ereport(ERROR,
						(errcode(ERRCODE_FDW_INVALID_COLUMN_NAME),
						 errmsg("Lance field \"%s\" is written by two columns of foreign table \"%s\"",
								name, RelationGetRelationName(rel))));
			ms->attr_of_field[f] = i;
			ms->convs[f] = lance_converter_for(field, att->atttypid, att->atttypmod,
											   RelationGetRelationName(rel), NameStr(att->attname));
		}
	}
	for (int f = 0; f < ms->nfields; f++)
	{
		const LanceField *field = lance_schema_top(schema, f);

		if (ms->attr_of_field[f] < 0 && !field->nullable)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("Lance field \"%s\" is not nullable, but foreign table \"%s\" has no column for it",
							field->name, RelationGetRelationName(rel))));
	}
}

/* Set up writing to a relation; insert says whether rows are appended. */
static LanceModifyState *
begin_modify(Relation rel, bool insert)
{
	LanceTableOptions *opts = lance_get_table_options(RelationGetRelid(rel));
	LanceModifyState *ms = palloc0(sizeof(LanceModifyState));

	if (opts->version != 0)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_ERROR),
				 errmsg("foreign table \"%s\" is pinned to version " UINT64_FORMAT " and cannot be changed",
						RelationGetRelationName(rel), opts->version)));
	lance_check_local_write(opts->location);
	ms->location = opts->location;
	ms->xw = xact_writer(opts->location, opts->storage_options,
						 table_max_rows_per_file(RelationGetRelid(rel)));
	if (insert)
		bind_fields(ms, rel);
	ms->temp_cxt = AllocSetContextCreate(CurrentMemoryContext, "lancedb_fdw modify",
										 ALLOCSET_DEFAULT_SIZES);
	return ms;
}

/*
 * The dotted name of the first struct at or under field (in a: a struct,
 * or a list of structs) holding a null, or NULL.
 */
static char *
null_struct_in(const LanceField *field, const LanceArray *a)
{
	if (field->type.id == LANCE_TYPE_STRUCT && a->null_count > 0)
		return pstrdup(field->name);
	if (field->type.id != LANCE_TYPE_STRUCT && field->type.id != LANCE_TYPE_LIST)
		return NULL;
	for (int c = 0; c < field->num_children; c++)
	{
		char	   *below = null_struct_in(field->children[c], a->children[c]);

		if (below)
			return psprintf("%s.%s", field->name, below);
	}
	return NULL;
}

/*
 * File version 2.0 has no null structs: refuse one in the row just pushed
 * onto array a of a top-level field (the buffer held none before) now
 * rather than when the file is written, at commit.
 */
static void
check_no_null_struct(LanceModifyState *ms, const LanceField *field, const LanceArray *a)
{
	char	   *name = null_struct_in(field, a);

	if (name != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot store a null struct in Lance dataset \"%s\" of file version 2.0",
						ms->location),
				 errdetail("Field \"%s\" is a struct; file version 2.0 has no null structs.", name),
				 errhint("Write a struct whose members are null instead.")));
}

/*
 * lance_begin_append
 *		Set up appending rows to a relation, for COPY's fast path.
 */
LanceModifyState *
lance_begin_append(Relation rel)
{
	return begin_modify(rel, true);
}

/*
 * lance_append_values
 *		Append a row, given as one value per attribute of the relation, to
 *		the writer's buffer.
 */
void
lance_append_values(LanceModifyState *ms, const Datum *values, const bool *isnull)
{
	MemoryContext old = MemoryContextSwitchTo(ms->temp_cxt);
	CoreError	err;

	/* before the first value: an error halfway leaves a partial row */
	note_change(ms->xw);
	for (int f = 0; f < ms->nfields; f++)
	{
		int			a = ms->attr_of_field[f];
		LanceArray *arr = lance_writer_column(ms->xw->writer, f);

		if (a < 0)
		{
			if (lance_array_append_nulls(arr, 1, &err) != CORE_OK)
				lance_report_core_error(&err);
		}
		else
			lance_push_datum(ms->convs[f], arr, values[a], isnull[a], &err);
		if (ms->v20 && (arr->type->id == LANCE_TYPE_STRUCT || arr->type->id == LANCE_TYPE_LIST))
			check_no_null_struct(ms, lance_schema_top(lance_writer_schema(ms->xw->writer), f),
								 arr);
	}
	if (lance_writer_row_done(ms->xw->writer, &err) != CORE_OK)
		lance_report_core_error(&err);
	MemoryContextSwitchTo(old);
	MemoryContextReset(ms->temp_cxt);
}

/* Append the row in slot to the writer's buffer. */
static void
append_row(LanceModifyState *ms, TupleTableSlot *slot)
{
	slot_getallattrs(slot);
	lance_append_values(ms, slot->tts_values, slot->tts_isnull);
}

/* The row address of the row an UPDATE or DELETE targets. */
static uint64
target_row_addr(LanceModifyState *ms, TupleTableSlot *planSlot)
{
	bool		isnull;
	Datum		d = ExecGetJunkAttribute(planSlot, ms->ctid_attno, &isnull);
	uint64		addr;

	if (isnull)
		elog(ERROR, "lancedb_fdw: ctid is NULL");
	if (!lance_tid_to_row_addr((ItemPointer) DatumGetPointer(d), &addr))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot update or delete a row of Lance dataset \"%s\" whose fragment id and offset need more than %d bits",
						ms->location, ROWADDR48_PAYLOAD_BITS)));
	return addr;
}

/*
 * Delete the row at addr for a DELETE or an UPDATE; false when this
 * statement already deleted it (its scan matched the row twice).
 */
static bool
delete_row(LanceModifyState *ms, uint64 addr, bool update)
{
	CoreError	err;

	if (lance_writer_deleted(ms->xw->writer, addr))
	{
		if (update)
			ereport(ERROR,
					(errcode(ERRCODE_CARDINALITY_VIOLATION),
					 errmsg("cannot update a row of a Lance dataset twice in one statement"),
					 errdetail("Dataset \"%s\", row address " UINT64_FORMAT ".",
							   ms->location, addr),
					 errhint("Make sure no row to change is matched by more than one source row.")));
		return false;
	}
	note_change(ms->xw);
	if (lance_writer_delete(ms->xw->writer, addr, &err) != CORE_OK)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("the row to change is not in the version of Lance dataset \"%s\" this transaction writes",
						ms->location),
				 errdetail("%s", err.msg),
				 errhint("Run the statement again.")));
	return true;
}

/*
 * lanceBeginForeignModify
 *		Open (or reuse) the transaction's writer of the dataset.
 */
void
lanceBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo, List *fdw_private,
						int subplan_index, int eflags)
{
	CmdType		op = mtstate->operation;
	LanceModifyState *ms;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	ms = begin_modify(rinfo->ri_RelationDesc, op == CMD_INSERT || op == CMD_UPDATE);
	if (op == CMD_UPDATE || op == CMD_DELETE)
	{
		Plan	   *subplan = outerPlanState(mtstate)->plan;

		ms->ctid_attno = ExecFindJunkAttributeInTlist(subplan->targetlist, "ctid");
		if (!AttributeNumberIsValid(ms->ctid_attno))
			elog(ERROR, "lancedb_fdw: could not find junk ctid column");
	}
	rinfo->ri_FdwState = ms;
}

TupleTableSlot *
lanceExecForeignInsert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					   TupleTableSlot *planSlot)
{
	append_row(rinfo->ri_FdwState, slot);
	return slot;
}

TupleTableSlot **
lanceExecForeignBatchInsert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot **slots,
							TupleTableSlot **planSlots, int *numSlots)
{
	for (int i = 0; i < *numSlots; i++)
	{
		CHECK_FOR_INTERRUPTS();
		append_row(rinfo->ri_FdwState, slots[i]);
	}
	return slots;
}

/*
 * lanceGetForeignModifyBatchSize
 *		Rows are only buffered, so any batch works; RETURNING and row
 *		triggers need rows one at a time.
 */
int
lanceGetForeignModifyBatchSize(ResultRelInfo *rinfo)
{
	if (rinfo->ri_projectReturning != NULL ||
		(rinfo->ri_TrigDesc && (rinfo->ri_TrigDesc->trig_insert_before_row ||
								rinfo->ri_TrigDesc->trig_insert_after_row)))
		return 1;
	return LANCE_INSERT_BATCH_SIZE;
}

TupleTableSlot *
lanceExecForeignUpdate(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					   TupleTableSlot *planSlot)
{
	LanceModifyState *ms = rinfo->ri_FdwState;

	delete_row(ms, target_row_addr(ms, planSlot), true);
	append_row(ms, slot);
	return slot;
}

TupleTableSlot *
lanceExecForeignDelete(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
					   TupleTableSlot *planSlot)
{
	LanceModifyState *ms = rinfo->ri_FdwState;

	if (!delete_row(ms, target_row_addr(ms, planSlot), false))
		return NULL;
	return slot;
}

/*
 * lanceEndForeignModify
 *		Nothing to do: the writer commits with the transaction.
 */
void
lanceEndForeignModify(EState *estate, ResultRelInfo *rinfo)
{
}

/*
 * lanceBeginForeignInsert
 *		COPY FROM (and inserts routed to a partition): rows are appended.
 */
void
lanceBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	rinfo->ri_FdwState = begin_modify(rinfo->ri_RelationDesc, true);
}

void
lanceEndForeignInsert(EState *estate, ResultRelInfo *rinfo)
{
}

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
 * exactly Postgres'), then copy_rows.c parses each field, on a thread,
 * straight into the value the column's input function would return, for
 * the spellings a program writes, and hands the rows to the writer the
 * INSERT path uses (lance_append_values), so transactions, savepoints and
 * files are those of any other write.  Any other spelling goes to the
 * column's input function, with the error context COPY sets, so results
 * and errors are the standard path's.
 *
 * The hook runs a COPY only when it can do all the standard path would;
 * otherwise (binary format, a WHERE clause, triggers, defaults or
 * generated columns it would have to compute, a partition, row-level
 * security, a table pinned to a version, an option it does not know, a
 * read-only transaction, a missing privilege) it hands the statement on
 * unchanged, and the standard path does the work or raises its own error.
 * lancedb.copy_fast_path = off hands every COPY on, and so does another
 * extension's ProcessUtility hook installed before ours (then
 * lancedb.copy_fast_path_available is off).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "rewrite/rewriteHandler.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "fdw/copy_fast.h"
#include "fdw/copy_rows.h"
#include "fdw/lance_write.h"
#include "kernels/field_batch.h"

/* the wrapper's handler (fdw.c), which is_lance_table looks for */
extern Datum lancedb_fdw_handler(PG_FUNCTION_ARGS);

static bool lance_copy_fast_path = true;

/* lancedb.copy_fast_path_available: whether our hook was installed */
static bool lance_copy_fast_path_available;

/* lancedb.copy_parse_threads_unjoined's value: its show hook has the count */
static int	lance_copy_unjoined_dummy;

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
 * generated column, and no omitted column it would fill with a default.
 * The default test is BeginCopyFrom's own (build_column_default), so that it sees every default
 * BeginCopyFrom sees: a column's, an identity column's sequence, a base
 * type's or a domain's.
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
		if (build_column_default(rel, att->attnum) != NULL)
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

/*
 * Whether handler is our wrapper's handler function, found without
 * calling it: another wrapper's handler runs only once the standard path
 * has checked privileges.  Only a C function whose symbol has our
 * handler's name is looked up (fmgr_info loads its library), and it is
 * ours if it resolves to our own function's address.
 */
static bool
is_our_handler(Oid handler)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(handler));
	bool		named = false;
	FmgrInfo	finfo;

	if (!HeapTupleIsValid(tup))
		return false;
	if (((Form_pg_proc) GETSTRUCT(tup))->prolang == ClanguageId)
	{
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);

		named = !isnull && strcmp(TextDatumGetCString(src), "lancedb_fdw_handler") == 0;
	}
	ReleaseSysCache(tup);
	if (!named)
		return false;
	fmgr_info(handler, &finfo);
	return finfo.fn_addr == lancedb_fdw_handler;
}

/*
 * Whether relid is a foreign table of ours that no "version" option pins,
 * found without raising anything: a wrapper without a handler or a bad
 * option is the standard path's to report, after its privilege check.
 */
static bool
is_lance_table(Oid relid)
{
	ForeignTable *table;
	ForeignDataWrapper *fdw;
	ListCell   *lc;

	if (get_rel_relkind(relid) != RELKIND_FOREIGN_TABLE)
		return false;
	table = GetForeignTable(relid);
	fdw = GetForeignDataWrapper(GetForeignServer(table->serverid)->fdwid);
	if (!OidIsValid(fdw->fdwhandler) || !is_our_handler(fdw->fdwhandler))
		return false;
	foreach(lc, table->options)
	{
		if (strcmp(lfirst_node(DefElem, lc)->defname, "version") == 0)
			return false;
	}
	return true;
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
	if (!OidIsValid(relid) || !is_lance_table(relid))
		return false;

	rel = table_open(relid, NoLock);
	pstate = make_parsestate(NULL);
	pstate->p_sourcetext = queryString;
	pstate->p_queryEnv = queryEnv;
	attnums = CopyGetAttnums(RelationGetDescr(rel), rel, stmt->attlist);

	/*
	 * The privilege check comes last, so that only a missing privilege makes
	 * the standard path check privileges a second time (and raise).
	 */
	if (attnums == NIL || !rows_need_only_input(rel, attnums) ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED ||
		!may_insert(pstate, rel, attnums))
	{
		free_parsestate(pstate);
		table_close(rel, NoLock);
		return false;
	}

	cstate = BeginCopyFrom(pstate, rel, NULL, stmt->filename, stmt->is_program, NULL,
						   stmt->attlist, stmt->options);
	/* rows_need_only_input made BeginCopyFrom's own test */
	if (cstate->num_defaults != 0)
		elog(ERROR, "lancedb_fdw: COPY fast path met a column default");
	ms = lance_begin_append(rel);
	ereport(DEBUG1,
			(errmsg_internal("COPY into foreign table \"%s\" runs on the Lance fast path",
							 RelationGetRelationName(rel))));
	processed = lance_copy_rows(cstate, rel, ms);
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
	standard_ProcessUtility(pstmt, queryString, readOnlyTree, context, params, queryEnv,
							dest, qc);
}

static const char *
show_unjoined(void)
{
	static char buf[16];

	snprintf(buf, sizeof(buf), "%d", field_batch_unjoined());
	return buf;
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
	DefineCustomBoolVariable("lancedb.copy_parse_thread",
							 "Parses the fields of COPY's fast path on a thread of their own.",
							 "Off parses them on the backend, batch by batch.",
							 &lance_copy_parse_thread,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);

	/* for tests: a parse thread nothing joined would show here */
	DefineCustomIntVariable("lancedb.copy_parse_threads_unjoined",
							"Parse threads of COPY's fast path started and not yet joined.",
							NULL,
							&lance_copy_unjoined_dummy,
							0, 0, INT_MAX,
							PGC_INTERNAL,
							GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							NULL, NULL, show_unjoined);

	/*
	 * A statement the fast path runs reaches no hook installed before ours,
	 * so an auditing or counting extension loaded earlier (pgaudit,
	 * pg_stat_statements) would miss it: with such a hook in place, COPY
	 * keeps the standard path.  Loaded first, ours is the innermost hook and
	 * theirs wrap it, seeing every COPY before it runs.  A read-only setting
	 * says which happened, since lancedb.copy_fast_path stays on either way.
	 */
	lance_copy_fast_path_available = ProcessUtility_hook == NULL;
	DefineCustomBoolVariable("lancedb.copy_fast_path_available",
							 "Whether COPY FROM into Lance foreign tables can take the fast path.",
							 "Off when another extension's ProcessUtility hook was installed "
							 "before lancedb_fdw loaded: load lancedb_fdw first in "
							 "shared_preload_libraries.",
							 &lance_copy_fast_path_available,
							 lance_copy_fast_path_available,
							 PGC_INTERNAL,
							 GUC_NOT_IN_SAMPLE | GUC_DISALLOW_IN_FILE,
							 NULL, NULL, NULL);
	if (lance_copy_fast_path_available)
		ProcessUtility_hook = lance_copy_utility;
}

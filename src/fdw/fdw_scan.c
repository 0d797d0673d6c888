/*-------------------------------------------------------------------------
 *
 * fdw_scan.c
 *	  Executing a scan of a Lance foreign table, EXPLAIN and ANALYZE.
 *
 * The core scanner yields Arrow-shaped batches of the columns the query
 * needs, deleted rows already dropped.  Each row becomes a virtual tuple:
 * first the columns the pushed quals use, then, if the quals pass, the
 * rest.  Values are converted in the per-tuple memory context, as
 * file_fdw does, so a row's garbage goes with the row; the core frees a
 * batch when the next one is asked for.
 *
 * A scan whose version option is 0 reads the newest version when it
 * starts, not the one planning saw, so a cached plan sees new commits.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "commands/explain.h"
#include "commands/vacuum.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/sampling.h"

#include "fdw/convert.h"
#include "fdw/fdw_search.h"
#include "fdw/lance_fdw.h"
#include "fdw/lance_write.h"

/* The entries of a ForeignScan's fdw_private, in order. */
enum LanceScanPrivateIndex
{
	LanceScanPrivLocation,		/* String: the dataset's location */
	LanceScanPrivVersion,		/* String: the version option, "0" = newest */
	LanceScanPrivPlannedVersion,	/* String: the version planning read */
	LanceScanPrivFragments,		/* Integer: fragments at planning */
	LanceScanPrivAttnums,		/* IntList: columns to decode */
	LanceScanPrivKind,			/* Integer: LanceScanKind */
	LanceScanPrivExtra			/* the kind's own entries follow (fdw_search.c) */
};

/* Execution state of one scan. */
typedef struct LanceScanState
{
	LanceScanKind kind;
	Relation	rel;			/* NULL for a pushed-down count(*) */
	char	   *location;
	uint64		version_option;
	MemoryContext scan_cxt;		/* core objects, for the life of the scan */
	LanceSource *source;
	LanceBatch *batch;
	int64		row;			/* next row of the batch */

	/* per decoded column, in the order the scanner returns them */
	int			ncols;
	AttrNumber *attnums;		/* 1-based column of the tuple */
	LanceConverter **convs;
	bool	   *for_quals;		/* converted before the pushed quals */

	ExprState  *pushed_quals;
	List	   *pushed_exprs;	/* for EXPLAIN */
	bool		count_done;		/* LANCE_SCAN_COUNT: the row was returned */

	/* where we are, for error context */
	int64		current_row_address;
} LanceScanState;

static uint64
parse_u64(const char *s)
{
	return strtou64(s, NULL, 10);
}

/* Build the fdw_private list of a scan plan. */
List *
lance_scan_private(LanceTableOptions *opts, uint64 planned_version, int num_fragments,
				   List *attnums, LanceScanKind kind)
{
	List	   *priv = NIL;

	priv = lappend(priv, makeString(opts->location));
	priv = lappend(priv, makeString(psprintf(UINT64_FORMAT, opts->version)));
	priv = lappend(priv, makeString(psprintf(UINT64_FORMAT, planned_version)));
	priv = lappend(priv, makeInteger(num_fragments));
	priv = lappend(priv, attnums);
	priv = lappend(priv, makeInteger(kind));
	return priv;
}

/* The kind of scan a plan runs. */
LanceScanKind
lance_scan_kind(ForeignScan *plan)
{
	return intVal(list_nth(plan->fdw_private, LanceScanPrivKind));
}

/* What a scan plan reads, and the entries its kind appended. */
void
lance_scan_private_parts(ForeignScan *plan, char **location, uint64 *version_option,
						 List **attnums, List **extra)
{
	List	   *priv = plan->fdw_private;

	*location = strVal(list_nth(priv, LanceScanPrivLocation));
	*version_option = parse_u64(strVal(list_nth(priv, LanceScanPrivVersion)));
	*attnums = (List *) list_nth(priv, LanceScanPrivAttnums);
	*extra = list_copy_tail(priv, LanceScanPrivExtra);
}

/* Add the dataset and row being read to any error raised while reading. */
static void
scan_error_callback(void *arg)
{
	LanceScanState *ss = arg;

	if (ss->current_row_address >= 0)
		errcontext("Lance dataset \"%s\", fragment %u, row %u",
				   ss->location,
				   (uint32) (ss->current_row_address >> 32),
				   (uint32) ss->current_row_address);
	else
		errcontext("Lance dataset \"%s\"", ss->location);
}

/*
 * The dataset field a foreign-table column reads (its column_name option,
 * or its name), with a converter to the column's type in *conv.  A column
 * the dataset has no field for is an error naming both.
 */
const LanceField *
lance_bind_column(Relation rel, const LanceSchema *schema, const char *location,
				  AttrNumber attnum, LanceConverter **conv)
{
	Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), attnum - 1);
	char	   *name = lance_column_field_name(RelationGetRelid(rel), attnum,
											   NameStr(att->attname));
	const LanceField *field = lance_schema_find_top(schema, name);

	if (field == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_FDW_COLUMN_NAME_NOT_FOUND),
				 errmsg("column \"%s\" of foreign table \"%s\" has no field \"%s\" in Lance dataset \"%s\"",
						NameStr(att->attname), RelationGetRelationName(rel), name, location),
				 errhint("Set the column's option column_name to the field's name, or drop the column.")));
	*conv = lance_converter_for(field, att->atttypid, att->atttypmod,
								RelationGetRelationName(rel), NameStr(att->attname));
	return field;
}

/*
 * Match each column the plan needs to a top-level field of the dataset's
 * schema, with a converter for its declared type.
 */
static void
bind_columns(LanceScanState *ss, List *attnums, const LanceSchema *schema,
			 Bitmapset *qual_attrs, const char ***field_names)
{
	ListCell   *lc;
	int			i = 0;

	ss->ncols = list_length(attnums);
	ss->attnums = palloc(sizeof(AttrNumber) * Max(ss->ncols, 1));
	ss->convs = palloc(sizeof(LanceConverter *) * Max(ss->ncols, 1));
	ss->for_quals = palloc0(sizeof(bool) * Max(ss->ncols, 1));
	*field_names = palloc(sizeof(char *) * Max(ss->ncols, 1));

	foreach(lc, attnums)
	{
		AttrNumber	attnum = lfirst_int(lc);
		const LanceField *field = lance_bind_column(ss->rel, schema, ss->location, attnum,
													&ss->convs[i]);

		ss->attnums[i] = attnum;
		ss->for_quals[i] = bms_is_member(attnum - FirstLowInvalidHeapAttributeNumber,
										 qual_attrs);
		(*field_names)[i] = field->name;
		i++;
	}
}

/*
 * lanceBeginForeignScan
 *		Open the dataset at its version and start a scan of the needed columns.
 */
void
lanceBeginForeignScan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	List	   *priv = plan->fdw_private;
	LanceScanState *ss = palloc0(sizeof(LanceScanState));
	Bitmapset  *qual_attrs = NULL;
	const char **field_names;
	MemoryContext old;
	ErrorContextCallback errcb;

	if (lance_scan_kind(plan) == LANCE_SCAN_SEARCH)
	{
		lance_search_begin(node, eflags);
		return;
	}
	node->fdw_state = ss;
	ss->kind = intVal(list_nth(priv, LanceScanPrivKind));
	ss->location = strVal(list_nth(priv, LanceScanPrivLocation));
	ss->version_option = parse_u64(strVal(list_nth(priv, LanceScanPrivVersion)));
	ss->rel = node->ss.ss_currentRelation;
	ss->pushed_exprs = plan->fdw_exprs;
	ss->current_row_address = -1;

	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	ss->scan_cxt = AllocSetContextCreate(node->ss.ps.state->es_query_cxt,
										 "lancedb_fdw scan", ALLOCSET_DEFAULT_SIZES);

	errcb.callback = scan_error_callback;
	errcb.arg = ss;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	old = MemoryContextSwitchTo(ss->scan_cxt);
	ss->source = lance_source_open(ss->location, ss->version_option,
								   lance_scan_storage_options(node));
	if (ss->kind == LANCE_SCAN_ROWS)
	{
		pull_varattnos((Node *) ss->pushed_exprs, plan->scan.scanrelid, &qual_attrs);
		bind_columns(ss, (List *) list_nth(priv, LanceScanPrivAttnums),
					 lance_source_schema(ss->source), qual_attrs, &field_names);
		lance_source_start(ss->source, field_names, ss->ncols);
	}
	MemoryContextSwitchTo(old);
	error_context_stack = errcb.previous;

	if (ss->pushed_exprs != NIL)
		ss->pushed_quals = ExecInitQual(ss->pushed_exprs, (PlanState *) node);
}

/* Convert the selected columns of the current row into the slot. */
static void
fill_columns(LanceScanState *ss, TupleTableSlot *slot, bool quals_pass)
{
	for (int i = 0; i < ss->ncols; i++)
	{
		int			att = ss->attnums[i] - 1;

		if (ss->for_quals[i] != quals_pass)
			continue;
		slot->tts_values[att] = lance_convert_value(ss->convs[i], ss->batch->columns[i],
													ss->row, &slot->tts_isnull[att]);
	}
}

/* The single row of a pushed-down count(*): the count in every column. */
static TupleTableSlot *
iterate_count(LanceScanState *ss, TupleTableSlot *slot)
{
	ExecClearTuple(slot);
	if (ss->count_done)
		return slot;
	ss->count_done = true;
	for (int i = 0; i < slot->tts_tupleDescriptor->natts; i++)
	{
		slot->tts_values[i] = Int64GetDatum(lance_source_live_rows(ss->source));
		slot->tts_isnull[i] = false;
	}
	return ExecStoreVirtualTuple(slot);
}

/*
 * lanceIterateForeignScan
 *		The next row that passes the pushed quals, or an empty slot at the end.
 */
TupleTableSlot *
lanceIterateForeignScan(ForeignScanState *node)
{
	LanceScanState *ss = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	ErrorContextCallback errcb;
	MemoryContext old;

	if (lance_scan_kind((ForeignScan *) node->ss.ps.plan) == LANCE_SCAN_SEARCH)
		return lance_search_iterate(node);
	if (ss->kind == LANCE_SCAN_COUNT)
		return iterate_count(ss, slot);

	errcb.callback = scan_error_callback;
	errcb.arg = ss;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	for (;;)
	{
		if (ss->batch == NULL || ss->row >= ss->batch->num_rows)
		{
			ss->batch = lance_source_next(ss->source);
			ss->row = 0;
			if (ss->batch == NULL)
			{
				error_context_stack = errcb.previous;
				return ExecClearTuple(slot);
			}
		}

		CHECK_FOR_INTERRUPTS();
		ss->current_row_address = (int64) ss->batch->row_addrs[ss->row];
		ExecClearTuple(slot);
		memset(slot->tts_isnull, true, slot->tts_tupleDescriptor->natts * sizeof(bool));

		old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
		if (ss->pushed_quals != NULL)
		{
			fill_columns(ss, slot, true);
			ExecStoreVirtualTuple(slot);
			econtext->ecxt_scantuple = slot;
			if (!ExecQual(ss->pushed_quals, econtext))
			{
				MemoryContextSwitchTo(old);
				ResetExprContext(econtext);
				ss->row++;
				continue;
			}
			fill_columns(ss, slot, false);
		}
		else
		{
			fill_columns(ss, slot, false);
			ExecStoreVirtualTuple(slot);
		}
		MemoryContextSwitchTo(old);
		/* the row's identity for UPDATE and DELETE (fdw_modify.c) */
		lance_row_addr_to_tid((uint64) ss->current_row_address, &slot->tts_tid);
		ss->row++;
		error_context_stack = errcb.previous;
		return slot;
	}
}

/*
 * lanceReScanForeignScan
 *		Start again from the first row (same version).
 */
void
lanceReScanForeignScan(ForeignScanState *node)
{
	LanceScanState *ss = node->fdw_state;

	if (lance_scan_kind((ForeignScan *) node->ss.ps.plan) == LANCE_SCAN_SEARCH)
	{
		lance_search_rescan(node);
		return;
	}
	ss->count_done = false;
	if (ss->kind == LANCE_SCAN_ROWS && ss->source != NULL)
	{
		ss->batch = NULL;
		ss->row = 0;
		lance_source_restart(ss->source);
	}
}

/*
 * lanceEndForeignScan
 *		Free the core's objects now rather than at the end of the query.
 */
void
lanceEndForeignScan(ForeignScanState *node)
{
	LanceScanState *ss = node->fdw_state;

	if (lance_scan_kind((ForeignScan *) node->ss.ps.plan) == LANCE_SCAN_SEARCH)
	{
		lance_search_end(node);
		return;
	}
	if (ss != NULL && ss->scan_cxt != NULL)
		MemoryContextDelete(ss->scan_cxt);
}

/*
 * lanceExplainForeignScan
 *		The dataset, version, fragments and columns, and what was pushed down.
 */
void
lanceExplainForeignScan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	List	   *priv = plan->fdw_private;
	LanceScanKind kind = intVal(list_nth(priv, LanceScanPrivKind));
	uint64		version_option = parse_u64(strVal(list_nth(priv, LanceScanPrivVersion)));
	char	   *version;

	ExplainPropertyText("Lance Dataset", strVal(list_nth(priv, LanceScanPrivLocation)), es);
	version = psprintf("%s%s", strVal(list_nth(priv, LanceScanPrivPlannedVersion)),
					   version_option == 0 ? " (newest)" : "");
	ExplainPropertyText("Lance Version", version, es);
	ExplainPropertyInteger("Lance Fragments", NULL,
						   intVal(list_nth(priv, LanceScanPrivFragments)), es);

	if (kind == LANCE_SCAN_COUNT)
	{
		ExplainPropertyText("Lance Aggregate", "count(*) from the manifest", es);
		return;
	}

	{
		List	   *names = NIL;
		ListCell   *lc;
		Relation	rel = node->ss.ss_currentRelation;

		foreach(lc, (List *) list_nth(priv, LanceScanPrivAttnums))
		{
			AttrNumber	attnum = lfirst_int(lc);

			names = lappend(names,
							lance_column_field_name(RelationGetRelid(rel), attnum,
													NameStr(TupleDescAttr(RelationGetDescr(rel), attnum - 1)->attname)));
		}
		if (names == NIL)
			ExplainPropertyText("Lance Columns", "(none)", es);
		else
			ExplainPropertyList("Lance Columns", names, es);
	}

	if (plan->fdw_exprs != NIL)
	{
		List	   *context = set_deparse_context_plan(es->deparse_cxt,
													   (Plan *) plan, NIL);
		char	   *quals = deparse_expression((Node *) make_ands_explicit(plan->fdw_exprs),
											   context, es->verbose, false);

		ExplainPropertyText("Lance Filter", quals, es);
	}
	if (kind == LANCE_SCAN_SEARCH)
		lance_search_explain(node, es);
}

/* ---------------------------------------------------------------------
 * ANALYZE
 * ---------------------------------------------------------------------
 */

/*
 * Sample rows with Vitter's reservoir algorithm, as file_fdw does: the
 * scan reads every row once, keeping targrows of them.
 */
static int
acquire_sample_rows(Relation rel, int elevel, HeapTuple *rows, int targrows,
					double *totalrows, double *totaldeadrows)
{
	TupleDesc	tupdesc = RelationGetDescr(rel);
	LanceTableOptions *opts = lance_get_table_options(RelationGetRelid(rel));
	LanceScanState ss = {0};
	List	   *attnums = NIL;
	const char **field_names;
	Datum	   *values = palloc(tupdesc->natts * sizeof(Datum));
	bool	   *nulls = palloc(tupdesc->natts * sizeof(bool));
	MemoryContext scan_cxt;
	MemoryContext row_cxt;
	MemoryContext old;
	ReservoirStateData rstate;
	double		rowstoskip = -1;
	double		seen = 0;
	int			numrows = 0;

	for (int i = 1; i <= tupdesc->natts; i++)
	{
		if (!TupleDescAttr(tupdesc, i - 1)->attisdropped)
			attnums = lappend_int(attnums, i);
	}

	scan_cxt = AllocSetContextCreate(CurrentMemoryContext, "lancedb_fdw analyze",
									 ALLOCSET_DEFAULT_SIZES);
	row_cxt = AllocSetContextCreate(CurrentMemoryContext, "lancedb_fdw analyze row",
									ALLOCSET_DEFAULT_SIZES);
	ss.rel = rel;
	ss.location = opts->location;
	ss.current_row_address = -1;

	old = MemoryContextSwitchTo(scan_cxt);
	ss.source = lance_source_open(opts->location, opts->version, opts->storage_options);
	bind_columns(&ss, attnums, lance_source_schema(ss.source), NULL, &field_names);
	lance_source_start(ss.source, field_names, ss.ncols);
	MemoryContextSwitchTo(old);

	reservoir_init_selection_state(&rstate, targrows);
	for (;;)
	{
		LanceBatch *batch;

		batch = lance_source_next(ss.source);
		if (batch == NULL)
			break;
		ss.batch = batch;
		for (ss.row = 0; ss.row < batch->num_rows; ss.row++, seen++)
		{
			int			pos = -1;

			vacuum_delay_point();
			if (numrows < targrows)
				pos = numrows++;
			else
			{
				if (rowstoskip < 0)
					rowstoskip = reservoir_get_next_S(&rstate, seen, targrows);
				if (rowstoskip <= 0)
				{
					pos = (int) (targrows * sampler_random_fract(&rstate.randstate));
					heap_freetuple(rows[pos]);
				}
				rowstoskip -= 1;
			}
			if (pos < 0)
				continue;

			old = MemoryContextSwitchTo(row_cxt);
			memset(nulls, true, tupdesc->natts * sizeof(bool));
			for (int i = 0; i < ss.ncols; i++)
			{
				int			att = ss.attnums[i] - 1;

				values[att] = lance_convert_value(ss.convs[i], batch->columns[i], ss.row,
												  &nulls[att]);
			}
			MemoryContextSwitchTo(old);
			rows[pos] = heap_form_tuple(tupdesc, values, nulls);
			MemoryContextReset(row_cxt);
		}
	}

	MemoryContextDelete(row_cxt);
	MemoryContextDelete(scan_cxt);

	*totalrows = seen;
	*totaldeadrows = 0;
	ereport(elevel,
			(errmsg("\"%s\": Lance dataset has %.0f rows; %d rows in sample",
					RelationGetRelationName(rel), seen, numrows)));
	return numrows;
}

/*
 * lanceAnalyzeForeignTable
 *		ANALYZE samples rows from a full scan.
 */
bool
lanceAnalyzeForeignTable(Relation relation, AcquireSampleRowsFunc *func,
						 BlockNumber *totalpages)
{
	*func = acquire_sample_rows;
	/* a nominal size; only the ratio to rows matters to ANALYZE */
	*totalpages = 1;
	return true;
}

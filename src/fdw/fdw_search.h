/*-------------------------------------------------------------------------
 *
 * fdw_search.h
 *	  Flat nearest-neighbour search pushed into a Lance foreign scan:
 *	  `ORDER BY vec <op> q LIMIT k` ranked inside the scan.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_FDW_FDW_SEARCH_H
#define LANCEDB_FDW_FDW_SEARCH_H

#include "postgres.h"

#include "commands/explain.h"
#include "nodes/execnodes.h"
#include "nodes/pathnodes.h"

/* Define lancedb.search_pushdown; called once from _PG_init. */
extern void lance_search_init_gucs(void);

/*
 * Add a top-k search path to a foreign table's base relation when the query
 * orders by a vector distance to a constant or parameter under a LIMIT.
 * pushed_quals are the RestrictInfos the scan evaluates; local_quals those
 * it cannot (any of them rules the path out, since they would filter the k
 * rows after ranking).
 */
extern void lance_search_add_paths(PlannerInfo *root, RelOptInfo *baserel,
								   List *pushed_quals, List *local_quals,
								   double live_rows);

/* The executor callbacks of a search scan, dispatched from fdw_scan.c. */
extern void lance_search_begin(ForeignScanState *node, int eflags);
extern TupleTableSlot *lance_search_iterate(ForeignScanState *node);
extern void lance_search_rescan(ForeignScanState *node);
extern void lance_search_end(ForeignScanState *node);
extern void lance_search_explain(ForeignScanState *node, ExplainState *es);

#endif							/* LANCEDB_FDW_FDW_SEARCH_H */

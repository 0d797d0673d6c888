/*-------------------------------------------------------------------------
 *
 * copy_rows.h
 *	  The rows of COPY's fast path: split by COPY, parsed on a thread,
 *	  appended in order.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_FDW_COPY_ROWS_H
#define LANCEDB_FDW_COPY_ROWS_H

#include "postgres.h"

#include "commands/copy.h"
#include "fdw/lance_write.h"
#include "utils/relcache.h"

/* lancedb.copy_parse_thread: parse batches on a thread (else on the backend) */
extern bool lance_copy_parse_thread;

/*
 * Read every row of the COPY cstate began and append it to ms's writer;
 * the number of rows.
 */
extern uint64 lance_copy_rows(CopyFromState cstate, Relation rel, LanceModifyState *ms);

#endif							/* LANCEDB_FDW_COPY_ROWS_H */

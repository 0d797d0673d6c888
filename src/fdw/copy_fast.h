/*-------------------------------------------------------------------------
 *
 * copy_fast.h
 *	  COPY FROM into Lance foreign tables without the executor's per-row
 *	  path.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_FDW_COPY_FAST_H
#define LANCEDB_FDW_COPY_FAST_H

/*
 * Define lancedb.copy_fast_path and install the ProcessUtility hook, unless
 * another extension's hook is already installed.
 */
extern void lance_copy_init(void);

#endif							/* LANCEDB_FDW_COPY_FAST_H */

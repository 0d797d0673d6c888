/*-------------------------------------------------------------------------
 *
 * lance_write.h
 *	  Writing Lance foreign tables: INSERT, COPY, UPDATE, DELETE, and the
 *	  transaction that commits them as one Lance version.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_FDW_LANCE_WRITE_H
#define LANCEDB_FDW_LANCE_WRITE_H

#include "postgres.h"

#include "fdw/convert.h"
#include "fdw/lance_fdw.h"
#include "lance/commit.h"
#include "storage/itemptr.h"

/*
 * Row identity of UPDATE/DELETE: the Lance row address travels in the
 * scan's ctid.  A TID has 48 bits, a row address 64, so the offset in
 * the fragment takes the block number (32 bits) and the fragment id + 1
 * the item number (16 bits).  Fragments numbered 65535 and above get an
 * invalid TID, which UPDATE and DELETE refuse.
 */
#define LANCE_TID_MAX_FRAGMENT 65534

static inline void
lance_row_addr_to_tid(uint64 addr, ItemPointer tid)
{
	uint64		fragment = addr >> 32;

	ItemPointerSetBlockNumber(tid, (BlockNumber) (uint32) addr);
	tid->ip_posid = fragment <= LANCE_TID_MAX_FRAGMENT ? (OffsetNumber) (fragment + 1) : 0;
}

/* write_convert.c */
extern void lance_push_datum(const LanceConverter *conv, LanceArray *a, Datum d, bool isnull,
							 CoreError *err);

/* fdw_modify.c */
extern void lance_check_local_write(const char *location);
extern int	lanceIsForeignRelUpdatable(Relation rel);
extern void lanceAddForeignUpdateTargets(PlannerInfo *root, Index rtindex,
										 RangeTblEntry *target_rte, Relation target_relation);
extern List *lancePlanForeignModify(PlannerInfo *root, ModifyTable *plan,
									Index resultRelation, int subplan_index);
extern void lanceBeginForeignModify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
									List *fdw_private, int subplan_index, int eflags);
extern TupleTableSlot *lanceExecForeignInsert(EState *estate, ResultRelInfo *rinfo,
											  TupleTableSlot *slot, TupleTableSlot *planSlot);
extern TupleTableSlot **lanceExecForeignBatchInsert(EState *estate, ResultRelInfo *rinfo,
													TupleTableSlot **slots,
													TupleTableSlot **planSlots, int *numSlots);
extern int	lanceGetForeignModifyBatchSize(ResultRelInfo *rinfo);
extern TupleTableSlot *lanceExecForeignUpdate(EState *estate, ResultRelInfo *rinfo,
											  TupleTableSlot *slot, TupleTableSlot *planSlot);
extern TupleTableSlot *lanceExecForeignDelete(EState *estate, ResultRelInfo *rinfo,
											  TupleTableSlot *slot, TupleTableSlot *planSlot);
extern void lanceEndForeignModify(EState *estate, ResultRelInfo *rinfo);
extern void lanceBeginForeignInsert(ModifyTableState *mtstate, ResultRelInfo *rinfo);
extern void lanceEndForeignInsert(EState *estate, ResultRelInfo *rinfo);

/* Parse the max_rows_per_file table option (a positive integer). */
extern int64 lance_parse_max_rows_per_file(const char *value);

#endif							/* LANCEDB_FDW_LANCE_WRITE_H */

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
#include "core/rowaddr48.h"
#include "lance/commit.h"
#include "storage/itemptr.h"

/*
 * Row identity of UPDATE/DELETE: the Lance row address travels in the
 * scan's ctid, packed into its 48 bits (core/rowaddr48.h); an address
 * that does not pack gets a value no packed address has (header 63),
 * which UPDATE and DELETE refuse.
 */
#define LANCE_TID_UNPACKABLE (UINT64CONST(63) << ROWADDR48_PAYLOAD_BITS)

static inline void
lance_row_addr_to_tid(uint64 addr, ItemPointer tid)
{
	uint64		v;

	if (!rowaddr48_pack(addr, &v))
		v = LANCE_TID_UNPACKABLE;
	ItemPointerSetBlockNumber(tid, (BlockNumber) (v >> 16));
	tid->ip_posid = (OffsetNumber) (v & 0xFFFF);
}

/* The row address in a TID; false when the scan could not pack it. */
static inline bool
lance_tid_to_row_addr(ItemPointer tid, uint64 *addr)
{
	uint64		v = ((uint64) ItemPointerGetBlockNumberNoCheck(tid) << 16) | tid->ip_posid;
	uint64_t	a;

	if (!rowaddr48_unpack(v, &a))
		return false;
	*addr = a;
	return true;
}

/* write_convert.c */
extern void lance_push_datum(const LanceConverter *conv, LanceArray *a, Datum d, bool isnull,
							 CoreError *err);

/* convert_composite.c */
extern void lance_push_composite(const LanceConverter *conv, LanceArray *a, Datum d,
								 CoreError *err);

/* write_jsonb.c */
extern void lance_push_jsonb_lists(const LanceConverter *conv, LanceArray *a, Datum d,
								   CoreError *err);

/* fdw_modify.c */
typedef struct LanceModifyState LanceModifyState;

extern LanceModifyState *lance_begin_append(Relation rel);
extern void lance_append_values(LanceModifyState *ms, const Datum *values, const bool *isnull);
extern void lance_check_local_write(const char *location);
extern bool lance_xact_staged_dataset(const char *location, Storage *st, LanceDataset **ds);
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

/*-------------------------------------------------------------------------
 *
 * ivfpq_entries.c
 *	  lance_ivfpq: a build's encoded entries, handed back in (list, TID)
 *	  order.
 *
 * The build writes each list as a run of consecutive pages, so it needs its
 * (list, TID, codes) entries grouped by list.  When they fit in the memory
 * the build sets aside for them, they are kept in three flat arrays and
 * grouped by a counting sort on the list: the heap scan delivers TIDs in
 * ascending order, so within a list they come out sorted already (only a
 * synchronized scan, which starts mid-table and wraps around, needs a sort
 * of each list's TIDs).  That is a few bytes an entry and one pass, where a
 * tuplesort forms, compares and copies a minimal tuple per entry (about 1 s
 * of a 1M-row build's single-threaded time).  Entries that do not fit go
 * through a tuplesort, which spills to disk.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "am/ivfpq/ivfpq.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "executor/tuptable.h"
#include "utils/tuplesort.h"

/* columns of the sorted entries */
#define IVFPQ_SORT_LIST		1
#define IVFPQ_SORT_TID		2
#define IVFPQ_SORT_CODES	3

struct IvfpqEntries
{
	int			m;				/* bytes of codes per entry */
	int			lists;
	int64		count;

	/* in memory: entry i's list, TID and codes; NULL with a tuplesort */
	int64		cap;
	int32	   *list;
	ItemPointerData *tid;
	uint8	   *codes;
	int64	   *order;			/* entries by (list, TID), once sorted */
	int64		next;			/* position in order when reading */

	/* otherwise */
	TupleDesc	sortdesc;
	Tuplesortstate *sortstate;
	TupleTableSlot *putslot;
	TupleTableSlot *getslot;
	bytea	   *sortcodes;		/* one entry's codes, reused */
};

/* Bytes an entry takes in memory: list, TID, codes, place in the order. */
#define ENTRY_BYTES(m)	(sizeof(int32) + sizeof(ItemPointerData) + (m) + sizeof(int64))

/*
 * Begin collecting up to max_rows entries of m bytes of codes, for lists
 * 0 .. lists - 1, within sort_kb kilobytes.
 */
IvfpqEntries *
IvfpqEntriesBegin(int m, int lists, int64 max_rows, int sort_kb)
{
	IvfpqEntries *e = palloc0(sizeof(IvfpqEntries));

	e->m = m;
	e->lists = lists;
	if ((double) Max(max_rows, 1) * ENTRY_BYTES(m) <= (double) sort_kb * 1024.0)
	{
		e->cap = Max(max_rows, 1);
		e->list = palloc_extended(sizeof(int32) * e->cap, MCXT_ALLOC_HUGE);
		e->tid = palloc_extended(sizeof(ItemPointerData) * e->cap, MCXT_ALLOC_HUGE);
		e->codes = palloc_extended((Size) m * e->cap, MCXT_ALLOC_HUGE);
		elog(DEBUG1, "lance_ivfpq build keeps up to %lld entries in memory",
			 (long long) e->cap);
	}
	else
	{
		AttrNumber	sort_cols[] = {IVFPQ_SORT_LIST, IVFPQ_SORT_TID};
		Oid			sort_ops[] = {Int4LessOperator, TIDLessOperator};
		Oid			sort_colls[] = {InvalidOid, InvalidOid};
		bool		sort_nulls[] = {false, false};

		e->sortdesc = CreateTemplateTupleDesc(3);
		TupleDescInitEntry(e->sortdesc, IVFPQ_SORT_LIST, "list", INT4OID, -1, 0);
		TupleDescInitEntry(e->sortdesc, IVFPQ_SORT_TID, "tid", TIDOID, -1, 0);
		TupleDescInitEntry(e->sortdesc, IVFPQ_SORT_CODES, "codes", BYTEAOID, -1, 0);
		e->sortstate = tuplesort_begin_heap(e->sortdesc, 2, sort_cols, sort_ops,
											sort_colls, sort_nulls, sort_kb, NULL,
											TUPLESORT_NONE);
		e->putslot = MakeSingleTupleTableSlot(e->sortdesc, &TTSOpsVirtual);
		e->getslot = MakeSingleTupleTableSlot(e->sortdesc, &TTSOpsMinimalTuple);
		e->sortcodes = palloc(VARHDRSZ + m);
		SET_VARSIZE(e->sortcodes, VARHDRSZ + m);
		elog(DEBUG1, "lance_ivfpq build sorts %lld entries in a tuplesort of %d kB",
			 (long long) max_rows, sort_kb);
	}
	return e;
}

/* Add one entry. */
void
IvfpqEntriesAdd(IvfpqEntries *e, int32 list, ItemPointer tid, const uint8 *codes)
{
	if (e->list)
	{
		/* the table is locked against writers: its second scan sees no more */
		if (e->count >= e->cap)
			elog(ERROR, "lance_ivfpq build found more than the %lld rows of its first scan",
				 (long long) e->cap);
		e->list[e->count] = list;
		e->tid[e->count] = *tid;
		memcpy(e->codes + (Size) e->count * e->m, codes, e->m);
	}
	else
	{
		TupleTableSlot *slot = e->putslot;

		ExecClearTuple(slot);
		slot->tts_values[IVFPQ_SORT_LIST - 1] = Int32GetDatum(list);
		slot->tts_values[IVFPQ_SORT_TID - 1] = PointerGetDatum(tid);
		memcpy(VARDATA(e->sortcodes), codes, e->m);
		slot->tts_values[IVFPQ_SORT_CODES - 1] = PointerGetDatum(e->sortcodes);
		memset(slot->tts_isnull, 0, sizeof(bool) * 3);
		ExecStoreVirtualTuple(slot);
		tuplesort_puttupleslot(e->sortstate, slot);
	}
	e->count++;
}

/* qsort_arg comparator: entries (by their numbers) by TID. */
static int
CompareEntryTids(const void *a, const void *b, void *arg)
{
	ItemPointerData *tid = (ItemPointerData *) arg;

	return ItemPointerCompare(&tid[*(const int64 *) a], &tid[*(const int64 *) b]);
}

/* Sort the entries; call once, after the last IvfpqEntriesAdd. */
void
IvfpqEntriesSort(IvfpqEntries *e)
{
	int64	   *start;

	if (e->list == NULL)
	{
		tuplesort_performsort(e->sortstate);
		return;
	}

	/* counting sort by list, stable: scan order within a list */
	start = palloc0(sizeof(int64) * (e->lists + 1));
	e->order = palloc_extended(sizeof(int64) * Max(e->count, 1), MCXT_ALLOC_HUGE);
	for (int64 i = 0; i < e->count; i++)
	{
		if (e->list[i] < 0 || e->list[i] >= e->lists)
			elog(ERROR, "lance_ivfpq build entry in list %d of %d", e->list[i], e->lists);
		start[e->list[i] + 1]++;
	}
	for (int l = 0; l < e->lists; l++)
		start[l + 1] += start[l];
	for (int64 i = 0; i < e->count; i++)
		e->order[start[e->list[i]]++] = i;

	/* start[l] is now list l's end; a wrapped-around scan leaves TIDs unsorted */
	for (int l = 0; l < e->lists; l++)
	{
		int64		from = l == 0 ? 0 : start[l - 1];

		for (int64 p = from + 1; p < start[l]; p++)
		{
			if (ItemPointerCompare(&e->tid[e->order[p - 1]], &e->tid[e->order[p]]) > 0)
			{
				qsort_arg(e->order + from, start[l] - from, sizeof(int64),
						  CompareEntryTids, e->tid);
				break;
			}
		}
	}
	pfree(start);
}

/*
 * The next entry in (list, TID) order: false past the last.  *codes stays
 * valid until the next call.
 */
bool
IvfpqEntriesNext(IvfpqEntries *e, int32 *list, ItemPointerData *tid,
				 const uint8 **codes)
{
	bool		isnull;
	bytea	   *b;

	if (e->list)
	{
		int64		i;

		if (e->next >= e->count)
			return false;
		i = e->order[e->next++];
		*list = e->list[i];
		*tid = e->tid[i];
		*codes = e->codes + (Size) i * e->m;
		return true;
	}
	if (!tuplesort_gettupleslot(e->sortstate, true, false, e->getslot, NULL))
		return false;
	*list = DatumGetInt32(slot_getattr(e->getslot, IVFPQ_SORT_LIST, &isnull));
	*tid = *(ItemPointer) DatumGetPointer(slot_getattr(e->getslot, IVFPQ_SORT_TID, &isnull));
	b = DatumGetByteaPP(slot_getattr(e->getslot, IVFPQ_SORT_CODES, &isnull));
	Assert(VARSIZE_ANY_EXHDR(b) == e->m);
	*codes = (const uint8 *) VARDATA_ANY(b);
	return true;
}

/* Free everything. */
void
IvfpqEntriesEnd(IvfpqEntries *e)
{
	if (e->list)
	{
		pfree(e->list);
		pfree(e->tid);
		pfree(e->codes);
		if (e->order)
			pfree(e->order);
	}
	else
	{
		tuplesort_end(e->sortstate);
		ExecDropSingleTupleTableSlot(e->putslot);
		ExecDropSingleTupleTableSlot(e->getslot);
		pfree(e->sortcodes);
	}
	pfree(e);
}

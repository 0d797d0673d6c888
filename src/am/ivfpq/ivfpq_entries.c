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
 * ascending order, so within a list they mostly come out sorted already.
 * Not always: a synchronized scan starts mid-table and wraps around, and a
 * HOT-updated row is reported with the TID of its chain's root, which lies
 * before TIDs the scan has already delivered; a list whose TIDs are out of
 * order gets a sort of its own.  That is a few bytes an entry and one pass,
 * where a tuplesort forms, compares and copies a minimal tuple per entry
 * (about 1 s of a 1M-row build's single-threaded time).  Entries that do
 * not fit go through a tuplesort, which spills to disk.
 *
 * The arrays are sized for the rows of the build's first scan, but its
 * second scan may see more: CREATE INDEX CONCURRENTLY and REINDEX
 * CONCURRENTLY take a fresh snapshot for each scan, so rows committed while
 * the build trains are seen by the second.  The arrays then grow while the
 * memory allows; past that, what they hold moves into a tuplesort.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "am/ivfpq/ivfpq.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
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
	int64		max_cap;		/* entries that fit in sort_kb */
	int			sort_kb;

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

/* Put the entries into a tuplesort from here on. */
static void
StartTuplesort(IvfpqEntries *e)
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
										sort_colls, sort_nulls, e->sort_kb, NULL,
										TUPLESORT_NONE);
	e->putslot = MakeSingleTupleTableSlot(e->sortdesc, &TTSOpsVirtual);
	e->getslot = MakeSingleTupleTableSlot(e->sortdesc, &TTSOpsMinimalTuple);
	e->sortcodes = palloc(VARHDRSZ + e->m);
	SET_VARSIZE(e->sortcodes, VARHDRSZ + e->m);
}

/* Add one entry to the tuplesort. */
static void
PutSorted(IvfpqEntries *e, int32 list, ItemPointer tid, const uint8 *codes)
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

/*
 * Begin collecting entries of m bytes of codes, for lists 0 .. lists - 1,
 * within sort_kb kilobytes; expected_rows (the first scan's) sizes the
 * arrays.
 */
IvfpqEntries *
IvfpqEntriesBegin(int m, int lists, int64 expected_rows, int sort_kb)
{
	IvfpqEntries *e = palloc0(sizeof(IvfpqEntries));

	e->m = m;
	e->lists = lists;
	e->sort_kb = sort_kb;
	e->max_cap = (int64) ((double) sort_kb * 1024.0 / ENTRY_BYTES(m));
	if (Max(expected_rows, 1) <= e->max_cap)
	{
		e->cap = Max(expected_rows, 1);
		e->list = palloc_extended(sizeof(int32) * e->cap, MCXT_ALLOC_HUGE);
		e->tid = palloc_extended(sizeof(ItemPointerData) * e->cap, MCXT_ALLOC_HUGE);
		e->codes = palloc_extended((Size) m * e->cap, MCXT_ALLOC_HUGE);
		elog(DEBUG1, "lance_ivfpq build keeps %lld entries in memory",
			 (long long) e->cap);
	}
	else
	{
		StartTuplesort(e);
		elog(DEBUG1, "lance_ivfpq build sorts %lld entries in a tuplesort of %d kB",
			 (long long) expected_rows, sort_kb);
	}
	return e;
}

/*
 * Make room for more entries than the arrays hold: double them within the
 * memory budget, or else move what they hold into a tuplesort.
 */
static void
Overflow(IvfpqEntries *e)
{
	int64		cap = Min(e->cap * 2, e->max_cap);

	if (cap > e->cap)
	{
		e->list = repalloc_huge(e->list, sizeof(int32) * cap);
		e->tid = repalloc_huge(e->tid, sizeof(ItemPointerData) * cap);
		e->codes = repalloc_huge(e->codes, (Size) e->m * cap);
		e->cap = cap;
		elog(DEBUG1, "lance_ivfpq build grows its entries in memory to %lld",
			 (long long) cap);
		return;
	}

	StartTuplesort(e);
	for (int64 i = 0; i < e->count; i++)
	{
		CHECK_FOR_INTERRUPTS();
		PutSorted(e, e->list[i], &e->tid[i], e->codes + (Size) i * e->m);
	}
	pfree(e->list);
	pfree(e->tid);
	pfree(e->codes);
	e->list = NULL;
	e->tid = NULL;
	e->codes = NULL;
	elog(DEBUG1, "lance_ivfpq build moves its %lld entries into a tuplesort of %d kB",
		 (long long) e->count, e->sort_kb);
}

/* Add one entry. */
void
IvfpqEntriesAdd(IvfpqEntries *e, int32 list, ItemPointer tid, const uint8 *codes)
{
	if (e->list && e->count >= e->cap)
		Overflow(e);
	if (e->list)
	{
		e->list[e->count] = list;
		e->tid[e->count] = *tid;
		memcpy(e->codes + (Size) e->count * e->m, codes, e->m);
	}
	else
		PutSorted(e, list, tid, codes);
	e->count++;
}

/* Entries added so far. */
int64
IvfpqEntriesCount(const IvfpqEntries *e)
{
	return e->count;
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
	int			unsorted = 0;

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

	/*
	 * start[l] is now list l's end; a wrapped-around scan or a HOT chain's
	 * root TID leaves a list's TIDs unsorted
	 */
	for (int l = 0; l < e->lists; l++)
	{
		int64		from = l == 0 ? 0 : start[l - 1];

		for (int64 p = from + 1; p < start[l]; p++)
		{
			if (ItemPointerCompare(&e->tid[e->order[p - 1]], &e->tid[e->order[p]]) > 0)
			{
				qsort_arg(e->order + from, start[l] - from, sizeof(int64),
						  CompareEntryTids, e->tid);
				unsorted++;
				break;
			}
		}
	}
	if (unsorted > 0)
		elog(DEBUG1, "lance_ivfpq build sorted the TIDs of %d of %d lists",
			 unsorted, e->lists);
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

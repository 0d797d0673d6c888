/*-------------------------------------------------------------------------
 *
 * bm25_build.c
 *	  CREATE INDEX for lance_bm25.
 *
 * The heap is scanned once and its documents inverted in memory.  Whenever
 * the in-memory index passes maintenance_work_mem it is written out as a
 * segment (a sorted run) and memory starts over; at the end the runs and
 * what is left in memory are merged into one segment, read back a posting
 * list at a time, and the runs' pages are freed for reuse.  A corpus larger
 * than memory thus builds in two passes over its postings.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/tableam.h"
#include "am/bm25/bm25.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"

typedef struct BuildState
{
	Relation	index;
	Bm25Tokenizer tok;
	Bm25Bag    *bag;
	Bm25MemIndex *mem;
	size_t		limit;
	Bm25SegMeta *runs;
	int			nruns;
	int			runcap;
	uint64		next_serial;
	double		indtuples;
	MemoryContext tmpcxt;
} BuildState;

static void
FreeBag(void *p)
{
	bm25_bag_free(p);
}

static void
FreeMem(void *p)
{
	BuildState *bs = p;

	bm25_mem_free(bs->mem);
	bs->mem = NULL;
}

/* Write sources as one new segment and describe it in out. */
void
Bm25WriteSegment(Relation index, Bm25MergeSources *src, bool positions, Bm25SegMeta *out,
			 uint64 serial, uint64 *ndead)
{
	Bm25StreamWriter sw;
	Bm25SegWriter *w;
	Bm25SegInfo info;
	CoreError	err = {0};
	CoreStatus	st;

	Bm25StreamBegin(&sw, index);
	w = bm25_segw_create(positions, Bm25StreamSink, &sw);
	if (w == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	src->cancel = Bm25CancelRequested;
	st = bm25_merge(src, w, &info, ndead, &err);
	bm25_segw_free(w);
	if (st == CORE_ERR_CANCELED)
		CHECK_FOR_INTERRUPTS();
	if (st != CORE_OK)
		Bm25ReportCore(&err, "writing a segment", index);
	Bm25StreamFinish(&sw, &info, out);
	out->serial = serial;
}

static void
SpillRun(BuildState *bs)
{
	Bm25MergeSources src = {0};

	if (bs->nruns == bs->runcap)
	{
		bs->runcap *= 2;
		bs->runs = repalloc(bs->runs, bs->runcap * sizeof(Bm25SegMeta));
	}
	src.mem = bs->mem;
	Bm25WriteSegment(bs->index, &src, bs->tok.positions, &bs->runs[bs->nruns], bs->next_serial++, NULL);
	bs->nruns++;
	bm25_mem_free(bs->mem);
	bs->mem = bm25_mem_create(bs->tok.positions);
	if (bs->mem == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
}

static void
BuildCallback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
			  bool tupleIsAlive, void *state)
{
	BuildState *bs = state;
	MemoryContext old;
	CoreError	err = {0};

	/* NULL documents are not indexed and do not count in N */
	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpcxt);
	Bm25TokenizeText(&bs->tok, DatumGetTextPP(values[0]), bs->bag);
	if (bm25_mem_add_doc(bs->mem, Bm25DocId(tid), bm25_bag_dl(bs->bag), bm25_bag_terms(bs->bag),
						 bm25_bag_nterms(bs->bag), &err) != CORE_OK)
		Bm25ReportCore(&err, "building", index);
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpcxt);
	bs->indtuples += 1;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) bs->indtuples);
	if (bm25_mem_bytes(bs->mem) > bs->limit)
		SpillRun(bs);
}

IndexBuildResult *
bm25build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	BuildState	bs;
	double		reltuples;
	Bm25SegMeta final;
	MemoryContext buildcxt;
	MemoryContext old;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data", RelationGetRelationName(index));

	memset(&bs, 0, sizeof(bs));
	bs.index = index;
	bs.tok = Bm25TokenizerFromOptions(index);
	bs.limit = (size_t) maintenance_work_mem * 1024;
	bs.next_serial = 1;
	buildcxt = AllocSetContextCreate(CurrentMemoryContext, "lance_bm25 build",
									 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(buildcxt);
	bs.tmpcxt = AllocSetContextCreate(buildcxt, "lance_bm25 build document",
									  ALLOCSET_DEFAULT_SIZES);
	bs.runcap = 8;
	bs.runs = palloc(bs.runcap * sizeof(Bm25SegMeta));
	bs.bag = bm25_bag_create();
	bs.mem = bm25_mem_create(bs.tok.positions);
	if (bs.bag == NULL || bs.mem == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	Bm25Track(buildcxt, FreeBag, bs.bag);
	Bm25Track(buildcxt, FreeMem, &bs);

	Bm25InitMetaPage(index, MAIN_FORKNUM, &bs.tok);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 2);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   BuildCallback, &bs, NULL);

	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, 3);
	if (bs.nruns == 0)
	{
		Bm25MergeSources src = {0};

		src.mem = bs.mem;
		Bm25WriteSegment(index, &src, bs.tok.positions, &final, bs.next_serial++, NULL);
	}
	else
	{
		Bm25MergeSources src = {0};
		Bm25SegReader **readers = palloc(bs.nruns * sizeof(Bm25SegReader *));

		for (int i = 0; i < bs.nruns; i++)
			readers[i] = Bm25OpenSegment(index, &bs.runs[i], bs.tok.positions);
		src.segs = readers;
		src.nsegs = bs.nruns;
		src.mem = bm25_mem_ndocs(bs.mem) > 0 ? bs.mem : NULL;
		Bm25WriteSegment(index, &src, bs.tok.positions, &final, bs.next_serial++, NULL);
		for (int i = 0; i < bs.nruns; i++)
			Bm25FreeSegmentPages(index, &bs.runs[i]);
	}
	Bm25SetSegments(index, NULL, 0, &final, false, 0);

	MemoryContextSwitchTo(old);
	MemoryContextDelete(buildcxt);

	result = palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

void
bm25buildempty(Relation index)
{
	Bm25Tokenizer tok = Bm25TokenizerFromOptions(index);

	Bm25InitMetaPage(index, INIT_FORKNUM, &tok);
}

/*-------------------------------------------------------------------------
 *
 * bm25_build.c
 *	  CREATE INDEX for lance_bm25.
 *
 * The heap is scanned once and its documents inverted in memory.  Whenever
 * the in-memory index passes maintenance_work_mem it is written out in the
 * segment format to a temporary file (a sorted run) and memory starts
 * over; at the end the runs and what is left in memory are merged into the
 * index's one segment, read back a posting list at a time.  A corpus larger
 * than memory thus builds in two passes over its postings, and the index
 * holds only the final segment.
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
#include "storage/buffile.h"
#include "utils/memutils.h"

/* buffile.c's segment size: a BufFile offset is (fileno, offset in it) */
#define RUN_FILE_SEGMENT ((off_t) 0x40000000)

/* Sorted runs, one after the other in a temporary file. */
typedef struct RunFile
{
	BufFile    *file;
	uint64		size;
} RunFile;

typedef struct Run
{
	RunFile    *rf;
	uint64		base;			/* where the run starts in the file */
	Bm25SegInfo info;
} Run;

typedef struct BuildState
{
	Relation	index;
	Bm25Tokenizer tok;
	Bm25Bag    *bag;
	Bm25MemIndex *mem;
	size_t		limit;
	RunFile		rf;
	Run		   *runs;
	int			nruns;
	int			runcap;
	uint64		next_serial;
	bool		is_array;		/* a text[] column */
	double		indtuples;
	MemoryContext tmpcxt;
} BuildState;

static void
FreeBag(void *p)
{
	bm25_bag_free(p);
}

static void
FreeReader(void *p)
{
	bm25_segr_free(p);
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
	bm25_segw_set_params(w, Bm25GetK1(index), Bm25GetB(index));
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

static int
RunSink(void *ctx, const uint8_t *data, size_t len)
{
	RunFile    *rf = ctx;

	CHECK_FOR_INTERRUPTS();
	BufFileWrite(rf->file, (void *) data, len);
	rf->size += len;
	return 0;
}

static int
RunRead(void *ctx, uint64_t off, size_t len, uint8_t *dst)
{
	Run		   *run = ctx;
	uint64		at = run->base + off;

	if (off > run->info.nbytes || len > run->info.nbytes - off)
		return -1;
	if (BufFileSeek(run->rf->file, (int) (at / RUN_FILE_SEGMENT), (off_t) (at % RUN_FILE_SEGMENT),
					SEEK_SET) != 0)
		return -1;
	return BufFileRead(run->rf->file, dst, len) == len ? 0 : -1;
}

static void
SpillRun(BuildState *bs)
{
	Bm25MergeSources src = {0};
	Bm25SegWriter *w;
	CoreError	err = {0};
	Run		   *run;

	if (bs->rf.file == NULL)
		bs->rf.file = BufFileCreateTemp(false);
	if (bs->nruns == bs->runcap)
	{
		bs->runcap *= 2;
		bs->runs = repalloc(bs->runs, bs->runcap * sizeof(Run));
	}
	run = &bs->runs[bs->nruns++];
	run->rf = &bs->rf;
	run->base = bs->rf.size;
	/* runs are appended at the end; reads of earlier runs move the position */
	if (BufFileSeek(bs->rf.file, (int) (bs->rf.size / RUN_FILE_SEGMENT),
					(off_t) (bs->rf.size % RUN_FILE_SEGMENT), SEEK_SET) != 0)
		ereport(ERROR, (errcode_for_file_access(), errmsg("could not seek in temporary file")));
	w = bm25_segw_create(bs->tok.positions, RunSink, &bs->rf);
	if (w == NULL)
		ereport(ERROR, (errcode(ERRCODE_OUT_OF_MEMORY), errmsg("out of memory")));
	src.mem = bs->mem;
	src.cancel = Bm25CancelRequested;
	if (bm25_merge(&src, w, &run->info, NULL, &err) != CORE_OK)
	{
		bm25_segw_free(w);
		if (err.status == CORE_ERR_CANCELED)
			CHECK_FOR_INTERRUPTS();
		Bm25ReportCore(&err, "writing a sorted run", bs->index);
	}
	bm25_segw_free(w);
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
	Bm25TokenizeDatum(&bs->tok, values[0], bs->is_array, bs->bag);
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
	bs.is_array = Bm25IndexIsArray(index);
	bs.limit = (size_t) maintenance_work_mem * 1024;
	bs.next_serial = 1;
	buildcxt = AllocSetContextCreate(CurrentMemoryContext, "lance_bm25 build",
									 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(buildcxt);
	bs.tmpcxt = AllocSetContextCreate(buildcxt, "lance_bm25 build document",
									  ALLOCSET_DEFAULT_SIZES);
	bs.runcap = 8;
	bs.runs = palloc(bs.runcap * sizeof(Run));
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
		{
			CoreError	err = {0};

			if (bm25_segr_open(&bs.runs[i].info, RunRead, &bs.runs[i], &readers[i], &err) != CORE_OK)
				Bm25ReportCore(&err, "reading a sorted run", index);
			Bm25Track(buildcxt, FreeReader, readers[i]);
		}
		src.segs = readers;
		src.nsegs = bs.nruns;
		src.mem = bm25_mem_ndocs(bs.mem) > 0 ? bs.mem : NULL;
		Bm25WriteSegment(index, &src, bs.tok.positions, &final, bs.next_serial++, NULL);
		BufFileClose(bs.rf.file);
	}
	Bm25SetSegments(index, NULL, 0, &final, false, 0);
	/* an empty table: the metapage does not list the empty segment */
	if (final.ndocs == 0 && final.nterms == 0)
		Bm25FreeSegmentPages(index, &final);

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

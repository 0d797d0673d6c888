/*-------------------------------------------------------------------------
 *
 * hnsw_build_parallel.c
 *	  Building a lance_hnsw index with parallel workers.
 *
 * The leader sizes one in-memory graph (hnsw_build.h) to fit
 * maintenance_work_mem, or the most rows the table's pages can hold if
 * that is less, and places it in a dynamic shared memory segment of its
 * own; when that cannot be had, the build is serial.
 * Every participant, the leader included, then takes pages of the heap
 * from a parallel table scan and inserts their rows into that one graph
 * concurrently: an element's neighbour lists change only under its own
 * LWLock, so inserts of distant elements never wait for each other, and
 * the graph is the same kind of graph a serial build makes (not several
 * partial graphs to merge).  Which participant inserts which row, and so
 * the graph, depends on timing: a parallel build is not deterministic.
 *
 * When the graph is full, the participant that finds it so writes it out
 * (after the inserts in flight) and every participant inserts its
 * remaining rows through the on-disk path, which is safe concurrently.
 * Otherwise the leader writes the graph out once the workers are done.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <sys/statvfs.h>

#include "access/heaptoast.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/relscan.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "am/hnsw/hnsw_build.h"
#include "catalog/index.h"
#include "commands/progress.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "storage/bufpage.h"
#include "storage/dsm.h"
#include "storage/dsm_impl.h"
#include "utils/snapmgr.h"

/* key of the parallel context's table of contents */
#define PARALLEL_KEY_HNSW_SHARED	UINT64CONST(0xA000000000000001)

/*
 * Room left in /dev/shm for the parallel context's own segment beside the
 * graph's: its error queues (16 kB per worker), snapshot and GUC state come
 * to well under this.
 */
#define CONTEXT_SEGMENT_ALLOWANCE	(1024 * 1024)

/* what the participants share, besides the graph's arrays */
typedef struct HnswBuildShared
{
	Oid			heaprelid;
	Oid			indexrelid;
	bool		isconcurrent;
	HnswShape	shape;
	uint32		cap;
	uint32		upperCap;
	int			trancheId;
	dsm_handle	graphHandle;	/* the segment holding the graph's arrays */

	slock_t		mutex;			/* guards the two sums below */
	double		reltuples;		/* heap rows seen, all participants */
	double		indtuples;		/* rows indexed, all participants */

	BuildGraphHeader graph;

	/* the parallel heap scan's state follows, BUFFERALIGNed */
} HnswBuildShared;

#define ParallelTableScanFromShared(shared) \
	(ParallelTableScanDesc) ((char *) (shared) + BUFFERALIGN(sizeof(HnswBuildShared)))

PGDLLEXPORT void HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc);

/*
 * How many elements the shared graph is sized for, and its pool of
 * upper-level slots: what maintenance_work_mem holds, but no more than
 * the heap's pages can hold rows (*fromPages when that is the bound).  An
 * element lives on 1 / (m - 1) upper levels on average; the pool has room
 * for twice that.
 */
static uint32
SharedCapacity(BuildState *bs, uint32 *upperCap, bool *fromPages)
{
	const HnswShape *shape = &bs->graph.shape;
	double		upperPer = 2.0 * shape->m / (shape->m - 1);
	double		fits = (double) bs->memLimit /
		(HnswGraphElementBytes(shape) + sizeof(uint32) * upperPer);
	Size		tupleMin = MAXALIGN(SizeofHeapTupleHeader + sizeof(float) * shape->dim);
	double		perPage;
	double		cap;

	/* a row stored inline takes at least its floats; a longer one is moved out */
	if (tupleMin < TOAST_TUPLE_THRESHOLD)
		perPage = (BLCKSZ - SizeOfPageHeaderData) / (tupleMin + sizeof(ItemIdData));
	else
		perPage = MaxHeapTuplesPerPage;
	cap = Min(fits, perPage * RelationGetNumberOfBlocks(bs->heap));
	*fromPages = cap < fits;
	/* positions and pool offsets are 32-bit; the pool has up to 4 slots per element */
	cap = Min(cap, (double) (PG_UINT32_MAX / 8));
	*upperCap = (uint32) (cap * upperPer) + 64 * shape->m;
	return (uint32) cap;
}

/*
 * Scan this participant's share of the heap into the shared graph, and
 * add what it saw to the shared sums.
 */
static void
ParticipateInBuild(BuildState *bs, HnswBuildShared *shared, IndexInfo *indexInfo)
{
	TableScanDesc scan;
	double		reltuples;

	scan = table_beginscan_parallel(bs->heap, ParallelTableScanFromShared(shared));
	reltuples = table_index_build_scan(bs->heap, bs->index, indexInfo, true, true,
									   HnswBuildCallback, bs, scan);
	SpinLockAcquire(&shared->mutex);
	shared->reltuples += reltuples;
	shared->indtuples += bs->indtuples;
	SpinLockRelease(&shared->mutex);
}

/*
 * Whether a dynamic shared memory segment of this size can be created.
 * With POSIX shared memory (Linux's default) a segment is a file in
 * /dev/shm whose pages PostgreSQL reserves when creating it, so a segment
 * larger than the space free there (64 MB in a Docker container unless
 * started with --shm-size) is an ERROR, not a NULL result to fall back
 * from: it is checked beforehand.  Space that min_dynamic_shared_memory
 * sets aside in the main shared memory serves too.  Other kinds are not
 * checked; creating a segment of those fails only past system limits.
 */
static bool
SegmentFits(Size size)
{
	struct statvfs st;

	if (dynamic_shared_memory_type != DSM_IMPL_POSIX)
		return true;
	if ((Size) min_dynamic_shared_memory * 1024 * 1024 >= size)
		return true;
	if (statvfs("/dev/shm", &st) != 0)
		return true;			/* cannot tell: dsm_create will say */
	return size + CONTEXT_SEGMENT_ALLOWANCE <= (Size) st.f_bavail * st.f_frsize;
}

/* Point a participant's graph at the shared one. */
static void
AttachGraph(BuildState *bs, HnswBuildShared *shared, char *arrays)
{
	BuildGraph *g = &bs->graph;

	g->hdr = &shared->graph;
	g->fixed = true;
	HnswGraphLayout(g, arrays, shared->cap, shared->upperCap, true);
	g->marks = MemoryContextAllocHuge(bs->buildCtx, sizeof(uint32) * shared->cap);
	memset(g->marks, 0, sizeof(uint32) * shared->cap);
}

/*
 * Build with nworkers parallel workers (the leader takes part too); false,
 * before anything is scanned, when the shared graph cannot be had, and the
 * caller builds serially as it would without workers: when /dev/shm cannot
 * hold it (SegmentFits) or no more segments can be created.  The graph
 * gets a segment of its own rather than a share of the parallel context's:
 * when the context's segment cannot be created, PostgreSQL 15 falls back
 * to a backend-local allocation of the same size, an ERROR past 1 GB,
 * where a segment of its own simply comes back NULL.  On
 * success the graph is on disk, bs->indtuples is the rows all participants
 * indexed and *reltuples the heap rows they saw.
 */
bool
HnswBuildParallel(BuildState *bs, IndexInfo *indexInfo, int nworkers, double *reltuples)
{
	ParallelContext *pcxt;
	Snapshot	snapshot;
	Size		sharedSize;
	Size		graphSize;
	uint32		cap;
	uint32		upperCap;
	bool		capFromPages;
	HnswBuildShared *shared;
	dsm_segment *graphSeg;
	static int	trancheId = 0;

	cap = SharedCapacity(bs, &upperCap, &capFromPages);
	if (cap == 0)
		return false;
	graphSize = HnswGraphLayout(&bs->graph, NULL, cap, upperCap, true);
	if (!SegmentFits(graphSize))
	{
		ereport(NOTICE,
				(errmsg("lance_hnsw builds \"%s\" without parallel workers: its shared graph of %zu MB does not fit in /dev/shm",
						RelationGetRelationName(bs->index), graphSize / (1024 * 1024)),
				 errhint("Give /dev/shm more space (Docker: --shm-size), or lower maintenance_work_mem.")));
		return false;
	}
	graphSeg = dsm_create(graphSize, DSM_CREATE_NULL_IF_MAXSEGMENTS);
	if (graphSeg == NULL)
		return false;
	if (trancheId == 0)
	{
		trancheId = LWLockNewTrancheId();
		LWLockRegisterTranche(trancheId, "lance_hnsw build");
	}

	EnterParallelMode();
	pcxt = CreateParallelContext("lancedb_fdw", "HnswParallelBuildMain", nworkers);

	/* as nbtree: a concurrent build scans with an MVCC snapshot */
	snapshot = indexInfo->ii_Concurrent ?
		RegisterSnapshot(GetTransactionSnapshot()) : SnapshotAny;

	sharedSize = add_size(BUFFERALIGN(sizeof(HnswBuildShared)),
						  table_parallelscan_estimate(bs->heap, snapshot));
	shm_toc_estimate_chunk(&pcxt->estimator, sharedSize);
	shm_toc_estimate_keys(&pcxt->estimator, 1);
	InitializeParallelDSM(pcxt);
	if (pcxt->seg == NULL)
	{
		if (IsMVCCSnapshot(snapshot))
			UnregisterSnapshot(snapshot);
		DestroyParallelContext(pcxt);
		ExitParallelMode();
		dsm_detach(graphSeg);
		return false;
	}

	shared = shm_toc_allocate(pcxt->toc, sharedSize);
	shared->heaprelid = RelationGetRelid(bs->heap);
	shared->indexrelid = RelationGetRelid(bs->index);
	shared->isconcurrent = indexInfo->ii_Concurrent;
	shared->shape = bs->graph.shape;
	shared->cap = cap;
	shared->upperCap = upperCap;
	shared->trancheId = trancheId;
	shared->graphHandle = dsm_segment_handle(graphSeg);
	SpinLockInit(&shared->mutex);
	shared->reltuples = 0;
	shared->indtuples = 0;
	HnswBuildHeaderInit(&shared->graph, trancheId);
	shared->graph.capFromPages = capFromPages;
	table_parallelscan_initialize(bs->heap, ParallelTableScanFromShared(shared), snapshot);
	AttachGraph(bs, shared, dsm_segment_address(graphSeg));
	HnswGraphInitLocks(&bs->graph, trancheId);
	shm_toc_insert(pcxt->toc, PARALLEL_KEY_HNSW_SHARED, shared);

	LaunchParallelWorkers(pcxt);
	ereport(DEBUG1,
			(errmsg("lance_hnsw build of \"%s\" with %d parallel workers",
					RelationGetRelationName(bs->index), pcxt->nworkers_launched)));
	ParticipateInBuild(bs, shared, indexInfo);
	WaitForParallelWorkersToFinish(pcxt);

	/* a writer that failed has failed the build by now */
	if (!shared->graph.flushing)
		HnswWriteGraph(bs);
	*reltuples = shared->reltuples;
	bs->indtuples = shared->indtuples;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) shared->indtuples);

	if (IsMVCCSnapshot(snapshot))
		UnregisterSnapshot(snapshot);
	DestroyParallelContext(pcxt);
	ExitParallelMode();
	dsm_detach(graphSeg);
	return true;
}

/*
 * Entry point of a parallel build worker: open the relations with the
 * locks the leader holds, and take part in the scan.
 */
void
HnswParallelBuildMain(dsm_segment *seg, shm_toc *toc)
{
	HnswBuildShared *shared = shm_toc_lookup(toc, PARALLEL_KEY_HNSW_SHARED, false);
	dsm_segment *graphSeg;
	LOCKMODE	heapLockmode = shared->isconcurrent ? ShareUpdateExclusiveLock : ShareLock;
	LOCKMODE	indexLockmode = shared->isconcurrent ? RowExclusiveLock : AccessExclusiveLock;
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;
	BuildState	bs;

	heap = table_open(shared->heaprelid, heapLockmode);
	index = index_open(shared->indexrelid, indexLockmode);
	indexInfo = BuildIndexInfo(index);
	indexInfo->ii_Concurrent = shared->isconcurrent;
	LWLockRegisterTranche(shared->trancheId, "lance_hnsw build");

	HnswBuildStateInit(&bs, heap, index, &shared->shape,
					   HNSW_BUILD_SEED + (uint64) ParallelWorkerNumber + 1);
	bs.leader = false;
	/* the leader stays attached until the workers are done */
	graphSeg = dsm_attach(shared->graphHandle);
	if (graphSeg == NULL)
		elog(ERROR, "could not map the lance_hnsw build graph's shared memory segment");
	AttachGraph(&bs, shared, dsm_segment_address(graphSeg));
	ParticipateInBuild(&bs, shared, indexInfo);
	HnswBuildStateEnd(&bs);
	dsm_detach(graphSeg);

	index_close(index, indexLockmode);
	table_close(heap, heapLockmode);
}

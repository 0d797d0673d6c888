/*-------------------------------------------------------------------------
 *
 * hnsw_build.h
 *	  The in-memory graph of a lance_hnsw build, shared by the serial build
 *	  (hnsw_build.c) and the parallel one (hnsw_build_parallel.c).
 *
 * The graph is a set of flat arrays indexed by an element's position.  In
 * a serial build they live in backend memory and grow; in a parallel build
 * they live in the parallel context's shared memory, sized once, and every
 * participant inserts into them.  The same insert code runs in both: in a
 * parallel build it takes an element's LWLock to read or change its
 * neighbour lists (a serial build, the only process touching its arrays,
 * skips those: they were a tenth of its time), and the header's locks for
 * the entry point and for writing the graph out.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_AM_HNSW_BUILD_H
#define LANCEDB_AM_HNSW_BUILD_H

#include "am/hnsw/hnsw.h"
#include "kernels/sq8_pair.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/lwlock.h"
#include "storage/spin.h"

/* upper-level lists of an element without any */
#define HNSW_NO_UPPER		((uint32) 0xFFFFFFFF)

/*
 * What every participant of a build changes: in shared memory for a
 * parallel build.  mutex guards n and upperUsed (claimed together, so a
 * claim fails whole when either array is full).
 */
typedef struct BuildGraphHeader
{
	slock_t		mutex;
	uint32		n;				/* positions claimed */
	uint32		upperUsed;		/* slots of the upper-level pool claimed */
	LWLock		entryLock;		/* guards entry and entryLevel */
	LWLock		flushLock;		/* shared by in-memory inserts, exclusive to
								 * elect the writer; guards flushing */
	uint32		entry;
	int			entryLevel;
	bool		capFromPages;	/* shared graph sized by the heap's pages,
								 * not by maintenance_work_mem */
	bool		flushing;		/* a writer is elected: no more inserts */
	bool		flushed;		/* written out (under mutex): the rest goes
								 * on disk */
	ConditionVariable flushedCv;	/* signalled when flushed is set */
	pg_atomic_uint64 tuplesDone;	/* rows indexed by all participants */
} BuildGraphHeader;

/* one participant's view of the graph */
typedef struct BuildGraph
{
	HnswShape	shape;
	BuildGraphHeader *hdr;
	bool		fixed;			/* arrays in shared memory, of a fixed size */
	uint32		cap;
	uint32		upperCap;
	/*
	 * per element, in one record of HnswGraphVectorBytes: its codes'
	 * Sq8CodeStats (lo, step, and the sums of code-to-code distances),
	 * then its 8-bit codes; one record, so that a distance starts with
	 * one run of cache lines to fetch, not two
	 */
	char	   *vectors;
	Size		vecBytes;		/* HnswGraphVectorBytes, once dim is known */
	ItemPointerData *tids;
	uint8	   *levels;
	uint32	   *slots0;			/* cap x 2m level-0 neighbour positions */
	uint32	   *upperAt;		/* start of an element's levels 1.. in upper */
	uint32	   *upper;			/* pool of m slots per upper level */
	LWLock	   *locks;			/* one per element, for its neighbour lists;
								 * there only when fixed (parallel) */
	Sq8CodeDotFn codeDot;		/* this CPU's dot product of two codes */

	/* this participant's own: visited marks, per position */
	uint32	   *marks;
	uint32		epoch;

	/* the element being inserted: its exact vector, and that vector's sum */
	const float *query;
	float		querySum;

	/* scratch for re-selecting a full neighbour list: 2m + 1 entries */
	HnswCandidate *linkCands;
	const float **linkVecs;		/* L1 only, which has no code-to-code form */
	uint32	   *linkChosen;
	float	   *decoded;		/* max(ef, 2m + 2) decoded vectors (L1) */
	float	   *vecBuf;			/* the prepared vector of the row at hand */
	uint32	   *chosen;			/* the new element's links, all levels */
} BuildGraph;

/* one participant's state */
typedef struct BuildState
{
	Relation	heap;
	Relation	index;
	BuildGraph	graph;
	Size		memLimit;		/* serial builds: when to write the graph out */
	bool		onDisk;			/* graph written out: insert on disk */
	bool		leader;			/* reports progress */
	double		indtuples;
	pg_prng_state prng;			/* levels */
	MemoryContext buildCtx;		/* lives for the whole build */
	MemoryContext graphCtx;
	MemoryContext tmpCtx;
} BuildState;

/* hnsw_build.c */
extern void HnswBuildStateInit(BuildState *bs, Relation heap, Relation index,
							   const HnswShape *shape, uint64 seed);
extern void HnswBuildStateEnd(BuildState *bs);
extern void HnswBuildHeaderInit(BuildGraphHeader *hdr, int trancheId);
extern Size HnswGraphElementBytes(const HnswShape *shape);
extern Size HnswGraphVectorBytes(const HnswShape *shape);
extern Size HnswGraphLayout(BuildGraph *g, char *base, uint32 cap, uint32 upperCap,
							 bool locked);
extern void HnswGraphInitLocks(BuildGraph *g, int trancheId);
extern void HnswBuildCallback(Relation index, ItemPointer tid, Datum *values,
							  bool *isnull, bool tupleIsAlive, void *state);
extern void HnswWriteGraph(BuildState *bs);
extern void HnswShapeFromOptions(Relation index, HnswShape *shape);

/* hnsw_build_parallel.c */
extern bool HnswBuildParallel(BuildState *bs, IndexInfo *indexInfo, int nworkers,
							  double *reltuples);

#endif							/* LANCEDB_AM_HNSW_BUILD_H */

/*-------------------------------------------------------------------------
 *
 * search_index.h
 *	  Nearest-neighbour search of a Lance foreign table through the IVF_PQ
 *	  or IVF_FLAT index LanceDB built on its vector column.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_FDW_SEARCH_INDEX_H
#define LANCEDB_FDW_SEARCH_INDEX_H

#include "postgres.h"

#include "commands/explain.h"
#include "fdw/lance_fdw.h"
#include "lance/index_ivf.h"

typedef struct LanceIndexSearch LanceIndexSearch;

/* Define lancedb.nprobes, lancedb.refine_factor, lancedb.index_cache_mb; from _PG_init. */
extern void lance_search_index_init_gucs(void);

/*
 * The index segments on `field` of the dataset at `location` (the source's)
 * whose metric is `metric`, opened or taken from the backend's cache, or
 * NULL when there are none (or one this reader does not understand: then
 * a NOTICE says so, and the caller searches flat).  Lives in the current
 * memory context.
 */
extern LanceIndexSearch *lance_index_search_open(LanceSource *src, const char *location,
												 const LanceField *field, LanceIvfMetric metric);

/*
 * The dataset's fragments that no segment covers (appended after the index
 * was built), which must be searched without it.
 */
extern uint64 *lance_index_search_uncovered(LanceIndexSearch *is, int *n);

/* The fragments the index covers, which a prefilter reads. */
extern uint64 *lance_index_search_covered(LanceIndexSearch *is, int *n);

/*
 * LanceDB's prefilter: after lance_index_search_restrict, the index offers
 * only the rows of its fragments that lance_index_search_allow named (the
 * rows that pass the query's quals).
 */
extern void lance_index_search_restrict(LanceIndexSearch *is);
extern void lance_index_search_allow(LanceIndexSearch *is, uint64 addr);

/*
 * The row addresses of up to refine_factor * k live rows nearest q by the
 * index's approximate distance, probing lancedb.nprobes partitions of each
 * segment; the caller ranks them exactly.
 */
extern int64 lance_index_search_candidates(LanceIndexSearch *is, const float *q, int64 k,
										   uint64 **addrs);

/*
 * The vectors (n * dim floats) of candidate rows, each read by itself, or
 * NULL when their pages do not allow it (then take them as rows).
 */
extern float *lance_index_search_vectors(LanceIndexSearch *is, const uint64 *addrs, int64 n);

/* EXPLAIN: which index, nprobes, refine factor (or that none is used). */
extern void lance_index_search_explain(LanceIndexSearch *is, ExplainState *es);

#endif							/* LANCEDB_FDW_SEARCH_INDEX_H */

/*-------------------------------------------------------------------------
 *
 * bm25_merge.h
 *	  Merge BM25 segments (and an in-memory index) into one segment,
 *	  dropping the documents a caller says are gone.
 *
 * Builds spill in-memory indexes as segments and merge them at the end;
 * inserts turn their buffer into a segment; VACUUM merges everything while
 * leaving out dead documents, so the statistics of the result are those of
 * a fresh build of the surviving rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_BM25_MERGE_H
#define LANCEDB_KERNELS_BM25_MERGE_H

#include "kernels/bm25_memindex.h"
#include "kernels/bm25_segment.h"

/* true to keep a document; called once per document of the sources */
typedef bool (*Bm25KeepFn) (void *arg, uint64_t docid);

/* Called between terms; nonzero cancels the merge. */
typedef int (*Bm25CancelFn) (void *arg);

typedef struct Bm25MergeSources
{
	Bm25SegReader **segs;
	size_t		nsegs;
	Bm25MemIndex *mem;			/* or NULL */
	Bm25KeepFn	keep;			/* or NULL to keep everything */
	void	   *keep_arg;
	Bm25CancelFn cancel;		/* or NULL */
	void	   *cancel_arg;
} Bm25MergeSources;

/* Write the union of the sources through w; ndead counts dropped docs. */
extern CoreStatus bm25_merge(const Bm25MergeSources *src, Bm25SegWriter *w,
							 Bm25SegInfo *info, uint64_t *ndead, CoreError *err);

#endif							/* LANCEDB_KERNELS_BM25_MERGE_H */

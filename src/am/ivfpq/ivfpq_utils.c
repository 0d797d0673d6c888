/*-------------------------------------------------------------------------
 *
 * ivfpq_utils.c
 *	  lance_ivfpq: pages, the per-backend cache and vector preparation.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "am/ivfpq/ivfpq.h"
#include "kernels/distance.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"

/* the distance functions an opclass may name (src/types/vector_distance.c) */
extern Datum l2_distance(PG_FUNCTION_ARGS);
extern Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum vector_negative_inner_product(PG_FUNCTION_ARGS);
extern Datum cosine_distance(PG_FUNCTION_ARGS);

/*
 * Tell the metric from the opclass's distance function.  The index stores
 * codes the scan compares under this metric, so an unknown function is an
 * error rather than a guess.
 */
IvfpqMetric
IvfpqGetMetric(Relation index)
{
	FmgrInfo   *proc = index_getprocinfo(index, 1, IVFPQ_DISTANCE_PROC);

	if (proc->fn_addr == l2_distance || proc->fn_addr == vector_l2_squared_distance)
		return IVFPQ_METRIC_L2;
	if (proc->fn_addr == vector_negative_inner_product)
		return IVFPQ_METRIC_IP;
	if (proc->fn_addr == cosine_distance)
		return IVFPQ_METRIC_COSINE;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("index \"%s\": lance_ivfpq does not support distance function %u",
					RelationGetRelationName(index), proc->fn_oid),
			 errhint("Use vector_l2_ops, vector_ip_ops or vector_cosine_ops.")));
	pg_unreachable();
}

/*
 * Initialize a page of the given type.
 */
void
IvfpqInitPage(Page page, uint16 page_type)
{
	IvfpqPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(IvfpqPageOpaqueData));
	opaque = IvfpqPageGetOpaque(page);
	opaque->next = InvalidBlockNumber;
	opaque->page_type = page_type;
	opaque->page_id = IVFPQ_PAGE_ID;
}

/*
 * Extend the relation by one page and return it pinned and locked.
 */
Buffer
IvfpqNewBuffer(Relation index, ForkNumber forknum)
{
	Buffer		buf;
	bool		need_lock = !RELATION_IS_LOCAL(index);

	/* concurrent extenders of the same relation must not collide */
	if (need_lock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, forknum, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (need_lock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}

/*
 * Read count floats stored from block start onward into out, checking that
 * each page is a float page.
 */
static void
ReadFloats(Relation index, BlockNumber start, Size count, float *out)
{
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber blkno = start;

	while (count > 0)
	{
		Size		n = Min(count, IVFPQ_FLOATS_PER_PAGE);
		Buffer		buf;
		Page		page;

		if (blkno >= nblocks)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\": float page %u is past the end (%u blocks)",
							RelationGetRelationName(index), blkno, nblocks)));
		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		if (PageIsNew(page) || IvfpqPageGetOpaque(page)->page_type != IVFPQ_PAGE_FLOATS)
			ereport(ERROR,
					(errcode(ERRCODE_INDEX_CORRUPTED),
					 errmsg("index \"%s\": block %u is not a float page",
							RelationGetRelationName(index), blkno)));
		memcpy(out, PageGetContents(page), n * sizeof(float));
		UnlockReleaseBuffer(buf);
		out += n;
		count -= n;
		blkno++;
	}
}

/*
 * Return the index's meta data, centroids and codebooks, reading them into
 * the relcache entry on first use.
 */
const IvfpqCache *
IvfpqGetCache(Relation index)
{
	IvfpqCache *cache;
	IvfpqMetaPageData meta;
	Buffer		buf;
	Page		page;
	Size		dsub;
	Size		ncentroid;
	Size		ncodebook;

	if (index->rd_amcache != NULL)
		return (const IvfpqCache *) index->rd_amcache;

	buf = ReadBuffer(index, IVFPQ_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	meta = *IvfpqPageGetMeta(page);
	UnlockReleaseBuffer(buf);

	if (meta.magic != IVFPQ_MAGIC || meta.version != IVFPQ_VERSION)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\" is not a lance_ivfpq index of version %d",
						RelationGetRelationName(index), IVFPQ_VERSION),
				 errdetail("The meta page has magic 0x%08x, version %u.", meta.magic, meta.version),
				 errhint("REINDEX the index.")));
	if (meta.dim < 1 || meta.lists < 1 || meta.lists > IVFPQ_MAX_LISTS ||
		meta.num_sub_vectors < 1 || meta.dim % meta.num_sub_vectors != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INDEX_CORRUPTED),
				 errmsg("index \"%s\": meta page holds dim %d, lists %d, num_sub_vectors %d",
						RelationGetRelationName(index), meta.dim, meta.lists, meta.num_sub_vectors)));

	/*
	 * One allocation: the relcache frees rd_amcache with a single pfree when
	 * it invalidates the entry.
	 */
	dsub = meta.dim / meta.num_sub_vectors;
	ncentroid = (Size) meta.lists * meta.dim;
	ncodebook = (Size) meta.num_sub_vectors * PQ_KSUB * dsub;
	cache = MemoryContextAllocHuge(index->rd_indexcxt,
								   MAXALIGN(sizeof(IvfpqCache)) +
								   sizeof(float) * (ncentroid + ncodebook));
	cache->meta = meta;
	cache->centroids = (float *) ((char *) cache + MAXALIGN(sizeof(IvfpqCache)));
	cache->codebook = cache->centroids + ncentroid;
	ReadFloats(index, meta.centroid_start, ncentroid, cache->centroids);
	ReadFloats(index, meta.codebook_start, ncodebook, cache->codebook);
	index->rd_amcache = cache;
	return cache;
}

/*
 * Copy a vector for indexing or searching; cosine works on unit vectors.  A
 * zero vector stays zero (its cosine distance is undefined anyway).
 */
void
IvfpqPrepareVector(IvfpqMetric metric, const float *in, int dim, float *out)
{
	memcpy(out, in, sizeof(float) * dim);
	if (metric == IVFPQ_METRIC_COSINE)
	{
		float		norm = sqrtf(distance_kernels()->dot(in, in, dim));

		if (norm > 0.0f)
			for (int i = 0; i < dim; i++)
				out[i] /= norm;
	}
}

/*
 * Return the list whose centroid is nearest (L2) to a prepared vector.
 */
int
IvfpqNearestList(const IvfpqCache *cache, const float *x)
{
	int			lists = cache->meta.lists;
	float	   *d = palloc(sizeof(float) * lists);
	int			best = 0;

	distance_kernels()->l2sq_many(x, cache->centroids, lists, cache->meta.dim, d);
	for (int i = 1; i < lists; i++)
		if (d[i] < d[best])
			best = i;
	pfree(d);
	return best;
}

/*
 * Core cancel callback: stop when a cancel or termination is pending, so
 * that core code returns and frees its memory before the error is raised.
 */
bool
IvfpqCancelRequested(void *arg)
{
	return InterruptPending && (QueryCancelPending || ProcDiePending);
}

/*
 * Turn a core failure into an ERROR.
 */
void
IvfpqReportCoreError(CoreError *err, Relation index)
{
	if (err->status == CORE_ERR_CANCELED)
	{
		CHECK_FOR_INTERRUPTS();
		ereport(ERROR,
				(errcode(ERRCODE_QUERY_CANCELED),
				 errmsg("canceling lance_ivfpq work on index \"%s\"",
						RelationGetRelationName(index))));
	}
	ereport(ERROR,
			(errcode(err->status == CORE_ERR_NOMEM ? ERRCODE_OUT_OF_MEMORY :
					 err->status == CORE_ERR_INVALID ? ERRCODE_INVALID_PARAMETER_VALUE :
					 ERRCODE_INTERNAL_ERROR),
			 errmsg("index \"%s\": %s", RelationGetRelationName(index), err->msg)));
}

/*
 * Return a list's entry on its directory page.
 */
IvfpqList
IvfpqDirectoryEntry(Page page, int list)
{
	return ((IvfpqList) PageGetContents(page)) + (list % IVFPQ_LISTS_PER_PAGE);
}

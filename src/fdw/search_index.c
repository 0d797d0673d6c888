/*-------------------------------------------------------------------------
 *
 * search_index.c
 *	  Nearest-neighbour search of a Lance foreign table through the IVF_PQ
 *	  or IVF_FLAT index LanceDB built on its vector column.
 *
 * LanceDB answers `nearest_to(q).limit(k)` on an indexed column by probing
 * the nprobes partitions whose centroids are nearest q, ranking their rows
 * by PQ distance (IVF_PQ) or by the stored vectors' distance (IVF_FLAT),
 * and, with a refine factor r, re-ranking the best r * k
 * exactly; fragments appended after the index was built are not in it and
 * are searched flat, and the two results merged.  The flat search of
 * fdw_search.c does the same here: this file hands it the index's best
 * refine_factor * k live rows (refine factor 1 = LanceDB's default, no
 * refinement) and the list of fragments the index does not cover, which
 * the flat scan then reads alone.  Every row returned is ranked by its
 * exact distance, as Postgres expects of an ordered scan; with refine
 * factor 1 the rows are the ones LanceDB returns, in exact order.
 *
 * With quals, LanceDB by default prefilters: it evaluates the filter over
 * the indexed rows first and lets the index offer only rows that pass.
 * The scan does the same (and, as without quals, probes further partitions
 * while fewer than k were found): it names the passing rows
 * (lance_index_search_allow), which
 * then stand in for the deletion check, since that scan skipped deleted
 * rows.
 *
 * Index files never change once written (a new index gets a new uuid), so
 * an opened index, which holds its codes or vectors in memory, is kept for
 * the backend's later queries, as LanceDB keeps indexes in its index
 * cache: a few of them within lancedb.index_cache_mb, least recently used
 * first out.  A search pins the indexes it uses until its memory context
 * goes, so that another scan of the same query opening more indexes cannot
 * free them under it.
 *
 * An index is used only when it answers the query's metric exactly as
 * LanceDB would (l2 for <->, cosine for <=>, dot for <#>), covers a known
 * set of fragments, and the dataset's row ids are row addresses (stable
 * row ids off).  An index of a kind or layout the core does not read makes
 * a NOTICE and a flat search, never a wrong answer.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "fdw/search_index.h"
#include "kernels/topk.h"
#include "lance/deletion.h"
#include "lance/fragment.h"
#include "lance/index_meta.h"
#include "lance/take_vectors.h"

/* LanceDB 0.39's VectorQuery default ("The default value is 20"). */
#define DEFAULT_NPROBES 20

/* Opened indexes kept per backend: at most this many (and lancedb.index_cache_mb). */
#define CACHE_SLOTS 8

static int	search_nprobes = DEFAULT_NPROBES;
static int	search_refine_factor = 1;
static int	index_cache_mb = 1024;
static bool search_use_index = true;

/* An opened index, by dataset location and index uuid. */
typedef struct CachedIndex
{
	char	   *key;			/* "location\nuuid", in TopMemoryContext */
	LanceIvfIndex *ix;
	uint64		last_used;
	int			pins;			/* searches using it now */
} CachedIndex;

static CachedIndex index_cache[CACHE_SLOTS];
static uint64 cache_clock;

/* A fragment of the dataset's version, as the index sees it. */
typedef struct IndexedFragment
{
	uint64		id;
	uint64		physical_rows;
	int			segment;		/* the segment covering it, or -1 */
	LanceDeletionSet *deleted;	/* NULL when none */
	uint8	   *allowed;		/* restricted: a bit per row the quals pass */
} IndexedFragment;

struct LanceIndexSearch
{
	LanceSource *src;
	const LanceField *field;	/* the vector column */
	char	   *name;
	LanceIvfMetric metric;
	int			nsegments;
	LanceIvfIndex **segments;
	CachedIndex **cached;		/* each segment's cache entry, or NULL: owned */
	int			nfragments;
	IndexedFragment *fragments; /* ascending by id */
	int			current;		/* the segment being searched */
	bool		restricted;		/* only rows allowed by the prefilter */
};

/*
 * lance_search_index_init_gucs
 *		lancedb.nprobes and lancedb.refine_factor, as LanceDB's query
 *		options, lancedb.use_index (off: LanceDB's bypassVectorIndex) and
 *		lancedb.index_cache_mb.
 */
void
lance_search_index_init_gucs(void)
{
	DefineCustomIntVariable("lancedb.nprobes",
							"Partitions of a LanceDB IVF index probed by a nearest-neighbour search.",
							"LanceDB's default nprobes; a minimum here: more partitions are probed while fewer than LIMIT rows were found.",
							&search_nprobes,
							DEFAULT_NPROBES, 1, 65536,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lancedb.refine_factor",
							"Candidates per result a LanceDB IVF index search ranks exactly.",
							"As LanceDB's refine_factor: refine_factor * LIMIT rows are taken by approximate distance, then ranked exactly; 1 takes LIMIT rows.",
							&search_refine_factor,
							1, 1, 1000,
							PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomBoolVariable("lancedb.use_index",
							 "Lets nearest-neighbour searches of Lance foreign tables use LanceDB's vector indexes.",
							 "Off searches every row exactly, as LanceDB's bypassVectorIndex does.",
							 &search_use_index,
							 true,
							 PGC_USERSET, 0, NULL, NULL, NULL);
	DefineCustomIntVariable("lancedb.index_cache_mb",
							"Memory each backend may keep LanceDB indexes in between queries.",
							"An index is read whole when a search first uses it and kept while it fits; 0 reads it for every query.",
							&index_cache_mb,
							1024, 0, INT_MAX / 2,
							PGC_USERSET, GUC_UNIT_MB, NULL, NULL, NULL);
}

static const char *
metric_name(LanceIvfMetric metric)
{
	switch (metric)
	{
		case LANCE_IVF_L2:
			return "l2";
		case LANCE_IVF_COSINE:
			return "cosine";
		case LANCE_IVF_DOT:
			return "dot";
	}
	return "?";
}

/* Forget the least recently used unpinned index; false if none. */
static bool
evict_one(void)
{
	CachedIndex *victim = NULL;

	for (int i = 0; i < CACHE_SLOTS; i++)
	{
		if (index_cache[i].ix != NULL && index_cache[i].pins == 0 &&
			(victim == NULL || index_cache[i].last_used < victim->last_used))
			victim = &index_cache[i];
	}
	if (victim == NULL)
		return false;
	lance_ivf_close(victim->ix);
	pfree(victim->key);
	victim->ix = NULL;
	victim->key = NULL;
	return true;
}

/*
 * The index of this uuid of the dataset at location, from the cache or
 * opened (and then cached when room can be made), pinned; *entry is its
 * cache entry, or NULL when the caller owns it.
 */
static CoreStatus
open_cached(LanceSource *src, const char *location, const char *uuid, LanceIvfIndex **out,
			CachedIndex **entry, CoreError *err)
{
	char	   *key = psprintf("%s\n%s", location, uuid);
	CachedIndex *slot;
	CoreStatus	status;

	*entry = NULL;
	for (int i = 0; i < CACHE_SLOTS; i++)
	{
		if (index_cache[i].ix != NULL && strcmp(index_cache[i].key, key) == 0)
		{
			index_cache[i].last_used = ++cache_clock;
			index_cache[i].pins++;
			*out = index_cache[i].ix;
			*entry = &index_cache[i];
			return CORE_OK;
		}
	}
	status = lance_ivf_open(lance_source_storage(src), "", uuid, out, err);
	if (status != CORE_OK)
		return status;

	/* make room: a free slot, and the memory cap with this one counted */
	for (;;)
	{
		uint64		total = lance_ivf_memory(*out);

		slot = NULL;
		for (int i = 0; i < CACHE_SLOTS; i++)
		{
			if (index_cache[i].ix == NULL)
				slot = slot ? slot : &index_cache[i];
			else
				total += lance_ivf_memory(index_cache[i].ix);
		}
		if (slot != NULL && total <= (uint64) index_cache_mb * 1024 * 1024)
			break;
		if (!evict_one())
			return CORE_OK;		/* all pinned: this search owns it */
	}
	slot->key = MemoryContextStrdup(TopMemoryContext, key);
	slot->ix = *out;
	slot->last_used = ++cache_clock;
	slot->pins = 1;
	*entry = slot;
	return CORE_OK;
}

/* The memory context's reset callback: pins, owned indexes, deletion sets. */
static void
release_index_search(void *arg)
{
	LanceIndexSearch *is = arg;

	for (int s = 0; s < is->nsegments; s++)
	{
		if (is->cached[s] != NULL)
			is->cached[s]->pins--;
		else
			lance_ivf_close(is->segments[s]);
	}
	is->nsegments = 0;

	for (int f = 0; f < is->nfragments; f++)
	{
		lance_deletion_free(is->fragments[f].deleted);
		is->fragments[f].deleted = NULL;
	}
}

static int
cmp_fragment(const void *a, const void *b)
{
	uint64		x = ((const IndexedFragment *) a)->id;
	uint64		y = ((const IndexedFragment *) b)->id;

	return x < y ? -1 : x > y;
}

static IndexedFragment *
find_fragment(LanceIndexSearch *is, uint64 id)
{
	IndexedFragment key = {.id = id};

	return bsearch(&key, is->fragments, is->nfragments, sizeof(IndexedFragment), cmp_fragment);
}

/* The dataset's fragments, which segment covers each, their deletions. */
static void
load_fragments(LanceIndexSearch *is, LanceSource *src, LanceIndexInfo **infos)
{
	const LanceManifest *m = lance_source_manifest(src);
	CoreError	err;

	is->nfragments = m->num_fragments;
	is->fragments = palloc0(sizeof(IndexedFragment) * Max(m->num_fragments, 1));
	for (int f = 0; f < m->num_fragments; f++)
	{
		is->fragments[f].id = m->fragments[f].id;
		is->fragments[f].physical_rows = m->fragments[f].physical_rows;
		is->fragments[f].segment = -1;
	}
	qsort(is->fragments, is->nfragments, sizeof(IndexedFragment), cmp_fragment);
	for (int s = 0; s < is->nsegments; s++)
	{
		for (int64 i = 0; i < infos[s]->num_fragments; i++)
		{
			IndexedFragment *fr = find_fragment(is, infos[s]->fragment_ids[i]);

			/* a fragment the version no longer has is gone, rows and all */
			if (fr != NULL && fr->segment < 0)
				fr->segment = s;
		}
	}
	for (int f = 0; f < m->num_fragments; f++)
	{
		const LanceFragmentRef *ref = &m->fragments[f];
		IndexedFragment *fr = find_fragment(is, ref->id);

		if (fr->segment < 0 || !ref->has_deletion)
			continue;
		CHECK_FOR_INTERRUPTS();
		if (lance_fragment_load_deletions(lance_source_storage(src), "", ref, &fr->deleted,
										  &err) != CORE_OK)
			lance_report_core_error(&err);
	}
}

/*
 * lance_index_search_open
 *		The IVF segments on the column that answer this metric, or NULL.
 */
LanceIndexSearch *
lance_index_search_open(LanceSource *src, const char *location, const LanceField *field,
						LanceIvfMetric metric)
{
	const LanceManifest *m;
	LanceIndexList *list;
	LanceIndexSearch *is;
	LanceIndexInfo **infos;
	MemoryContextCallback *cb;
	const char *why = NULL;

	if (!search_use_index)
		return NULL;
	m = lance_source_manifest(src);
	list = lance_source_indexes(src);
	is = palloc0(sizeof(LanceIndexSearch));
	infos = palloc(sizeof(LanceIndexInfo *) * Max(list->count, 1));
	cb = palloc(sizeof(MemoryContextCallback));
	is->segments = palloc0(sizeof(LanceIvfIndex *) * Max(list->count, 1));
	is->cached = palloc0(sizeof(CachedIndex *) * Max(list->count, 1));
	is->metric = metric;
	is->src = src;
	is->field = field;
	cb->func = release_index_search;
	cb->arg = is;
	MemoryContextRegisterResetCallback(CurrentMemoryContext, cb);

	for (int i = 0; i < list->count && why == NULL; i++)
	{
		LanceIndexInfo *info = &list->indexes[i];
		LanceIvfIndex *ix;
		CachedIndex *entry;
		CoreError	err;
		CoreStatus	status;

		if (info->num_fields != 1 || info->field_ids[0] != field->id ||
			strcmp(info->details_type, "VectorIndexDetails") != 0)
			continue;
		is->name = pstrdup(info->name);
		if ((m->reader_flags & LANCE_FLAG_STABLE_ROW_IDS) != 0)
			why = "The dataset uses stable row ids, which the index stores instead of row addresses.";
		else if (!info->has_fragments)
			why = "The manifest does not say which fragments the index covers.";
		if (why != NULL)
			break;
		CHECK_FOR_INTERRUPTS();
		status = open_cached(src, location, info->uuid, &ix, &entry, &err);
		if (status == CORE_ERR_UNSUPPORTED || status == CORE_ERR_CORRUPT)
		{
			why = pstrdup(err.msg);
			break;
		}
		if (status != CORE_OK)
			lance_report_core_error(&err);
		is->segments[is->nsegments] = ix;
		is->cached[is->nsegments] = entry;
		infos[is->nsegments++] = info;
		if (lance_ivf_dim(ix) != field->type.fixed_size)
			why = psprintf("The index has %d dimensions, the column %d.",
						   lance_ivf_dim(ix), field->type.fixed_size);
		else if (lance_ivf_metric(ix) != metric)
			return NULL;		/* another metric's index: LanceDB too searches flat */
	}
	if (why != NULL)
	{
		ereport(NOTICE,
				(errmsg("Lance index \"%s\" on column \"%s\" is not used; searching without it",
						is->name, field->name),
				 errdetail("%s", why)));
		return NULL;
	}
	if (is->nsegments == 0)
		return NULL;
	load_fragments(is, src, infos);
	return is;
}

/* The ids of the fragments some segment covers, or of those none covers. */
static uint64 *
fragments_where(LanceIndexSearch *is, bool covered, int *n)
{
	uint64	   *ids = palloc(sizeof(uint64) * Max(is->nfragments, 1));

	*n = 0;
	for (int f = 0; f < is->nfragments; f++)
	{
		if ((is->fragments[f].segment >= 0) == covered)
			ids[(*n)++] = is->fragments[f].id;
	}
	return ids;
}

/*
 * lance_index_search_uncovered
 *		The fragments to search flat.
 */
uint64 *
lance_index_search_uncovered(LanceIndexSearch *is, int *n)
{
	return fragments_where(is, false, n);
}

/*
 * lance_index_search_covered
 *		The fragments the index answers for, whose rows a prefilter reads.
 */
uint64 *
lance_index_search_covered(LanceIndexSearch *is, int *n)
{
	return fragments_where(is, true, n);
}

/*
 * lance_index_search_restrict
 *		From now on, candidates are only the rows lance_index_search_allow
 *		names; none so far.  The bitmaps live in the current memory context.
 */
void
lance_index_search_restrict(LanceIndexSearch *is)
{
	for (int f = 0; f < is->nfragments; f++)
	{
		IndexedFragment *fr = &is->fragments[f];

		if (fr->segment < 0)
			continue;
		if (fr->allowed != NULL)
			pfree(fr->allowed);
		fr->allowed = palloc_extended(fr->physical_rows / 8 + 1, MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	}
	is->restricted = true;
}

/*
 * lance_index_search_allow
 *		Let the row at this address be a candidate.
 */
void
lance_index_search_allow(LanceIndexSearch *is, uint64 addr)
{
	IndexedFragment *fr = find_fragment(is, LANCE_ROW_ADDR_FRAGMENT(addr));
	uint32		offset = LANCE_ROW_ADDR_OFFSET(addr);

	Assert(is->restricted);
	if (fr == NULL || fr->allowed == NULL || offset >= fr->physical_rows)
		elog(ERROR, "Lance prefilter row %u of fragment %u is not one the index covers",
			 offset, LANCE_ROW_ADDR_FRAGMENT(addr));
	fr->allowed[offset / 8] |= (uint8) (1 << (offset % 8));
}

/*
 * Whether a row id of the current segment is a live row this segment
 * answers for: its fragment still exists, is covered by this segment (a
 * row rewritten elsewhere is found there), and has not deleted it; under a
 * prefilter, whether the quals passed it (the scan that tried them skipped
 * deleted rows).
 */
static bool
row_is_live(uint64_t row_id, void *arg)
{
	LanceIndexSearch *is = arg;
	IndexedFragment *fr = find_fragment(is, LANCE_ROW_ADDR_FRAGMENT(row_id));
	uint32		offset = LANCE_ROW_ADDR_OFFSET(row_id);

	if (fr == NULL || fr->segment != is->current || offset >= fr->physical_rows)
		return false;
	if (is->restricted)
		return (fr->allowed[offset / 8] & (1 << (offset % 8))) != 0;
	return fr->deleted == NULL || !lance_deletion_contains(fr->deleted, offset);
}

static int
cmp_uint64(const void *a, const void *b)
{
	uint64		x = *(const uint64 *) a;
	uint64		y = *(const uint64 *) b;

	return x < y ? -1 : x > y;
}

/*
 * Refuse candidates that repeat a row: a well-formed index lists each row
 * once, and a damaged one must not make a row come back twice.
 */
static void
check_no_repeats(LanceIndexSearch *is, const uint64 *addrs, int64 n)
{
	uint64	   *sorted = palloc(sizeof(uint64) * Max(n, 1));

	memcpy(sorted, addrs, sizeof(uint64) * n);
	qsort(sorted, n, sizeof(uint64), cmp_uint64);
	for (int64 i = 1; i < n; i++)
	{
		if (sorted[i] == sorted[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("Lance index \"%s\" lists row %u of fragment %u twice",
							is->name, LANCE_ROW_ADDR_OFFSET(sorted[i]),
							LANCE_ROW_ADDR_FRAGMENT(sorted[i])),
					 errhint("Rebuild the index with LanceDB.")));
	}
	pfree(sorted);
}

/*
 * lance_index_search_candidates
 *		Up to refine_factor * k live rows by approximate distance.
 */
int64
lance_index_search_candidates(LanceIndexSearch *is, const float *q, int64 k, uint64 **addrs)
{
	uint64		indexed = 0;
	int64		want;
	TopK	   *heap;
	TopkEntry  *best;
	int64		n;

	/* never more candidates than the index holds, whatever the LIMIT */
	for (int s = 0; s < is->nsegments; s++)
		indexed += lance_ivf_num_rows(is->segments[s]);
	want = k > (int64) (indexed / search_refine_factor) ? (int64) indexed : k * search_refine_factor;
	heap = topk_new(Max(want, 1));

	if (heap == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OUT_OF_MEMORY),
				 errmsg("out of memory for " INT64_FORMAT " index candidates", want)));
	for (is->current = 0; is->current < is->nsegments; is->current++)
	{
		CoreError	err;

		CHECK_FOR_INTERRUPTS();
		if (lance_ivf_search(is->segments[is->current], q, search_nprobes, k, row_is_live, is,
							 heap, &err) != CORE_OK)
		{
			topk_free(heap);
			lance_report_core_error(&err);
		}
	}
	n = topk_count(heap);
	best = palloc(sizeof(TopkEntry) * Max(n, 1));
	topk_drain_sorted(heap, best);
	topk_free(heap);
	*addrs = palloc(sizeof(uint64) * Max(n, 1));
	for (int64 i = 0; i < n; i++)
		(*addrs)[i] = best[i].payload;
	pfree(best);
	check_no_repeats(is, *addrs, n);
	return n;
}

/*
 * lance_index_search_vectors
 *		The candidates' vectors read row by row, or NULL when their pages
 *		are not laid out for that.
 */
float *
lance_index_search_vectors(LanceIndexSearch *is, const uint64 *addrs, int64 n)
{
	float	   *out = palloc_extended(sizeof(float) * is->field->type.fixed_size * Max(n, 1),
									  MCXT_ALLOC_HUGE);
	CoreError	err;
	CoreStatus	status;

	CHECK_FOR_INTERRUPTS();
	status = lance_take_vectors(lance_source_storage(is->src), "", lance_source_manifest(is->src),
								is->field, (const uint64_t *) addrs, n, out, &err);
	if (status == CORE_ERR_UNSUPPORTED)
	{
		pfree(out);
		return NULL;
	}
	if (status != CORE_OK)
		lance_report_core_error(&err);
	return out;
}

/*
 * lance_index_search_explain
 *		The index used, its shape, and the probes and refinement asked for.
 */
void
lance_index_search_explain(LanceIndexSearch *is, ExplainState *es)
{
	int			nuncovered = 0;
	bool		pq;

	if (is == NULL)
		return;
	pq = lance_ivf_kind(is->segments[0]) == LANCE_IVF_KIND_PQ;
	for (int f = 0; f < is->nfragments; f++)
		nuncovered += is->fragments[f].segment < 0;
	ExplainPropertyText("Lance Index",
						psprintf("%s (%s, %s, %d partitions%s%s)",
								 is->name, pq ? "IVF_PQ" : "IVF_FLAT", metric_name(is->metric),
								 lance_ivf_num_partitions(is->segments[0]),
								 pq ? psprintf(", %d sub-vectors", lance_ivf_num_sub_vectors(is->segments[0])) : "",
								 is->nsegments > 1 ? psprintf(", %d segments", is->nsegments) : ""),
						es);
	ExplainPropertyInteger("Lance Nprobes", NULL, search_nprobes, es);
	ExplainPropertyInteger("Lance Refine Factor", NULL, search_refine_factor, es);
	ExplainPropertyInteger("Lance Unindexed Fragments", NULL, nuncovered, es);
}

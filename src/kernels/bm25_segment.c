/*-------------------------------------------------------------------------
 *
 * bm25_segment.c
 *	  Writing and reading immutable BM25 segments (see bm25_segment.h).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_segment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/sorted.h"
#include "kernels/bm25_deletes.h"
#include "kernels/bm25_ranges.h"

/* fixed part of a dictionary entry after the term bytes */
#define DICT_FIXED 24
/* one sparse dictionary index entry per this many terms */
#define BM25_DICT_STRIDE 32
/* fixed header of a posting block */
#define BLOCK_HEADER 12
/* bytes buffered before they go to the sink */
#define FLUSH_AT (1 << 20)

struct Bm25SegWriter
{
	bool		positions;
	Bm25SinkFn	sink;
	void	   *ctx;
	Bm25Buf		out;			/* not yet sunk */
	uint64_t	sunk;			/* bytes already given to the sink */
	Bm25Buf		dict;
	Bm25Buf		dindex;			/* every BM25_DICT_STRIDE-th term */
	Bm25Buf		region;			/* scratch: one term's blocks */
	Bm25Buf		skip;			/* scratch: one term's skip table */
	uint32_t	nterms;
	char		last[BM25_MAX_TERM_LEN];
	size_t		lastlen;
	double		k1;				/* 0: no largest tf parts */
	double		b;
	double		avgdl;
	/* the doc table, from bm25_segw_set_docs */
	size_t		ndocs;
	const uint64_t *docids;
	const uint32_t *dls;
	bool		have_docs;
	uint64_t   *ords;			/* scratch: one term's ordinals */
	size_t		ords_cap;
};

Bm25SegWriter *
bm25_segw_create(bool positions, Bm25SinkFn sink, void *ctx)
{
	Bm25SegWriter *w = core_calloc(1, sizeof(Bm25SegWriter));

	if (w == NULL)
		return NULL;
	w->positions = positions;
	w->sink = sink;
	w->ctx = ctx;
	bm25_buf_init(&w->out);
	bm25_buf_init(&w->dict);
	bm25_buf_init(&w->dindex);
	bm25_buf_init(&w->region);
	bm25_buf_init(&w->skip);
	return w;
}

void
bm25_segw_set_params(Bm25SegWriter *w, double k1, double b)
{
	w->k1 = k1;
	w->b = b;
}

CoreStatus
bm25_segw_set_docs(Bm25SegWriter *w, size_t ndocs, const uint64_t *docids,
				   const uint32_t *dls, CoreError *err)
{
	uint64_t	total = 0;

	for (size_t i = 0; i < ndocs; i++)
	{
		if (i > 0 && docids[i] <= docids[i - 1])
			return core_error(err, CORE_ERR_INVALID, "bm25 segment: doc table out of order at %zu", i);
		total += dls[i];
	}
	w->ndocs = ndocs;
	w->docids = docids;
	w->dls = dls;
	w->have_docs = true;
	w->avgdl = ndocs > 0 ? (double) total / (double) ndocs : 0.0;
	return CORE_OK;
}

/*
 * The doc table ordinals of a term's doc ids, which increase, so each is
 * found by galloping on from the last; false when one is not in the table
 * or has another length there (ranking takes lengths from either).
 */
static bool
MapOrdinals(Bm25SegWriter *w, const uint64_t *docids, const uint32_t *dls, size_t n)
{
	size_t		at = 0;

	if (!core_grow((void **) &w->ords, &w->ords_cap, n, sizeof(uint64_t)))
		return false;
	for (size_t i = 0; i < n; i++)
	{
		size_t		step = 1,
					lo = at,
					hi;

		/* gallop to a bound past docids[i], then bisect */
		while (at + step < w->ndocs && w->docids[at + step] < docids[i])
		{
			lo = at + step;
			step *= 2;
		}
		hi = at + step < w->ndocs ? at + step + 1 : w->ndocs;
		lo = core_lower_bound_u64(w->docids, lo, hi, docids[i]);
		if (lo >= w->ndocs || w->docids[lo] != docids[i] || w->dls[lo] != dls[i])
			return false;
		w->ords[i] = lo;
		at = lo;
	}
	return true;
}

/*
 * The largest tf part of n postings under the writer's parameters, as a
 * float rounded up so that it stays an upper bound (+inf without them).
 */
static float
BlockTfMax(const Bm25SegWriter *w, const uint32_t *tfs, const uint32_t *dls, size_t n)
{
	double		best = 0.0;

	if (w->k1 <= 0.0 || w->avgdl <= 0.0)
		return INFINITY;
	for (size_t i = 0; i < n; i++)
	{
		double		g = bm25_ref_tf_part(tfs[i], dls[i], w->k1, w->b, w->avgdl);

		if (g > best)
			best = g;
	}
	return bm25_float_up(best);
}

static void
PutFloat(Bm25Buf *b, float f)
{
	uint32_t	bits;

	memcpy(&bits, &f, sizeof(bits));
	bm25_buf_put_u32(b, bits);
}

void
bm25_segw_free(Bm25SegWriter *w)
{
	if (w == NULL)
		return;
	bm25_buf_free(&w->out);
	bm25_buf_free(&w->dict);
	bm25_buf_free(&w->dindex);
	bm25_buf_free(&w->region);
	bm25_buf_free(&w->skip);
	core_free(w->ords);
	core_free(w);
}

static CoreStatus
Flush(Bm25SegWriter *w, bool force, CoreError *err)
{
	if (!w->out.ok)
		return core_error(err, CORE_ERR_NOMEM, "bm25 segment: out of memory");
	if (w->out.len == 0 || (!force && w->out.len < FLUSH_AT))
		return CORE_OK;
	if (w->sink(w->ctx, w->out.data, w->out.len) != 0)
		return core_error(err, CORE_ERR_IO, "bm25 segment: writing %zu bytes at offset %llu failed",
						  w->out.len, (unsigned long long) w->sunk);
	w->sunk += w->out.len;
	w->out.len = 0;
	return CORE_OK;
}

static inline uint64_t
Offset(const Bm25SegWriter *w)
{
	return w->sunk + w->out.len;
}

typedef struct Impact
{
	uint32_t	tf;
	uint32_t	dl;
} Impact;

static int
CompareImpacts(const void *a, const void *b)
{
	const Impact *x = a;
	const Impact *y = b;

	if (x->tf != y->tf)
		return x->tf > y->tf ? -1 : 1;
	return x->dl < y->dl ? -1 : (x->dl > y->dl ? 1 : 0);
}

/* tfs up to this find the frontier through a table instead of a sort */
#define SMALL_TF 64

/*
 * The block's impacts (see bm25_segment.h): its Pareto frontier, tf
 * falling and dl falling, cut to BM25_IMPACTS points by merging the
 * adjacent pair whose tfs are closest; unused slots are (0, 0).
 */
static void
PutImpacts(Bm25Buf *b, const uint32_t *tfs, const uint32_t *dls, size_t n)
{
	Impact		all[BM25_BLOCK_SIZE];
	Impact		front[BM25_BLOCK_SIZE];
	size_t		nf = 0;
	uint32_t	maxtf = 0;

	for (size_t i = 0; i < n; i++)
		if (tfs[i] > maxtf)
			maxtf = tfs[i];
	if (maxtf <= SMALL_TF)
	{
		/* the usual case, without a sort: the least dl of each tf */
		uint64_t	mindl[SMALL_TF + 1];	/* UINT64_MAX: no posting */

		memset(mindl, 0xFF, sizeof(mindl));
		for (size_t i = 0; i < n; i++)
			if (dls[i] < mindl[tfs[i]])
				mindl[tfs[i]] = dls[i];
		for (uint32_t tf = maxtf; tf >= 1; tf--)
			if (mindl[tf] != UINT64_MAX && (nf == 0 || mindl[tf] < front[nf - 1].dl))
			{
				front[nf].tf = tf;
				front[nf].dl = (uint32_t) mindl[tf];
				nf++;
			}
	}
	else
	{
		for (size_t i = 0; i < n; i++)
		{
			all[i].tf = tfs[i];
			all[i].dl = dls[i];
		}
		qsort(all, n, sizeof(Impact), CompareImpacts);
		for (size_t i = 0; i < n; i++)
			if (nf == 0 || all[i].dl < front[nf - 1].dl)
				front[nf++] = all[i];
	}
	while (nf > BM25_IMPACTS)
	{
		size_t		best = 0;

		for (size_t i = 1; i + 1 < nf; i++)
			if ((double) front[i].tf / front[i + 1].tf <
				(double) front[best].tf / front[best + 1].tf)
				best = i;
		/* (higher tf, lower dl) dominates both */
		front[best].dl = front[best + 1].dl;
		memmove(&front[best + 1], &front[best + 2], (nf - best - 2) * sizeof(Impact));
		nf--;
	}
	for (size_t i = 0; i < BM25_IMPACTS; i++)
	{
		uint32_t	tf = i < nf ? front[i].tf : 0;
		uint32_t	dl = i < nf ? front[i].dl : 0;

		bm25_buf_put_u16(b, tf >= BM25_IMPACT_TF_INF ? BM25_IMPACT_TF_INF : (uint16_t) tf);
		bm25_buf_put_u16(b, dl > 0xFFFF ? 0xFFFF : (uint16_t) dl);
	}
}

/* Encode postings [from, from + n) as one block at the end of w->region. */
static void
PutBlock(Bm25SegWriter *w, const uint64_t *docids, const uint32_t *tfs,
		 const uint32_t *dls, const uint32_t *positions, size_t n)
{
	uint64_t	v[BM25_BLOCK_SIZE];
	uint64_t	maxgap = 0,
				maxtf = 0,
				maxdl = 0;
	int			wd,
				wt,
				wl;

	for (size_t i = 1; i < n; i++)
		if (docids[i] - docids[i - 1] > maxgap)
			maxgap = docids[i] - docids[i - 1];
	for (size_t i = 0; i < n; i++)
	{
		if (tfs[i] - 1 > maxtf)
			maxtf = tfs[i] - 1;
		if (dls[i] > maxdl)
			maxdl = dls[i];
	}
	wd = bm25_bit_width(maxgap);
	wt = bm25_bit_width(maxtf);
	wl = bm25_bit_width(maxdl);
	bm25_buf_put_u8(&w->region, (uint8_t) n);
	bm25_buf_put_u8(&w->region, (uint8_t) wd);
	bm25_buf_put_u8(&w->region, (uint8_t) wt);
	bm25_buf_put_u8(&w->region, (uint8_t) wl);
	bm25_buf_put_u64(&w->region, docids[0]);
	for (size_t i = 1; i < n; i++)
		v[i - 1] = docids[i] - docids[i - 1];
	bm25_pack(&w->region, v, n - 1, wd);
	for (size_t i = 0; i < n; i++)
		v[i] = tfs[i] - 1;
	bm25_pack(&w->region, v, n, wt);
	for (size_t i = 0; i < n; i++)
		v[i] = dls[i];
	bm25_pack(&w->region, v, n, wl);
	if (positions)
	{
		size_t		lenat = w->region.len;
		size_t		p = 0;

		bm25_buf_put_u32(&w->region, 0);
		for (size_t i = 0; i < n; i++)
		{
			uint32_t	prev = 0;

			for (uint32_t j = 0; j < tfs[i]; j++, p++)
			{
				bm25_buf_put_varint(&w->region, positions[p] - prev);
				prev = positions[p];
			}
		}
		if (w->region.ok)
		{
			uint32_t	len = (uint32_t) (w->region.len - lenat - 4);

			for (int i = 0; i < 4; i++)
				w->region.data[lenat + i] = (uint8_t) (len >> (8 * i));
		}
	}
}

CoreStatus
bm25_segw_add_term(Bm25SegWriter *w, const char *term, size_t len, size_t n,
				   const uint64_t *docids, const uint32_t *tfs, const uint32_t *dls,
				   const uint32_t *positions, CoreError *err)
{
	uint64_t	region_off = Offset(w);
	uint32_t	nblocks = (uint32_t) ((n + BM25_BLOCK_SIZE - 1) / BM25_BLOCK_SIZE);
	uint32_t	tmax = 0,
				dmin = UINT32_MAX;
	size_t		pos_at = 0;
	int			cmp;

	if (len == 0 || len > BM25_MAX_TERM_LEN || n == 0 || n > UINT32_MAX)
		return core_error(err, CORE_ERR_INVALID, "bm25 segment: term of %zu bytes with %zu postings",
						  len, n);
	cmp = memcmp(w->last, term, len < w->lastlen ? len : w->lastlen);
	if (w->nterms > 0 && (cmp > 0 || (cmp == 0 && w->lastlen >= len)))
		return core_error(err, CORE_ERR_INVALID, "bm25 segment: terms out of order at \"%.*s\"",
						  (int) len, term);
	for (size_t i = 0; i < n; i++)
	{
		if (tfs[i] == 0 || (i > 0 && docids[i] <= docids[i - 1]))
			return core_error(err, CORE_ERR_INVALID,
							  "bm25 segment: term \"%.*s\": posting %zu has tf 0 or a doc id out of order",
							  (int) len, term, i);
	}
	if (!w->have_docs)
		return core_error(err, CORE_ERR_INVALID, "bm25 segment: a term before the doc table");
	if (!MapOrdinals(w, docids, dls, n))
		return core_error(err, w->ords_cap < n ? CORE_ERR_NOMEM : CORE_ERR_INVALID,
						  "bm25 segment: term \"%.*s\" has a document that is not in the doc table, or not with that length",
						  (int) len, term);
	docids = w->ords;

	w->region.len = 0;
	w->skip.len = 0;
	for (uint32_t b = 0; b < nblocks; b++)
	{
		size_t		from = (size_t) b * BM25_BLOCK_SIZE;
		size_t		cnt = n - from < BM25_BLOCK_SIZE ? n - from : BM25_BLOCK_SIZE;
		size_t		start = w->region.len;
		uint32_t	bmax = 0,
					bmin = UINT32_MAX;
		size_t		npos = 0;

		for (size_t i = from; i < from + cnt; i++)
		{
			if (tfs[i] > bmax)
				bmax = tfs[i];
			if (dls[i] < bmin)
				bmin = dls[i];
			npos += tfs[i];
		}
		PutBlock(w, docids + from, tfs + from, dls + from,
				 (w->positions && positions) ? positions + pos_at : NULL, cnt);
		if (w->positions && !positions)
			return core_error(err, CORE_ERR_INVALID, "bm25 segment: positions missing");
		pos_at += npos;
		if (nblocks > 1)
		{
			bm25_buf_put_u64(&w->skip, docids[from + cnt - 1]);
			bm25_buf_put_u32(&w->skip, (uint32_t) ((size_t) nblocks * BM25_SKIP_ENTRY_SIZE + start));
			bm25_buf_put_u32(&w->skip, (uint32_t) (w->region.len - start));
			PutImpacts(&w->skip, tfs + from, dls + from, cnt);
			PutFloat(&w->skip, BlockTfMax(w, tfs + from, dls + from, cnt));
		}
		if (bmax > tmax)
			tmax = bmax;
		if (bmin < dmin)
			dmin = bmin;
	}
	if (w->k1 > 0.0 && w->avgdl > 0.0 && n >= bm25_range_min_df(w->ndocs))
		bm25_ranges_put(&w->region, docids, tfs, dls, n, w->ndocs, w->k1, w->b, w->avgdl);
	if (!w->region.ok || !w->skip.ok)
		return core_error(err, CORE_ERR_NOMEM, "bm25 segment: out of memory");
	if (w->region.len + w->skip.len > UINT32_MAX)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "bm25 segment: postings of term \"%.*s\" exceed 4 GB", (int) len, term);
	bm25_buf_put(&w->out, w->skip.data, w->skip.len);
	bm25_buf_put(&w->out, w->region.data, w->region.len);

	if (w->nterms % BM25_DICT_STRIDE == 0)
	{
		bm25_buf_put_u16(&w->dindex, (uint16_t) len);
		bm25_buf_put(&w->dindex, term, len);
		bm25_buf_put_u64(&w->dindex, w->dict.len);
	}
	bm25_buf_put_u16(&w->dict, (uint16_t) len);
	bm25_buf_put(&w->dict, term, len);
	bm25_buf_put_u32(&w->dict, (uint32_t) n);
	bm25_buf_put_u64(&w->dict, region_off);
	bm25_buf_put_u32(&w->dict, nblocks);
	bm25_buf_put_u32(&w->dict, tmax);
	bm25_buf_put_u32(&w->dict, dmin);
	memcpy(w->last, term, len);
	w->lastlen = len;
	w->nterms++;
	return Flush(w, false, err);
}

CoreStatus
bm25_segw_finish(Bm25SegWriter *w, Bm25SegInfo *info, CoreError *err)
{
	uint64_t	total = 0;
	CoreStatus	st;

	memset(info, 0, sizeof(*info));
	info->doctab_off = Offset(w);
	bm25_buf_put_u64(&w->out, w->ndocs);
	for (size_t i = 0; i < w->ndocs; i++)
	{
		bm25_buf_put_u64(&w->out, w->docids[i]);
		bm25_buf_put_u32(&w->out, w->dls[i]);
		total += w->dls[i];
		if ((st = Flush(w, false, err)) != CORE_OK)
			return st;
	}
	/* with range bounds: the lengths again, two bytes each, for ranking */
	for (size_t i = 0; w->k1 > 0.0 && w->avgdl > 0.0 && i < w->ndocs; i++)
	{
		bm25_buf_put_u16(&w->out, w->dls[i] < 0xFFFF ? (uint16_t) w->dls[i] : 0xFFFF);
		if ((st = Flush(w, false, err)) != CORE_OK)
			return st;
	}
	info->dict_off = Offset(w);
	info->dict_len = w->dict.len;
	if (!w->dict.ok || !w->dindex.ok)
		return core_error(err, CORE_ERR_NOMEM, "bm25 segment: out of memory");
	bm25_buf_put(&w->out, w->dict.data, w->dict.len);
	info->dindex_off = Offset(w);
	info->dindex_len = w->dindex.len;
	bm25_buf_put(&w->out, w->dindex.data, w->dindex.len);
	if ((st = Flush(w, true, err)) != CORE_OK)
		return st;
	info->nbytes = w->sunk;
	info->ndocs = w->ndocs;
	info->total_dl = total;
	info->nterms = w->nterms;
	info->positions = w->positions;
	if (w->k1 > 0.0 && w->avgdl > 0.0)
	{
		info->ref_k1 = w->k1;
		info->ref_b = w->b;
		info->ref_avgdl = w->avgdl;
		info->range_min_df = bm25_range_min_df(w->ndocs);
	}
	return CORE_OK;
}

/* --- reading --- */

/*
 * A reader keeps only the sparse dictionary index in memory: a lookup
 * binary-searches it and scans one stride of the dictionary, read through
 * the caller's reader, so opening a segment costs one small read whatever
 * its vocabulary.  Merges, which walk every term, load the whole dictionary
 * (bm25_segr_load_terms).
 */
/*
 * The stretches of the segment the view has handed out lately, by where
 * they start (VIEW_MEMO_SPAN bytes to a slot): ranking asks for a few
 * bytes at a time, mostly on pages it has just read, and finding those in
 * the memo costs far less than asking the view again.
 */
#define VIEW_MEMO 64
#define VIEW_MEMO_SPAN 4096

typedef struct ViewExtent
{
	uint64_t	lo;				/* [lo, hi) of the segment at p */
	uint64_t	hi;
	const uint8_t *p;
} ViewExtent;

struct Bm25SegReader
{
	Bm25SegInfo info;
	Bm25ReadFn	read;
	void	   *ctx;
	uint8_t    *dindex;
	uint32_t	nidx;
	uint32_t   *idx;			/* offset of each sparse entry in dindex */
	uint64_t   *idx_doff;		/* its dictionary offset */
	uint8_t    *dict;			/* whole dictionary, once loaded */
	uint32_t   *entry;			/* offset of each term's entry in dict */
	Bm25Deletes *deletes;		/* or NULL */
	Bm25ViewFn	view;			/* or NULL */
	void	   *view_ctx;
	ViewExtent *memo;			/* VIEW_MEMO of them, while the view lasts */
};

static int
CompareBytes(const char *a, size_t alen, const char *b, size_t blen)
{
	int			c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : (alen > blen ? 1 : 0);
}

/* Parse the dictionary entry at p (bounds checked by the caller). */
static inline const char *
ParseEntry(const uint8_t *p, size_t *len, Bm25TermInfo *ti)
{
	size_t		l = bm25_get_u16(p);

	*len = l;
	if (ti)
	{
		const uint8_t *q = p + 2 + l;

		ti->df = bm25_get_u32(q);
		ti->off = bm25_get_u64(q + 4);
		ti->nblocks = bm25_get_u32(q + 12);
		ti->max_tf = bm25_get_u32(q + 16);
		ti->min_dl = bm25_get_u32(q + 20);
	}
	return (const char *) p + 2;
}

/* Is an entry's term info consistent with the segment? */
static bool
TermInfoValid(const Bm25SegInfo *info, const Bm25TermInfo *ti)
{
	return ti->off <= info->doctab_off &&
		bm25_skip_table_size(ti->nblocks) <= info->doctab_off - ti->off &&
		ti->df > 0 && ti->nblocks == (ti->df + BM25_BLOCK_SIZE - 1) / BM25_BLOCK_SIZE;
}

CoreStatus
bm25_segr_open(const Bm25SegInfo *info, Bm25ReadFn read, void *ctx,
			   Bm25SegReader **out, CoreError *err)
{
	Bm25SegReader *r;
	uint32_t	nidx = (info->nterms + BM25_DICT_STRIDE - 1) / BM25_DICT_STRIDE;
	size_t		p = 0;

	*out = NULL;
	if (info->dict_off > info->nbytes || info->dict_len > info->nbytes - info->dict_off ||
		info->doctab_off > info->dict_off ||
		info->dict_len < (uint64_t) info->nterms * (DICT_FIXED + 3) ||
		info->dindex_off != info->dict_off + info->dict_len ||
		info->dindex_len > info->nbytes - info->dindex_off ||
		info->dindex_len < (uint64_t) nidx * 11 ||
		(info->range_min_df > 0 &&
		 info->ndocs > (info->dict_off - info->doctab_off - 8) / 14))
		return core_error(err, CORE_ERR_CORRUPT,
						  "bm25 segment: dictionary at %llu (%llu bytes, %u terms) does not fit %llu bytes",
						  (unsigned long long) info->dict_off, (unsigned long long) info->dict_len,
						  info->nterms, (unsigned long long) info->nbytes);
	r = core_calloc(1, sizeof(Bm25SegReader));
	if (r == NULL)
		return core_error(err, CORE_ERR_NOMEM, "bm25 segment: out of memory");
	r->info = *info;
	r->read = read;
	r->ctx = ctx;
	r->nidx = nidx;
	r->dindex = core_malloc(info->dindex_len ? info->dindex_len : 1);
	r->idx = core_mallocarray(nidx ? nidx : 1, sizeof(uint32_t));
	r->idx_doff = core_mallocarray(nidx ? nidx : 1, sizeof(uint64_t));
	r->memo = core_calloc(VIEW_MEMO, sizeof(ViewExtent));
	if (!r->dindex || !r->idx || !r->idx_doff || !r->memo)
	{
		bm25_segr_free(r);
		return core_error(err, CORE_ERR_NOMEM, "bm25 segment: out of memory for %u terms", info->nterms);
	}
	if (info->dindex_len > 0 && read(ctx, info->dindex_off, info->dindex_len, r->dindex) != 0)
	{
		bm25_segr_free(r);
		return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read dictionary index at %llu",
						  (unsigned long long) info->dindex_off);
	}
	for (uint32_t i = 0; i < nidx; i++)
	{
		size_t		l;

		if (p + 2 > info->dindex_len ||
			(l = bm25_get_u16(r->dindex + p)) == 0 || p + 2 + l + 8 > info->dindex_len ||
			(r->idx_doff[i] = bm25_get_u64(r->dindex + p + 2 + l)) >= info->dict_len ||
			(i > 0 && r->idx_doff[i] <= r->idx_doff[i - 1]))
		{
			bm25_segr_free(r);
			return core_error(err, CORE_ERR_CORRUPT,
							  "bm25 segment: dictionary index entry %u at %zu is malformed", i, p);
		}
		r->idx[i] = (uint32_t) p;
		p += 2 + l + 8;
	}
	*out = r;
	return CORE_OK;
}

CoreStatus
bm25_segr_load_terms(Bm25SegReader *r, CoreError *err)
{
	const Bm25SegInfo *info = &r->info;
	size_t		p = 0;

	if (r->dict)
		return CORE_OK;
	r->dict = core_malloc(info->dict_len ? info->dict_len : 1);
	r->entry = core_mallocarray(info->nterms ? info->nterms : 1, sizeof(uint32_t));
	if (!r->dict || !r->entry)
	{
		core_free(r->dict);
		core_free(r->entry);
		r->dict = NULL;
		r->entry = NULL;
		return core_error(err, CORE_ERR_NOMEM, "bm25 segment: out of memory for %u terms", info->nterms);
	}
	if (info->dict_len > 0 && r->read(r->ctx, info->dict_off, info->dict_len, r->dict) != 0)
	{
		core_free(r->dict);
		r->dict = NULL;
		return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read dictionary at %llu",
						  (unsigned long long) info->dict_off);
	}
	for (uint32_t i = 0; i < info->nterms; i++)
	{
		size_t		l;
		Bm25TermInfo ti;

		if (p + 2 > info->dict_len ||
			(l = bm25_get_u16(r->dict + p)) == 0 || p + 2 + l + DICT_FIXED > info->dict_len ||
			(ParseEntry(r->dict + p, &l, &ti), !TermInfoValid(info, &ti)))
		{
			core_free(r->dict);
			r->dict = NULL;
			return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: dictionary entry %u at %zu is malformed",
							  i, p);
		}
		r->entry[i] = (uint32_t) p;
		p += 2 + l + DICT_FIXED;
	}
	return CORE_OK;
}

void
bm25_segr_set_source(Bm25SegReader *r, Bm25ReadFn read, void *ctx)
{
	r->read = read;
	r->ctx = ctx;
	bm25_segr_set_view(r, NULL, NULL);
}

void
bm25_segr_set_view(Bm25SegReader *r, Bm25ViewFn view, void *ctx)
{
	r->view = view;
	r->view_ctx = ctx;
	memset(r->memo, 0, VIEW_MEMO * sizeof(ViewExtent));
}

/*
 * The bytes at off (within the segment) in place, and in *len how many
 * follow in one piece, from the memo or else from the view; NULL when the
 * view does not hold them.
 */
static inline const uint8_t *
ViewAt(const Bm25SegReader *r, uint64_t off, size_t *len)
{
	ViewExtent *e = &r->memo[(off / VIEW_MEMO_SPAN) % VIEW_MEMO];
	const uint8_t *p;

	if (off < e->lo || off >= e->hi)
	{
		/* as much as the view holds in one piece, for the memo */
		size_t		got = r->info.nbytes - off;

		if ((p = r->view(r->view_ctx, off, &got)) == NULL || got == 0)
			return NULL;
		e->lo = off;
		e->hi = off + got;
		e->p = p;
	}
	*len = e->hi - off;
	return e->p + (off - e->lo);
}

bool
bm25_segr_read(const Bm25SegReader *r, uint64_t off, size_t len, uint8_t *dst)
{
	return off <= r->info.nbytes && len <= r->info.nbytes - off &&
		r->read(r->ctx, off, len, dst) == 0;
}

const uint8_t *
bm25_segr_bytes(const Bm25SegReader *r, uint64_t off, size_t len, uint8_t *scratch)
{
	if (r->view && off < r->info.nbytes && len <= r->info.nbytes - off)
	{
		size_t		got;
		const uint8_t *p = ViewAt(r, off, &got);

		if (p && got >= len)
			return p;

		/*
		 * Bytes across a page boundary: copy them piece by piece from the
		 * view, which holds the pages already or pins them, rather than
		 * reading each page again through the source.
		 */
		for (size_t done = 0; p != NULL; p = ViewAt(r, off + done, &got))
		{
			got = got < len - done ? got : len - done;
			memcpy(scratch + done, p, got);
			done += got;
			if (done == len)
				return scratch;
		}
	}
	return bm25_segr_read(r, off, len, scratch) ? scratch : NULL;
}

const uint8_t *
bm25_segr_peek(const Bm25SegReader *r, uint64_t off, size_t len)
{
	size_t		got;
	const uint8_t *p;

	if (r->view == NULL || off >= r->info.nbytes || len > r->info.nbytes - off ||
		(p = ViewAt(r, off, &got)) == NULL || got < len)
		return NULL;
	return p;
}

void
bm25_segr_prefetch(const Bm25SegReader *r, uint64_t off)
{
	const uint8_t *p = bm25_segr_peek(r, off, 1);

	if (p)
		__builtin_prefetch(p);
}

const uint8_t *
bm25_segr_span(const Bm25SegReader *r, uint64_t off, size_t *len, uint8_t *scratch, size_t cap)
{
	if (off > r->info.nbytes || *len > r->info.nbytes - off)
		return NULL;
	if (r->view && off < r->info.nbytes)
	{
		size_t		got;
		const uint8_t *p = ViewAt(r, off, &got);

		if (p)
		{
			*len = got < *len ? got : *len;
			return p;
		}
	}
	if (*len > cap)
		*len = cap;
	return bm25_segr_read(r, off, *len, scratch) ? scratch : NULL;
}

void
bm25_segr_free(Bm25SegReader *r)
{
	if (r == NULL)
		return;
	core_free(r->dindex);
	core_free(r->idx);
	core_free(r->idx_doff);
	core_free(r->dict);
	core_free(r->entry);
	core_free(r->memo);
	bm25_deletes_free(r->deletes);
	core_free(r);
}

void
bm25_segr_set_deletes(Bm25SegReader *r, Bm25Deletes *d)
{
	bm25_deletes_free(r->deletes);
	r->deletes = d;
}

const Bm25Deletes *
bm25_segr_deletes(const Bm25SegReader *r)
{
	return r->deletes;
}

const Bm25SegInfo *
bm25_segr_info(const Bm25SegReader *r)
{
	return &r->info;
}

bool
bm25_segr_lookup(const Bm25SegReader *r, const char *term, size_t len, Bm25TermInfo *ti)
{
	uint32_t	lo = 0,
				hi = r->nidx;
	uint64_t	from,
				to;
	uint8_t		stackbuf[8192];
	uint8_t    *chunk = stackbuf;
	size_t		p = 0;
	bool		found = false;

	/* the last sparse entry whose term is <= term */
	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;
		size_t		l;
		const char *t = ParseEntry(r->dindex + r->idx[mid], &l, NULL);

		if (CompareBytes(t, l, term, len) <= 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return false;
	from = r->idx_doff[lo - 1];
	to = lo < r->nidx ? r->idx_doff[lo] : r->info.dict_len;
	if (to - from > sizeof(stackbuf) && (chunk = core_malloc(to - from)) == NULL)
		return false;
	if (r->read(r->ctx, r->info.dict_off + from, to - from, chunk) != 0)
		goto done;
	while (p + 2 <= to - from)
	{
		size_t		l = bm25_get_u16(chunk + p);
		const char *t;
		int			c;

		if (l == 0 || p + 2 + l + DICT_FIXED > to - from)
			break;				/* malformed: not found (open checks the rest) */
		t = ParseEntry(chunk + p, &l, ti);
		c = CompareBytes(t, l, term, len);
		if (c == 0)
		{
			found = TermInfoValid(&r->info, ti);
			break;
		}
		if (c > 0)
			break;
		p += 2 + l + DICT_FIXED;
	}
done:
	if (chunk != stackbuf)
		core_free(chunk);
	return found;
}

const char *
bm25_segr_term(const Bm25SegReader *r, uint32_t i, size_t *len, Bm25TermInfo *ti)
{
	return ParseEntry(r->dict + r->entry[i], len, ti);
}

CoreStatus
bm25_segr_doctable(const Bm25SegReader *r, uint64_t **docids, uint32_t **dls, CoreError *err)
{
	uint8_t		hdr[8];
	uint64_t	n;
	uint8_t    *raw;

	*docids = NULL;
	*dls = NULL;
	if (r->read(r->ctx, r->info.doctab_off, 8, hdr) != 0)
		return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read doc table");
	n = bm25_get_u64(hdr);
	if (n != r->info.ndocs || n * 12 > r->info.dict_off - r->info.doctab_off - 8)
		return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: doc table of %llu docs does not fit",
						  (unsigned long long) n);
	raw = core_mallocarray(n ? n : 1, 12);
	*docids = core_mallocarray(n ? n : 1, sizeof(uint64_t));
	*dls = core_mallocarray(n ? n : 1, sizeof(uint32_t));
	if (!raw || !*docids || !*dls)
	{
		core_free(raw);
		core_free(*docids);
		core_free(*dls);
		*docids = NULL;
		*dls = NULL;
		return core_error(err, CORE_ERR_NOMEM, "bm25 segment: out of memory for the doc table");
	}
	if (n > 0 && r->read(r->ctx, r->info.doctab_off + 8, n * 12, raw) != 0)
	{
		core_free(raw);
		core_free(*docids);
		core_free(*dls);
		*docids = NULL;
		*dls = NULL;
		return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read doc table");
	}
	for (uint64_t i = 0; i < n; i++)
	{
		(*docids)[i] = bm25_get_u64(raw + i * 12);
		(*dls)[i] = bm25_get_u32(raw + i * 12 + 8);
	}
	core_free(raw);
	return CORE_OK;
}

/* The doc table entry of ordinal ord: doc id (8 bytes), length (4), or NULL. */
static const uint8_t *
DocEntry(const Bm25SegReader *r, uint64_t ord, uint8_t *scratch)
{
	if (ord >= r->info.ndocs)
		return NULL;
	return bm25_segr_bytes(r, r->info.doctab_off + 8 + ord * 12, 12, scratch);
}

bool
bm25_segr_doc_id(const Bm25SegReader *r, uint64_t ord, uint64_t *docid)
{
	uint8_t		raw[12];
	const uint8_t *p = DocEntry(r, ord, raw);

	if (p == NULL)
		return false;
	*docid = bm25_get_u64(p);
	return true;
}

bool
bm25_segr_doc_length(const Bm25SegReader *r, uint64_t ord, uint32_t *dl)
{
	uint8_t		raw[12];
	const uint8_t *p = DocEntry(r, ord, raw);

	if (p == NULL)
		return false;
	*dl = bm25_get_u32(p + 8);
	return true;
}

CoreStatus
bm25_segr_doc_ids(const Bm25SegReader *r, uint64_t *ids, size_t n, CoreError *err)
{
	uint64_t   *docids;
	uint32_t   *dls;
	CoreStatus	st;

	/* a few entries are read one by one; many, with the whole table */
	if (n < r->info.ndocs / 64)
	{
		for (size_t i = 0; i < n; i++)
			if (!bm25_segr_doc_id(r, ids[i], &ids[i]))
				return core_error(err, CORE_ERR_CORRUPT,
								  "bm25 segment: cannot read doc table entry %llu",
								  (unsigned long long) ids[i]);
		return CORE_OK;
	}
	if ((st = bm25_segr_doctable(r, &docids, &dls, err)) != CORE_OK)
		return st;
	for (size_t i = 0; i < n; i++)
	{
		if (ids[i] >= r->info.ndocs)
		{
			core_free(docids);
			core_free(dls);
			return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: ordinal %llu past the doc table",
							  (unsigned long long) ids[i]);
		}
		ids[i] = docids[ids[i]];
	}
	core_free(docids);
	core_free(dls);
	return CORE_OK;
}

/* --- cursors --- */

static void
CursorFail(Bm25Cursor *c, const char *what)
{
	if (c->err.status == CORE_OK)
		core_error(&c->err, CORE_ERR_CORRUPT, "bm25 segment: posting list at %llu: %s",
				   (unsigned long long) c->ti.off, what);
	c->doc = BM25_DOC_END;
}

/* Decode block b and stand on its first posting. */
static void
LoadBlock(Bm25Cursor *c, uint32_t b)
{
	const uint8_t *e = c->skip + (size_t) b * BM25_SKIP_ENTRY_SIZE;
	uint32_t	off = bm25_get_u32(e + 8);
	uint32_t	len = bm25_get_u32(e + 12);
	const uint8_t *p;
	const uint8_t *end;
	uint64_t	v[BM25_BLOCK_SIZE];
	uint32_t	n;
	int			wd,
				wt,
				wl;
	size_t		need;

	if (c->ti.off + off + len > c->r->info.doctab_off || len < BLOCK_HEADER)
		return CursorFail(c, "block out of bounds");
	c->blockbuf.len = 0;
	if (!bm25_buf_reserve(&c->blockbuf, len))
		return CursorFail(c, "out of memory");
	if (c->r->read(c->r->ctx, c->ti.off + off, len, c->blockbuf.data) != 0)
		return CursorFail(c, "cannot read block");
	p = c->blockbuf.data;
	end = p + len;
	n = p[0];
	wd = p[1];
	wt = p[2];
	wl = p[3];
	if (n == 0 || n > BM25_BLOCK_SIZE || wd > 64 || wt > 32 || wl > 32 ||
		(b + 1 < c->ti.nblocks && n != BM25_BLOCK_SIZE))
		return CursorFail(c, "bad block header");
	need = BLOCK_HEADER + bm25_packed_size(n - 1, wd) + bm25_packed_size(n, wt) +
		bm25_packed_size(n, wl);
	if (need > len)
		return CursorFail(c, "block shorter than its header says");
	c->docids[0] = bm25_get_u64(p + 4);
	p += BLOCK_HEADER;
	bm25_unpack(p, v, n - 1, wd);
	p += bm25_packed_size(n - 1, wd);
	for (uint32_t i = 1; i < n; i++)
	{
		if (v[i - 1] == 0 || c->docids[i - 1] > UINT64_MAX - 1 - v[i - 1])
			return CursorFail(c, "ordinals out of order");
		c->docids[i] = c->docids[i - 1] + v[i - 1];
	}
	if (c->docids[n - 1] >= c->r->info.ndocs)
		return CursorFail(c, "ordinal past the doc table");
	c->tf_packed = p;
	c->tf_width = wt;
	c->dl_width = wl;
	c->tfdl_ready = false;
	p += bm25_packed_size(n, wt) + bm25_packed_size(n, wl);
	c->pos_p = NULL;
	c->pos_end = NULL;
	if (c->r->info.positions)
	{
		uint32_t	plen;

		if (end - p < 4 || (plen = bm25_get_u32(p)) > (size_t) (end - p - 4))
			return CursorFail(c, "positions out of bounds");
		c->pos_p = p + 4;
		c->pos_end = p + 4 + plen;
	}
	c->pos_idx = 0;
	c->pos_valid = -1;
	c->block = (int32_t) b;
	c->n = n;
	c->idx = 0;
	c->doc = c->docids[0];
}

void
bm25_cursor_decode_tfdl(Bm25Cursor *c)
{
	uint64_t	v[BM25_BLOCK_SIZE];
	uint32_t	n = c->n;

	bm25_unpack(c->tf_packed, v, n, c->tf_width);
	for (uint32_t i = 0; i < n; i++)
		c->tfs[i] = (uint32_t) v[i] + 1;
	bm25_unpack(c->tf_packed + bm25_packed_size(n, c->tf_width), v, n, c->dl_width);
	for (uint32_t i = 0; i < n; i++)
		c->dls[i] = (uint32_t) v[i];
	c->tfdl_ready = true;
}

/*
 * A single-block term has no skip table (most terms are rare): its one
 * entry is made up here from the block's own header and the dictionary's
 * max tf / min dl, and its last doc id filled in once the block is read.
 */
static CoreStatus
SynthesizeSkip(Bm25Cursor *c, CoreError *err)
{
	const Bm25SegReader *r = c->r;
	uint64_t	avail = r->info.doctab_off - c->ti.off;
	uint8_t		hdr[BLOCK_HEADER];
	uint64_t	len;
	uint8_t    *e = c->skip;

	if (avail < BLOCK_HEADER || r->read(r->ctx, c->ti.off, BLOCK_HEADER, hdr) != 0 ||
		hdr[0] == 0 || hdr[0] > BM25_BLOCK_SIZE || hdr[1] > 64 || hdr[2] > 32 || hdr[3] > 32)
		return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: posting block at %llu is malformed",
						  (unsigned long long) c->ti.off);
	len = BLOCK_HEADER + bm25_packed_size(hdr[0] - 1, hdr[1]) + bm25_packed_size(hdr[0], hdr[2]) +
		bm25_packed_size(hdr[0], hdr[3]);
	if (r->info.positions)
	{
		uint8_t		pl[4];

		if (len + 4 > avail || r->read(r->ctx, c->ti.off + len, 4, pl) != 0)
			return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: posting block at %llu is truncated",
							  (unsigned long long) c->ti.off);
		len += 4 + (uint64_t) bm25_get_u32(pl);
	}
	if (len > avail || len > UINT32_MAX)
		return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: posting block at %llu is truncated",
						  (unsigned long long) c->ti.off);
	memset(e, 0, BM25_SKIP_ENTRY_SIZE);
	for (int i = 0; i < 8; i++)
		e[i] = 0xFF;			/* last doc id: set after the load */
	e[8] = e[9] = e[10] = e[11] = 0;	/* offset 0: the block opens the region */
	for (int i = 0; i < 4; i++)
		e[12 + i] = (uint8_t) (len >> (8 * i));
	e[16] = c->ti.max_tf >= BM25_IMPACT_TF_INF ? 0xFF : (uint8_t) c->ti.max_tf;
	e[17] = c->ti.max_tf >= BM25_IMPACT_TF_INF ? 0xFF : (uint8_t) (c->ti.max_tf >> 8);
	e[18] = c->ti.min_dl > 0xFFFF ? 0xFF : (uint8_t) c->ti.min_dl;
	e[19] = c->ti.min_dl > 0xFFFF ? 0xFF : (uint8_t) (c->ti.min_dl >> 8);
	{
		float		inf = INFINITY;	/* no largest tf part: the impact bounds */
		uint32_t	bits;

		memcpy(&bits, &inf, sizeof(bits));
		for (int i = 0; i < 4; i++)
			e[BM25_SKIP_TFMAX_OFF + i] = (uint8_t) (bits >> (8 * i));
	}
	return CORE_OK;
}

static inline void SkipDeleted(Bm25Cursor *c);

CoreStatus
bm25_cursor_open(Bm25Cursor *c, const Bm25SegReader *r, const Bm25TermInfo *ti, CoreError *err)
{
	size_t		sz = (size_t) ti->nblocks * BM25_SKIP_ENTRY_SIZE;

	bm25_cursor_init(c, r, ti);
	c->skip = core_malloc(sz ? sz : 1);
	if (c->skip == NULL)
		return core_error(err, CORE_ERR_NOMEM, "bm25 segment: out of memory");
	if (ti->nblocks == 1)
	{
		CoreStatus	st = SynthesizeSkip(c, err);

		if (st != CORE_OK)
			return st;
	}
	else if (r->read(r->ctx, ti->off, sz, c->skip) != 0)
		return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: cannot read skip table at %llu",
						  (unsigned long long) ti->off);
	for (uint32_t b = 1; b < ti->nblocks; b++)
		if (bm25_cursor_block_last(c, b) <= bm25_cursor_block_last(c, b - 1))
			return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: skip table at %llu out of order",
							  (unsigned long long) ti->off);
	if (ti->nblocks > 0)
		LoadBlock(c, 0);
	if (c->err.status != CORE_OK)
		return core_error(err, c->err.status, "%s", c->err.msg);
	if (ti->nblocks == 1)
	{
		uint64_t	last = c->docids[c->n - 1];

		for (int i = 0; i < 8; i++)
			c->skip[i] = (uint8_t) (last >> (8 * i));
	}
	SkipDeleted(c);
	c->opened = true;
	return CORE_OK;
}

void
bm25_cursor_init(Bm25Cursor *c, const Bm25SegReader *r, const Bm25TermInfo *ti)
{
	memset(c, 0, sizeof(*c));
	c->r = r;
	c->ti = *ti;
	c->block = -1;
	c->pos_valid = -1;
	c->doc = BM25_DOC_END;
	bm25_buf_init(&c->blockbuf);
}

CoreStatus
bm25_cursor_ensure(Bm25Cursor *c, CoreError *err)
{
	Bm25TermInfo ti = c->ti;

	if (c->opened)
		return CORE_OK;
	return bm25_cursor_open(c, c->r, &ti, err);
}

void
bm25_cursor_close(Bm25Cursor *c)
{
	core_free(c->skip);
	core_free(c->pos);
	bm25_buf_free(&c->blockbuf);
	c->skip = NULL;
	c->pos = NULL;
}

/* The next posting, deleted or not. */
static void
NextPosting(Bm25Cursor *c)
{
	if (c->doc == BM25_DOC_END)
		return;
	if (++c->idx < c->n)
	{
		c->doc = c->docids[c->idx];
		return;
	}
	if ((uint32_t) (c->block + 1) < c->ti.nblocks)
		LoadBlock(c, (uint32_t) c->block + 1);
	else
		c->doc = BM25_DOC_END;
}

/* Move on from deleted documents; del_at only moves forward, as doc does. */
static inline void
SkipDeleted(Bm25Cursor *c)
{
	const Bm25Deletes *d = c->r->deletes;

	if (d == NULL)
		return;
	while (c->doc != BM25_DOC_END)
	{
		if (c->del_at < d->ndead && d->ids[c->del_at] < c->doc)
			c->del_at = bm25_deletes_lower_bound(d, c->del_at, c->doc);
		if (c->del_at == d->ndead || d->ids[c->del_at] != c->doc)
			return;
		NextPosting(c);
	}
}

void
bm25_cursor_next(Bm25Cursor *c)
{
	NextPosting(c);
	SkipDeleted(c);
}

void
bm25_cursor_next_from(Bm25Cursor *c, uint32_t idx)
{
	if (c->doc == BM25_DOC_END || idx <= c->idx || idx > c->n)
		return bm25_cursor_next(c);
	c->idx = idx - 1;
	bm25_cursor_next(c);
}

/* First block from 'from' on whose last doc is >= target, or nblocks. */
static uint32_t
FindBlock(const Bm25Cursor *c, uint32_t from, uint64_t target)
{
	uint32_t	lo = from,
				hi = c->ti.nblocks;

	while (lo < hi)
	{
		uint32_t	mid = lo + (hi - lo) / 2;

		if (bm25_cursor_block_last(c, mid) < target)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

void
bm25_cursor_seek(Bm25Cursor *c, uint64_t target)
{
	uint32_t	b;

	if (c->doc >= target)
		return;
	if (bm25_cursor_block_last(c, (uint32_t) c->block) < target)
	{
		b = FindBlock(c, (uint32_t) c->block + 1, target);
		if (b >= c->ti.nblocks)
		{
			c->doc = BM25_DOC_END;
			return;
		}
		LoadBlock(c, b);
		if (c->doc == BM25_DOC_END)
			return;
	}
	while (c->docids[c->idx] < target)
		c->idx++;
	c->doc = c->docids[c->idx];
	SkipDeleted(c);
}

int
bm25_cursor_impacts(const Bm25Cursor *c, uint32_t b, uint32_t *tf, uint32_t *dl)
{
	const uint8_t *e = c->skip + (size_t) b * BM25_SKIP_ENTRY_SIZE + 16;
	int			n = 0;

	for (int i = 0; i < BM25_IMPACTS; i++)
	{
		uint32_t	t = bm25_get_u16(e + 4 * i);

		if (t == 0)
			break;
		tf[n] = t;
		dl[n] = bm25_get_u16(e + 4 * i + 2);
		n++;
	}
	return n;
}

const uint32_t *
bm25_cursor_positions(Bm25Cursor *c)
{
	uint32_t	tf;
	uint64_t	v;
	uint32_t	prev = 0;

	if (c->doc == BM25_DOC_END || c->pos_p == NULL)
		return NULL;
	if (c->pos_valid == (int32_t) c->idx)
		return c->pos;
	if (!c->tfdl_ready)
		bm25_cursor_decode_tfdl(c);
	/* skip the positions of the postings passed over since the last call */
	while (c->pos_idx < c->idx)
	{
		for (uint32_t j = 0; j < c->tfs[c->pos_idx]; j++)
			if (!bm25_get_varint(&c->pos_p, c->pos_end, &v))
			{
				CursorFail(c, "positions truncated");
				return NULL;
			}
		c->pos_idx++;
	}
	tf = c->tfs[c->idx];
	if (tf > c->pos_cap)
	{
		uint32_t   *np = core_realloc(c->pos, (size_t) tf * sizeof(uint32_t));

		if (np == NULL)
		{
			CursorFail(c, "out of memory");
			return NULL;
		}
		c->pos = np;
		c->pos_cap = tf;
	}
	for (uint32_t j = 0; j < tf; j++)
	{
		if (!bm25_get_varint(&c->pos_p, c->pos_end, &v) || v > UINT32_MAX - prev)
		{
			CursorFail(c, "positions truncated");
			return NULL;
		}
		prev += (uint32_t) v;
		c->pos[j] = prev;
	}
	c->pos_idx++;
	c->pos_valid = (int32_t) c->idx;
	return c->pos;
}

/*-------------------------------------------------------------------------
 *
 * bm25_deletes.c
 *	  Deletion records of BM25 segments (see bm25_deletes.h).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_deletes.h"

#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/sorted.h"

#define HEADER_SIZE 20
#define TERM_ENTRY_SIZE 12

void
bm25_deletes_free(Bm25Deletes *d)
{
	if (d == NULL)
		return;
	core_free(d->ids);
	core_free(d->term_off);
	core_free(d->term_dead);
	core_free(d);
}

void
bm25_deletes_encode(const Bm25Deletes *d, Bm25Buf *out)
{
	bm25_buf_put_u64(out, d->ndead);
	bm25_buf_put_u64(out, d->dead_dl);
	bm25_buf_put_u32(out, d->nterms);
	for (uint64_t i = 0; i < d->ndead; i++)
		bm25_buf_put_u64(out, d->ids[i]);
	for (uint32_t i = 0; i < d->nterms; i++)
	{
		bm25_buf_put_u64(out, d->term_off[i]);
		bm25_buf_put_u32(out, d->term_dead[i]);
	}
}

/* An empty record with room for ndead ids and nterms terms. */
static Bm25Deletes *
Alloc(uint64_t ndead, uint32_t nterms)
{
	Bm25Deletes *d = core_calloc(1, sizeof(Bm25Deletes));

	if (d == NULL)
		return NULL;
	d->ids = core_mallocarray(ndead ? ndead : 1, sizeof(uint64_t));
	d->term_off = core_mallocarray(nterms ? nterms : 1, sizeof(uint64_t));
	d->term_dead = core_mallocarray(nterms ? nterms : 1, sizeof(uint32_t));
	if (!d->ids || !d->term_off || !d->term_dead)
	{
		bm25_deletes_free(d);
		return NULL;
	}
	return d;
}

CoreStatus
bm25_deletes_decode(const uint8_t *p, size_t len, uint64_t ndocs, Bm25Deletes **out,
					CoreError *err)
{
	uint64_t	ndead;
	uint32_t	nterms;
	Bm25Deletes *d;

	*out = NULL;
	if (len < HEADER_SIZE)
		return core_error(err, CORE_ERR_CORRUPT, "bm25 deletions: record of %zu bytes is shorter than its header",
						  len);
	ndead = bm25_get_u64(p);
	nterms = bm25_get_u32(p + 16);
	if (ndead > ndocs || (len - HEADER_SIZE) / 8 < ndead ||
		(len - HEADER_SIZE - ndead * 8) / TERM_ENTRY_SIZE != nterms ||
		(len - HEADER_SIZE - ndead * 8) % TERM_ENTRY_SIZE != 0)
		return core_error(err, CORE_ERR_CORRUPT,
						  "bm25 deletions: %llu dead of %llu documents and %u terms do not fit %zu bytes",
						  (unsigned long long) ndead, (unsigned long long) ndocs, nterms, len);
	if ((d = Alloc(ndead, nterms)) == NULL)
		return core_error(err, CORE_ERR_NOMEM, "bm25 deletions: out of memory");
	d->ndead = ndead;
	d->dead_dl = bm25_get_u64(p + 8);
	d->nterms = nterms;
	p += HEADER_SIZE;
	for (uint64_t i = 0; i < ndead; i++, p += 8)
	{
		d->ids[i] = bm25_get_u64(p);
		if ((i > 0 && d->ids[i] <= d->ids[i - 1]) || d->ids[i] >= ndocs)
		{
			bm25_deletes_free(d);
			return core_error(err, CORE_ERR_CORRUPT,
							  "bm25 deletions: ordinal %llu out of order or past the segment's %llu documents",
							  (unsigned long long) i, (unsigned long long) ndocs);
		}
	}
	for (uint32_t i = 0; i < nterms; i++, p += TERM_ENTRY_SIZE)
	{
		d->term_off[i] = bm25_get_u64(p);
		d->term_dead[i] = bm25_get_u32(p + 8);
		if (i > 0 && d->term_off[i] <= d->term_off[i - 1])
		{
			bm25_deletes_free(d);
			return core_error(err, CORE_ERR_CORRUPT, "bm25 deletions: term %u out of order", i);
		}
	}
	*out = d;
	return CORE_OK;
}

size_t
bm25_deletes_lower_bound(const Bm25Deletes *d, size_t from, uint64_t id)
{
	return core_lower_bound_u64(d->ids, from, d->ndead, id);
}

bool
bm25_deletes_has(const Bm25Deletes *d, uint64_t id)
{
	size_t		i;

	if (d == NULL)
		return false;
	i = bm25_deletes_lower_bound(d, 0, id);
	return i < d->ndead && d->ids[i] == id;
}

uint32_t
bm25_deletes_term_dead(const Bm25Deletes *d, uint64_t off)
{
	size_t		i;

	if (d == NULL)
		return 0;
	i = core_lower_bound_u64(d->term_off, 0, d->nterms, off);
	return i < d->nterms && d->term_off[i] == off ? d->term_dead[i] : 0;
}

/*
 * How many of the sorted ids[0, n) term ti's postings hold: the cursor
 * already hides the documents deleted before, and a block is decoded only
 * when some new id falls in its range.
 */
static CoreStatus
CountTerm(Bm25SegReader *r, const Bm25TermInfo *ti, const uint64_t *ids, size_t n,
		  uint32_t *count, CoreError *err)
{
	Bm25Cursor	c;
	size_t		j = 0;
	CoreStatus	st;

	*count = 0;
	if ((st = bm25_cursor_open(&c, r, ti, err)) != CORE_OK)
	{
		bm25_cursor_close(&c);
		return st;
	}
	while (c.doc != BM25_DOC_END && j < n)
	{
		if (ids[j] < c.doc)
		{
			j = core_lower_bound_u64(ids, j, n, c.doc);
			continue;
		}
		if (ids[j] == c.doc)
		{
			(*count)++;
			j++;
			bm25_cursor_next(&c);
		}
		else
			bm25_cursor_seek(&c, ids[j]);
	}
	st = bm25_cursor_status(&c);
	if (st != CORE_OK)
		st = core_error(err, st, "%s", c.err.msg);
	bm25_cursor_close(&c);
	return st;
}

CoreStatus
bm25_deletes_add(Bm25SegReader *r, const uint64_t *ids, const uint32_t *dls, size_t n,
				 int (*cancel) (void *), void *cancel_arg, Bm25Deletes **out, CoreError *err)
{
	const Bm25Deletes *old = bm25_segr_deletes(r);
	const Bm25SegInfo *info = bm25_segr_info(r);
	uint64_t	oldn = old ? old->ndead : 0;
	uint32_t	oldt = old ? old->nterms : 0;
	Bm25Deletes *d;
	CoreStatus	st;
	size_t		a = 0,
				b = 0;
	uint32_t	nt = 0;
	uint64_t	prev_off = 0;

	*out = NULL;
	/* ids come from the doc table; a corrupt one must not become a record */
	for (size_t i = 0; i < n; i++)
		if ((i > 0 && ids[i] <= ids[i - 1]) || ids[i] >= bm25_segr_info(r)->ndocs)
			return core_error(err, CORE_ERR_CORRUPT,
							  "bm25 deletions: dead ordinal %llu at %zu is out of order or past the doc table",
							  (unsigned long long) ids[i], i);
	if ((st = bm25_segr_load_terms(r, err)) != CORE_OK)
		return st;
	/* terms come in byte order, regions in the same order: offsets increase */
	if ((d = Alloc(oldn + n, oldt + info->nterms)) == NULL)
		return core_error(err, CORE_ERR_NOMEM, "bm25 deletions: out of memory");
	while (a < oldn || b < n)
	{
		if (b == n || (a < oldn && old->ids[a] < ids[b]))
			d->ids[d->ndead++] = old->ids[a++];
		else if (a < oldn && old->ids[a] == ids[b])
		{
			bm25_deletes_free(d);
			return core_error(err, CORE_ERR_INVALID, "bm25 deletions: doc %llu deleted twice",
							  (unsigned long long) ids[b]);
		}
		else
			d->ids[d->ndead++] = ids[b++];
	}
	d->dead_dl = old ? old->dead_dl : 0;
	for (size_t i = 0; i < n; i++)
		d->dead_dl += dls[i];
	for (uint32_t i = 0; i < info->nterms; i++)
	{
		Bm25TermInfo ti;
		size_t		len;
		uint32_t	lost;

		if (cancel && (i & 255) == 0 && cancel(cancel_arg))
		{
			bm25_deletes_free(d);
			return core_error(err, CORE_ERR_CANCELED, "bm25 deletions: canceled");
		}
		bm25_segr_term(r, i, &len, &ti);
		if (i > 0 && ti.off <= prev_off)
		{
			bm25_deletes_free(d);
			return core_error(err, CORE_ERR_CORRUPT,
							  "bm25 deletions: term %u's region at %llu does not follow the previous one at %llu",
							  i, (unsigned long long) ti.off, (unsigned long long) prev_off);
		}
		prev_off = ti.off;
		if ((st = CountTerm(r, &ti, ids, n, &lost, err)) != CORE_OK)
		{
			bm25_deletes_free(d);
			return st;
		}
		lost += bm25_deletes_term_dead(old, ti.off);
		if (lost > 0)
		{
			d->term_off[nt] = ti.off;
			d->term_dead[nt] = lost;
			nt++;
		}
	}
	d->nterms = nt;
	*out = d;
	return CORE_OK;
}

/*-------------------------------------------------------------------------
 *
 * bm25_ranges.c
 *	  Writing and finding a term's range bounds (see bm25_ranges.h).
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_ranges.h"

#include <math.h>
#include <string.h>

void
bm25_ranges_put(Bm25Buf *out, const uint64_t *ords, const uint32_t *tfs,
				const uint32_t *dls, size_t n, uint64_t ndocs,
				double k1, double b, double avgdl)
{
	uint64_t	nranges = bm25_nranges(ndocs);
	uint64_t	nchunks = (nranges + BM25_RANGE_CHUNK - 1) / BM25_RANGE_CHUNK;
	double		best = 0.0;
	uint32_t	maxtf = 0;
	float		scale;
	int			width;
	uint8_t    *q;
	uint64_t	off = 0;
	size_t		i;

	for (i = 0; i < n; i++)
	{
		double		g = bm25_ref_tf_part(tfs[i], dls[i], k1, b, avgdl);

		if (g > best)
			best = g;
		if (tfs[i] > maxtf)
			maxtf = tfs[i];
	}
	scale = bm25_float_up(best);
	width = maxtf <= 0xFF ? 1 : (maxtf <= 0xFFFF ? 2 : 4);
	{
		uint32_t	bits;

		memcpy(&bits, &scale, sizeof(bits));
		bm25_buf_put_u32(out, bits);
	}
	bm25_buf_put_u8(out, (uint8_t) width);
	bm25_buf_put_u8(out, 0);
	bm25_buf_put_u16(out, 0);

	/* each range's best part, rounded up to a 255th of the term's best */
	if (!bm25_buf_reserve(out, nranges))
		return;
	q = out->data + out->len;
	memset(q, 0, nranges);
	for (i = 0; i < n; i++)
	{
		double		level = ceil(255.0 * bm25_ref_tf_part(tfs[i], dls[i], k1, b, avgdl) / (double) scale);
		uint8_t		v = level < 1.0 ? 1 : (level > 255.0 ? 255 : (uint8_t) level);
		uint64_t	r = ords[i] / BM25_RANGE_DOCS;

		if (v > q[r])
			q[r] = v;
	}
	out->len += nranges;

	/* chunk offsets: each chunk is its masks and then its postings' tfs */
	i = 0;
	for (uint64_t c = 0; c <= nchunks; c++)
	{
		size_t		from = i;

		bm25_buf_put_u32(out, (uint32_t) off);
		while (i < n && ords[i] / BM25_RANGE_DOCS / BM25_RANGE_CHUNK == c)
			i++;
		off += 2 * BM25_RANGE_CHUNK + (uint64_t) width * (i - from);
	}
	i = 0;
	for (uint64_t c = 0; c < nchunks; c++)
	{
		uint16_t	mask[BM25_RANGE_CHUNK] = {0};
		size_t		from = i;

		while (i < n && ords[i] / BM25_RANGE_DOCS / BM25_RANGE_CHUNK == c)
		{
			uint64_t	inchunk = ords[i] - c * BM25_RANGE_CHUNK * BM25_RANGE_DOCS;

			mask[inchunk / BM25_RANGE_DOCS] |= (uint16_t) (1u << (inchunk % BM25_RANGE_DOCS));
			i++;
		}
		for (int j = 0; j < BM25_RANGE_CHUNK; j++)
			bm25_buf_put_u16(out, mask[j]);
		for (size_t k = from; k < i; k++)
		{
			if (width == 1)
				bm25_buf_put_u8(out, (uint8_t) tfs[k]);
			else if (width == 2)
				bm25_buf_put_u16(out, (uint16_t) tfs[k]);
			else
				bm25_buf_put_u32(out, tfs[k]);
		}
	}
}

CoreStatus
bm25_term_ranges(const Bm25Cursor *c, Bm25TermRanges *tr, bool *has, CoreError *err)
{
	const Bm25SegInfo *info = bm25_segr_info(c->r);
	uint8_t		last[16];
	uint64_t	base,
				nchunks;
	uint8_t		hdr[BM25_RANGE_HEADER];
	uint8_t		endrel[4];
	uint32_t	bits;

	*has = false;
	if (info->range_min_df == 0 || c->ti.df < info->range_min_df || c->ti.nblocks < 2)
		return CORE_OK;
	/* the range data follows the last block, which its skip entry places */
	if (!bm25_segr_read(c->r, c->ti.off + (uint64_t) (c->ti.nblocks - 1) * BM25_SKIP_ENTRY_SIZE,
						sizeof(last), last))
		goto corrupt;
	base = c->ti.off + (uint64_t) bm25_get_u32(last + 8) + bm25_get_u32(last + 12);
	tr->nranges = bm25_nranges(info->ndocs);
	nchunks = (tr->nranges + BM25_RANGE_CHUNK - 1) / BM25_RANGE_CHUNK;
	tr->best_off = base + BM25_RANGE_HEADER;
	tr->chunk_off_off = tr->best_off + tr->nranges;
	tr->chunks_off = tr->chunk_off_off + 4 * (nchunks + 1);
	if (tr->chunks_off > info->doctab_off ||
		!bm25_segr_read(c->r, base, BM25_RANGE_HEADER, hdr) ||
		!bm25_segr_read(c->r, tr->chunk_off_off + 4 * nchunks, 4, endrel))
		goto corrupt;
	bits = bm25_get_u32(hdr);
	memcpy(&tr->scale, &bits, sizeof(bits));
	tr->tf_width = hdr[4];
	tr->end = tr->chunks_off + bm25_get_u32(endrel);
	if ((tr->tf_width != 1 && tr->tf_width != 2 && tr->tf_width != 4) ||
		!(tr->scale > 0.0f) || isinf(tr->scale) ||
		tr->end > info->doctab_off ||
		tr->end - tr->chunks_off != 2 * BM25_RANGE_CHUNK * nchunks +
		(uint64_t) tr->tf_width * c->ti.df)
		goto corrupt;
	*has = true;
	return CORE_OK;

corrupt:
	return core_error(err, CORE_ERR_CORRUPT, "bm25 segment: range bounds of the term at %llu do not fit",
					  (unsigned long long) c->ti.off);
}

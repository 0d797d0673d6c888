/*-------------------------------------------------------------------------
 *
 * test_codec_compress.c
 *	  General compression (lance's LZ4 and zstd framing) and the bare
 *	  frames of Arrow IPC body compression.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lz4.h>
#include <lz4frame.h>
#include <zstd.h>

#include "core/alloc.h"
#include "lance/codec.h"
#include "fixture_file.h"
#include "unit.h"

/* 5000 bytes that compress well but not trivially. */
static void
Sample(uint8_t *buf, size_t n)
{
	size_t		i;

	for (i = 0; i < n; i++)
		buf[i] = (uint8_t) ("lance columnar "[i % 15] + (i / 700));
}

UNIT_TEST(lz4_and_zstd_round_trip_with_lance_framing)
{
	uint8_t		src[5000];
	int			scheme;

	Sample(src, sizeof(src));
	for (scheme = LANCE_COMPRESSION_LZ4; scheme <= LANCE_COMPRESSION_ZSTD; scheme++)
	{
		uint8_t    *c;
		size_t		clen;
		uint8_t    *d;
		size_t		dlen;
		CoreError	err;

		CHECK(lance_compress(scheme, 0, src, sizeof(src), &c, &clen, &err) == CORE_OK);
		CHECK(clen < sizeof(src));
		if (scheme == LANCE_COMPRESSION_LZ4)
			CHECK(c[0] == (5000 & 0xff) && c[1] == (5000 >> 8) && c[2] == 0 && c[3] == 0);
		else
			CHECK(c[0] == (5000 & 0xff) && c[1] == (5000 >> 8) && c[7] == 0 && c[8] == 0x28);
		CHECK(lance_decompress(scheme, c, clen, 5000, &d, &dlen, &err) == CORE_OK);
		CHECK(dlen == 5000 && memcmp(d, src, 5000) == 0);
		core_free(d);
		core_free(c);
	}
}

UNIT_TEST(lz4_size_header_above_the_cap_is_refused_before_allocating)
{
	uint8_t		buf[8] = {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0};
	uint8_t    *d;
	size_t		dlen;
	CoreError	err;

	CHECK(lance_decompress(LANCE_COMPRESSION_LZ4, buf, sizeof(buf), 1 << 20, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "lz4") && strstr(err.msg, "limit"), "%s", err.msg);
	CHECK(d == NULL);
}

UNIT_TEST(lz4_size_header_that_lies_is_corrupt)
{
	uint8_t		src[5000];
	uint8_t    *c;
	size_t		clen;
	uint8_t    *d;
	size_t		dlen;
	CoreError	err;

	Sample(src, sizeof(src));
	CHECK(lance_compress(LANCE_COMPRESSION_LZ4, 0, src, sizeof(src), &c, &clen, &err) == CORE_OK);
	c[0] = (uint8_t) (c[0] + 1);	/* says 5001 */
	CHECK(lance_decompress(LANCE_COMPRESSION_LZ4, c, clen, 1 << 20, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	c[0] = (uint8_t) (c[0] - 2);	/* says 4999 */
	CHECK(lance_decompress(LANCE_COMPRESSION_LZ4, c, clen, 1 << 20, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	c[0] = (uint8_t) (c[0] + 1);
	CHECK(lance_decompress(LANCE_COMPRESSION_LZ4, c, clen - 3, 1 << 20, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_decompress(LANCE_COMPRESSION_LZ4, c, 3, 1 << 20, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	core_free(c);
}

UNIT_TEST(zstd_size_prefix_that_lies_or_exceeds_the_cap_is_corrupt)
{
	uint8_t		src[5000];
	uint8_t    *c;
	size_t		clen;
	uint8_t    *d;
	size_t		dlen;
	CoreError	err;

	Sample(src, sizeof(src));
	CHECK(lance_compress(LANCE_COMPRESSION_ZSTD, 3, src, sizeof(src), &c, &clen, &err) == CORE_OK);
	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, c, clen, 4999, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "limit of 4999"), "%s", err.msg);
	c[0] = (uint8_t) (c[0] + 1);
	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, c, clen, 1 << 20, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	c[0] = (uint8_t) (c[0] - 1);
	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, c, clen - 5, 1 << 20, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	core_free(c);
}

UNIT_TEST(zstd_bare_frame_without_size_prefix_is_accepted)
{
	uint8_t		src[5000];
	uint8_t		frame[6000];
	size_t		flen;
	uint8_t    *d;
	size_t		dlen;
	CoreError	err;

	Sample(src, sizeof(src));
	flen = ZSTD_compress(frame, sizeof(frame), src, sizeof(src), 3);
	CHECK(!ZSTD_isError(flen));
	CHECK(frame[0] == 0x28 && frame[1] == 0xb5 && frame[2] == 0x2f && frame[3] == 0xfd);
	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, frame, flen, 5000, &d, &dlen, &err) == CORE_OK);
	CHECK(dlen == 5000 && memcmp(d, src, 5000) == 0);
	core_free(d);
	/* the cap holds for a bare frame too */
	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, frame, flen, 4000, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	/* truncated */
	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, frame, flen - 4, 5000, &d, &dlen, &err) == CORE_ERR_CORRUPT);
}

UNIT_TEST(zstd_bare_streamed_frame_of_unknown_size_grows_its_output)
{
	uint8_t		src[200000];
	uint8_t    *frame = core_malloc(ZSTD_compressBound(sizeof(src)));
	ZSTD_CCtx  *cctx = ZSTD_createCCtx();
	ZSTD_inBuffer in = {src, sizeof(src), 0};
	ZSTD_outBuffer out = {frame, ZSTD_compressBound(sizeof(src)), 0};
	uint8_t    *d;
	size_t		dlen;
	CoreError	err;

	Sample(src, sizeof(src));
	/* streaming in two steps leaves the content size out of the header */
	CHECK(!ZSTD_isError(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_continue)));
	CHECK(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end) == 0);
	ZSTD_freeCCtx(cctx);
	CHECK(ZSTD_getFrameContentSize(frame, out.pos) == ZSTD_CONTENTSIZE_UNKNOWN);
	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, frame, out.pos, 1 << 20, &d, &dlen, &err) == CORE_OK);
	CHECK(dlen == sizeof(src) && memcmp(d, src, sizeof(src)) == 0);
	core_free(d);
	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, frame, out.pos, sizeof(src) - 1, &d, &dlen, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, frame, out.pos, sizeof(src), &d, &dlen, &err) == CORE_OK);
	core_free(d);
	core_free(frame);
}

UNIT_TEST(zstd_empty_input_is_empty_output_like_lance)
{
	uint8_t    *d;
	size_t		dlen;
	CoreError	err;

	CHECK(lance_decompress(LANCE_COMPRESSION_ZSTD, (const uint8_t *) "", 0, 10, &d, &dlen, &err) == CORE_OK);
	CHECK(dlen == 0);
	core_free(d);
}

UNIT_TEST(unknown_compression_scheme_is_unsupported)
{
	uint8_t    *d;
	size_t		dlen;
	CoreError	err;

	CHECK(lance_decompress(LANCE_COMPRESSION_NONE, (const uint8_t *) "x", 1, 10, &d, &dlen, &err) == CORE_ERR_UNSUPPORTED);
	CHECK(lance_decompress((LanceCompression) 7, (const uint8_t *) "x", 1, 10, &d, &dlen, &err) == CORE_ERR_UNSUPPORTED);
}

UNIT_TEST(exact_zstd_and_lz4_frame_decoders_insist_on_the_size)
{
	uint8_t		src[3000];
	uint8_t		frame[4000];
	uint8_t		out[3001];
	size_t		flen;
	CoreError	err;

	Sample(src, sizeof(src));
	flen = ZSTD_compress(frame, sizeof(frame), src, sizeof(src), 1);
	CHECK(lance_zstd_decompress_exact(frame, flen, out, 3000, &err) == CORE_OK);
	CHECK(memcmp(out, src, 3000) == 0);
	CHECK(lance_zstd_decompress_exact(frame, flen, out, 2999, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_zstd_decompress_exact(frame, flen, out, 3001, &err) == CORE_ERR_CORRUPT);

	flen = LZ4F_compressFrame(frame, sizeof(frame), src, sizeof(src), NULL);
	CHECK(!LZ4F_isError(flen));
	CHECK(lance_lz4frame_decompress_exact(frame, flen, out, 3000, &err) == CORE_OK);
	CHECK(memcmp(out, src, 3000) == 0);
	CHECK(lance_lz4frame_decompress_exact(frame, flen, out, 2999, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_lz4frame_decompress_exact(frame, flen, out, 3001, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_lz4frame_decompress_exact(frame, flen - 2, out, 3000, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_lz4frame_decompress_exact(frame, 0, out, 0, &err) == CORE_ERR_CORRUPT);
}

/*
 * LanceDB's own bytes: scalars_50k_v2_2 keeps the dictionary of its
 * low-cardinality `cat` strings as general(LZ4) over a variable block.
 * Find a u32-prefixed LZ4 block that expands to a variable block holding
 * "echo" and "delta", and decode it with lance_decompress and the block
 * variable decoder.
 */
UNIT_TEST(lz4_dictionary_of_the_v2_2_fixture_decodes_to_the_cat_strings)
{
	char		path[1024];
	size_t		len;
	uint8_t    *file = fixture_read("scalars_50k_v2_2.lance/data/*.lance", &len,
									path, sizeof(path));
	uint8_t		probe[64];
	size_t		p;
	bool		found = false;

	if (file == NULL)
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	for (p = 0; p + 8 <= len && !found; p += 1)
	{
		uint32_t	size;
		size_t		clen;

		memcpy(&size, file + p, 4);
		if (size < 16 || size > 65536)
			continue;
		/* cheap filter: the first bytes must be the block header u32 32 */
		if (LZ4_decompress_safe_partial((const char *) file + p + 4, (char *) probe,
										(int) (len - p - 4 > INT32_MAX ? INT32_MAX : len - p - 4),
										8, sizeof(probe)) < 8 ||
			memcmp(probe, "\x20\0\0\0", 4) != 0)
			continue;
		/* the exact compressed length is unknown: the one that works */
		for (clen = 1; clen <= (size_t) size + size / 255 + 16 && p + 4 + clen <= len; clen++)
		{
			uint8_t    *d;
			size_t		dlen;
			CoreError	err;
			uint32_t	data_start;
			size_t		n;
			uint64_t   *off;
			const uint8_t *bytes;

			if (lance_decompress(LANCE_COMPRESSION_LZ4, file + p, clen + 4, 1 << 20,
								 &d, &dlen, &err) != CORE_OK)
				continue;
			memcpy(&data_start, d + 4, 4);
			n = data_start >= 12 ? (data_start - 8) / 4 - 1 : 0;
			off = core_malloc((n + 1) * sizeof(uint64_t));
			if (n > 0 && lance_variable_decode_block(d, dlen, n, off, &bytes, &err) == CORE_OK &&
				memmem(bytes, off[n], "echo", 4) && memmem(bytes, off[n], "delta", 5))
				found = true;
			core_free(off);
			core_free(d);
			break;
		}
	}
	free(file);
	CHECK_MSG(found, "no LZ4 dictionary of the cat strings in %s", path);
}

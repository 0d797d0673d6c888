/*-------------------------------------------------------------------------
 *
 * codec_compress.c
 *	  General compression with lance's framing (FORMAT.md 12.8), and the
 *	  bare zstd / LZ4 frames of Arrow IPC body compression.
 *
 * LZ4:  u32 LE uncompressed size, then one raw LZ4 block.
 * ZSTD: u64 LE uncompressed size, then a zstd frame; lance's decoder also
 *		 takes a bare frame (no size prefix), recognised by the zstd magic
 *		 followed by a frame header whose reserved bit is clear.
 * A size from a header is capped by the caller's max_out before anything
 * is allocated, and the codec must produce exactly that many bytes.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include <lz4.h>
#include <lz4frame.h>
#include <zstd.h>

#include "core/alloc.h"
#include "lance/codec.h"
#include "lance/codec_int.h"

#define ZSTD_FRAME_MAGIC 0xFD2FB528u

/*
 * Decompress LZ4 with the u32 size prefix.
 */
static CoreStatus
Lz4Decompress(const uint8_t *buf, size_t len, size_t max_out, uint8_t **out,
			  size_t *out_len, CoreError *err)
{
	uint32_t	size;
	uint8_t    *dst;
	int			got;

	if (len < 4)
		return codec_short(err, "lz4", "the size prefix", 0, 4, len);
	size = codec_ld32(buf);
	if (size > max_out || size > LZ4_MAX_INPUT_SIZE)
		return core_error(err, CORE_ERR_CORRUPT,
						  "lz4: uncompressed size %u exceeds the limit of %zu bytes",
						  size, max_out < LZ4_MAX_INPUT_SIZE ? max_out :
						  (size_t) LZ4_MAX_INPUT_SIZE);
	if (len - 4 > INT32_MAX)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "lz4: a %zu-byte block is too large", len - 4);
	dst = core_malloc(size);
	if (dst == NULL)
		return core_error(err, CORE_ERR_NOMEM,
						  "lz4: cannot allocate %u bytes", size);
	got = LZ4_decompress_safe((const char *) buf + 4, (char *) dst,
							  (int) (len - 4), (int) size);
	if (got < 0 || (uint32_t) got != size)
	{
		core_free(dst);
		if (got < 0)
			return core_error(err, CORE_ERR_CORRUPT,
							  "lz4: the %zu-byte block at offset 4 is malformed or does not decompress to %u bytes",
							  len - 4, size);
		return core_error(err, CORE_ERR_CORRUPT,
						  "lz4: block decompressed to %d bytes, the header says %u",
						  got, size);
	}
	*out = dst;
	*out_len = size;
	return CORE_OK;
}

/*
 * Is buf a bare zstd frame rather than a size prefix?  lance's own test:
 * the frame magic followed by a frame header descriptor whose bit 4
 * (0x10, which a zstd encoder never sets) is clear; a buffer shorter than
 * a size prefix counts as a frame.
 */
static bool
IsBareZstdFrame(const uint8_t *buf, size_t len)
{
	if (len < 8)
		return true;
	if (codec_ld32(buf) != ZSTD_FRAME_MAGIC)
		return false;
	return (buf[4] & 0x10) == 0;
}

/*
 * Decompress a zstd stream of unknown size (one frame or several),
 * growing the output up to max_out bytes.
 */
static CoreStatus
ZstdStream(const uint8_t *buf, size_t len, size_t max_out, uint8_t **out,
		   size_t *out_len, CoreError *err)
{
	/* one byte past the cap tells "too large" from "exactly the cap" */
	size_t		limit = max_out == SIZE_MAX ? SIZE_MAX : max_out + 1;
	unsigned long long hint = ZSTD_getFrameContentSize(buf, len);
	ZSTD_inBuffer in = {buf, len, 0};
	ZSTD_DCtx  *dctx;
	uint8_t    *dst;
	size_t		cap;
	size_t		used = 0;
	size_t		ret;
	CoreStatus	st = CORE_OK;

	if (hint != ZSTD_CONTENTSIZE_UNKNOWN && hint != ZSTD_CONTENTSIZE_ERROR &&
		hint < limit)
		cap = (size_t) hint;
	else
		cap = limit < 65536 ? limit : 65536;
	dctx = ZSTD_createDCtx();
	dst = core_malloc(cap);
	if (dctx == NULL || dst == NULL)
	{
		ZSTD_freeDCtx(dctx);
		core_free(dst);
		return core_error(err, CORE_ERR_NOMEM, "zstd: cannot allocate %zu bytes", cap);
	}
	for (;;)
	{
		ZSTD_outBuffer ob;

		if (used == cap && cap < limit)
		{
			size_t		ncap = cap > limit / 2 ? limit : (cap ? cap * 2 : 1);
			uint8_t    *grown = core_realloc(dst, ncap);

			if (grown == NULL)
			{
				st = core_error(err, CORE_ERR_NOMEM,
								"zstd: cannot allocate %zu bytes", ncap);
				break;
			}
			dst = grown;
			cap = ncap;
		}
		ob.dst = dst;
		ob.size = cap;
		ob.pos = used;
		ret = ZSTD_decompressStream(dctx, &ob, &in);
		if (ZSTD_isError(ret))
		{
			st = core_error(err, CORE_ERR_CORRUPT, "zstd: byte %zu of the frame: %s",
							in.pos, ZSTD_getErrorName(ret));
			break;
		}
		used = ob.pos;
		if (used > max_out)
		{
			st = core_error(err, CORE_ERR_CORRUPT,
							"zstd: frame decompresses past the limit of %zu bytes",
							max_out);
			break;
		}
		if (in.pos == in.size && ret == 0)
			break;				/* every frame complete */
		if (in.pos == in.size && ob.pos < ob.size)
		{
			st = core_error(err, CORE_ERR_CORRUPT,
							"zstd: the %zu-byte frame is truncated", len);
			break;
		}
	}
	ZSTD_freeDCtx(dctx);
	if (st != CORE_OK)
	{
		core_free(dst);
		return st;
	}
	*out = dst;
	*out_len = used;
	return CORE_OK;
}

/*
 * Decompress exactly out_len bytes of a zstd stream into out.
 */
CoreStatus
lance_zstd_decompress_exact(const uint8_t *buf, size_t len, uint8_t *out,
							size_t out_len, CoreError *err)
{
	size_t		got = ZSTD_decompress(out, out_len, buf, len);

	if (ZSTD_isError(got))
		return core_error(err, CORE_ERR_CORRUPT,
						  "zstd: %zu-byte frame into %zu bytes: %s",
						  len, out_len, ZSTD_getErrorName(got));
	if (got != out_len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "zstd: frame decompressed to %zu bytes, expected %zu",
						  got, out_len);
	return CORE_OK;
}

/*
 * Decompress exactly out_len bytes of one or more LZ4 frames into out.
 */
CoreStatus
lance_lz4frame_decompress_exact(const uint8_t *buf, size_t len, uint8_t *out,
								size_t out_len, CoreError *err)
{
	LZ4F_dctx  *dctx;
	LZ4F_errorCode_t ec;
	size_t		in_pos = 0;
	size_t		out_pos = 0;
	size_t		ret = 1;
	CoreStatus	st = CORE_OK;

	ec = LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION);
	if (LZ4F_isError(ec))
		return core_error(err, CORE_ERR_NOMEM, "lz4 frame: %s",
						  LZ4F_getErrorName(ec));
	while (in_pos < len)
	{
		size_t		src_size = len - in_pos;
		size_t		dst_size = out_len - out_pos;
		uint8_t		probe;
		bool		probing = dst_size == 0;

		/* with the output full, offer one spare byte to catch excess */
		if (probing)
			dst_size = 1;
		ret = LZ4F_decompress(dctx, probing ? &probe : out + out_pos, &dst_size,
							  buf + in_pos, &src_size, NULL);
		if (LZ4F_isError(ret))
		{
			st = core_error(err, CORE_ERR_CORRUPT, "lz4 frame at offset %zu: %s",
							in_pos, LZ4F_getErrorName(ret));
			break;
		}
		if (probing && dst_size > 0)
		{
			st = core_error(err, CORE_ERR_CORRUPT,
							"lz4 frame: decompresses to more than %zu bytes",
							out_len);
			break;
		}
		if (!probing)
			out_pos += dst_size;
		in_pos += src_size;
		if (src_size == 0 && dst_size == 0)
			break;				/* no progress: the frame wants more input */
	}
	LZ4F_freeDecompressionContext(dctx);
	if (st != CORE_OK)
		return st;
	if (ret != 0)
		return core_error(err, CORE_ERR_CORRUPT,
						  "lz4 frame: truncated (%zu bytes)", len);
	if (out_pos != out_len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "lz4 frame: decompressed to %zu bytes, expected %zu",
						  out_pos, out_len);
	return CORE_OK;
}

/*
 * Decompress with lance's length-prefixed zstd framing.
 */
static CoreStatus
ZstdDecompress(const uint8_t *buf, size_t len, size_t max_out, uint8_t **out,
			   size_t *out_len, CoreError *err)
{
	uint64_t	size;
	uint8_t    *dst;
	CoreStatus	st;

	if (len == 0)
	{
		/* lance's decoder: nothing in, nothing out */
		dst = core_malloc(0);
		if (dst == NULL)
			return core_error(err, CORE_ERR_NOMEM, "zstd: cannot allocate");
		*out = dst;
		*out_len = 0;
		return CORE_OK;
	}
	if (IsBareZstdFrame(buf, len))
		return ZstdStream(buf, len, max_out, out, out_len, err);
	size = codec_ld64(buf);
	if (size > max_out)
		return core_error(err, CORE_ERR_CORRUPT,
						  "zstd: uncompressed size %llu exceeds the limit of %zu bytes",
						  (unsigned long long) size, max_out);
	dst = core_malloc((size_t) size);
	if (dst == NULL)
		return core_error(err, CORE_ERR_NOMEM,
						  "zstd: cannot allocate %llu bytes", (unsigned long long) size);
	st = lance_zstd_decompress_exact(buf + 8, len - 8, dst, (size_t) size, err);
	if (st != CORE_OK)
	{
		core_free(dst);
		return st;
	}
	*out = dst;
	*out_len = (size_t) size;
	return CORE_OK;
}

CoreStatus
lance_decompress(LanceCompression scheme, const uint8_t *buf, size_t len,
				 size_t max_out, uint8_t **out, size_t *out_len, CoreError *err)
{
	*out = NULL;
	*out_len = 0;
	switch (scheme)
	{
		case LANCE_COMPRESSION_LZ4:
			return Lz4Decompress(buf, len, max_out, out, out_len, err);
		case LANCE_COMPRESSION_ZSTD:
			return ZstdDecompress(buf, len, max_out, out, out_len, err);
		case LANCE_COMPRESSION_NONE:
			break;
	}
	return core_error(err, CORE_ERR_UNSUPPORTED,
					  "general compression: scheme %d is not supported (1 lz4, 2 zstd)",
					  (int) scheme);
}

CoreStatus
lance_compress(LanceCompression scheme, int level, const uint8_t *buf,
			   size_t len, uint8_t **out, size_t *out_len, CoreError *err)
{
	uint8_t    *dst;
	size_t		bound;

	*out = NULL;
	*out_len = 0;
	if (scheme == LANCE_COMPRESSION_LZ4)
	{
		int			got;

		if (len > LZ4_MAX_INPUT_SIZE)
			return core_error(err, CORE_ERR_INVALID,
							  "lz4: %zu bytes exceed the block limit", len);
		bound = 4 + (size_t) LZ4_compressBound((int) len);
		dst = core_malloc(bound);
		if (dst == NULL)
			return core_error(err, CORE_ERR_NOMEM, "lz4: cannot allocate %zu bytes", bound);
		codec_st32(dst, (uint32_t) len);
		got = LZ4_compress_default((const char *) buf, (char *) dst + 4,
								   (int) len, (int) (bound - 4));
		if (got <= 0)
		{
			core_free(dst);
			return core_error(err, CORE_ERR_INVALID, "lz4: compression failed");
		}
		*out = dst;
		*out_len = 4 + (size_t) got;
		return CORE_OK;
	}
	if (scheme == LANCE_COMPRESSION_ZSTD)
	{
		size_t		got;

		bound = 8 + ZSTD_compressBound(len);
		dst = core_malloc(bound);
		if (dst == NULL)
			return core_error(err, CORE_ERR_NOMEM, "zstd: cannot allocate %zu bytes", bound);
		codec_st64(dst, len);
		got = ZSTD_compress(dst + 8, bound - 8, buf, len,
							level ? level : ZSTD_CLEVEL_DEFAULT);
		if (ZSTD_isError(got))
		{
			core_free(dst);
			return core_error(err, CORE_ERR_INVALID, "zstd: %s",
							  ZSTD_getErrorName(got));
		}
		*out = dst;
		*out_len = 8 + got;
		return CORE_OK;
	}
	return core_error(err, CORE_ERR_INVALID,
					  "general compression: scheme %d is not supported", (int) scheme);
}

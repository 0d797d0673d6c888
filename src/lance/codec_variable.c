/*-------------------------------------------------------------------------
 *
 * codec_variable.c
 *	  Variable-width values: the mini-block and block forms of the
 *	  `variable` encoding (FORMAT.md 12.2).
 *
 * Both forms end as normalized offsets (n+1 uint64, the first 0) and a
 * pointer to the bytes inside the input; nothing is copied.  The two forms
 * differ in what the offsets are relative to: the start of the buffer in a
 * mini-block chunk, the start of the data area in a block.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lance/codec.h"
#include "lance/codec_int.h"

/*
 * Check n+1 raw offsets of w bytes at buf + at: monotone, the last at most
 * limit.  Fill offsets[] with them minus the first.
 */
static CoreStatus
ReadOffsets(const char *enc, const uint8_t *buf, size_t at, unsigned w,
			size_t n, uint64_t limit, uint64_t *offsets, uint64_t *first,
			CoreError *err)
{
	uint64_t	base = codec_ld(buf + at, w);
	uint64_t	prev = base;
	size_t		i;

	offsets[0] = 0;
	for (i = 1; i <= n; i++)
	{
		uint64_t	o = codec_ld(buf + at + i * w, w);

		if (o < prev)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: offset %zu (%llu) is less than offset %zu (%llu)",
							  enc, i, (unsigned long long) o, i - 1,
							  (unsigned long long) prev);
		offsets[i] = o - base;
		prev = o;
	}
	if (prev > limit)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: last offset %llu is past the end of the data (%llu bytes)",
						  enc, (unsigned long long) prev, (unsigned long long) limit);
	*first = base;
	return CORE_OK;
}

/*
 * Mini-block form: n+1 offsets relative to the buffer start, then bytes.
 */
CoreStatus
lance_variable_decode_miniblock(const uint8_t *buf, size_t len,
								unsigned offset_bits, size_t n,
								uint64_t *offsets, const uint8_t **bytes,
								CoreError *err)
{
	const char *enc = "variable (mini-block)";
	unsigned	w;
	size_t		area;
	uint64_t	first;
	CoreStatus	st;

	if (offset_bits != 32 && offset_bits != 64)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "%s: %u-bit offsets are not supported (32 or 64)",
						  enc, offset_bits);
	w = offset_bits / 8;
	if (n == SIZE_MAX || !codec_mul(n + 1, w, &area) || area > len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %zu offsets of %u bytes do not fit in a %zu-byte buffer",
						  enc, n + 1, w, len);
	st = ReadOffsets(enc, buf, 0, w, n, len, offsets, &first, err);
	if (st != CORE_OK)
		return st;
	/* the bytes follow the offsets (a chunk may hold more offsets than n+1) */
	if (first < area)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: first offset %llu points into the %zu bytes of offsets",
						  enc, (unsigned long long) first, area);
	*bytes = buf + first;
	return CORE_OK;
}

/*
 * Block form: a header naming the offset width and where the data starts,
 * the offsets, the data.  Two header generations exist (see codec.h).
 */
CoreStatus
lance_variable_decode_block(const uint8_t *buf, size_t len, size_t n,
							uint64_t *offsets, const uint8_t **bytes,
							CoreError *err)
{
	const char *enc = "variable (block)";
	unsigned	bits;
	uint64_t	data_start;
	size_t		hdr;
	size_t		area;
	uint64_t	first;
	CoreStatus	st;

	if (len < 4)
		return codec_short(err, enc, "header", 0, 4, len);
	if (buf[1] != 0 || buf[2] != 0 || buf[3] != 0)
	{
		/* older header: u8 width, value count, data start (both of width) */
		bits = buf[0];
		if (bits != 32 && bits != 64)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: offset width %u in the header, expected 32 or 64",
							  enc, bits);
		hdr = 1 + 2 * (bits / 8);
		if (len < hdr)
			return codec_short(err, enc, "header", 0, hdr, len);
		data_start = codec_ld(buf + 1 + bits / 8, bits / 8);
	}
	else
	{
		bits = codec_ld32(buf);
		if (bits != 32 && bits != 64)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: offset width %u in the header, expected 32 or 64",
							  enc, bits);
		hdr = 2 * (bits / 8);
		if (len < hdr)
			return codec_short(err, enc, "header", 0, hdr, len);
		data_start = codec_ld(buf + bits / 8, bits / 8);
	}
	if (data_start < hdr || data_start > len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: data start %llu outside the header end %zu .. buffer end %zu",
						  enc, (unsigned long long) data_start, hdr, len);
	if (n == SIZE_MAX || !codec_mul(n + 1, bits / 8, &area) ||
		area > data_start - hdr)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %zu values need %zu+1 offsets of %u bytes, the offsets area has %llu bytes",
						  enc, n, n, bits / 8,
						  (unsigned long long) (data_start - hdr));
	st = ReadOffsets(enc, buf, hdr, bits / 8, n, len - data_start,
					 offsets, &first, err);
	if (st != CORE_OK)
		return st;
	*bytes = buf + data_start + first;
	return CORE_OK;
}

size_t
lance_variable_miniblock_size(unsigned offset_bits, size_t n, size_t nbytes)
{
	return (n + 1) * (offset_bits / 8) + nbytes;
}

/*
 * Write the offsets (one width) shifted so that the first is `base`.
 */
static void
WriteOffsets(uint8_t *out, const uint64_t *offsets, size_t n, unsigned w,
			 uint64_t base)
{
	size_t		i;

	for (i = 0; i <= n; i++)
	{
		uint64_t	o = offsets[i] - offsets[0] + base;

		if (w == 4)
			codec_st32(out + i * 4, (uint32_t) o);
		else
			codec_st64(out + i * 8, o);
	}
}

/*
 * Check an encoder's arguments: width, monotone offsets, values that fit.
 */
static CoreStatus
CheckEncode(const char *enc, const uint64_t *offsets, size_t n,
			unsigned offset_bits, size_t header, CoreError *err)
{
	size_t		i;

	if (offset_bits != 32 && offset_bits != 64)
		return core_error(err, CORE_ERR_INVALID,
						  "%s: %u-bit offsets are not supported (32 or 64)",
						  enc, offset_bits);
	for (i = 1; i <= n; i++)
		if (offsets[i] < offsets[i - 1])
			return core_error(err, CORE_ERR_INVALID,
							  "%s: offsets are not monotone at %zu", enc, i);
	if (offset_bits == 32 &&
		offsets[n] - offsets[0] + header + (n + 1) * 4 > UINT32_MAX)
		return core_error(err, CORE_ERR_INVALID,
						  "%s: %llu bytes do not fit 32-bit offsets", enc,
						  (unsigned long long) (offsets[n] - offsets[0]));
	return CORE_OK;
}

CoreStatus
lance_variable_encode_miniblock(const uint64_t *offsets, const uint8_t *bytes,
								size_t n, unsigned offset_bits, uint8_t *out,
								CoreError *err)
{
	unsigned	w = offset_bits / 8;
	size_t		area = (n + 1) * w;
	CoreStatus	st;

	st = CheckEncode("variable (mini-block)", offsets, n, offset_bits, 0, err);
	if (st != CORE_OK)
		return st;
	WriteOffsets(out, offsets, n, w, area);
	if (offsets[n] > offsets[0])
		memcpy(out + area, bytes + offsets[0], offsets[n] - offsets[0]);
	return CORE_OK;
}

size_t
lance_variable_block_size(unsigned offset_bits, size_t n, size_t nbytes)
{
	return (n + 3) * (offset_bits / 8) + nbytes;
}

CoreStatus
lance_variable_encode_block(const uint64_t *offsets, const uint8_t *bytes,
							size_t n, unsigned offset_bits, uint8_t *out,
							CoreError *err)
{
	unsigned	w = offset_bits / 8;
	size_t		data_start = (n + 3) * w;
	CoreStatus	st;

	st = CheckEncode("variable (block)", offsets, n, offset_bits, 2 * w, err);
	if (st != CORE_OK)
		return st;
	if (w == 4)
	{
		codec_st32(out, 32);
		codec_st32(out + 4, (uint32_t) data_start);
	}
	else
	{
		codec_st64(out, 64);
		codec_st64(out + 8, data_start);
	}
	WriteOffsets(out + 2 * w, offsets, n, w, 0);
	if (offsets[n] > offsets[0])
		memcpy(out + data_start, bytes + offsets[0], offsets[n] - offsets[0]);
	return CORE_OK;
}

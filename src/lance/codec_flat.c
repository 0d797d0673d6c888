/*-------------------------------------------------------------------------
 *
 * codec_flat.c
 *	  Flat values, validity bitmaps, level widening and the constant
 *	  layout's scalar (FORMAT.md 10.1, 11.4, 12.1).
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lance/codec.h"
#include "lance/codec_int.h"

/*
 * Report that `what` of encoding `enc` needs need bytes at off in a buffer
 * of len bytes.
 */
CoreStatus
codec_short(CoreError *err, const char *enc, const char *what,
			size_t off, size_t need, size_t len)
{
	return core_error(err, CORE_ERR_CORRUPT,
					  "%s: %s needs %zu bytes at offset %zu, buffer has %zu",
					  enc, what, need, off, len);
}

/* Reject a value width the codecs do not handle. */
CoreStatus
codec_bad_bits(CoreError *err, const char *enc, unsigned bits)
{
	return core_error(err, CORE_ERR_UNSUPPORTED,
					  "%s: %u-bit values are not supported (8, 16, 32 or 64)",
					  enc, bits);
}

/*
 * Copy n flat values of `bits` bits each out of buf.
 */
CoreStatus
lance_flat_decode(const uint8_t *buf, size_t len, unsigned bits, size_t n,
				  void *out, CoreError *err)
{
	size_t		need;

	if (bits == 1)
		need = n / 8 + (n % 8 != 0);
	else if (bits == 0 || bits % 8 != 0)
		return core_error(err, CORE_ERR_UNSUPPORTED,
						  "flat: %u bits per value is not supported", bits);
	else if (!codec_mul(n, bits / 8, &need))
		return codec_short(err, "flat", "values", 0, SIZE_MAX, len);
	if (need > len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "flat: %zu values of %u bits need %zu bytes, buffer has %zu",
						  n, bits, need, len);
	if (need)
		memcpy(out, buf, need);
	return CORE_OK;
}

/*
 * Widen n levels stored as in_bits-bit integers to uint16.
 */
CoreStatus
lance_levels_to_u16(const void *in, unsigned in_bits, size_t n,
					uint16_t *out, CoreError *err)
{
	size_t		i;

	if (!codec_word_bits_ok(in_bits))
		return codec_bad_bits(err, "levels", in_bits);
	for (i = 0; i < n; i++)
	{
		uint64_t	v = codec_get(in, in_bits, i);

		if (v > UINT16_MAX)
			return core_error(err, CORE_ERR_CORRUPT,
							  "levels: level %zu is %llu, more than 65535",
							  i, (unsigned long long) v);
		out[i] = (uint16_t) v;
	}
	return CORE_OK;
}

/*
 * Expand n bits from bit `offset` of an LSB-first bitmap to bytes.
 */
CoreStatus
lance_bitmap_unpack(const uint8_t *bits, size_t len, size_t offset, size_t n,
					uint8_t *out, CoreError *err)
{
	size_t		i;

	/* offset + n <= len * 8, without wrapping */
	if (len > SIZE_MAX / 8 ? false : (offset > len * 8 || n > len * 8 - offset))
		return core_error(err, CORE_ERR_CORRUPT,
						  "bitmap: bits %zu..%zu are past the end of a %zu-byte bitmap",
						  offset, offset + n, len);
	for (i = 0; i < n; i++)
		out[i] = lance_bitmap_get(bits, offset + i);
	return CORE_OK;
}

/*
 * Count the set bits among the first n bits.
 */
size_t
lance_bitmap_count(const uint8_t *bits, size_t n)
{
	size_t		count = 0;
	size_t		full = n / 8;
	size_t		i;

	for (i = 0; i < full; i++)
		count += __builtin_popcount(bits[i]);
	if (n % 8)
		count += __builtin_popcount(bits[full] & ((1u << (n % 8)) - 1));
	return count;
}

/*
 * Pack n bytes into an LSB-first bitmap; the unused high bits of the last
 * byte are zero.
 */
void
lance_bitmap_pack(const uint8_t *in, size_t n, uint8_t *bits)
{
	size_t		i;

	memset(bits, 0, n / 8 + (n % 8 != 0));
	for (i = 0; i < n; i++)
		if (in[i])
			bits[i >> 3] |= (uint8_t) (1u << (i & 7));
}

/*
 * Parse the constant layout's scalar: u32 count, count u32 lengths, the
 * buffers back to back.  Bytes after the last buffer are ignored.
 */
CoreStatus
lance_scalar_parse(const uint8_t *buf, size_t len, LanceScalarBuffers *out,
				   CoreError *err)
{
	uint32_t	count;
	size_t		pos;
	unsigned	i;

	memset(out, 0, sizeof(*out));
	if (len < 4)
		return codec_short(err, "constant scalar", "buffer count", 0, 4, len);
	count = codec_ld32(buf);
	if (count > LANCE_SCALAR_MAX_BUFFERS)
		return core_error(err, CORE_ERR_CORRUPT,
						  "constant scalar: %u buffers, at most %d expected",
						  count, LANCE_SCALAR_MAX_BUFFERS);
	if (!codec_has(len, 4, (size_t) count * 4))
		return codec_short(err, "constant scalar", "buffer lengths", 4,
						   (size_t) count * 4, len);
	pos = 4 + (size_t) count * 4;
	for (i = 0; i < count; i++)
	{
		size_t		blen = codec_ld32(buf + 4 + 4 * i);

		if (!codec_has(len, pos, blen))
			return codec_short(err, "constant scalar", "buffer", pos, blen, len);
		out->data[i] = buf + pos;
		out->len[i] = blen;
		pos += blen;
	}
	out->nbuffers = count;
	return CORE_OK;
}

/*
 * Read a parsed scalar as one binary/string value.
 */
CoreStatus
lance_scalar_binary(const LanceScalarBuffers *scalar, const uint8_t **value,
					size_t *value_len, CoreError *err)
{
	const uint8_t *offs;
	size_t		offs_len;
	const uint8_t *data;
	size_t		data_len;
	uint64_t	start;
	uint64_t	end;

	if (scalar->nbuffers == 2)
	{
		offs = scalar->data[0];
		offs_len = scalar->len[0];
		data = scalar->data[1];
		data_len = scalar->len[1];
	}
	else if (scalar->nbuffers == 3)
	{
		offs = scalar->data[1];
		offs_len = scalar->len[1];
		data = scalar->data[2];
		data_len = scalar->len[2];
	}
	else
		return core_error(err, CORE_ERR_CORRUPT,
						  "constant scalar: a binary value has 2 or 3 buffers, found %u",
						  scalar->nbuffers);
	if (offs_len == 8)
	{
		start = codec_ld32(offs);
		end = codec_ld32(offs + 4);
	}
	else if (offs_len == 16)
	{
		start = codec_ld64(offs);
		end = codec_ld64(offs + 8);
	}
	else
		return core_error(err, CORE_ERR_CORRUPT,
						  "constant scalar: offsets buffer of %zu bytes, expected 8 or 16",
						  offs_len);
	if (start > end || end > data_len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "constant scalar: value bytes %llu..%llu outside a %zu-byte buffer",
						  (unsigned long long) start, (unsigned long long) end,
						  data_len);
	*value = data + start;
	*value_len = (size_t) (end - start);
	return CORE_OK;
}

/*-------------------------------------------------------------------------
 *
 * codec_rle.c
 *	  Run-length encoding (FORMAT.md 12.5).
 *
 * Runs are a buffer of values (T bits each) and a parallel buffer of u8
 * lengths; a run longer than 255 is written as several.  Lance's writer
 * may put runs for more values into a mini-block chunk than the chunk
 * claims (it rolls back to a power-of-two checkpoint in the middle of a
 * run), and its decoder stops at the claimed count, so runs past n are
 * ignored here too; fewer than n values is corruption.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lance/codec.h"
#include "lance/codec_int.h"

/*
 * Expand `runs` runs into n values.
 */
static CoreStatus
ExpandRuns(const char *enc, const uint8_t *values, const uint8_t *lengths,
		   size_t runs, unsigned bits, size_t n, void *out, CoreError *err)
{
	unsigned	vbytes = bits / 8;
	size_t		done = 0;
	size_t		r;

	for (r = 0; r < runs && done < n; r++)
	{
		uint64_t	v = codec_ld(values + r * vbytes, vbytes);
		size_t		len = lengths[r];
		size_t		i;

		if (len > n - done)
			len = n - done;
		for (i = 0; i < len; i++)
			codec_put(out, bits, done + i, v);
		done += len;
	}
	if (done < n)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %zu runs hold %zu values, expected %zu",
						  enc, runs, done, n);
	return CORE_OK;
}

CoreStatus
lance_rle_decode(const uint8_t *values, size_t values_len,
				 const uint8_t *lengths, size_t lengths_len,
				 unsigned bits, size_t n, void *out, CoreError *err)
{
	const char *enc = "rle";

	if (!codec_word_bits_ok(bits))
		return codec_bad_bits(err, enc, bits);
	if (values_len % (bits / 8) != 0)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: values buffer of %zu bytes is not a whole number of %u-bit values",
						  enc, values_len, bits);
	if (values_len / (bits / 8) != lengths_len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %zu run values but %zu run lengths",
						  enc, values_len / (bits / 8), lengths_len);
	return ExpandRuns(enc, values, lengths, lengths_len, bits, n, out, err);
}

CoreStatus
lance_rle_decode_block(const uint8_t *buf, size_t len, unsigned bits,
					   size_t n, void *out, CoreError *err)
{
	const char *enc = "rle (block)";
	uint64_t	values_len;
	size_t		runs;

	if (!codec_word_bits_ok(bits))
		return codec_bad_bits(err, enc, bits);
	if (len < 8)
		return codec_short(err, enc, "the values length", 0, 8, len);
	values_len = codec_ld64(buf);
	if (values_len > len - 8)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %llu bytes of run values at offset 8 pass the end of a %zu-byte buffer",
						  enc, (unsigned long long) values_len, len);
	if (values_len % (bits / 8) != 0)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %llu bytes of run values are not a whole number of %u-bit values",
						  enc, (unsigned long long) values_len, bits);
	runs = (size_t) values_len / (bits / 8);
	/* the lengths run to the end of the buffer */
	if (len - 8 - values_len < runs)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %zu runs need %zu length bytes at offset %llu, buffer has %llu",
						  enc, runs, runs, (unsigned long long) (8 + values_len),
						  (unsigned long long) (len - 8 - values_len));
	return ExpandRuns(enc, buf + 8, buf + 8 + values_len, runs, bits, n, out, err);
}

size_t
lance_rle_count_runs(const void *in, unsigned bits, size_t n)
{
	size_t		runs = 0;
	size_t		i = 0;

	while (i < n)
	{
		uint64_t	v = codec_get(in, bits, i);
		size_t		j = i + 1;

		while (j < n && j - i < 255 && codec_get(in, bits, j) == v)
			j++;
		runs++;
		i = j;
	}
	return runs;
}

CoreStatus
lance_rle_encode(const void *in, unsigned bits, size_t n,
				 uint8_t *values_out, uint8_t *lengths_out, size_t *nruns,
				 CoreError *err)
{
	size_t		runs = 0;
	size_t		i = 0;

	if (!codec_word_bits_ok(bits))
		return core_error(err, CORE_ERR_INVALID,
						  "rle: %u-bit values are not supported", bits);
	while (i < n)
	{
		uint64_t	v = codec_get(in, bits, i);
		size_t		j = i + 1;

		while (j < n && j - i < 255 && codec_get(in, bits, j) == v)
			j++;
		memcpy(values_out + runs * (bits / 8), &v, bits / 8);
		lengths_out[runs] = (uint8_t) (j - i);
		runs++;
		i = j;
	}
	*nruns = runs;
	return CORE_OK;
}

/*-------------------------------------------------------------------------
 *
 * fuzz_codec.c
 *	  libFuzzer target over the Lance codecs and deletion-file readers.
 *
 * Input: byte 0 picks the decoder, bytes 1..3 its parameters (word size,
 * bit width, value count), the rest is the buffer it decodes.  Every
 * decoder must return a status for any bytes; ASan/UBSan turn an
 * overread, overflow or leak into a crash.  Selector ROUND_TRIP also
 * checks that encoders and decoders agree on fuzzer-chosen values.
 *
 * Build and run: make fuzz-codec (clang with -fsanitize=fuzzer).  Seeds:
 * the fixtures' deletion files are copied into the corpus when
 * LANCEDB_FIXTURES is set.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/codec.h"
#include "lance/deletion.h"

enum
{
	SEL_FASTLANES,
	SEL_INLINE,
	SEL_OOL,
	SEL_RLE,
	SEL_RLE_BLOCK,
	SEL_VAR_MINIBLOCK,
	SEL_VAR_BLOCK,
	SEL_FSST,
	SEL_LZ4,
	SEL_ZSTD,
	SEL_SCALAR,
	SEL_DEL_ARROW,
	SEL_DEL_BITMAP,
	SEL_FLAT,
	SEL_FRAMES,
	SEL_ROUND_TRIP,
	SEL_COUNT
};

/* The largest value count the harness asks for, keeping runs fast. */
#define MAX_N 5000

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Die loudly: libFuzzer reports it as a crash with the input. */
static void
Mismatch(void)
{
	abort();
}

static void
RoundTrip(unsigned bits, unsigned width, const uint8_t *buf, size_t len)
{
	size_t		n = len / (bits / 8);
	uint64_t   *vals;
	uint64_t   *back;
	uint8_t    *enc;
	size_t		enc_len;
	size_t		i;
	CoreError	err;

	if (n > MAX_N)
		n = MAX_N;
	vals = core_malloc(n * 8 + 8);
	back = core_malloc(n * 8 + 8);
	memcpy(vals, buf, n * (bits / 8));
	/* inline: any values */
	enc = core_malloc(lance_inline_bitpack_max_size(bits, n));
	if (lance_inline_bitpack_encode(vals, bits, n, enc, &enc_len, &err) != CORE_OK ||
		lance_inline_bitpack_decode(enc, enc_len, bits, n, back, NULL, &err) != CORE_OK ||
		memcmp(vals, back, n * (bits / 8)) != 0)
		Mismatch();
	core_free(enc);
	/* out of line: values masked to the width */
	width %= bits + 1;
	for (i = 0; i < n; i++)
	{
		uint64_t	mask = width == 64 ? ~(uint64_t) 0 : (((uint64_t) 1 << width) - 1);
		uint64_t	v = 0;

		memcpy(&v, (uint8_t *) vals + i * (bits / 8), bits / 8);
		v &= mask;
		memcpy((uint8_t *) vals + i * (bits / 8), &v, bits / 8);
	}
	enc = core_malloc(lance_ool_bitpack_size(bits, width, n));
	if (lance_ool_bitpack_encode(vals, bits, width, n, enc, &err) != CORE_OK ||
		lance_ool_bitpack_decode(enc, lance_ool_bitpack_size(bits, width, n), bits,
								 width, n, back, &err) != CORE_OK ||
		memcmp(vals, back, n * (bits / 8)) != 0)
		Mismatch();
	core_free(enc);
	/* rle */
	{
		size_t		runs = lance_rle_count_runs(vals, bits, n);
		uint8_t    *rv = core_malloc(runs * 8 + 1);
		uint8_t    *rl = core_malloc(runs + 1);
		size_t		got;

		if (lance_rle_encode(vals, bits, n, rv, rl, &got, &err) != CORE_OK || got != runs ||
			lance_rle_decode(rv, runs * (bits / 8), rl, runs, bits, n, back, &err) != CORE_OK ||
			memcmp(vals, back, n * (bits / 8)) != 0)
			Mismatch();
		core_free(rv);
		core_free(rl);
	}
	core_free(vals);
	core_free(back);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned	sel;
	unsigned	bits;
	unsigned	width;
	size_t		n;
	const uint8_t *buf;
	size_t		len;
	void	   *out;
	CoreError	err;

	if (size < 4)
		return 0;
	sel = data[0] % SEL_COUNT;
	bits = 8u << (data[1] & 3);
	width = data[2] % 72;		/* a little past 64, to reach the checks */
	n = ((size_t) (data[1] >> 2) << 8 | data[3]) % MAX_N;
	buf = data + 4;
	len = size - 4;
	/* room for n values of 64 bits, plus a whole padded block */
	out = core_malloc((n + 1024) * 8);

	switch (sel)
	{
		case SEL_FASTLANES:
			(void) lance_fastlanes_unpack(buf, len, bits, width, out, &err);
			break;
		case SEL_INLINE:
			(void) lance_inline_bitpack_decode(buf, len, bits, n, out, NULL, &err);
			break;
		case SEL_OOL:
			(void) lance_ool_bitpack_decode(buf, len, bits, width, n, out, &err);
			break;
		case SEL_RLE:
			{
				size_t		split = len ? data[2] % (len + 1) : 0;

				(void) lance_rle_decode(buf, split, buf + split, len - split, bits, n,
										out, &err);
			}
			break;
		case SEL_RLE_BLOCK:
			(void) lance_rle_decode_block(buf, len, bits, n, out, &err);
			break;
		case SEL_VAR_MINIBLOCK:
			{
				const uint8_t *bytes;

				(void) lance_variable_decode_miniblock(buf, len, data[2] & 1 ? 64 : 32,
													   n, out, &bytes, &err);
			}
			break;
		case SEL_VAR_BLOCK:
			{
				const uint8_t *bytes;

				(void) lance_variable_decode_block(buf, len, n, out, &bytes, &err);
			}
			break;
		case SEL_FSST:
			{
				/* table first (its own length), then a mini-block variable */
				LanceFsstTable table;
				size_t		tlen = len ? ((size_t) data[2] * 9 + 8) % (len + 1) : 0;
				const uint8_t *bytes;
				uint64_t   *out_off = core_malloc((n + 1) * sizeof(uint64_t));
				uint8_t    *strs;
				size_t		strs_len;

				if (lance_fsst_parse_table(buf, tlen, &table, &err) == CORE_OK &&
					lance_variable_decode_miniblock(buf + tlen, len - tlen, 32, n, out,
													&bytes, &err) == CORE_OK &&
					lance_fsst_decode(&table, out, bytes, n, 1 << 20, out_off, &strs,
									  &strs_len, &err) == CORE_OK)
					core_free(strs);
				core_free(out_off);
			}
			break;
		case SEL_LZ4:
		case SEL_ZSTD:
			{
				uint8_t    *d;
				size_t		dlen;

				if (lance_decompress(sel == SEL_LZ4 ? LANCE_COMPRESSION_LZ4 :
									 LANCE_COMPRESSION_ZSTD, buf, len, 1 << 20,
									 &d, &dlen, &err) == CORE_OK)
					core_free(d);
			}
			break;
		case SEL_SCALAR:
			{
				LanceScalarBuffers s;
				const uint8_t *v;
				size_t		vlen;

				if (lance_scalar_parse(buf, len, &s, &err) == CORE_OK)
					(void) lance_scalar_binary(&s, &v, &vlen, &err);
			}
			break;
		case SEL_DEL_ARROW:
		case SEL_DEL_BITMAP:
			{
				LanceDeletionSet *set;

				if (lance_deletion_read(sel == SEL_DEL_ARROW ? LANCE_DELETION_ARROW :
										LANCE_DELETION_BITMAP, buf, len, &set,
										&err) == CORE_OK)
				{
					uint8_t		mask[64];
					uint32_t	first[8];

					lance_deletion_mask(set, n, 64, mask);
					(void) lance_deletion_next(set, (uint32_t) n, first, 8);
					(void) lance_deletion_contains(set, (uint32_t) n);
					lance_deletion_free(set);
				}
			}
			break;
		case SEL_FLAT:
			(void) lance_flat_decode(buf, len, data[2] & 1 ? 1 : bits, n, out, &err);
			(void) lance_bitmap_unpack(buf, len, width, n, out, &err);
			if (len >= (n + 7) / 8)
				(void) lance_bitmap_count(buf, n);
			if (len >= n * (bits / 8) && bits <= 32)
				(void) lance_levels_to_u16(buf, bits, n, out, &err);
			break;
		case SEL_FRAMES:
			(void) lance_zstd_decompress_exact(buf, len, out, n, &err);
			(void) lance_lz4frame_decompress_exact(buf, len, out, n, &err);
			break;
		case SEL_ROUND_TRIP:
			RoundTrip(bits, width, buf, len);
			break;
	}
	core_free(out);
	return 0;
}

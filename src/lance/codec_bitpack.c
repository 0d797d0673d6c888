/*-------------------------------------------------------------------------
 *
 * codec_bitpack.c
 *	  FastLanes bit packing and the two Lance encodings built on it:
 *	  inline_bitpacking and out_of_line_bitpacking (FORMAT.md 12.3, 12.4).
 *
 * FastLanes packs 1024 values of W bits into 1024 * W / T words of T bits
 * (T = 8, 16, 32 or 64) so that a SIMD unit can unpack LANES = 1024 / T
 * words side by side.  Lane `lane` owns the words lane, lane + LANES,
 * lane + 2 * LANES, ...; its T values are laid into that stream W bits at
 * a time from the least significant bit, a value that does not fit in the
 * rest of a word continuing in the lane's next word.  Row `row` of lane
 * `lane` is the value at index
 *
 *		ORDER[row / 8] * 16 + (row % 8) * 128 + lane
 *
 * with ORDER = {0, 4, 2, 6, 1, 5, 3, 7} (the "transposed" order of the
 * FastLanes paper, which lets delta and RLE kernels work lane-parallel).
 * Lance uses the untransposed variant of this for unsigned integers only,
 * no frame of reference and no zigzag.
 *
 * The unpack loop runs rows outside and lanes inside: both the words read
 * and the values written are contiguous across lanes, so compilers
 * vectorize it.  Each T has its own copy (a macro) for the word type.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "core/alloc.h"
#include "lance/codec.h"
#include "lance/codec_int.h"

static const unsigned FL_ORDER[8] = {0, 4, 2, 6, 1, 5, 3, 7};

/* The output index of row `row` of lane `lane`. */
#define FL_INDEX(row, lane) \
	(FL_ORDER[(row) / 8] * 16 + ((row) % 8) * 128 + (lane))

/*
 * FlUnpackT(words, W, out): words holds 1024 * W / T aligned words.
 * FlPackT(in, W, words): the inverse; words is zeroed first.
 */
#define DEFINE_FASTLANES(T, word_t) \
static void \
FlUnpack##T(const word_t *words, unsigned width, word_t *out) \
{ \
	const unsigned lanes = 1024 / (T); \
	const word_t mask = width == (T) ? (word_t) ~(word_t) 0 : \
		(word_t) ((((uint64_t) 1) << width) - 1); \
	unsigned	row; \
	unsigned	lane; \
\
	for (row = 0; row < (T); row++) \
	{ \
		unsigned	bit = row * width; \
		unsigned	word = bit / (T); \
		unsigned	shift = bit % (T); \
		const word_t *lo = words + (size_t) lanes * word; \
		word_t	   *dst = out + FL_ORDER[row / 8] * 16 + (row % 8) * 128; \
\
		if (shift + width > (T)) \
		{ \
			const word_t *hi = lo + lanes; \
\
			for (lane = 0; lane < lanes; lane++) \
				dst[lane] = (word_t) (((word_t) (lo[lane] >> shift) | \
									   (word_t) (hi[lane] << ((T) - shift))) & mask); \
		} \
		else \
		{ \
			for (lane = 0; lane < lanes; lane++) \
				dst[lane] = (word_t) ((word_t) (lo[lane] >> shift) & mask); \
		} \
	} \
} \
\
static void \
FlPack##T(const word_t *in, unsigned width, word_t *words) \
{ \
	const unsigned lanes = 1024 / (T); \
	const word_t mask = width == (T) ? (word_t) ~(word_t) 0 : \
		(word_t) ((((uint64_t) 1) << width) - 1); \
	unsigned	row; \
	unsigned	lane; \
\
	memset(words, 0, (size_t) 128 * width); \
	for (row = 0; row < (T); row++) \
	{ \
		unsigned	bit = row * width; \
		unsigned	word = bit / (T); \
		unsigned	shift = bit % (T); \
		word_t	   *lo = words + (size_t) lanes * word; \
		const word_t *src = in + FL_ORDER[row / 8] * 16 + (row % 8) * 128; \
\
		for (lane = 0; lane < lanes; lane++) \
			lo[lane] |= (word_t) ((word_t) (src[lane] & mask) << shift); \
		if (shift + width > (T)) \
		{ \
			word_t	   *hi = lo + lanes; \
\
			for (lane = 0; lane < lanes; lane++) \
				hi[lane] |= (word_t) ((word_t) (src[lane] & mask) >> ((T) - shift)); \
		} \
	} \
}

/*
 * The shifts by (T - shift) above only run when shift > 0 (a value that
 * straddles words starts past bit 0), so they never shift by T.
 */
DEFINE_FASTLANES(8, uint8_t)
DEFINE_FASTLANES(16, uint16_t)
DEFINE_FASTLANES(32, uint32_t)
DEFINE_FASTLANES(64, uint64_t)

/*
 * Unpack one block from unaligned bytes into a native array.
 */
CoreStatus
lance_fastlanes_unpack(const uint8_t *packed, size_t packed_len, unsigned bits,
					   unsigned width, void *out, CoreError *err)
{
	/* 128 * 64 bytes is the largest block; uint64_t keeps it aligned */
	uint64_t	words[1024];
	size_t		need = LANCE_FL_PACKED_BYTES(width);

	if (!codec_word_bits_ok(bits))
		return codec_bad_bits(err, "fastlanes", bits);
	if (width > bits)
		return core_error(err, CORE_ERR_CORRUPT,
						  "fastlanes: bit width %u exceeds the %u-bit values",
						  width, bits);
	if (packed_len < need)
		return codec_short(err, "fastlanes", "a packed block", 0, need, packed_len);
	if (width == 0)
	{
		memset(out, 0, (size_t) 1024 * (bits / 8));
		return CORE_OK;
	}
	memcpy(words, packed, need);
	switch (bits)
	{
		case 8:
			FlUnpack8((const uint8_t *) words, width, out);
			break;
		case 16:
			FlUnpack16((const uint16_t *) words, width, out);
			break;
		case 32:
			FlUnpack32((const uint32_t *) words, width, out);
			break;
		default:
			FlUnpack64(words, width, out);
			break;
	}
	return CORE_OK;
}

/*
 * Pack one block of 1024 native values into unaligned bytes.
 */
CoreStatus
lance_fastlanes_pack(const void *in, unsigned bits, unsigned width,
					 uint8_t *packed, CoreError *err)
{
	uint64_t	words[1024];

	if (!codec_word_bits_ok(bits))
		return core_error(err, CORE_ERR_INVALID,
						  "fastlanes: %u-bit values are not supported", bits);
	if (width > bits)
		return core_error(err, CORE_ERR_INVALID,
						  "fastlanes: bit width %u exceeds the %u-bit values",
						  width, bits);
	if (width == 0)
		return CORE_OK;
	switch (bits)
	{
		case 8:
			FlPack8(in, width, (uint8_t *) words);
			break;
		case 16:
			FlPack16(in, width, (uint16_t *) words);
			break;
		case 32:
			FlPack32(in, width, (uint32_t *) words);
			break;
		default:
			FlPack64(in, width, words);
			break;
	}
	memcpy(packed, words, LANCE_FL_PACKED_BYTES(width));
	return CORE_OK;
}

/*
 * The smallest width that holds every value.
 */
unsigned
lance_bit_width(const void *values, size_t n, unsigned bits)
{
	uint64_t	all = 0;
	size_t		i;

	for (i = 0; i < n; i++)
		all |= codec_get(values, bits, i);
	return all ? 64 - (unsigned) __builtin_clzll(all) : 0;
}

/*
 * Unpack one block and keep the first `count` values at out[at ...]:
 * straight into out when the block is whole, else through a scratch block.
 */
static CoreStatus
UnpackInto(const uint8_t *packed, size_t packed_len, unsigned bits,
		   unsigned width, void *out, size_t at, size_t count, CoreError *err)
{
	uint64_t	scratch[1024];
	uint8_t    *dst = (uint8_t *) out + at * (bits / 8);
	CoreStatus	st;

	if (count == 1024)
		return lance_fastlanes_unpack(packed, packed_len, bits, width, dst, err);
	st = lance_fastlanes_unpack(packed, packed_len, bits, width, scratch, err);
	if (st == CORE_OK)
		memcpy(dst, scratch, count * (bits / 8));
	return st;
}

/*
 * inline_bitpacking: records of [W word][block], one per 1024 values.
 */
CoreStatus
lance_inline_bitpack_decode(const uint8_t *buf, size_t len, unsigned bits,
							size_t n, void *out, size_t *consumed,
							CoreError *err)
{
	const char *enc = "inline_bitpacking";
	size_t		pos = 0;
	size_t		done = 0;
	unsigned	wbytes = bits / 8;

	if (!codec_word_bits_ok(bits))
		return codec_bad_bits(err, enc, bits);
	while (done < n)
	{
		uint64_t	width;
		size_t		count = n - done < 1024 ? n - done : 1024;
		CoreStatus	st;

		if (!codec_has(len, pos, wbytes))
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: record for values %zu.. needs a %u-byte width at offset %zu, buffer has %zu bytes",
							  enc, done, wbytes, pos, len);
		width = codec_ld(buf + pos, wbytes);
		if (width > bits)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: width %llu at offset %zu exceeds the %u-bit values",
							  enc, (unsigned long long) width, pos, bits);
		pos += wbytes;
		if (!codec_has(len, pos, LANCE_FL_PACKED_BYTES(width)))
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: %llu-bit block at offset %zu needs %zu bytes, buffer has %zu",
							  enc, (unsigned long long) width, pos,
							  LANCE_FL_PACKED_BYTES(width), len);
		st = UnpackInto(buf + pos, len - pos, bits, (unsigned) width, out,
						done, count, err);
		if (st != CORE_OK)
			return st;
		pos += LANCE_FL_PACKED_BYTES(width);
		done += count;
	}
	if (consumed)
		*consumed = pos;
	return CORE_OK;
}

size_t
lance_inline_bitpack_max_size(unsigned bits, size_t n)
{
	size_t		records = n / 1024 + (n % 1024 != 0);

	return records * (bits / 8 + LANCE_FL_PACKED_BYTES(bits));
}

/*
 * Copy `count` values from in[at ...] into a zero-padded block.
 */
static void
PadBlock(const void *in, unsigned bits, size_t at, size_t count,
		 uint64_t *block)
{
	memset(block, 0, (size_t) 1024 * (bits / 8));
	memcpy(block, (const uint8_t *) in + at * (bits / 8), count * (bits / 8));
}

CoreStatus
lance_inline_bitpack_encode(const void *in, unsigned bits, size_t n,
							uint8_t *out, size_t *out_len, CoreError *err)
{
	uint64_t	block[1024];
	size_t		pos = 0;
	size_t		done;

	if (!codec_word_bits_ok(bits))
		return core_error(err, CORE_ERR_INVALID,
						  "inline_bitpacking: %u-bit values are not supported", bits);
	for (done = 0; done < n; done += 1024)
	{
		size_t		count = n - done < 1024 ? n - done : 1024;
		unsigned	width;
		uint8_t		wword[8] = {0};

		PadBlock(in, bits, done, count, block);
		width = lance_bit_width(block, 1024, bits);
		wword[0] = (uint8_t) width;
		memcpy(out + pos, wword, bits / 8);
		pos += bits / 8;
		(void) lance_fastlanes_pack(block, bits, width, out + pos, err);
		pos += LANCE_FL_PACKED_BYTES(width);
	}
	*out_len = pos;
	return CORE_OK;
}

/*
 * out_of_line_bitpacking: whole blocks, then a packed or a raw tail.
 */
CoreStatus
lance_ool_bitpack_decode(const uint8_t *buf, size_t len, unsigned bits,
						 unsigned width, size_t n, void *out, CoreError *err)
{
	const char *enc = "out_of_line_bitpacking";
	size_t		block_bytes = LANCE_FL_PACKED_BYTES(width);
	size_t		full = n / 1024;
	size_t		tail = n % 1024;
	size_t		full_bytes;
	size_t		i;
	CoreStatus	st;

	if (!codec_word_bits_ok(bits))
		return codec_bad_bits(err, enc, bits);
	if (width > bits)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: width %u exceeds the %u-bit values", enc, width, bits);
	if (!codec_mul(full, block_bytes, &full_bytes) || full_bytes > len)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %zu blocks of %zu bytes do not fit in %zu bytes",
						  enc, full, block_bytes, len);
	for (i = 0; i < full; i++)
	{
		st = lance_fastlanes_unpack(buf + i * block_bytes, len - i * block_bytes,
									bits, width,
									(uint8_t *) out + i * 1024 * (bits / 8), err);
		if (st != CORE_OK)
			return st;
	}
	if (tail == 0)
		return CORE_OK;
	/* raw iff exactly `tail` whole words remain (lance's own rule) */
	if ((len - full_bytes) / (bits / 8) == tail)
	{
		memcpy((uint8_t *) out + full * 1024 * (bits / 8), buf + full_bytes,
			   tail * (bits / 8));
		return CORE_OK;
	}
	if (len - full_bytes < block_bytes)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: the tail of %zu values at offset %zu needs %zu bytes raw or %zu packed, buffer has %zu left",
						  enc, tail, full_bytes, tail * (bits / 8), block_bytes,
						  len - full_bytes);
	return UnpackInto(buf + full_bytes, len - full_bytes, bits, width, out,
					  full * 1024, tail, err);
}

/*
 * Does lance pack a tail of `tail` values (else it stores them raw)?  It
 * packs when the padding costs fewer bits than packing saves.
 */
static bool
OolPackTail(unsigned bits, unsigned width, size_t tail)
{
	return (uint64_t) width * (1024 - tail) < (uint64_t) (bits - width) * tail;
}

size_t
lance_ool_bitpack_size(unsigned bits, unsigned width, size_t n)
{
	size_t		tail = n % 1024;
	size_t		size = (n / 1024) * LANCE_FL_PACKED_BYTES(width);

	if (tail)
		size += OolPackTail(bits, width, tail) ? LANCE_FL_PACKED_BYTES(width) :
			tail * (bits / 8);
	return size;
}

CoreStatus
lance_ool_bitpack_encode(const void *in, unsigned bits, unsigned width,
						 size_t n, uint8_t *out, CoreError *err)
{
	uint64_t	block[1024];
	size_t		full = n / 1024;
	size_t		tail = n % 1024;
	size_t		block_bytes = LANCE_FL_PACKED_BYTES(width);
	size_t		i;
	CoreStatus	st;

	if (!codec_word_bits_ok(bits) || width > bits)
		return core_error(err, CORE_ERR_INVALID,
						  "out_of_line_bitpacking: cannot pack %u-bit values in %u bits",
						  bits, width);
	for (i = 0; i < full; i++)
	{
		st = lance_fastlanes_pack((const uint8_t *) in + i * 1024 * (bits / 8),
								  bits, width, out + i * block_bytes, err);
		if (st != CORE_OK)
			return st;
	}
	if (tail == 0)
		return CORE_OK;
	if (OolPackTail(bits, width, tail))
	{
		PadBlock(in, bits, full * 1024, tail, block);
		return lance_fastlanes_pack(block, bits, width, out + full * block_bytes, err);
	}
	memcpy(out + full * block_bytes, (const uint8_t *) in + full * 1024 * (bits / 8),
		   tail * (bits / 8));
	return CORE_OK;
}

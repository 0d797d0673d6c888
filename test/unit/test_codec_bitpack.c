/*-------------------------------------------------------------------------
 *
 * test_codec_bitpack.c
 *	  FastLanes packing and the inline / out-of-line bitpacking encodings.
 *
 * The oracle is FORMAT.md 12.3's unpack loop, written out here value by
 * value; the codec's vectorized loops must agree with it for every word
 * size and width, and pack must be its exact inverse.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/codec.h"
#include "fixture_file.h"
#include "unit.h"

static const unsigned WORD_BITS[4] = {8, 16, 32, 64};

/* Deterministic pseudo-random numbers (xorshift64*). */
static uint64_t
Rand(uint64_t *state)
{
	uint64_t	x = *state;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1DULL;
}

static void
Put(void *arr, unsigned bits, size_t i, uint64_t v)
{
	switch (bits)
	{
		case 8:
			((uint8_t *) arr)[i] = (uint8_t) v;
			break;
		case 16:
			((uint16_t *) arr)[i] = (uint16_t) v;
			break;
		case 32:
			((uint32_t *) arr)[i] = (uint32_t) v;
			break;
		default:
			((uint64_t *) arr)[i] = v;
			break;
	}
}

/* Load word k (T bits, little-endian) of a packed byte buffer. */
static uint64_t
Word(const uint8_t *packed, unsigned bits, size_t k)
{
	uint64_t	v = 0;

	memcpy(&v, packed + k * (bits / 8), bits / 8);
	return v;
}

/* FORMAT.md 12.3's unpack loop, one value at a time. */
static void
OracleUnpack(const uint8_t *packed, unsigned T, unsigned W, void *out)
{
	static const unsigned ORDER[8] = {0, 4, 2, 6, 1, 5, 3, 7};
	unsigned	lanes = 1024 / T;
	unsigned	lane;
	unsigned	row;

	for (lane = 0; lane < lanes; lane++)
		for (row = 0; row < T; row++)
		{
			unsigned	bit = row * W;
			unsigned	word = bit / T;
			unsigned	shift = bit % T;
			uint64_t	v = 0;

			if (W > 0)
			{
				v = Word(packed, T, (size_t) lanes * word + lane) >> shift;
				if (shift + W > T)
					v |= Word(packed, T, (size_t) lanes * (word + 1) + lane) << (T - shift);
				if (W < 64)
					v &= ((uint64_t) 1 << W) - 1;
			}
			Put(out, T, ORDER[row / 8] * 16 + (row % 8) * 128 + lane, v);
		}
}

/* 1024 random values of exactly W bits (masked). */
static void
RandomBlock(void *vals, unsigned T, unsigned W, uint64_t *seed)
{
	size_t		i;

	for (i = 0; i < 1024; i++)
	{
		uint64_t	v = Rand(seed);

		if (W < 64)
			v &= ((uint64_t) 1 << W) - 1;
		Put(vals, T, i, v);
	}
}

UNIT_TEST(fastlanes_pack_then_unpack_round_trips_every_word_size_and_width)
{
	uint64_t	seed = 42;
	uint64_t	vals[1024];
	uint64_t	back[1024];
	uint8_t		packed[128 * 64];
	int			t;

	for (t = 0; t < 4; t++)
	{
		unsigned	T = WORD_BITS[t];
		unsigned	W;

		for (W = 0; W <= T; W++)
		{
			CoreError	err;

			RandomBlock(vals, T, W, &seed);
			CHECK(lance_fastlanes_pack(vals, T, W, packed, &err) == CORE_OK);
			memset(back, 0xAB, sizeof(back));
			CHECK(lance_fastlanes_unpack(packed, LANCE_FL_PACKED_BYTES(W), T, W,
										 back, &err) == CORE_OK);
			CHECK_MSG(memcmp(vals, back, 1024 * (T / 8)) == 0,
					  "T=%u W=%u round trip differs", T, W);
		}
	}
}

UNIT_TEST(fastlanes_unpack_matches_the_format_reference_loop)
{
	uint64_t	seed = 7;
	uint8_t		packed[128 * 64];
	uint64_t	got[1024];
	uint64_t	want[1024];
	int			t;

	for (t = 0; t < 4; t++)
	{
		unsigned	T = WORD_BITS[t];
		unsigned	W;

		for (W = 1; W <= T; W++)
		{
			CoreError	err;
			size_t		i;

			/* arbitrary packed bytes, not produced by our packer */
			for (i = 0; i < LANCE_FL_PACKED_BYTES(W); i++)
				packed[i] = (uint8_t) Rand(&seed);
			OracleUnpack(packed, T, W, want);
			CHECK(lance_fastlanes_unpack(packed, LANCE_FL_PACKED_BYTES(W), T, W,
										 got, &err) == CORE_OK);
			CHECK_MSG(memcmp(want, got, 1024 * (T / 8)) == 0,
					  "T=%u W=%u differs from the reference loop", T, W);
		}
	}
}

UNIT_TEST(fastlanes_width_zero_is_all_zeros_and_reads_nothing)
{
	uint32_t	out[1024];
	CoreError	err;
	size_t		i;

	memset(out, 0xFF, sizeof(out));
	CHECK(lance_fastlanes_unpack(NULL, 0, 32, 0, out, &err) == CORE_OK);
	for (i = 0; i < 1024; i++)
		CHECK(out[i] == 0);
}

UNIT_TEST(fastlanes_width_above_word_size_is_corrupt)
{
	uint8_t		packed[128 * 9] = {0};
	uint8_t		out[1024];
	CoreError	err;

	CHECK(lance_fastlanes_unpack(packed, sizeof(packed), 8, 9, out, &err) == CORE_ERR_CORRUPT);
	CHECK(strstr(err.msg, "width 9") != NULL);
}

UNIT_TEST(fastlanes_short_buffer_is_corrupt_and_says_sizes)
{
	uint8_t		packed[100] = {0};
	uint32_t	out[1024];
	CoreError	err;

	CHECK(lance_fastlanes_unpack(packed, sizeof(packed), 32, 1, out, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "128") && strstr(err.msg, "100"), "%s", err.msg);
}

UNIT_TEST(fastlanes_odd_word_size_is_unsupported)
{
	uint8_t		packed[128] = {0};
	uint32_t	out[1024];
	CoreError	err;

	CHECK(lance_fastlanes_unpack(packed, sizeof(packed), 24, 1, out, &err) == CORE_ERR_UNSUPPORTED);
}

UNIT_TEST(bit_width_is_the_highest_set_bit)
{
	uint32_t	v[3] = {0, 5, 1023};
	uint64_t	big = UINT64_MAX;

	CHECK(lance_bit_width(v, 1, 32) == 0);
	CHECK(lance_bit_width(v, 2, 32) == 3);
	CHECK(lance_bit_width(v, 3, 32) == 10);
	CHECK(lance_bit_width(&big, 1, 64) == 64);
}

/* FORMAT.md's example: int32 0..99999, the first chunk has W = 10. */
UNIT_TEST(inline_bitpacking_first_chunk_of_0_to_99999_has_width_10)
{
	uint32_t   *vals = core_malloc(100000 * sizeof(uint32_t));
	uint32_t   *back = core_malloc(100000 * sizeof(uint32_t));
	uint8_t    *enc = core_malloc(lance_inline_bitpack_max_size(32, 100000));
	size_t		len;
	size_t		used;
	size_t		i;
	CoreError	err;

	for (i = 0; i < 100000; i++)
		vals[i] = (uint32_t) i;
	CHECK(lance_inline_bitpack_encode(vals, 32, 100000, enc, &len, &err) == CORE_OK);
	/* 0a000000 then 320 words of packed data */
	CHECK(enc[0] == 0x0a && enc[1] == 0 && enc[2] == 0 && enc[3] == 0);
	CHECK(enc[4 + 1280] == 0x0b);	/* 1024..2047 need 11 bits */
	CHECK(lance_inline_bitpack_decode(enc, len, 32, 100000, back, &used, &err) == CORE_OK);
	CHECK(used == len);
	CHECK(memcmp(vals, back, 100000 * sizeof(uint32_t)) == 0);
	core_free(vals);
	core_free(back);
	core_free(enc);
}

UNIT_TEST(inline_bitpacking_round_trips_every_word_size_with_a_padded_last_record)
{
	uint64_t	seed = 3;
	size_t		n = 2500;		/* two whole records and a padded one */
	int			t;

	for (t = 0; t < 4; t++)
	{
		unsigned	T = WORD_BITS[t];
		uint64_t   *vals = core_malloc(n * 8);
		uint64_t   *back = core_malloc(n * 8);
		uint8_t    *enc = core_malloc(lance_inline_bitpack_max_size(T, n));
		size_t		len;
		size_t		used;
		size_t		i;
		CoreError	err;

		/* a different width per record: small, full, medium */
		for (i = 0; i < n; i++)
		{
			unsigned	w = i < 1024 ? 3 : (i < 2048 ? T : T / 2);
			uint64_t	v = Rand(&seed);

			Put(vals, T, i, w < 64 ? v & (((uint64_t) 1 << w) - 1) : v);
		}
		CHECK(lance_inline_bitpack_encode(vals, T, n, enc, &len, &err) == CORE_OK);
		CHECK(len <= lance_inline_bitpack_max_size(T, n));
		CHECK(lance_inline_bitpack_decode(enc, len, T, n, back, &used, &err) == CORE_OK);
		CHECK(used == len);
		CHECK_MSG(memcmp(vals, back, n * (T / 8)) == 0, "T=%u differs", T);
		core_free(vals);
		core_free(back);
		core_free(enc);
	}
}

UNIT_TEST(inline_bitpacking_all_zero_chunk_is_one_width_word)
{
	uint16_t	vals[10] = {0};
	uint16_t	back[10];
	uint8_t		enc[2 + 128 * 16];
	size_t		len;
	CoreError	err;

	CHECK(lance_inline_bitpack_encode(vals, 16, 10, enc, &len, &err) == CORE_OK);
	CHECK(len == 2 && enc[0] == 0 && enc[1] == 0);
	CHECK(lance_inline_bitpack_decode(enc, len, 16, 10, back, NULL, &err) == CORE_OK);
	CHECK(back[9] == 0);
}

UNIT_TEST(inline_bitpacking_truncated_record_is_corrupt_with_offsets)
{
	uint32_t	vals[1024];
	uint32_t	back[1024];
	uint8_t		enc[4 + 128 * 32];
	size_t		len;
	size_t		i;
	CoreError	err;

	for (i = 0; i < 1024; i++)
		vals[i] = (uint32_t) i * 7;
	CHECK(lance_inline_bitpack_encode(vals, 32, 1024, enc, &len, &err) == CORE_OK);
	CHECK(lance_inline_bitpack_decode(enc, len - 1, 32, 1024, back, NULL, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "inline_bitpacking") && strstr(err.msg, "offset 4"), "%s", err.msg);
	/* a second record that is not there */
	CHECK(lance_inline_bitpack_decode(enc, len, 32, 1025, back, NULL, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "values 1024"), "%s", err.msg);
}

UNIT_TEST(inline_bitpacking_width_word_above_value_size_is_corrupt)
{
	uint8_t		enc[1 + 128 * 9] = {9};
	uint8_t		back[16];
	CoreError	err;

	CHECK(lance_inline_bitpack_decode(enc, sizeof(enc), 8, 16, back, NULL, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "width 9"), "%s", err.msg);
}

UNIT_TEST(inline_bitpacking_huge_width_word_is_corrupt_not_a_huge_read)
{
	uint8_t		enc[8] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
	uint64_t	back[4];
	CoreError	err;

	CHECK(lance_inline_bitpack_decode(enc, sizeof(enc), 64, 4, back, NULL, &err) == CORE_ERR_CORRUPT);
}

UNIT_TEST(out_of_line_bitpacking_round_trips_raw_and_packed_tails)
{
	/* sizes: no tail, a tiny tail (raw), a large tail (packed), < 1 block */
	static const size_t sizes[] = {2048, 1030, 2000, 5, 1000, 0};
	uint64_t	seed = 11;
	int			t;

	for (t = 0; t < 4; t++)
	{
		unsigned	T = WORD_BITS[t];
		unsigned	W;

		for (W = 0; W <= T; W += (T >= 32 ? 7 : 1))
		{
			size_t		s;

			for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
			{
				size_t		n = sizes[s];
				uint64_t   *vals = core_malloc(n * 8);
				uint64_t   *back = core_malloc(n * 8 + 8);
				size_t		len = lance_ool_bitpack_size(T, W, n);
				uint8_t    *enc = core_malloc(len);
				size_t		i;
				CoreError	err;

				for (i = 0; i < n; i++)
				{
					uint64_t	v = Rand(&seed);

					Put(vals, T, i, W < 64 ? v & (((uint64_t) 1 << W) - 1) : v);
				}
				CHECK(lance_ool_bitpack_encode(vals, T, W, n, enc, &err) == CORE_OK);
				CHECK(lance_ool_bitpack_decode(enc, len, T, W, n, back, &err) == CORE_OK);
				CHECK_MSG(memcmp(vals, back, n * (T / 8)) == 0,
						  "T=%u W=%u n=%zu differs", T, W, n);
				core_free(vals);
				core_free(back);
				core_free(enc);
			}
		}
	}
}

/* def levels of a 10-row page, T = 16, W = 1: raw tail of 10 words. */
UNIT_TEST(out_of_line_bitpacking_tail_is_raw_iff_exactly_tail_words_remain)
{
	uint16_t	raw[10] = {1, 0, 0, 1, 0, 0, 1, 0, 0, 1};
	uint16_t	vals[1024] = {0};
	uint16_t	back[10];
	uint8_t		packed[128];
	CoreError	err;

	CHECK(lance_ool_bitpack_size(16, 1, 10) == 20);
	CHECK(lance_ool_bitpack_decode((const uint8_t *) raw, 20, 16, 1, 10, back, &err) == CORE_OK);
	CHECK(memcmp(raw, back, 20) == 0);

	/* the same ten values as a padded packed block of 128 bytes */
	memcpy(vals, raw, 20);
	CHECK(lance_fastlanes_pack(vals, 16, 1, packed, &err) == CORE_OK);
	CHECK(lance_ool_bitpack_decode(packed, 128, 16, 1, 10, back, &err) == CORE_OK);
	CHECK(memcmp(raw, back, 20) == 0);

	/* neither 20 nor 128 bytes: corrupt */
	CHECK(lance_ool_bitpack_decode(packed, 60, 16, 1, 10, back, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "tail of 10"), "%s", err.msg);
}

UNIT_TEST(out_of_line_bitpacking_too_few_blocks_is_corrupt)
{
	uint8_t		buf[128] = {0};
	uint16_t	back[3000];
	CoreError	err;

	CHECK(lance_ool_bitpack_decode(buf, sizeof(buf), 16, 1, 3000, back, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_ool_bitpack_decode(buf, sizeof(buf), 16, 17, 10, back, &err) == CORE_ERR_CORRUPT);
}

/*
 * LanceDB's own bytes: the `id` column of scalars_50k_v2_1 (0..49999) is
 * inline-bitpacked; the record our encoder makes for 0..1023 must appear
 * in the data file verbatim.
 */
UNIT_TEST(inline_bitpacking_of_ids_matches_lancedb_bytes_in_the_fixture)
{
	char		path[1024];
	uint8_t    *file;
	size_t		file_len;
	int			t;
	bool		found = false;

	file = fixture_read("scalars_50k_v2_1.lance/data/*.lance", &file_len,
						path, sizeof(path));
	if (file == NULL)
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	for (t = 2; t < 4 && !found; t++)
	{
		unsigned	T = WORD_BITS[t];
		uint64_t	vals[1024];
		uint8_t		enc[8 + 128 * 64];
		size_t		len;
		size_t		i;
		CoreError	err;

		for (i = 0; i < 1024; i++)
			Put(vals, T, i, i);
		CHECK(lance_inline_bitpack_encode(vals, T, 1024, enc, &len, &err) == CORE_OK);
		found = memmem(file, file_len, enc, len) != NULL;
	}
	free(file);
	CHECK_MSG(found, "no FastLanes record of ids 0..1023 in %s", path);
}

/*
 * LanceDB's own bytes: the def levels of scalars_50k_v2_1's nullable
 * `small` column (null iff row % 97 == 0) are out-of-line bitpacked per
 * mini-block chunk (T = 16, W = 1).  The first chunk's 1024 levels and
 * the last chunk's 848 (a packed, padded tail) must be in the file and
 * decode back.
 */
UNIT_TEST(out_of_line_def_levels_of_the_v2_1_fixture_decode)
{
	static const size_t starts[2] = {0, 49152};
	static const size_t counts[2] = {1024, 848};
	char		path[1024];
	size_t		len;
	uint8_t    *file = fixture_read("scalars_50k_v2_1.lance/data/*.lance", &len,
									path, sizeof(path));
	int			c;

	if (file == NULL)
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	for (c = 0; c < 2; c++)
	{
		uint16_t	want[1024] = {0};
		uint16_t	got[1024];
		uint8_t		packed[128];
		uint8_t    *at;
		size_t		i;
		CoreError	err;

		for (i = 0; i < counts[c]; i++)
			want[i] = (starts[c] + i) % 97 == 0;
		CHECK(lance_fastlanes_pack(want, 16, 1, packed, &err) == CORE_OK);
		at = memmem(file, len, packed, sizeof(packed));
		CHECK_MSG(at != NULL, "def levels of rows %zu.. not found in %s", starts[c], path);
		CHECK(lance_ool_bitpack_decode(at, 128, 16, 1, counts[c], got, &err) == CORE_OK);
		CHECK(memcmp(got, want, counts[c] * 2) == 0);
	}
	free(file);
}

/*-------------------------------------------------------------------------
 *
 * test_codec_rle.c
 *	  Run-length encoding, mini-block and block forms.
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

/* FORMAT.md 12.5: 0600000000000000 | 0100 0000 0100 | 01 08 01 */
static const uint8_t BLOCK_EXAMPLE[] = {
	0x06, 0, 0, 0, 0, 0, 0, 0,
	0x01, 0x00, 0x00, 0x00, 0x01, 0x00,
	0x01, 0x08, 0x01
};

UNIT_TEST(rle_block_example_decodes_to_1_then_eight_0_then_1)
{
	uint16_t	out[10];
	static const uint16_t want[10] = {1, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	CoreError	err;

	CHECK(lance_rle_decode_block(BLOCK_EXAMPLE, sizeof(BLOCK_EXAMPLE), 16, 10, out, &err) == CORE_OK);
	CHECK(memcmp(out, want, sizeof(want)) == 0);
}

UNIT_TEST(rle_block_values_length_past_the_end_is_corrupt)
{
	uint8_t		buf[sizeof(BLOCK_EXAMPLE)];
	uint16_t	out[10];
	CoreError	err;

	memcpy(buf, BLOCK_EXAMPLE, sizeof(buf));
	buf[0] = 0x20;
	CHECK(lance_rle_decode_block(buf, sizeof(buf), 16, 10, out, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "rle (block)") && strstr(err.msg, "32 bytes"), "%s", err.msg);
	buf[0] = 0xff;
	buf[7] = 0xff;				/* a length that would wrap a sum */
	CHECK(lance_rle_decode_block(buf, sizeof(buf), 16, 10, out, &err) == CORE_ERR_CORRUPT);
}

UNIT_TEST(rle_block_missing_run_lengths_is_corrupt)
{
	uint16_t	out[10];
	CoreError	err;

	CHECK(lance_rle_decode_block(BLOCK_EXAMPLE, sizeof(BLOCK_EXAMPLE) - 1, 16, 10, out, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_rle_decode_block(BLOCK_EXAMPLE, 5, 16, 10, out, &err) == CORE_ERR_CORRUPT);
}

UNIT_TEST(rle_runs_holding_fewer_than_n_values_is_corrupt)
{
	uint16_t	out[11];
	CoreError	err;

	CHECK(lance_rle_decode_block(BLOCK_EXAMPLE, sizeof(BLOCK_EXAMPLE), 16, 11, out, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "hold 10 values, expected 11"), "%s", err.msg);
}

/* lance's chunker can leave runs past a chunk's count; its decoder stops */
UNIT_TEST(rle_runs_past_n_are_ignored_like_lance)
{
	uint16_t	out[4];
	static const uint16_t want[4] = {1, 0, 0, 0};
	CoreError	err;

	CHECK(lance_rle_decode_block(BLOCK_EXAMPLE, sizeof(BLOCK_EXAMPLE), 16, 4, out, &err) == CORE_OK);
	CHECK(memcmp(out, want, sizeof(want)) == 0);
}

UNIT_TEST(rle_miniblock_value_and_length_counts_must_agree)
{
	uint32_t	values[2] = {7, 9};
	uint8_t		lengths[3] = {1, 1, 1};
	uint32_t	out[3];
	CoreError	err;

	CHECK(lance_rle_decode((uint8_t *) values, 8, lengths, 3, 32, 3, out, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "2 run values but 3 run lengths"), "%s", err.msg);
	CHECK(lance_rle_decode((uint8_t *) values, 7, lengths, 2, 32, 2, out, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_rle_decode((uint8_t *) values, 8, lengths, 2, 32, 2, out, &err) == CORE_OK);
	CHECK(out[0] == 7 && out[1] == 9);
}

UNIT_TEST(rle_long_runs_split_at_255_and_round_trip_every_width)
{
	static const unsigned bits[4] = {8, 16, 32, 64};
	size_t		n = 1300;
	int			b;

	for (b = 0; b < 4; b++)
	{
		unsigned	T = bits[b];
		uint8_t    *vals = core_malloc(n * 8);
		uint8_t    *back = core_malloc(n * 8);
		uint8_t    *rv = core_malloc(n * 8);
		uint8_t    *rl = core_malloc(n);
		size_t		runs;
		size_t		i;
		CoreError	err;

		/* 1000 of one value, then 300 alternating pairs */
		for (i = 0; i < n; i++)
		{
			uint64_t	v = i < 1000 ? 0x0102030405060708ULL : (i / 2) % 3;

			memcpy(vals + i * (T / 8), &v, T / 8);
		}
		runs = lance_rle_count_runs(vals, T, n);
		CHECK(lance_rle_encode(vals, T, n, rv, rl, &i, &err) == CORE_OK);
		CHECK(i == runs);
		CHECK(rl[0] == 255 && rl[1] == 255 && rl[2] == 255 && rl[3] == 235);
		CHECK(lance_rle_decode(rv, runs * (T / 8), rl, runs, T, n, back, &err) == CORE_OK);
		CHECK_MSG(memcmp(vals, back, n * (T / 8)) == 0, "T=%u differs", T);
		core_free(vals);
		core_free(back);
		core_free(rv);
		core_free(rl);
	}
}

UNIT_TEST(rle_zero_values_from_empty_buffers_is_fine)
{
	uint32_t	out[1];
	CoreError	err;

	CHECK(lance_rle_decode(NULL, 0, NULL, 0, 32, 0, out, &err) == CORE_OK);
	CHECK(lance_rle_decode(NULL, 0, NULL, 0, 32, 1, out, &err) == CORE_ERR_CORRUPT);
}

/*
 * LanceDB's own bytes: scalars_50k_v2_1's `runs` column is RLE in
 * mini-block chunks.  Its first 4096 values are i / 500 (rows 2000..2999
 * null, stored as 0), so the first chunk's run lengths start 255 245 255
 * 245 ... and its u32 run values sit just before them, padded to 8.
 */
UNIT_TEST(rle_chunk_of_the_v2_1_fixture_decodes_to_the_runs_column)
{
	static const uint8_t lengths_start[] = {
		0xff, 0xf5, 0xff, 0xf5, 0xff, 0xf5, 0xff, 0xf5, 0xff, 0xff, 0xff, 0xeb
	};
	char		path[1024];
	size_t		len;
	uint8_t    *file = fixture_read("scalars_50k_v2_1.lance/data/*.lance", &len,
									path, sizeof(path));
	uint8_t    *lengths;
	size_t		runs = 0;
	size_t		sum = 0;
	size_t		values_at;
	uint32_t   *out;
	size_t		i;
	CoreError	err;

	if (file == NULL)
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	lengths = memmem(file, len, lengths_start, sizeof(lengths_start));
	CHECK_MSG(lengths != NULL, "no run lengths 255 245 ... in %s", path);
	while (sum < 4096 && lengths + runs < file + len)
		sum += lengths[runs++];
	CHECK(sum == 4096);
	values_at = (size_t) (lengths - file) - (runs * 4 + 7) / 8 * 8;
	out = malloc(4096 * sizeof(uint32_t));
	CHECK(lance_rle_decode(file + values_at, runs * 4, lengths, runs, 32, 4096, out, &err) == CORE_OK);
	for (i = 0; i < 4096; i++)
		CHECK_MSG(out[i] == ((i >= 2000 && i < 3000) ? 0 : i / 500),
				  "value %zu is %u", i, out[i]);
	free(out);
	free(file);
}

/*-------------------------------------------------------------------------
 *
 * test_codec_variable.c
 *	  Variable-width offsets (mini-block and block forms) and FSST.
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

/* FORMAT.md 12.2: 0c000000 0d000000 0e000000 "ab" 4848 */
static const uint8_t MB_EXAMPLE[] = {
	0x0c, 0, 0, 0, 0x0d, 0, 0, 0, 0x0e, 0, 0, 0, 'a', 'b', 0x48, 0x48
};

UNIT_TEST(variable_miniblock_example_gives_a_and_b)
{
	uint64_t	off[3];
	const uint8_t *bytes;
	CoreError	err;

	CHECK(lance_variable_decode_miniblock(MB_EXAMPLE, sizeof(MB_EXAMPLE), 32, 2,
										  off, &bytes, &err) == CORE_OK);
	CHECK(off[0] == 0 && off[1] == 1 && off[2] == 2);
	CHECK(bytes == MB_EXAMPLE + 12 && bytes[0] == 'a' && bytes[1] == 'b');
}

UNIT_TEST(variable_miniblock_offset_past_the_end_is_corrupt)
{
	uint8_t		buf[sizeof(MB_EXAMPLE)];
	uint64_t	off[3];
	const uint8_t *bytes;
	CoreError	err;

	memcpy(buf, MB_EXAMPLE, sizeof(buf));
	buf[8] = 0x20;				/* last offset 32 in a 16-byte buffer */
	CHECK(lance_variable_decode_miniblock(buf, sizeof(buf), 32, 2, off, &bytes, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "last offset 32") && strstr(err.msg, "16"), "%s", err.msg);
}

UNIT_TEST(variable_miniblock_offsets_going_backwards_are_corrupt)
{
	uint8_t		buf[sizeof(MB_EXAMPLE)];
	uint64_t	off[3];
	const uint8_t *bytes;
	CoreError	err;

	memcpy(buf, MB_EXAMPLE, sizeof(buf));
	buf[4] = 0x0f;				/* 12, 15, 14 */
	CHECK(lance_variable_decode_miniblock(buf, sizeof(buf), 32, 2, off, &bytes, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "offset 2"), "%s", err.msg);
}

UNIT_TEST(variable_miniblock_first_offset_inside_the_offsets_is_corrupt)
{
	uint8_t		buf[sizeof(MB_EXAMPLE)];
	uint64_t	off[3];
	const uint8_t *bytes;
	CoreError	err;

	memcpy(buf, MB_EXAMPLE, sizeof(buf));
	buf[0] = 4;
	CHECK(lance_variable_decode_miniblock(buf, sizeof(buf), 32, 2, off, &bytes, &err) == CORE_ERR_CORRUPT);
}

UNIT_TEST(variable_miniblock_too_many_values_for_the_buffer_is_corrupt)
{
	uint64_t   *off = core_malloc(sizeof(uint64_t) * 10);
	const uint8_t *bytes;
	CoreError	err;

	CHECK(lance_variable_decode_miniblock(MB_EXAMPLE, sizeof(MB_EXAMPLE), 32, 9, off, &bytes, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_variable_decode_miniblock(MB_EXAMPLE, sizeof(MB_EXAMPLE), 32, SIZE_MAX, off, &bytes, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_variable_decode_miniblock(MB_EXAMPLE, sizeof(MB_EXAMPLE), 16, 2, off, &bytes, &err) == CORE_ERR_UNSUPPORTED);
	core_free(off);
}

UNIT_TEST(variable_miniblock_round_trips_32_and_64_bit_offsets)
{
	static const char *strs[] = {"", "alpha", "", "a much longer string", "z"};
	uint64_t	in_off[6];
	uint8_t		data[64];
	int			w;
	size_t		i;

	in_off[0] = 0;
	for (i = 0; i < 5; i++)
	{
		memcpy(data + in_off[i], strs[i], strlen(strs[i]));
		in_off[i + 1] = in_off[i] + strlen(strs[i]);
	}
	for (w = 32; w <= 64; w += 32)
	{
		size_t		size = lance_variable_miniblock_size(w, 5, in_off[5]);
		uint8_t    *enc = core_malloc(size);
		uint64_t	off[6];
		const uint8_t *bytes;
		CoreError	err;

		CHECK(lance_variable_encode_miniblock(in_off, data, 5, w, enc, &err) == CORE_OK);
		CHECK(lance_variable_decode_miniblock(enc, size, w, 5, off, &bytes, &err) == CORE_OK);
		CHECK(memcmp(off, in_off, sizeof(off)) == 0);
		CHECK(memcmp(bytes, data, in_off[5]) == 0);
		core_free(enc);
	}
}

UNIT_TEST(variable_block_round_trips_and_first_offset_may_be_nonzero)
{
	/* u32 32, u32 data_start 24, offsets 3 5 5 9, "xyzabcdefg" */
	static const uint8_t buf[] = {
		32, 0, 0, 0, 24, 0, 0, 0,
		3, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0,
		'x', 'y', 'z', 'a', 'b', 'c', 'd', 'e', 'f', 'g'
	};
	uint64_t	off[4];
	const uint8_t *bytes;
	CoreError	err;

	CHECK(lance_variable_decode_block(buf, sizeof(buf), 3, off, &bytes, &err) == CORE_OK);
	CHECK(off[0] == 0 && off[1] == 2 && off[2] == 2 && off[3] == 6);
	CHECK(memcmp(bytes, "abcdef", 6) == 0);
}

UNIT_TEST(variable_block_64_bit_and_encoder_agree)
{
	uint64_t	in_off[3] = {0, 3, 7};
	const uint8_t *data = (const uint8_t *) "onetwo!";
	size_t		size = lance_variable_block_size(64, 2, 7);
	uint8_t    *enc = core_malloc(size);
	uint64_t	off[3];
	const uint8_t *bytes;
	CoreError	err;

	CHECK(lance_variable_encode_block(in_off, data, 2, 64, enc, &err) == CORE_OK);
	CHECK(enc[0] == 64 && enc[8] == 40);	/* header 16 + 3 offsets * 8 */
	CHECK(lance_variable_decode_block(enc, size, 2, off, &bytes, &err) == CORE_OK);
	CHECK(off[2] == 7 && memcmp(bytes, "onetwo!", 7) == 0);
	core_free(enc);
}

UNIT_TEST(variable_block_older_one_byte_header_is_read)
{
	/* u8 32, u32 n = 2, u32 data_start 21, offsets 0 1 3, "abc" */
	static const uint8_t buf[] = {
		32, 2, 0, 0, 0, 21, 0, 0, 0,
		0, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0,
		'a', 'b', 'c'
	};
	uint64_t	off[3];
	const uint8_t *bytes;
	CoreError	err;

	CHECK(lance_variable_decode_block(buf, sizeof(buf), 2, off, &bytes, &err) == CORE_OK);
	CHECK(off[1] == 1 && off[2] == 3 && bytes[2] == 'c');
}

UNIT_TEST(variable_block_data_start_and_counts_that_lie_are_corrupt)
{
	uint8_t		buf[] = {
		32, 0, 0, 0, 24, 0, 0, 0,
		0, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0,
		'a', 'b', 'c'
	};
	uint64_t	off[8];
	const uint8_t *bytes;
	CoreError	err;

	/* more values than offsets */
	CHECK(lance_variable_decode_block(buf, sizeof(buf), 4, off, &bytes, &err) == CORE_ERR_CORRUPT);
	/* data start past the end */
	buf[4] = 200;
	CHECK(lance_variable_decode_block(buf, sizeof(buf), 3, off, &bytes, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "data start 200"), "%s", err.msg);
	/* last offset past the bytes */
	buf[4] = 24;
	buf[20] = 9;
	CHECK(lance_variable_decode_block(buf, sizeof(buf), 3, off, &bytes, &err) == CORE_ERR_CORRUPT);
	/* unknown width */
	buf[0] = 16;
	CHECK(lance_variable_decode_block(buf, sizeof(buf), 3, off, &bytes, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_variable_decode_block(buf, 3, 3, off, &bytes, &err) == CORE_ERR_CORRUPT);
}

/* ---- FSST ---- */

/* A table of three symbols: "row " (0), "alpha" (1), "va" (2). */
static size_t
MakeTable(uint8_t *buf, bool enabled)
{
	LanceFsstTable t;

	memset(&t, 0, sizeof(t));
	t.enabled = enabled;
	t.nsymbols = 3;
	memcpy(&t.symbols[0], "row ", 4);
	t.lengths[0] = 4;
	memcpy(&t.symbols[1], "alpha", 5);
	t.lengths[1] = 5;
	memcpy(&t.symbols[2], "va", 2);
	t.lengths[2] = 2;
	lance_fsst_write_table(&t, buf);
	return lance_fsst_table_size(&t);
}

UNIT_TEST(fsst_table_header_and_lengths_after_the_symbols)
{
	uint8_t		buf[LANCE_FSST_TABLE_BYTES];
	size_t		len = MakeTable(buf, true);
	LanceFsstTable t;
	CoreError	err;

	CHECK(len == 2312);
	/* info: n = 3, enabled bit 24, "FSST" in the high half */
	CHECK(buf[0] == 3 && buf[3] == 1 && buf[4] == 'T' && buf[7] == 'F');
	CHECK(buf[8 + 24] == 4 && buf[8 + 25] == 5 && buf[8 + 26] == 2);
	CHECK(lance_fsst_parse_table(buf, len, &t, &err) == CORE_OK);
	CHECK(t.enabled && t.nsymbols == 3 && t.lengths[1] == 5);
}

UNIT_TEST(fsst_decodes_symbols_and_escaped_bytes)
{
	uint8_t		tb[LANCE_FSST_TABLE_BYTES];
	LanceFsstTable t;
	/* "row alpha" | "va!" (! escaped) | "" */
	static const uint8_t comp[] = {0, 1, 2, 255, '!'};
	uint64_t	off[4] = {0, 2, 5, 5};
	uint64_t	out_off[4];
	uint8_t    *out;
	size_t		out_len;
	CoreError	err;

	CHECK(lance_fsst_parse_table(tb, MakeTable(tb, true), &t, &err) == CORE_OK);
	CHECK(lance_fsst_decode(&t, off, comp, 3, 1 << 20, out_off, &out, &out_len, &err) == CORE_OK);
	CHECK(out_len == 12);
	CHECK(memcmp(out, "row alphava!", 12) == 0);
	CHECK(out_off[1] == 9 && out_off[2] == 12 && out_off[3] == 12);
	core_free(out);
}

UNIT_TEST(fsst_code_of_a_missing_symbol_is_corrupt)
{
	uint8_t		tb[LANCE_FSST_TABLE_BYTES];
	LanceFsstTable t;
	static const uint8_t comp[] = {0, 3};
	uint64_t	off[2] = {0, 2};
	uint64_t	out_off[2];
	uint8_t    *out;
	size_t		out_len;
	CoreError	err;

	CHECK(lance_fsst_parse_table(tb, MakeTable(tb, true), &t, &err) == CORE_OK);
	CHECK(lance_fsst_decode(&t, off, comp, 1, 1 << 20, out_off, &out, &out_len, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "code 3") && strstr(err.msg, "3 symbols"), "%s", err.msg);
	CHECK(out == NULL);
}

UNIT_TEST(fsst_value_ending_in_an_escape_is_corrupt)
{
	uint8_t		tb[LANCE_FSST_TABLE_BYTES];
	LanceFsstTable t;
	static const uint8_t comp[] = {0, 255, 'x'};
	uint64_t	off[3] = {0, 2, 3};
	uint64_t	out_off[3];
	uint8_t    *out;
	size_t		out_len;
	CoreError	err;

	CHECK(lance_fsst_parse_table(tb, MakeTable(tb, true), &t, &err) == CORE_OK);
	CHECK(lance_fsst_decode(&t, off, comp, 2, 1 << 20, out_off, &out, &out_len, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "value 0"), "%s", err.msg);
}

UNIT_TEST(fsst_output_past_the_cap_is_an_error)
{
	uint8_t		tb[LANCE_FSST_TABLE_BYTES];
	LanceFsstTable t;
	static const uint8_t comp[] = {1, 1, 1};
	uint64_t	off[2] = {0, 3};
	uint64_t	out_off[2];
	uint8_t    *out;
	size_t		out_len;
	CoreError	err;

	CHECK(lance_fsst_parse_table(tb, MakeTable(tb, true), &t, &err) == CORE_OK);
	CHECK(lance_fsst_decode(&t, off, comp, 1, 14, out_off, &out, &out_len, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_fsst_decode(&t, off, comp, 1, 15, out_off, &out, &out_len, &err) == CORE_OK);
	core_free(out);
}

UNIT_TEST(fsst_table_not_enabled_passes_strings_through)
{
	uint8_t		tb[LANCE_FSST_TABLE_BYTES];
	LanceFsstTable t;
	uint64_t	off[3] = {0, 3, 5};
	uint64_t	out_off[3];
	uint8_t    *out;
	size_t		out_len;
	CoreError	err;

	CHECK(lance_fsst_parse_table(tb, MakeTable(tb, false), &t, &err) == CORE_OK);
	CHECK(!t.enabled);
	CHECK(lance_fsst_decode(&t, off, (const uint8_t *) "\x01\xff\x03xy", 2, 100,
							out_off, &out, &out_len, &err) == CORE_OK);
	CHECK(out_len == 5 && out_off[1] == 3 && memcmp(out, "\x01\xff\x03xy", 5) == 0);
	core_free(out);
}

UNIT_TEST(fsst_table_bad_magic_truncation_and_zero_length_symbols_are_corrupt)
{
	uint8_t		tb[LANCE_FSST_TABLE_BYTES];
	size_t		len = 8 + 27;		/* what three symbols use */
	LanceFsstTable t;
	CoreError	err;

	MakeTable(tb, true);
	CHECK(lance_fsst_parse_table(tb, len, &t, &err) == CORE_OK);
	CHECK(lance_fsst_parse_table(tb, len - 1, &t, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_fsst_parse_table(tb, 7, &t, &err) == CORE_ERR_CORRUPT);
	tb[8 + 25] = 0;
	CHECK(lance_fsst_parse_table(tb, len, &t, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "symbol 1"), "%s", err.msg);
	tb[8 + 25] = 5;
	tb[7] = 'X';
	CHECK(lance_fsst_parse_table(tb, len, &t, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "magic"), "%s", err.msg);
}

/*
 * LanceDB's own bytes: scalars_50k_v2_1 stores `txt` with FSST.  Parse its
 * symbol table, find the mini-block chunk whose first value expands to
 * row 0's text, and decode it with the variable and FSST decoders.
 */
UNIT_TEST(fsst_decodes_row_0_of_the_lancedb_fixture)
{
	static const char want[] = "row 0: alpha alpha value=54315";
	char		path[1024];
	size_t		len;
	uint8_t    *file = fixture_read("scalars_50k_v2_1.lance/data/*.lance", &len,
									path, sizeof(path));
	uint8_t    *magic;
	LanceFsstTable t;
	CoreError	err;
	size_t		p;
	bool		found = false;

	if (file == NULL)
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	magic = memmem(file, len, "TSSF", 4);
	CHECK_MSG(magic != NULL && magic - file >= 4, "no FSST table in %s", path);
	CHECK(lance_fsst_parse_table(magic - 4, len - (magic - 4 - file), &t, &err) == CORE_OK);
	CHECK(t.enabled && t.nsymbols > 0);
	for (p = 0; p + 8 <= len && !found; p += 4)
	{
		uint32_t	o0;
		uint32_t	o1;
		size_t		n;
		uint64_t   *off;
		uint64_t   *out_off;
		const uint8_t *bytes;
		uint8_t    *out;
		size_t		out_len;

		memcpy(&o0, file + p, 4);
		memcpy(&o1, file + p + 4, 4);
		if (o0 < 8 || o0 % 4 || o0 > 65536 || o1 <= o0 || o1 - o0 > 64)
			continue;
		n = o0 / 4 - 1;
		off = core_malloc((n + 1) * sizeof(uint64_t));
		out_off = core_malloc((n + 1) * sizeof(uint64_t));
		if (lance_variable_decode_miniblock(file + p, len - p, 32, n, off, &bytes, &err) == CORE_OK &&
			lance_fsst_decode(&t, off, bytes, 1, 1 << 20, out_off, &out, &out_len, &err) == CORE_OK)
		{
			found = out_len == strlen(want) && memcmp(out, want, out_len) == 0;
			core_free(out);
		}
		core_free(off);
		core_free(out_off);
	}
	free(file);
	CHECK_MSG(found, "row 0's text not found FSST-compressed in %s", path);
}

/*-------------------------------------------------------------------------
 *
 * test_codec_flat.c
 *	  Flat values, bitmaps, levels and the constant layout's scalar.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "lance/codec.h"
#include "unit.h"

UNIT_TEST(flat_copies_values_and_refuses_a_short_buffer)
{
	static const uint8_t buf[8] = {1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff};
	int32_t		out[2];
	uint8_t		bits[1];
	CoreError	err;

	CHECK(lance_flat_decode(buf, 8, 32, 2, out, &err) == CORE_OK);
	CHECK(out[0] == 1 && out[1] == -2);
	CHECK(lance_flat_decode(buf, 7, 32, 2, out, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "8 bytes") && strstr(err.msg, "has 7"), "%s", err.msg);
	CHECK(lance_flat_decode(buf, 8, 1, 8, bits, &err) == CORE_OK && bits[0] == 1);
	CHECK(lance_flat_decode(buf, 8, 1, 65, bits, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_flat_decode(buf, 8, 12, 2, out, &err) == CORE_ERR_UNSUPPORTED);
	CHECK(lance_flat_decode(buf, 8, 64, SIZE_MAX / 4, out, &err) == CORE_ERR_CORRUPT);
}

/* FORMAT.md 10.2: validity b6 01 = rows 0, 3, 6, 9 null */
UNIT_TEST(bitmap_is_lsb_first_as_in_the_nullable_example)
{
	static const uint8_t validity[2] = {0xb6, 0x01};
	static const uint8_t want[10] = {0, 1, 1, 0, 1, 1, 0, 1, 1, 0};
	uint8_t		out[10];
	uint8_t		packed[2];
	CoreError	err;

	CHECK(lance_bitmap_unpack(validity, 2, 0, 10, out, &err) == CORE_OK);
	CHECK(memcmp(out, want, 10) == 0);
	CHECK(lance_bitmap_count(validity, 10) == 6);
	lance_bitmap_pack(want, 10, packed);
	CHECK(packed[0] == 0xb6 && packed[1] == 0x01);
	CHECK(lance_bitmap_unpack(validity, 2, 3, 4, out, &err) == CORE_OK);
	CHECK(out[0] == 0 && out[1] == 1 && out[3] == 0);
	CHECK(lance_bitmap_unpack(validity, 2, 10, 7, out, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_bitmap_unpack(validity, 2, SIZE_MAX, 2, out, &err) == CORE_ERR_CORRUPT);
}

UNIT_TEST(levels_widen_to_u16_and_refuse_values_above_65535)
{
	uint32_t	in[3] = {0, 3, 70000};
	uint8_t		in8[2] = {2, 255};
	uint16_t	out[3];
	CoreError	err;

	CHECK(lance_levels_to_u16(in, 32, 2, out, &err) == CORE_OK);
	CHECK(out[1] == 3);
	CHECK(lance_levels_to_u16(in, 32, 3, out, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_levels_to_u16(in8, 8, 2, out, &err) == CORE_OK && out[1] == 255);
}

/* FORMAT.md 11.4: 02000000 08000000 07000000 | 00000000 07000000 | "updated" */
UNIT_TEST(constant_scalar_string_example_reads_updated)
{
	static const uint8_t buf[] = {
		2, 0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0,
		0, 0, 0, 0, 7, 0, 0, 0,
		'u', 'p', 'd', 'a', 't', 'e', 'd'
	};
	LanceScalarBuffers s;
	const uint8_t *v;
	size_t		vlen;
	CoreError	err;

	CHECK(lance_scalar_parse(buf, sizeof(buf), &s, &err) == CORE_OK);
	CHECK(s.nbuffers == 2 && s.len[0] == 8 && s.len[1] == 7);
	CHECK(lance_scalar_binary(&s, &v, &vlen, &err) == CORE_OK);
	CHECK(vlen == 7 && memcmp(v, "updated", 7) == 0);
}

UNIT_TEST(constant_scalar_lengths_past_the_end_are_corrupt)
{
	uint8_t		buf[] = {
		2, 0, 0, 0, 8, 0, 0, 0, 7, 0, 0, 0,
		0, 0, 0, 0, 7, 0, 0, 0,
		'u', 'p', 'd', 'a', 't', 'e', 'd'
	};
	LanceScalarBuffers s;
	const uint8_t *v;
	size_t		vlen;
	CoreError	err;

	CHECK(lance_scalar_parse(buf, sizeof(buf) - 1, &s, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "offset 20"), "%s", err.msg);
	buf[0] = 200;
	CHECK(lance_scalar_parse(buf, sizeof(buf), &s, &err) == CORE_ERR_CORRUPT);
	buf[0] = 2;
	buf[16] = 9;				/* end offset 9 > 7 bytes */
	CHECK(lance_scalar_parse(buf, sizeof(buf), &s, &err) == CORE_OK);
	CHECK(lance_scalar_binary(&s, &v, &vlen, &err) == CORE_ERR_CORRUPT);
	CHECK(lance_scalar_parse(buf, 3, &s, &err) == CORE_ERR_CORRUPT);
}

UNIT_TEST(constant_scalar_fixed_width_is_one_buffer)
{
	static const uint8_t buf[] = {1, 0, 0, 0, 4, 0, 0, 0, 0x32, 0x79, 0x06, 0x00};
	LanceScalarBuffers s;
	int32_t		v;
	const uint8_t *bv;
	size_t		blen;
	CoreError	err;

	CHECK(lance_scalar_parse(buf, sizeof(buf), &s, &err) == CORE_OK);
	CHECK(s.nbuffers == 1 && s.len[0] == 4);
	memcpy(&v, s.data[0], 4);
	CHECK(v == 424242);
	CHECK(lance_scalar_binary(&s, &bv, &blen, &err) == CORE_ERR_CORRUPT);
}

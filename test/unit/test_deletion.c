/*-------------------------------------------------------------------------
 *
 * test_deletion.c
 *	  Deletion files: LanceDB's own .arrow and .bin files, our writers read
 *	  back, and malformed files.
 *
 * What the fixtures delete comes from the reference dump (lancedb_ref.mjs
 * dump --rowaddr): the offsets missing from each fragment.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/deletion.h"
#include "fixture_file.h"
#include "unit.h"

/* Does the set hold exactly these offsets? */
static bool
SetIs(const LanceDeletionSet *set, const uint32_t *want, size_t n)
{
	uint32_t	got[64];
	size_t		i;

	if (lance_deletion_count(set) != n || n > 64)
		return false;
	if (lance_deletion_next(set, 0, got, 64) != n)
		return false;
	for (i = 0; i < n; i++)
		if (got[i] != want[i] || !lance_deletion_contains(set, want[i]))
			return false;
	return true;
}

UNIT_TEST(arrow_file_of_types_v2_1_fragment_0_holds_the_nine_deleted_rows)
{
	static const uint32_t want[] = {7, 10, 57, 107, 157, 207, 257, 307, 357};
	size_t		len;
	uint8_t    *buf = fixture_read("types_v2_1.lance/_deletions/0-4-*.arrow", &len, NULL, 0);
	LanceDeletionSet *set;
	CoreError	err;

	if (buf == NULL)
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	CHECK_MSG(lance_deletion_read(LANCE_DELETION_ARROW, buf, len, &set, &err) == CORE_OK,
			  "%s", err.msg);
	CHECK(SetIs(set, want, 9));
	CHECK(!lance_deletion_contains(set, 8));
	lance_deletion_free(set);
	free(buf);
}

UNIT_TEST(arrow_files_of_every_fixture_version_parse)
{
	static const char *patterns[] = {
		"types_v2_0.lance/_deletions/1-3-*.arrow",
		"types_v2_1.lance/_deletions/1-3-*.arrow",
		"types_v2_2.lance/_deletions/1-3-*.arrow",
	};
	int			i;

	for (i = 0; i < 3; i++)
	{
		size_t		len;
		uint8_t    *buf = fixture_read(patterns[i], &len, NULL, 0);
		LanceDeletionSet *set;
		CoreError	err;
		uint32_t	max;

		if (buf == NULL)
		{
			printf("    (skipped: no LANCEDB_FIXTURES)\n");
			return;
		}
		/* fragment 1: rows 7, 20..39, 57, 107, 157, 207, 257 */
		CHECK_MSG(lance_deletion_read_arrow(buf, len, &set, &err) == CORE_OK, "%s", err.msg);
		CHECK(lance_deletion_count(set) == 26);
		CHECK(lance_deletion_contains(set, 20) && lance_deletion_contains(set, 39));
		CHECK(!lance_deletion_contains(set, 40));
		CHECK(lance_deletion_max(set, &max) && max == 257);
		lance_deletion_free(set);
		free(buf);
	}
}

UNIT_TEST(roaring_file_of_deletes_bitmap_holds_rows_1000_to_6999)
{
	size_t		len;
	uint8_t    *buf = fixture_read("deletes_bitmap.lance/_deletions/*.bin", &len, NULL, 0);
	LanceDeletionSet *set;
	CoreError	err;
	uint8_t		mask[20];
	uint32_t	first[3];

	if (buf == NULL)
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	CHECK_MSG(lance_deletion_read(LANCE_DELETION_BITMAP, buf, len, &set, &err) == CORE_OK,
			  "%s", err.msg);
	CHECK(lance_deletion_count(set) == 6000);
	CHECK(!lance_deletion_contains(set, 999));
	CHECK(lance_deletion_contains(set, 1000) && lance_deletion_contains(set, 6999));
	CHECK(!lance_deletion_contains(set, 7000));
	lance_deletion_mask(set, 990, 20, mask);
	CHECK(mask[9] == 0 && mask[10] == 1 && mask[19] == 1);
	CHECK(lance_deletion_next(set, 0, first, 3) == 3 && first[0] == 1000 && first[2] == 1002);
	CHECK(lance_deletion_preferred_type(set) == LANCE_DELETION_BITMAP);
	lance_deletion_free(set);
	free(buf);
}

/* Build a set from offsets. */
static LanceDeletionSet *
MakeSet(const uint32_t *v, size_t n)
{
	LanceDeletionSet *set = lance_deletion_new();
	size_t		i;

	for (i = 0; i < n; i++)
		lance_deletion_add(set, v[i]);
	return set;
}

UNIT_TEST(arrow_writer_output_reads_back_raw_zstd_and_lz4)
{
	static const uint32_t want[] = {3, 5, 13, 23, 33, 43, 63, 73, 100000, 4000000000u};
	LanceCompression how[3] = {LANCE_COMPRESSION_NONE, LANCE_COMPRESSION_ZSTD, LANCE_COMPRESSION_LZ4};
	LanceDeletionSet *set = MakeSet(want, 10);
	int			i;

	for (i = 0; i < 3; i++)
	{
		uint8_t    *buf;
		size_t		len;
		LanceDeletionSet *back;
		CoreError	err;

		CHECK(lance_deletion_write_arrow(set, how[i], &buf, &len, &err) == CORE_OK);
		CHECK(memcmp(buf, "ARROW1", 6) == 0 && memcmp(buf + len - 6, "ARROW1", 6) == 0);
		CHECK_MSG(lance_deletion_read_arrow(buf, len, &back, &err) == CORE_OK,
				  "compression %d: %s", (int) how[i], err.msg);
		CHECK(SetIs(back, want, 10));
		lance_deletion_free(back);
		core_free(buf);
	}
	lance_deletion_free(set);
}

UNIT_TEST(arrow_writer_handles_an_empty_set)
{
	LanceDeletionSet *set = lance_deletion_new();
	LanceDeletionSet *back;
	uint8_t    *buf;
	size_t		len;
	CoreError	err;

	CHECK(lance_deletion_write_arrow(set, LANCE_COMPRESSION_ZSTD, &buf, &len, &err) == CORE_OK);
	CHECK(lance_deletion_read_arrow(buf, len, &back, &err) == CORE_OK);
	CHECK(lance_deletion_count(back) == 0);
	lance_deletion_free(back);
	lance_deletion_free(set);
	core_free(buf);
}

UNIT_TEST(bitmap_writer_output_reads_back)
{
	LanceDeletionSet *set = lance_deletion_new();
	LanceDeletionSet *back;
	uint8_t    *buf;
	size_t		len;
	uint32_t	k;
	CoreError	err;

	for (k = 0; k < 70000; k += 3)
		lance_deletion_add(set, k);
	lance_deletion_add(set, 1u << 31);
	CHECK(lance_deletion_write_bitmap(set, &buf, &len, &err) == CORE_OK);
	CHECK(buf[0] == 0x3a && buf[1] == 0x30);	/* cookie 12346 */
	CHECK_MSG(lance_deletion_read_bitmap(buf, len, &back, &err) == CORE_OK, "%s", err.msg);
	CHECK(lance_deletion_count(back) == lance_deletion_count(set));
	CHECK(lance_deletion_contains(back, 69999) && !lance_deletion_contains(back, 70000));
	CHECK(lance_deletion_contains(back, 1u << 31));
	lance_deletion_free(back);
	lance_deletion_free(set);
	core_free(buf);
}

UNIT_TEST(deletion_mask_marks_only_the_batch_range)
{
	static const uint32_t v[] = {0, 5, 9, 10, 4294967295u};
	LanceDeletionSet *set = MakeSet(v, 5);
	uint8_t		mask[6];

	lance_deletion_mask(set, 5, 6, mask);
	CHECK(mask[0] == 1 && mask[1] == 0 && mask[4] == 1 && mask[5] == 1);
	lance_deletion_mask(set, 4294967290u, 6, mask);
	CHECK(mask[5] == 1 && mask[0] == 0);
	lance_deletion_mask(set, 1ULL << 33, 6, mask);
	CHECK(mask[0] == 0 && mask[5] == 0);
	CHECK(lance_deletion_preferred_type(set) == LANCE_DELETION_ARROW);
	lance_deletion_free(set);
}

UNIT_TEST(truncated_or_damaged_arrow_files_are_errors)
{
	static const uint32_t want[] = {1, 2, 3};
	LanceDeletionSet *set = MakeSet(want, 3);
	LanceDeletionSet *back;
	uint8_t    *buf;
	size_t		len;
	size_t		cut;
	size_t		i;
	CoreError	err;

	CHECK(lance_deletion_write_arrow(set, LANCE_COMPRESSION_ZSTD, &buf, &len, &err) == CORE_OK);
	for (cut = 0; cut < len; cut++)
		CHECK(lance_deletion_read_arrow(buf, cut, &back, &err) != CORE_OK);
	/* flip every byte in turn: an error or a set, never a crash */
	for (i = 0; i < len; i++)
	{
		buf[i] ^= 0x5a;
		if (lance_deletion_read_arrow(buf, len, &back, &err) == CORE_OK)
			lance_deletion_free(back);
		buf[i] ^= 0x5a;
	}
	buf[len - 1] = 'X';
	CHECK(lance_deletion_read_arrow(buf, len, &back, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "ARROW1"), "%s", err.msg);
	core_free(buf);
	lance_deletion_free(set);
}

UNIT_TEST(roaring_with_unsorted_array_or_wrong_cardinality_is_corrupt)
{
	/* cookie 12346, 1 container, key 0 card 3; offsets; values 5 4 9 */
	uint8_t		buf[] = {
		0x3a, 0x30, 0, 0, 1, 0, 0, 0,
		0, 0, 2, 0,
		16, 0, 0, 0,
		5, 0, 4, 0, 9, 0
	};
	LanceDeletionSet *set;
	CoreError	err;

	CHECK(lance_deletion_read_bitmap(buf, sizeof(buf), &set, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "not ascending"), "%s", err.msg);
	buf[16] = 3;
	CHECK_MSG(lance_deletion_read_bitmap(buf, sizeof(buf), &set, &err) == CORE_OK, "%s", err.msg);
	CHECK(lance_deletion_count(set) == 3 && lance_deletion_contains(set, 9));
	lance_deletion_free(set);
	CHECK(lance_deletion_read_bitmap(buf, sizeof(buf) - 1, &set, &err) == CORE_ERR_CORRUPT);
	buf[0] = 0x3b;				/* run cookie, but the layout is not */
	CHECK(lance_deletion_read_bitmap(buf, sizeof(buf), &set, &err) != CORE_OK ||
		  (lance_deletion_free(set), true));
	buf[0] = 0x11;
	CHECK(lance_deletion_read_bitmap(buf, sizeof(buf), &set, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "cookie"), "%s", err.msg);
}

UNIT_TEST(roaring_run_container_overflowing_65535_is_corrupt)
{
	/* cookie 12347 with size 1, run bitmap 01, key 0 card 11, 1 run 65530+10 */
	uint8_t		buf[] = {
		0x3b, 0x30, 0, 0, 0x01,
		0, 0, 10, 0,
		1, 0, 0xfa, 0xff, 10, 0
	};
	LanceDeletionSet *set;
	CoreError	err;

	CHECK(lance_deletion_read_bitmap(buf, sizeof(buf), &set, &err) == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "overflows"), "%s", err.msg);
	buf[11] = 0xf0;				/* 65520 + 10: fine */
	CHECK_MSG(lance_deletion_read_bitmap(buf, sizeof(buf), &set, &err) == CORE_OK, "%s", err.msg);
	CHECK(lance_deletion_count(set) == 11 && lance_deletion_contains(set, 65530));
	lance_deletion_free(set);
}

UNIT_TEST(unknown_deletion_file_type_is_unsupported)
{
	LanceDeletionSet *set;
	CoreError	err;

	CHECK(lance_deletion_read((LanceDeletionFileType) 5, (const uint8_t *) "", 0, &set, &err) == CORE_ERR_UNSUPPORTED);
	CHECK(set == NULL);
}

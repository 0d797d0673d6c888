/*-------------------------------------------------------------------------
 *
 * test_lance_storage.c
 *	  The local storage backend: ranged reads, listings, atomic creates.
 *
 *-------------------------------------------------------------------------
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lance_testutil.h"
#include "storage/storage.h"
#include "unit.h"

UNIT_TEST(storage_put_then_read_ranges_back)
{
	char		dir[512];
	Storage    *st;
	CoreError	err;
	uint8_t		a[4];
	uint8_t		b[3];
	StorageRange ranges[2];
	uint64_t	size;
	bool		ok;

	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK(storage_open(dir, &st, &err) == CORE_OK);
	CHECK(storage_put(st, "sub/dir/file.bin", (const uint8_t *) "0123456789", 10, &err) == CORE_OK);
	CHECK(storage_size(st, "sub/dir/file.bin", &size, &err) == CORE_OK && size == 10);
	ranges[0] = (StorageRange) {"sub/dir/file.bin", 2, 4, a};
	ranges[1] = (StorageRange) {"sub/dir/file.bin", 7, 3, b};
	ok = storage_read_many(st, ranges, 2, &err) == CORE_OK;
	storage_close(st);
	tu_rmtree(dir);
	CHECK_MSG(ok, "%s", err.msg);
	CHECK(memcmp(a, "2345", 4) == 0 && memcmp(b, "789", 3) == 0);
}

UNIT_TEST(storage_read_past_end_names_the_file_and_size)
{
	char		dir[512];
	Storage    *st;
	CoreError	err;
	uint8_t		buf[8];
	CoreStatus	status;

	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK(storage_open(dir, &st, &err) == CORE_OK);
	CHECK(storage_put(st, "f", (const uint8_t *) "abc", 3, &err) == CORE_OK);
	status = storage_read(st, "f", 1, 8, buf, &err);
	storage_close(st);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "/f") && strstr(err.msg, "size 3"), "%s", err.msg);
}

UNIT_TEST(storage_missing_file_is_not_found)
{
	char		dir[512];
	Storage    *st;
	CoreError	err;
	uint64_t	size;
	CoreStatus	status;

	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK(storage_open(dir, &st, &err) == CORE_OK);
	status = storage_size(st, "nope.lance", &size, &err);
	storage_close(st);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_NOT_FOUND);
	CHECK_MSG(strstr(err.msg, "nope.lance") != NULL, "%s", err.msg);
}

UNIT_TEST(storage_put_if_absent_lets_exactly_one_writer_win)
{
	char		dir[512];
	Storage    *st;
	CoreError	err;
	CoreStatus	first;
	CoreStatus	second;
	uint8_t		buf[5];

	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK(storage_open(dir, &st, &err) == CORE_OK);
	first = storage_put_if_absent(st, "_versions/1.manifest", (const uint8_t *) "first", 5, &err);
	second = storage_put_if_absent(st, "_versions/1.manifest", (const uint8_t *) "later", 5, &err);
	CHECK(storage_read(st, "_versions/1.manifest", 0, 5, buf, &err) == CORE_OK);
	storage_close(st);
	tu_rmtree(dir);
	CHECK(first == CORE_OK);
	CHECK(second == CORE_ERR_CONFLICT);
	CHECK(memcmp(buf, "first", 5) == 0);
}

UNIT_TEST(storage_list_is_sorted_and_a_missing_prefix_is_empty)
{
	char		dir[512];
	Storage    *st;
	CoreError	err;
	StorageListing *l1 = NULL;
	StorageListing *l2 = NULL;
	bool		ok;

	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK(storage_open(dir, &st, &err) == CORE_OK);
	CHECK(storage_put(st, "v/b", (const uint8_t *) "x", 1, &err) == CORE_OK);
	CHECK(storage_put(st, "v/a", (const uint8_t *) "xy", 2, &err) == CORE_OK);
	CHECK(storage_put(st, "v/c/d", (const uint8_t *) "z", 1, &err) == CORE_OK);
	ok = storage_list(st, "v", &l1, &err) == CORE_OK &&
		storage_list(st, "missing", &l2, &err) == CORE_OK;
	storage_close(st);
	tu_rmtree(dir);
	CHECK(ok);
	CHECK(l1->count == 3 && l2->count == 0);
	CHECK(strcmp(l1->entries[0].name, "a") == 0 && l1->entries[0].size == 2);
	CHECK(strcmp(l1->entries[1].name, "b") == 0 && !l1->entries[1].is_dir);
	CHECK(strcmp(l1->entries[2].name, "c") == 0 && l1->entries[2].is_dir);
	storage_listing_free(l1);
	storage_listing_free(l2);
}

UNIT_TEST(storage_list_gives_files_their_modification_time)
{
	char		dir[512];
	char		file[600];
	Storage    *st;
	CoreError	err;
	StorageListing *l = NULL;
	struct timespec times[2] = {{1700000000, 0}, {1700000000, 0}};
	bool		ok;

	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK(storage_open(dir, &st, &err) == CORE_OK);
	CHECK(storage_put(st, "v/old", (const uint8_t *) "x", 1, &err) == CORE_OK);
	CHECK(storage_put(st, "v/sub/f", (const uint8_t *) "x", 1, &err) == CORE_OK);
	snprintf(file, sizeof(file), "%s/v/old", dir);
	ok = utimensat(AT_FDCWD, file, times, 0) == 0 &&
		storage_list(st, "v", &l, &err) == CORE_OK;
	storage_close(st);
	tu_rmtree(dir);
	CHECK(ok);
	CHECK(l->count == 2);
	CHECK(strcmp(l->entries[0].name, "old") == 0 && l->entries[0].mtime == 1700000000);
	CHECK(l->entries[1].is_dir && l->entries[1].mtime == 0);
	storage_listing_free(l);
}

UNIT_TEST(storage_refuses_paths_that_leave_the_root)
{
	char		dir[512];
	Storage    *st;
	CoreError	err;
	uint64_t	size;
	CoreStatus	up;
	CoreStatus	abs;

	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK(storage_open(dir, &st, &err) == CORE_OK);
	up = storage_size(st, "data/../../etc/passwd", &size, &err);
	abs = storage_size(st, "/etc/passwd", &size, &err);
	storage_close(st);
	tu_rmtree(dir);
	CHECK(up == CORE_ERR_INVALID);
	CHECK(abs == CORE_ERR_INVALID);
}

UNIT_TEST(storage_uri_without_what_it_needs_is_invalid)
{
	Storage    *st;
	CoreError	err;

	/* Azure needs an account name; an empty location names nothing */
	CHECK(storage_open("az://container/db", &st, &err) == CORE_ERR_INVALID);
	CHECK_MSG(strstr(err.msg, "account") != NULL, "%s", err.msg);
	CHECK(storage_open("", &st, &err) == CORE_ERR_INVALID);
}

UNIT_TEST(storage_delete_of_a_missing_file_is_fine)
{
	char		dir[512];
	Storage    *st;
	CoreError	err;
	CoreStatus	s1;
	CoreStatus	s2;
	uint64_t	size;

	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK(storage_open(dir, &st, &err) == CORE_OK);
	CHECK(storage_put(st, "x", (const uint8_t *) "1", 1, &err) == CORE_OK);
	s1 = storage_delete(st, "x", &err);
	s2 = storage_delete(st, "x", &err);
	CHECK(storage_size(st, "x", &size, &err) == CORE_ERR_NOT_FOUND);
	storage_close(st);
	tu_rmtree(dir);
	CHECK(s1 == CORE_OK && s2 == CORE_OK);
}

/*-------------------------------------------------------------------------
 *
 * test_lance_dataset.c
 *	  Datasets written by LanceDB (LANCEDB_FIXTURES): versions, counts,
 *	  scans, take, and damaged copies that must fail with an error naming
 *	  the file.  Every test skips when the fixtures are not configured.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "lance/dataset.h"
#include "lance/datafile.h"
#include "lance_file2.pb-c.h"
#include "lance_table.pb-c.h"
#include "lance_testutil.h"
#include "unit.h"

/* Open a fixture table (not copied) at a version; false to skip. */
static bool
open_fixture(const char *table, uint64_t version, Storage **st, LanceDataset **ds)
{
	char		path[1024];
	CoreError	err;

	*st = NULL;
	*ds = NULL;
	if (!tu_fixture_path(table, path, sizeof(path)))
		return false;
	if (storage_open(path, st, &err) != CORE_OK ||
		lance_dataset_open(*st, "", version, ds, &err) != CORE_OK)
	{
		fprintf(stderr, "%s: %s\n", table, err.msg);
		return false;
	}
	return true;
}

/* Scan everything; returns live rows, or -1 with err set. */
static int64_t
scan_rows(LanceDataset *ds, const LanceScanOptions *opts, CoreError *err)
{
	LanceScanner *sc;
	LanceBatch *b;
	int64_t		n = 0;
	CoreStatus	status;

	if (lance_scanner_open(ds, opts, &sc, err) != CORE_OK)
		return -1;
	while ((status = lance_scanner_next(sc, &b, err)) == CORE_OK && b)
	{
		n += b->num_rows;
		lance_batch_free(b);
	}
	lance_scanner_close(sc);
	return status == CORE_OK ? n : -1;
}

/* Open a damaged copy and scan it; the status, message in err. */
static CoreStatus
open_and_scan(const char *ds_path, CoreError *err)
{
	Storage    *st;
	LanceDataset *ds;
	CoreStatus	status;

	status = storage_open(ds_path, &st, err);
	if (status != CORE_OK)
		return status;
	status = lance_dataset_open(st, "", 0, &ds, err);
	if (status == CORE_OK)
	{
		if (scan_rows(ds, NULL, err) < 0)
			status = err->status;
		lance_dataset_close(ds);
	}
	storage_close(st);
	return status;
}

UNIT_TEST(counts_come_from_the_manifest_and_match_the_scan_at_every_version)
{
	static const uint64_t expect[] = {400, 700, 1000, 960, 960};
	CoreError	err;

	for (uint64_t v = 1; v <= 5; v++)
	{
		Storage    *st;
		LanceDataset *ds;
		int64_t		scanned;

		if (!open_fixture("types_v2_2.lance", v, &st, &ds))
			return;
		scanned = scan_rows(ds, NULL, &err);
		CHECK_MSG(lance_dataset_count_rows(ds) == expect[v - 1], "version %" PRIu64, v);
		CHECK_MSG(scanned == (int64_t) expect[v - 1], "version %" PRIu64 ": %s", v, err.msg);
		CHECK(lance_dataset_version(ds) == v);
		lance_dataset_close(ds);
		storage_close(st);
	}
}

UNIT_TEST(missing_version_is_not_found_naming_the_range)
{
	char		path[1024];
	Storage    *st;
	LanceDataset *ds;
	CoreError	err;
	CoreStatus	status;

	if (!tu_fixture_path("types_v2_1.lance", path, sizeof(path)))
		return;
	CHECK(storage_open(path, &st, &err) == CORE_OK);
	status = lance_dataset_open(st, "", 42, &ds, &err);
	storage_close(st);
	CHECK(status == CORE_ERR_NOT_FOUND);
	CHECK_MSG(strstr(err.msg, "version 42") && strstr(err.msg, "1 to 5"), "%s", err.msg);
}

UNIT_TEST(scan_batches_respect_the_size_and_skip_deleted_rows)
{
	Storage    *st;
	LanceDataset *ds;
	LanceScanner *sc;
	LanceBatch *b;
	LanceScanOptions opts;
	const char *cols[] = {"id"};
	CoreError	err;
	uint64_t	last = 0;
	bool		first = true;
	int64_t		total = 0;

	if (!open_fixture("types_v2_0.lance", 4, &st, &ds))
		return;
	memset(&opts, 0, sizeof(opts));
	opts.columns = cols;
	opts.num_columns = 1;
	opts.batch_rows = 64;
	CHECK(lance_scanner_open(ds, &opts, &sc, &err) == CORE_OK);
	while (lance_scanner_next(sc, &b, &err) == CORE_OK && b)
	{
		CHECK(b->num_rows > 0 && b->num_rows <= 64 && b->num_columns == 1);
		for (int64_t r = 0; r < b->num_rows; r++)
		{
			int32_t		id = ((const int32_t *) (const void *) b->columns[0]->values)[r];

			/* version 4 deleted id % 50 == 7 and 420 <= id < 440 */
			CHECK_MSG(id % 50 != 7 && !(id >= 420 && id < 440), "deleted id %d was returned", id);
			CHECK(first || b->row_addrs[r] > last);
			last = b->row_addrs[r];
			first = false;
		}
		total += b->num_rows;
		lance_batch_free(b);
	}
	lance_scanner_close(sc);
	lance_dataset_close(ds);
	storage_close(st);
	CHECK(total == 960);
}

UNIT_TEST(closing_a_scan_early_is_fine)
{
	Storage    *st;
	LanceDataset *ds;
	LanceScanner *sc;
	LanceBatch *b;
	LanceScanOptions opts;
	CoreError	err;

	if (!open_fixture("scalars_50k_v2_2.lance", 0, &st, &ds))
		return;
	memset(&opts, 0, sizeof(opts));
	opts.batch_rows = 1000;
	CHECK(lance_scanner_open(ds, &opts, &sc, &err) == CORE_OK);
	CHECK(lance_scanner_next(sc, &b, &err) == CORE_OK && b && b->num_rows == 1000);
	lance_batch_free(b);
	lance_scanner_close(sc);
	lance_dataset_close(ds);
	storage_close(st);
}

UNIT_TEST(projection_returns_columns_in_the_order_asked)
{
	Storage    *st;
	LanceDataset *ds;
	LanceScanner *sc;
	LanceBatch *b;
	LanceScanOptions opts;
	const char *cols[] = {"st", "id"};
	const char *bad[] = {"nope"};
	CoreError	err;

	if (!open_fixture("types_v2_1.lance", 0, &st, &ds))
		return;
	memset(&opts, 0, sizeof(opts));
	opts.columns = cols;
	opts.num_columns = 2;
	CHECK(lance_scanner_open(ds, &opts, &sc, &err) == CORE_OK);
	CHECK(lance_scanner_num_columns(sc) == 2);
	CHECK(strcmp(lance_scanner_field(sc, 0)->name, "st") == 0);
	CHECK(lance_scanner_next(sc, &b, &err) == CORE_OK && b);
	CHECK(b->columns[0]->type->id == LANCE_TYPE_STRUCT && b->columns[1]->type->id == LANCE_TYPE_INT32);
	CHECK(b->columns[0]->num_children == 2);
	lance_batch_free(b);
	lance_scanner_close(sc);

	opts.columns = bad;
	opts.num_columns = 1;
	CHECK(lance_scanner_open(ds, &opts, &sc, &err) == CORE_ERR_INVALID);
	CHECK_MSG(strstr(err.msg, "\"nope\"") != NULL, "%s", err.msg);
	lance_dataset_close(ds);
	storage_close(st);
}

UNIT_TEST(scan_without_columns_yields_row_addresses_only)
{
	Storage    *st;
	LanceDataset *ds;
	LanceScanOptions opts;
	const char *none[1] = {NULL};
	CoreError	err;

	if (!open_fixture("deletes_bitmap.lance", 0, &st, &ds))
		return;
	memset(&opts, 0, sizeof(opts));
	opts.columns = none;
	opts.num_columns = 0;
	CHECK(scan_rows(ds, &opts, &err) == 6000);
	CHECK(lance_dataset_count_rows(ds) == 6000);
	lance_dataset_close(ds);
	storage_close(st);
}

UNIT_TEST(take_returns_rows_in_the_order_asked_including_repeats)
{
	Storage    *st;
	LanceDataset *ds;
	LanceBatch *b;
	const char *cols[] = {"id", "lstr"};
	/* fragment 2 row 5 (id 705), fragment 0 row 1, fragment 1 row 0 (id 400), again frag 0 row 1 */
	uint64_t	addrs[] = {LANCE_ROW_ADDR(2, 5), LANCE_ROW_ADDR(0, 1), LANCE_ROW_ADDR(1, 0),
	LANCE_ROW_ADDR(0, 1)};
	static const int32_t ids[] = {705, 1, 400, 1};
	CoreError	err;

	if (!open_fixture("types_v2_2.lance", 3, &st, &ds))
		return;
	CHECK_MSG(lance_dataset_take(ds, addrs, 4, cols, 2, &b, &err) == CORE_OK, "%s", err.msg);
	CHECK(b->num_rows == 4);
	for (int i = 0; i < 4; i++)
	{
		CHECK(((const int32_t *) (const void *) b->columns[0]->values)[i] == ids[i]);
		CHECK(b->row_addrs[i] == addrs[i]);
	}
	/* lstr of id 1 is ["e1_0"] */
	CHECK(lance_array_offset(b->columns[1], 2) - lance_array_offset(b->columns[1], 1) == 1);
	lance_batch_free(b);
	lance_dataset_close(ds);
	storage_close(st);
}

UNIT_TEST(take_of_a_deleted_or_missing_row_is_an_error_naming_it)
{
	Storage    *st;
	LanceDataset *ds;
	LanceBatch *b;
	uint64_t	deleted = LANCE_ROW_ADDR(0, 7);	/* id 7: deleted in version 4 */
	uint64_t	missing = LANCE_ROW_ADDR(9, 0);
	uint64_t	past = LANCE_ROW_ADDR(0, 400);
	CoreError	err;

	if (!open_fixture("types_v2_2.lance", 4, &st, &ds))
		return;
	CHECK(lance_dataset_take(ds, &deleted, 1, NULL, 0, &b, &err) == CORE_ERR_INVALID);
	CHECK_MSG(strstr(err.msg, "deleted") != NULL, "%s", err.msg);
	CHECK(lance_dataset_take(ds, &missing, 1, NULL, 0, &b, &err) == CORE_ERR_INVALID);
	CHECK_MSG(strstr(err.msg, "fragment 9") != NULL, "%s", err.msg);
	CHECK(lance_dataset_take(ds, &past, 1, NULL, 0, &b, &err) == CORE_ERR_INVALID);
	lance_dataset_close(ds);
	storage_close(st);
}

UNIT_TEST(versions_list_timestamps_and_row_counts)
{
	char		path[1024];
	Storage    *st;
	LanceVersionInfo *info;
	int			n;
	CoreError	err;

	if (!tu_fixture_path("default_version.lance", path, sizeof(path)))
		return;
	CHECK(storage_open(path, &st, &err) == CORE_OK);
	CHECK(lance_dataset_versions(st, "", &info, &n, &err) == CORE_OK);
	storage_close(st);
	CHECK(n == 3);
	CHECK(info[0].version == 1 && info[0].num_rows == 100);
	CHECK(info[2].num_rows == 145);
	CHECK(info[0].timestamp_sec > 1600000000 && info[2].timestamp_sec >= info[0].timestamp_sec);
	free(info);
}

UNIT_TEST(empty_table_scans_to_nothing)
{
	Storage    *st;
	LanceDataset *ds;
	CoreError	err;

	if (!open_fixture("empty.lance", 0, &st, &ds))
		return;
	CHECK(lance_dataset_count_rows(ds) == 0);
	CHECK(scan_rows(ds, NULL, &err) == 0);
	CHECK(lance_schema_num_top(lance_dataset_schema(ds)) == 3);
	lance_dataset_close(ds);
	storage_close(st);
}

UNIT_TEST(dropped_and_added_columns_follow_the_schema_version)
{
	Storage    *st;
	LanceDataset *ds;
	const LanceSchema *s;

	if (!open_fixture("evolved.lance", 0, &st, &ds))
		return;
	s = lance_dataset_schema(ds);
	CHECK(lance_schema_find_top(s, "score") == NULL);
	CHECK(lance_schema_find_top(s, "double_id") != NULL);
	lance_dataset_close(ds);
	storage_close(st);
}

/* ------------------------------------------------------------- corruption */

/* The (first, sorted) data file of a copied dataset. */
static bool
first_data_file(const char *ds, char *buf, size_t len)
{
	char		data[1100];

	snprintf(data, sizeof(data), "%s/data", ds);
	return tu_find_file(data, ".lance", buf, len);
}

/* The newest manifest (V2 names sort newest first). */
static bool
newest_manifest(const char *ds, char *buf, size_t len)
{
	char		dir[1100];

	snprintf(dir, sizeof(dir), "%s/_versions", ds);
	return tu_find_file(dir, ".manifest", buf, len);
}

/* Name part of a path ("abc.lance"), for checking messages. */
static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

UNIT_TEST(truncated_data_file_is_an_error_naming_the_file)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	size_t		len = 0;
	uint8_t    *bytes;
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("types_v2_2.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	CHECK(first_data_file(ds, file, sizeof(file)));
	bytes = tu_read(file, &len);
	CHECK(bytes != NULL && len > 64);
	CHECK(bytes && tu_write(file, bytes, len / 2));
	free(bytes);
	status = open_and_scan(ds, &err);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, base_name(file)) != NULL, "%s", err.msg);
}

UNIT_TEST(flipped_footer_magic_is_an_error_naming_the_file)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	size_t		len = 0;
	uint8_t    *bytes;
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("types_v2_1.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	CHECK(first_data_file(ds, file, sizeof(file)));
	bytes = tu_read(file, &len);
	CHECK(bytes != NULL && len > 64);
	bytes[len - 1] ^= 0x20;
	CHECK(tu_write(file, bytes, len));
	free(bytes);
	status = open_and_scan(ds, &err);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, base_name(file)) && strstr(err.msg, "LANC"), "%s", err.msg);
}

UNIT_TEST(footer_offsets_past_the_file_are_an_error_naming_the_file)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	size_t		len = 0;
	uint8_t    *bytes;
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("types_v2_0.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	CHECK(first_data_file(ds, file, sizeof(file)));
	bytes = tu_read(file, &len);
	CHECK(bytes != NULL && len > 64);
	/* the column table offset (footer bytes 8..15) */
	bytes[len - 40 + 8 + 6] = 0x7f;
	CHECK(tu_write(file, bytes, len));
	free(bytes);
	status = open_and_scan(ds, &err);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, base_name(file)) && strstr(err.msg, "footer"), "%s", err.msg);
}

UNIT_TEST(bad_column_metadata_protobuf_is_an_error_naming_file_and_column)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	size_t		len = 0;
	uint8_t    *bytes;
	uint64_t	cmo;
	uint64_t	pos = 0;
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("types_v2_2.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	CHECK(first_data_file(ds, file, sizeof(file)));
	bytes = tu_read(file, &len);
	CHECK(bytes != NULL && len > 64);
	memcpy(&cmo, bytes + len - 40 + 8, 8);
	memcpy(&pos, bytes + cmo, 8);	/* column 0's metadata */
	bytes[pos] = 0x0f;			/* field 1 with the invalid wire type 7 */
	CHECK(tu_write(file, bytes, len));
	free(bytes);
	status = open_and_scan(ds, &err);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, base_name(file)) && strstr(err.msg, "column 0"), "%s", err.msg);
}

/*
 * Rewrite a data file with column 0's first buffer moved past the end of
 * the file: re-serialize the metadata region (the data region is kept).
 */
static bool
move_first_buffer_past_eof(const char *file)
{
	size_t		len = 0;
	uint8_t    *b = tu_read(file, &len);
	uint64_t	cms;
	uint64_t	cmo;
	uint64_t	gbo;
	uint32_t	ngb;
	uint32_t	ncols;
	uint8_t    *out;
	size_t		at;
	bool		ok;

	if (b == NULL)
		return false;
	memcpy(&cms, b + len - 40, 8);
	memcpy(&cmo, b + len - 32, 8);
	memcpy(&gbo, b + len - 24, 8);
	memcpy(&ngb, b + len - 16, 4);
	memcpy(&ncols, b + len - 12, 4);
	out = calloc(1, len * 2 + 4096);
	memcpy(out, b, cms);
	at = cms;
	for (uint32_t c = 0; c < ncols; c++)
	{
		uint64_t	pos;
		uint64_t	sz;
		Lf2__ColumnMetadata *cm;

		memcpy(&pos, b + cmo + 16 * c, 8);
		memcpy(&sz, b + cmo + 16 * c + 8, 8);
		cm = lf2__column_metadata__unpack(NULL, sz, b + pos);
		if (cm == NULL)
			return false;
		if (c == 0)
			cm->pages[0]->buffer_offsets[0] = len * 4;
		sz = lf2__column_metadata__pack(cm, out + at);
		lf2__column_metadata__free_unpacked(cm, NULL);
		/* new CMO entries go to a side table written below */
		memcpy(b + cmo + 16 * c, &at, 8);
		memcpy(b + cmo + 16 * c + 8, &sz, 8);
		at += sz;
	}
	memcpy(out + at, b + cmo, 16 * (size_t) ncols);
	cmo = at;
	at += 16 * (size_t) ncols;
	memcpy(out + at, b + gbo, 16 * (size_t) ngb);
	gbo = at;
	at += 16 * (size_t) ngb;
	memcpy(out + at, b + len - 40, 40);
	memcpy(out + at + 8, &cmo, 8);
	memcpy(out + at + 16, &gbo, 8);
	at += 40;
	ok = tu_write(file, out, at);
	free(out);
	free(b);
	return ok;
}

UNIT_TEST(page_buffer_past_the_end_is_an_error_naming_file_column_and_page)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	Storage    *st;
	LanceFile  *f;
	const LanceColumnInfo *ci;
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("types_v2_2.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	CHECK(first_data_file(ds, file, sizeof(file)));
	CHECK(move_first_buffer_past_eof(file));
	CHECK(storage_open(ds, &st, &err) == CORE_OK);
	CHECK(lance_file_open(st, file + strlen(ds) + 1, 0, &f, &err) == CORE_OK);
	status = lance_file_column(f, 0, &ci, &err);
	CHECK(lance_file_column(f, 1, &ci, &err) == CORE_OK);	/* the others are fine */
	lance_file_close(f);
	storage_close(st);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, base_name(file)) && strstr(err.msg, "column 0 page 0 buffer 0"),
			  "%s", err.msg);
}

UNIT_TEST(missing_data_file_is_an_error_naming_the_file)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("manifest_v1_names.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	CHECK(first_data_file(ds, file, sizeof(file)));
	CHECK(remove(file) == 0);
	status = open_and_scan(ds, &err);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_NOT_FOUND);
	CHECK_MSG(strstr(err.msg, base_name(file)) != NULL, "%s", err.msg);
}

UNIT_TEST(missing_deletion_file_is_an_error_naming_the_file)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	char		dels[1100];
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("deletes_bitmap.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	snprintf(dels, sizeof(dels), "%s/_deletions", ds);
	CHECK(tu_find_file(dels, ".bin", file, sizeof(file)));
	CHECK(remove(file) == 0);
	status = open_and_scan(ds, &err);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_NOT_FOUND);
	CHECK_MSG(strstr(err.msg, base_name(file)) != NULL, "%s", err.msg);
}

UNIT_TEST(wrong_manifest_magic_is_an_error_naming_the_manifest)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	size_t		len = 0;
	uint8_t    *bytes;
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("types_v2_2.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	CHECK(newest_manifest(ds, file, sizeof(file)));
	bytes = tu_read(file, &len);
	CHECK(bytes != NULL && len > 64);
	memcpy(bytes + len - 4, "LANX", 4);
	CHECK(tu_write(file, bytes, len));
	free(bytes);
	status = open_and_scan(ds, &err);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, base_name(file)) && strstr(err.msg, "magic"), "%s", err.msg);
}

UNIT_TEST(unknown_feature_flag_in_a_real_dataset_is_refused)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	size_t		len = 0;
	uint8_t    *bytes;
	uint8_t    *out;
	uint64_t	pos;
	uint32_t	plen;
	Lt__Manifest *m;
	size_t		newlen;
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("types_v2_2.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	CHECK(newest_manifest(ds, file, sizeof(file)));
	bytes = tu_read(file, &len);
	CHECK(bytes != NULL && len > 64);
	memcpy(&pos, bytes + len - 16, 8);
	memcpy(&plen, bytes + pos, 4);
	m = lt__manifest__unpack(NULL, plen, bytes + pos + 4);
	CHECK(m != NULL);
	m->has_reader_feature_flags = true;
	m->reader_feature_flags |= 512;
	newlen = lt__manifest__get_packed_size(m);
	out = calloc(1, newlen + 20);
	out[0] = (uint8_t) newlen;
	out[1] = (uint8_t) (newlen >> 8);
	lt__manifest__pack(m, out + 4);
	out[newlen + 14] = 2;
	memcpy(out + newlen + 16, "LANC", 4);
	CHECK(tu_write(file, out, newlen + 20));
	lt__manifest__free_unpacked(m, NULL);
	free(out);
	free(bytes);
	status = open_and_scan(ds, &err);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_UNSUPPORTED);
	CHECK_MSG(strstr(err.msg, "512") && strstr(err.msg, base_name(file)), "%s", err.msg);
}

UNIT_TEST(deletion_count_disagreeing_with_the_manifest_is_corrupt)
{
	char		dir[512];
	char		ds[1024];
	char		file[1200];
	size_t		len = 0;
	uint8_t    *bytes;
	uint8_t    *out;
	uint64_t	pos;
	uint32_t	plen;
	Lt__Manifest *m;
	size_t		newlen;
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("deletes_bitmap.lance", dir, sizeof(dir), ds, sizeof(ds)))
		return;
	CHECK(newest_manifest(ds, file, sizeof(file)));
	bytes = tu_read(file, &len);
	CHECK(bytes != NULL && len > 64);
	memcpy(&pos, bytes + len - 16, 8);
	memcpy(&plen, bytes + pos, 4);
	m = lt__manifest__unpack(NULL, plen, bytes + pos + 4);
	CHECK(m && m->n_fragments == 1 && m->fragments[0]->deletion_file);
	m->fragments[0]->deletion_file->num_deleted_rows = 5999;
	newlen = lt__manifest__get_packed_size(m);
	out = calloc(1, newlen + 20);
	out[0] = (uint8_t) newlen;
	out[1] = (uint8_t) (newlen >> 8);
	lt__manifest__pack(m, out + 4);
	out[newlen + 14] = 2;
	memcpy(out + newlen + 16, "LANC", 4);
	CHECK(tu_write(file, out, newlen + 20));
	lt__manifest__free_unpacked(m, NULL);
	free(out);
	free(bytes);
	status = open_and_scan(ds, &err);
	tu_rmtree(dir);
	CHECK(status == CORE_ERR_CORRUPT);
	CHECK_MSG(strstr(err.msg, "6000") && strstr(err.msg, "5999"), "%s", err.msg);
}

/*
 * test_writer.c
 *	  The writer: create, append, delete and commit, read back by the
 *	  reader in every file version; concurrent commits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <time.h>
#include <unistd.h>

#include "core/rowaddr48.h"
#include "lance/commit.h"
#include "lance/dataset.h"
#include "lance/fragment.h"
#include "lance/manifest_raw.h"
#include "lance_txn.pb-c.h"
/* a storage whose uploads stall, to test the writer thread's cancel */
#include "storage/storage_backend.h"
#include "unit.h"

#define VEC_DIM 4
#define WIDE_DIM 96

static const LanceFieldSpec test_fields[] = {
	{0, -1, "id", "int64", false},
	{0, -1, "x", "int32", true},
	{0, -1, "f", "double", true},
	{0, -1, "b", "bool", true},
	{0, -1, "s", "string", true},
	{0, -1, "v", "fixed_size_list:float:4", true},
	{0, -1, "w", "fixed_size_list:float:96", true},
};

#define NUM_TEST_FIELDS ((int) (sizeof(test_fields) / sizeof(test_fields[0])))

/* A fresh storage root in a temporary directory. */
static Storage *
temp_storage(void)
{
	char		tmpl[] = "/tmp/lance_writer_XXXXXX";
	Storage    *st = NULL;
	CoreError	err;

	if (mkdtemp(tmpl) == NULL || storage_open(tmpl, &st, &err) != CORE_OK)
		return NULL;
	return st;
}

static int
remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Close the storage and remove its temporary directory. */
static void
drop_storage(Storage *st)
{
	char		root[512];

	snprintf(root, sizeof(root), "%s", storage_root(st));
	storage_close(st);
	if (strncmp(root, "/tmp/lance_writer_", 18) == 0)
		nftw(root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* Push row i's values: nulls on a pattern so every page has some. */
static CoreStatus
push_row(LanceWriter *wr, int64_t i, CoreError *err)
{
	int32_t		x = (int32_t) (i * 3);
	double		f = (double) i / 4;
	char		s[32];
	float		v[VEC_DIM];
	float		w[WIDE_DIM];
	CoreStatus	st;

	for (int k = 0; k < VEC_DIM; k++)
		v[k] = (float) (i + k);
	for (int k = 0; k < WIDE_DIM; k++)
		w[k] = (float) (i * k);
	snprintf(s, sizeof(s), "row-%" PRId64, i);
	st = lance_array_push_fixed(lance_writer_column(wr, 0), &i, err);
	if (st == CORE_OK)
		st = i % 7 == 3 ? lance_array_append_nulls(lance_writer_column(wr, 1), 1, err)
			: lance_array_push_fixed(lance_writer_column(wr, 1), &x, err);
	if (st == CORE_OK)
		st = i % 5 == 1 ? lance_array_append_nulls(lance_writer_column(wr, 2), 1, err)
			: lance_array_push_fixed(lance_writer_column(wr, 2), &f, err);
	if (st == CORE_OK)
		st = lance_array_push_bool(lance_writer_column(wr, 3), i % 3 == 0, err);
	if (st == CORE_OK)
		st = i % 11 == 2 ? lance_array_append_nulls(lance_writer_column(wr, 4), 1, err)
			: lance_array_push_bytes(lance_writer_column(wr, 4), s, strlen(s), err);
	if (st == CORE_OK)
		st = i % 13 == 4 ? lance_array_append_nulls(lance_writer_column(wr, 5), 1, err)
			: lance_array_push_fsl(lance_writer_column(wr, 5), v, err);
	if (st == CORE_OK)
		st = i % 17 == 5 ? lance_array_append_nulls(lance_writer_column(wr, 6), 1, err)
			: lance_array_push_fsl(lance_writer_column(wr, 6), w, err);
	if (st == CORE_OK)
		st = lance_writer_row_done(wr, err);
	return st;
}

/* Check one scanned row against what push_row wrote for id. */
static bool
row_matches(const LanceBatch *b, int64_t r, int64_t *id_out)
{
	int64_t		id = ((const int64_t *) b->columns[0]->values)[r];
	const LanceArray *s = b->columns[4];
	char		want[32];

	*id_out = id;
	if (lance_array_is_valid(b->columns[1], r) != (id % 7 != 3))
		return false;
	if (id % 7 != 3 && ((const int32_t *) b->columns[1]->values)[r] != (int32_t) (id * 3))
		return false;
	if (lance_array_is_valid(b->columns[2], r) != (id % 5 != 1))
		return false;
	if (id % 5 != 1 && ((const double *) b->columns[2]->values)[r] != (double) id / 4)
		return false;
	if (lance_bit_get(b->columns[3]->values, r) != (id % 3 == 0))
		return false;
	if (lance_array_is_valid(s, r) != (id % 11 != 2))
		return false;
	snprintf(want, sizeof(want), "row-%" PRId64, id);
	if (id % 11 != 2 &&
		(lance_array_offset(s, r + 1) - lance_array_offset(s, r) != (int64_t) strlen(want) ||
		 memcmp(s->values + lance_array_offset(s, r), want, strlen(want)) != 0))
		return false;
	if (lance_array_is_valid(b->columns[5], r) != (id % 13 != 4))
		return false;
	if (id % 13 != 4 &&
		((const float *) b->columns[5]->children[0]->values)[r * VEC_DIM + 2] != (float) (id + 2))
		return false;
	if (lance_array_is_valid(b->columns[6], r) != (id % 17 != 5))
		return false;
	if (id % 17 != 5 &&
		((const float *) b->columns[6]->children[0]->values)[r * WIDE_DIM + 7] != (float) (id * 7))
		return false;
	return true;
}

/*
 * Scan the newest version: every row must match its id, ids must be
 * distinct, and *count / *sum count them.
 */
/* Count the rows of an open dataset and sum their ids, checking each row. */
static bool
scan_dataset(LanceDataset *ds, int64_t *count, int64_t *sum, char *msg, size_t msglen)
{
	LanceScanner *sc;
	LanceBatch *b;
	CoreError	err;
	LanceScanOptions opts;

	memset(&opts, 0, sizeof(opts));
	*count = 0;
	*sum = 0;
	if (lance_scanner_open(ds, &opts, &sc, &err) != CORE_OK)
	{
		snprintf(msg, msglen, "%s", err.msg);
		return false;
	}
	while (lance_scanner_next(sc, &b, &err) == CORE_OK && b)
	{
		for (int64_t r = 0; r < b->num_rows; r++)
		{
			int64_t		id;

			if (!row_matches(b, r, &id))
			{
				snprintf(msg, msglen, "row with id %" PRId64 " differs", id);
				lance_batch_free(b);
				lance_scanner_close(sc);
				return false;
			}
			(*count)++;
			*sum += id;
		}
		lance_batch_free(b);
	}
	lance_scanner_close(sc);
	return true;
}

/* scan_dataset over the newest version of the dataset at path. */
static bool
scan_all(Storage *st, const char *path, int64_t *count, int64_t *sum, char *msg, size_t msglen)
{
	LanceDataset *ds;
	CoreError	err;
	bool		ok;

	if (lance_dataset_open(st, path, 0, &ds, &err) != CORE_OK)
	{
		snprintf(msg, msglen, "%s", err.msg);
		return false;
	}
	ok = scan_dataset(ds, count, sum, msg, msglen);
	lance_dataset_close(ds);
	return ok;
}

static bool
append_rows(Storage *st, const char *path, int64_t from, int64_t n, int64_t per_file,
			uint64_t *version, CoreError *err)
{
	LanceWriter *wr;
	LanceWriteOptions opts = {per_file, 0};

	if (lance_writer_open(st, path, &opts, &wr, err) != CORE_OK)
		return false;
	if (lance_writer_prepare_append(wr, err) != CORE_OK)
	{
		lance_writer_free(wr);
		return false;
	}
	for (int64_t i = from; i < from + n; i++)
		if (push_row(wr, i, err) != CORE_OK)
		{
			lance_writer_free(wr);
			return false;
		}
	if (lance_writer_commit(wr, version, err) != CORE_OK)
	{
		lance_writer_free(wr);
		return false;
	}
	lance_writer_free(wr);
	return true;
}

static void
round_trip(LanceFileVersion fv)
{
	Storage    *st = temp_storage();
	CoreError	err;
	uint64_t	v = 0;
	int64_t		count;
	int64_t		sum;
	char		msg[256];
	LanceWriter *wr;

	CHECK(st != NULL);
	CHECK_MSG(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, fv, &err) == CORE_OK,
			  "%s", err.msg);
	/* 5000 rows in files of 2000: three fragments */
	CHECK_MSG(append_rows(st, "t.lance", 0, 5000, 2000, &v, &err), "%s", err.msg);
	CHECK(v == 2);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 5000);
	CHECK(sum == 4999 * 5000 / 2);

	/* delete ids 10..19 (fragment 0) and 2500 (fragment 1) in one version */
	CHECK_MSG(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK, "%s", err.msg);
	for (int i = 10; i < 20; i++)
		CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, i), &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 500), &err) == CORE_OK);
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	CHECK(v == 3);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 5000 - 11);
	CHECK(sum == 4999 * 5000 / 2 - (10 + 19) * 10 / 2 - 2500);

	/* a second delete in the same fragment keeps the first one */
	CHECK_MSG(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK, "%s", err.msg);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 0), &err) == CORE_OK);
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 5000 - 12);
	drop_storage(st);
}

UNIT_TEST(written_2_0_files_read_back_equal)
{
	round_trip(LANCE_FILE_V2_0);
}

UNIT_TEST(written_2_1_files_read_back_equal)
{
	round_trip(LANCE_FILE_V2_1);
}

UNIT_TEST(written_2_2_files_read_back_equal)
{
	round_trip(LANCE_FILE_V2_2);
}

UNIT_TEST(losing_append_rebases_on_the_winner)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *a;
	LanceWriter *b;
	uint64_t	va;
	uint64_t	vb;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	CHECK(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_2, &err) == CORE_OK);
	CHECK(lance_writer_open(st, "t.lance", NULL, &a, &err) == CORE_OK);
	CHECK(lance_writer_open(st, "t.lance", NULL, &b, &err) == CORE_OK);
	CHECK(lance_writer_prepare_append(a, &err) == CORE_OK);
	CHECK(lance_writer_prepare_append(b, &err) == CORE_OK);
	for (int i = 0; i < 100; i++)
		CHECK(push_row(a, i, &err) == CORE_OK);
	for (int i = 100; i < 150; i++)
		CHECK(push_row(b, i, &err) == CORE_OK);
	CHECK(lance_writer_commit(a, &va, &err) == CORE_OK);
	CHECK_MSG(lance_writer_commit(b, &vb, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(a);
	lance_writer_free(b);
	CHECK(va == 2 && vb == 3);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 150);
	drop_storage(st);
}

UNIT_TEST(delete_racing_a_delete_of_the_same_fragment_conflicts)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *a;
	LanceWriter *b;
	uint64_t	v;

	CHECK(st != NULL);
	CHECK(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_1, &err) == CORE_OK);
	CHECK(append_rows(st, "t.lance", 0, 100, 0, &v, &err));
	CHECK(lance_writer_open(st, "t.lance", NULL, &a, &err) == CORE_OK);
	CHECK(lance_writer_open(st, "t.lance", NULL, &b, &err) == CORE_OK);
	CHECK(lance_writer_delete(a, LANCE_ROW_ADDR(0, 1), &err) == CORE_OK);
	CHECK(lance_writer_delete(b, LANCE_ROW_ADDR(0, 2), &err) == CORE_OK);
	CHECK(lance_writer_commit(a, &v, &err) == CORE_OK);
	CHECK(lance_writer_commit(b, &v, &err) == CORE_ERR_CONFLICT);
	CHECK_MSG(strstr(err.msg, "version 3") != NULL, "%s", err.msg);
	lance_writer_free(a);
	lance_writer_free(b);
	drop_storage(st);
}

UNIT_TEST(null_in_a_non_nullable_field_is_refused)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	uint64_t	v;

	CHECK(st != NULL);
	CHECK(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_2, &err) == CORE_OK);
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	CHECK(lance_writer_prepare_append(wr, &err) == CORE_OK);
	CHECK(push_row(wr, 1, &err) == CORE_OK);
	/* overwrite row 0's id with a null by appending a second, null row */
	CHECK(lance_array_append_nulls(lance_writer_column(wr, 0), 1, &err) == CORE_OK);
	for (int i = 1; i < NUM_TEST_FIELDS; i++)
		CHECK(lance_array_append_nulls(lance_writer_column(wr, i), 1, &err) == CORE_OK);
	CHECK(lance_writer_row_done(wr, &err) == CORE_OK);
	CHECK(lance_writer_commit(wr, &v, &err) == CORE_ERR_INVALID);
	CHECK_MSG(strstr(err.msg, "\"id\"") != NULL, "%s", err.msg);
	lance_writer_free(wr);
	drop_storage(st);
}

/* Three fragments of 100 rows, one row deleted from fragment 1. */
static bool
three_small_fragments(Storage *st, CoreError *err)
{
	LanceWriter *wr;
	uint64_t	v;
	bool		ok;

	if (lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_1, err) != CORE_OK)
		return false;
	for (int i = 0; i < 3; i++)
		if (!append_rows(st, "t.lance", i * 100, 100, 0, &v, err))
			return false;
	if (lance_writer_open(st, "t.lance", NULL, &wr, err) != CORE_OK)
		return false;
	ok = lance_writer_delete(wr, LANCE_ROW_ADDR(1, 5), err) == CORE_OK &&
		lance_writer_commit(wr, &v, err) == CORE_OK;
	lance_writer_free(wr);
	return ok;
}

UNIT_TEST(compaction_moves_live_rows_into_one_fragment)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	LanceDataset *ds;
	uint64_t	v;
	int64_t		moved;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	CHECK_MSG(three_small_fragments(st, &err), "%s", err.msg);
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	CHECK_MSG(lance_writer_compact(wr, &moved, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	CHECK(moved == 299);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 299 && sum == 299 * 300 / 2 - 105);
	CHECK(lance_dataset_open(st, "t.lance", 0, &ds, &err) == CORE_OK);
	CHECK(lance_dataset_manifest(ds)->num_fragments == 1);
	CHECK(!lance_dataset_manifest(ds)->fragments[0].has_deletion);
	lance_dataset_close(ds);
	drop_storage(st);
}

/* The transaction that made the newest version of t.lance; NULL if none. */
static Ltx__Transaction *
newest_transaction(Storage *st)
{
	LanceVersionList *versions;
	RawManifest raw;
	CoreError	err;
	Ltx__Transaction *txn = NULL;
	char		path[512];
	uint8_t    *bytes;
	uint64_t	size;

	if (lance_versions_list(st, "t.lance", &versions, &err) != CORE_OK)
		return NULL;
	if (lance_raw_manifest_read(st, versions->entries[versions->count - 1].path, &raw, &err) == CORE_OK)
	{
		snprintf(path, sizeof(path), "t.lance/_transactions/%s", raw.pm->transaction_file);
		if (storage_read_all(st, path, 1 << 20, &bytes, &size, &err) == CORE_OK)
		{
			txn = ltx__transaction__unpack(NULL, size, bytes);
			free(bytes);
		}
		lance_raw_manifest_free(&raw);
	}
	lance_versions_free(versions);
	return txn;
}

UNIT_TEST(compaction_commits_a_rewrite_of_the_old_fragments)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	Ltx__Transaction *txn;
	uint64_t	v;
	int64_t		moved;

	CHECK(st != NULL);
	CHECK_MSG(three_small_fragments(st, &err), "%s", err.msg);
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	CHECK(lance_writer_compact(wr, &moved, &err) == CORE_OK);
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	txn = newest_transaction(st);
	CHECK(txn != NULL);
	CHECK(txn->operation_case == LTX__TRANSACTION__OPERATION_REWRITE);
	CHECK(txn->rewrite->n_groups == 1);
	CHECK(txn->rewrite->groups[0]->n_old_fragments == 3);
	CHECK(txn->rewrite->groups[0]->old_fragments[1]->id == 1);
	CHECK(txn->rewrite->groups[0]->n_new_fragments == 1);
	CHECK(txn->rewrite->groups[0]->new_fragments[0]->physical_rows == 299);
	ltx__transaction__free_unpacked(txn, NULL);
	drop_storage(st);
}

UNIT_TEST(compaction_losing_to_an_append_rebases_and_keeps_the_appended_rows)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	uint64_t	v;
	int64_t		moved;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	CHECK_MSG(three_small_fragments(st, &err), "%s", err.msg);
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	CHECK(lance_writer_compact(wr, &moved, &err) == CORE_OK);
	CHECK(append_rows(st, "t.lance", 1000, 10, 0, &v, &err));
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	CHECK(v == 7);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 309 && sum == 299 * 300 / 2 - 105 + 10 * 1000 + 45);
	drop_storage(st);
}

UNIT_TEST(compaction_losing_to_a_delete_of_a_rewritten_fragment_conflicts)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	LanceWriter *del;
	uint64_t	v;
	int64_t		moved;

	CHECK(st != NULL);
	CHECK_MSG(three_small_fragments(st, &err), "%s", err.msg);
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	CHECK(lance_writer_compact(wr, &moved, &err) == CORE_OK);
	CHECK(lance_writer_open(st, "t.lance", NULL, &del, &err) == CORE_OK);
	CHECK(lance_writer_delete(del, LANCE_ROW_ADDR(2, 7), &err) == CORE_OK);
	CHECK(lance_writer_commit(del, &v, &err) == CORE_OK);
	lance_writer_free(del);
	CHECK(lance_writer_commit(wr, &v, &err) == CORE_ERR_CONFLICT);
	CHECK_MSG(strstr(err.msg, "version 6") != NULL, "%s", err.msg);
	lance_writer_free(wr);
	drop_storage(st);
}

/* A writer on t.lance (rows 0..9 committed in fragment 0) with rows 10..14 buffered. */
static LanceWriter *
writer_with_changes(Storage *st, CoreError *err)
{
	LanceWriter *wr;
	uint64_t	v;

	if (lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_2,
							 err) != CORE_OK ||
		!append_rows(st, "t.lance", 0, 10, 0, &v, err) ||
		lance_writer_open(st, "t.lance", NULL, &wr, err) != CORE_OK)
		return NULL;
	if (lance_writer_prepare_append(wr, err) != CORE_OK)
	{
		lance_writer_free(wr);
		return NULL;
	}
	for (int i = 10; i < 15; i++)
		if (push_row(wr, i, err) != CORE_OK)
		{
			lance_writer_free(wr);
			return NULL;
		}
	return wr;
}

UNIT_TEST(staged_version_has_the_buffered_rows_and_not_the_deleted_ones)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	LanceDataset *staged;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	wr = writer_with_changes(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 3), &err) == CORE_OK);
	CHECK_MSG(lance_writer_open_staged(wr, st, &staged, &err) == CORE_OK, "%s", err.msg);
	CHECK(lance_dataset_count_rows(staged) == 14);
	CHECK(lance_dataset_version(staged) == 2);
	CHECK_MSG(scan_dataset(staged, &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 14 && sum == 14 * 15 / 2 - 3);
	lance_dataset_close(staged);
	/* nothing is committed: others still read version 2 */
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 10 && sum == 45);
	lance_writer_free(wr);
	drop_storage(st);
}

UNIT_TEST(rows_of_staged_fragments_are_deleted_by_their_staged_address)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	LanceDataset *staged;
	LanceDataset *again;
	uint64_t	v;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	wr = writer_with_changes(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK_MSG(lance_writer_open_staged(wr, st, &staged, &err) == CORE_OK, "%s", err.msg);
	/* rows 10..14 are the staged fragment 1, offsets 0..4 */
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 2), &err) == CORE_OK);
	CHECK(lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 2)));
	CHECK(!lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 3)));
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 5), &err) == CORE_ERR_INVALID);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(2, 0), &err) == CORE_ERR_INVALID);
	/* an earlier staged dataset keeps what it saw */
	CHECK(lance_dataset_count_rows(staged) == 15);
	CHECK_MSG(lance_writer_open_staged(wr, st, &again, &err) == CORE_OK, "%s", err.msg);
	CHECK(lance_dataset_count_rows(again) == 14);
	lance_dataset_close(again);
	lance_dataset_close(staged);
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 14 && sum == 14 * 15 / 2 - 12);
	drop_storage(st);
}

/* Check the staged version of wr holds `rows` rows. */
static void
check_staged_rows(Storage *st, LanceWriter *wr, uint64_t rows)
{
	CoreError	err;
	LanceDataset *staged;

	CHECK_MSG(lance_writer_open_staged(wr, st, &staged, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(lance_dataset_count_rows(staged) == rows, "%" PRIu64 " staged rows, expected %" PRIu64,
			  lance_dataset_count_rows(staged), rows);
	lance_dataset_close(staged);
}

UNIT_TEST(staged_fragment_deleted_whole_is_left_out_of_the_commit)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	Ltx__Transaction *txn;
	uint64_t	v;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	wr = writer_with_changes(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	/* reading flushes rows 10..14 into staged fragment 1 */
	check_staged_rows(st, wr, 15);
	for (int i = 0; i < 5; i++)
		CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, i), &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 0), &err) == CORE_OK);
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	CHECK(v == 3);
	lance_writer_free(wr);
	txn = newest_transaction(st);
	CHECK(txn != NULL && txn->operation_case == LTX__TRANSACTION__OPERATION_DELETE);
	ltx__transaction__free_unpacked(txn, NULL);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 9 && sum == 45);
	drop_storage(st);
}

/* Commit wr, free it, and check the newest version holds count rows summing to sum. */
static void
commit_and_check(Storage *st, LanceWriter *wr, int64_t want_count, int64_t want_sum)
{
	CoreError	err;
	uint64_t	v;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK_MSG(count == want_count && sum == want_sum,
			  "%" PRId64 " rows summing to %" PRId64 ", expected %" PRId64 " and %" PRId64,
			  count, sum, want_count, want_sum);
}

UNIT_TEST(rollback_to_a_savepoint_drops_the_rows_buffered_since)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = writer_with_changes(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	for (int i = 15; i < 20; i++)
		CHECK(push_row(wr, i, &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 4), &err) == CORE_OK);
	lance_writer_rollback_savepoint(wr);
	CHECK(!lance_writer_deleted(wr, LANCE_ROW_ADDR(0, 4)));
	/* rows 0..9 committed and 10..14 buffered before the savepoint */
	commit_and_check(st, wr, 15, 14 * 15 / 2);
	drop_storage(st);
}

UNIT_TEST(rollback_keeps_the_earlier_rows_of_a_file_written_since)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = writer_with_changes(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	for (int i = 15; i < 18; i++)
		CHECK(push_row(wr, i, &err) == CORE_OK);
	/* reading flushes rows 10..17 into one file: staged fragment 1 */
	check_staged_rows(st, wr, 18);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 0), &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 6), &err) == CORE_OK);
	CHECK(push_row(wr, 18, &err) == CORE_OK);
	lance_writer_rollback_savepoint(wr);
	CHECK(!lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 0)));
	CHECK(lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 5)));
	check_staged_rows(st, wr, 15);
	commit_and_check(st, wr, 15, 14 * 15 / 2);
	drop_storage(st);
}

UNIT_TEST(rollback_to_an_inner_savepoint_keeps_the_outer_ones_changes)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = writer_with_changes(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 2), &err) == CORE_OK);
	CHECK(push_row(wr, 15, &err) == CORE_OK);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 3), &err) == CORE_OK);
	/* deleting again what the outer savepoint deleted must not undo it */
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 2), &err) == CORE_OK);
	CHECK(push_row(wr, 16, &err) == CORE_OK);
	lance_writer_rollback_savepoint(wr);
	lance_writer_release_savepoint(wr);
	CHECK(lance_writer_deleted(wr, LANCE_ROW_ADDR(0, 2)));
	CHECK(!lance_writer_deleted(wr, LANCE_ROW_ADDR(0, 3)));
	/* rows 0..15 without 2 */
	commit_and_check(st, wr, 15, 15 * 16 / 2 - 2);
	drop_storage(st);
}

UNIT_TEST(rollback_drops_a_half_pushed_row)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	int64_t		id = 15;
	int32_t		x = 45;

	CHECK(st != NULL);
	wr = writer_with_changes(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	/* a statement failed after two of the row's values */
	CHECK(lance_array_push_fixed(lance_writer_column(wr, 0), &id, &err) == CORE_OK);
	CHECK(lance_array_push_fixed(lance_writer_column(wr, 1), &x, &err) == CORE_OK);
	lance_writer_rollback_savepoint(wr);
	CHECK(push_row(wr, 16, &err) == CORE_OK);
	commit_and_check(st, wr, 16, 14 * 15 / 2 + 16);
	drop_storage(st);
}

UNIT_TEST(an_outer_rollback_cuts_again_a_file_an_inner_rollback_cut)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = writer_with_changes(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	/* outer savepoint after rows 10..14, inner one after 15..16 */
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	for (int i = 15; i < 17; i++)
		CHECK(push_row(wr, i, &err) == CORE_OK);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	for (int i = 17; i < 19; i++)
		CHECK(push_row(wr, i, &err) == CORE_OK);
	/* rows 10..18 become staged fragment 1, offsets 0..8 */
	check_staged_rows(st, wr, 19);
	lance_writer_rollback_savepoint(wr);
	CHECK(!lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 6)));
	CHECK(lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 7)));
	check_staged_rows(st, wr, 17);
	/* row 19 is a file of its own, staged fragment 2 */
	CHECK(push_row(wr, 19, &err) == CORE_OK);
	check_staged_rows(st, wr, 18);
	lance_writer_rollback_savepoint(wr);
	CHECK(!lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 4)));
	CHECK(lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 5)));
	check_staged_rows(st, wr, 15);
	commit_and_check(st, wr, 15, 14 * 15 / 2);
	drop_storage(st);
}

UNIT_TEST(rollback_undoes_a_delete_of_an_earlier_row_of_a_file_it_cuts)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = writer_with_changes(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	for (int i = 15; i < 18; i++)
		CHECK(push_row(wr, i, &err) == CORE_OK);
	/* rows 10..17 become staged fragment 1; row 12 was buffered before */
	check_staged_rows(st, wr, 18);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 2), &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 6), &err) == CORE_OK);
	lance_writer_release_savepoint(wr);
	check_staged_rows(st, wr, 16);
	lance_writer_rollback_savepoint(wr);
	CHECK(!lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 2)));
	CHECK(lance_writer_deleted(wr, LANCE_ROW_ADDR(1, 6)));
	check_staged_rows(st, wr, 15);
	/* a row cut off is deleted already; a row kept can still be deleted */
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 6), &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 1), &err) == CORE_OK);
	check_staged_rows(st, wr, 14);
	/* rows 0..14 without 11 */
	commit_and_check(st, wr, 14, 14 * 15 / 2 - 11);
	drop_storage(st);
}

/*
 * Give the only fragment of t.lance's newest version the id `id`, as a
 * new version: a dataset whose fragment ids grew large (a data file does
 * not name its fragment, so only the manifest changes).
 */
static bool
renumber_only_fragment(Storage *st, uint64_t id)
{
	LanceVersionList *versions;
	RawManifest raw;
	CoreError	err;
	bool		ok = false;

	if (lance_versions_list(st, "t.lance", &versions, &err) != CORE_OK)
		return false;
	if (lance_raw_manifest_read(st, versions->entries[versions->count - 1].path, &raw,
								&err) == CORE_OK && raw.pm->n_fragments == 1)
	{
		const char *last = strrchr(versions->entries[versions->count - 1].path, '/') + 1;
		uint64_t	v;
		bool		v2;
		uint32_t	plen;
		uint64_t	pos = 0;
		uint16_t	format[2] = {0, 2};
		uint8_t    *buf;
		char		name[64];
		char		path[128];

		lance_version_name_parse(last, &v, &v2);
		raw.pm->fragments[0]->id = id;
		raw.pm->has_max_fragment_id = 1;
		raw.pm->max_fragment_id = (uint32_t) id;
		raw.pm->version = v + 1;
		plen = (uint32_t) lt__manifest__get_packed_size(raw.pm);
		buf = malloc(4 + plen + 16);
		memcpy(buf, &plen, 4);
		lt__manifest__pack(raw.pm, buf + 4);
		memcpy(buf + 4 + plen, &pos, 8);
		memcpy(buf + 12 + plen, format, 4);
		memcpy(buf + 16 + plen, "LANC", 4);
		lance_version_name(v + 1, v2, name, sizeof(name));
		snprintf(path, sizeof(path), "t.lance/_versions/%s", name);
		ok = storage_put_if_absent(st, path, buf, 4 + plen + 16, &err) == CORE_OK;
		free(buf);
	}
	if (raw.pm)
		lance_raw_manifest_free(&raw);
	lance_versions_free(versions);
	return ok;
}

UNIT_TEST(rows_past_the_row_address_packing_limit_never_pack_to_another_row)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceDataset *ds;
	LanceScanner *sc;
	LanceBatch *b;
	LanceScanOptions opts;
	LanceWriter *wr;
	uint64_t	big = UINT64_C(1) << 31;
	uint64_t	v;
	uint64_t	target = 0;
	int64_t		packable = 0;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	CHECK_MSG(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_2,
								   &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(append_rows(st, "t.lance", 0, 3000, 0, &v, &err), "%s", err.msg);
	CHECK(renumber_only_fragment(st, big));

	/*
	 * Fragment id 2^31 takes 32 bits: offsets up to 10 bits (rows below
	 * 1024) fit the 42, the others must not pack at all.
	 */
	CHECK(lance_dataset_open(st, "t.lance", 0, &ds, &err) == CORE_OK);
	memset(&opts, 0, sizeof(opts));
	CHECK(lance_scanner_open(ds, &opts, &sc, &err) == CORE_OK);
	while (lance_scanner_next(sc, &b, &err) == CORE_OK && b)
	{
		for (int64_t r = 0; r < b->num_rows; r++)
		{
			uint64_t	addr = b->row_addrs[r];
			uint64_t	packed;
			uint64_t	back;
			bool		fits = rowaddr48_pack(addr, &packed);

			CHECK(addr >> 32 == big);
			CHECK(fits == ((uint32_t) addr < 1024));
			if (!fits)
				continue;
			CHECK(rowaddr48_unpack(packed, &back) && back == addr);
			packable++;
			if (((const int64_t *) b->columns[0]->values)[r] == 1000)
				target = back;
		}
		lance_batch_free(b);
	}
	lance_scanner_close(sc);
	lance_dataset_close(ds);
	CHECK(packable == 1024);

	/* the unpacked address deletes exactly the row it came from */
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	CHECK_MSG(lance_writer_delete(wr, target, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 2999 && sum == 2999 * 3000 / 2 - 1000);
	drop_storage(st);
}

/*
 * A list of strings and a struct<x int32, y string>: rows
 * 0: ["a", null, ""], {1, "p"}
 * 1: null,            {null, "q"}
 * 2: [],              null (2.0 cannot store it: {2, null} there)
 */
static const LanceFieldSpec nested_fields[] = {
	{0, -1, "ls", "list", true},
	{1, 0, "item", "string", true},
	{2, -1, "st", "struct", true},
	{3, 2, "x", "int32", true},
	{4, 2, "y", "string", true},
};

static bool
push_nested_rows(LanceArray *ls, LanceArray *stc, bool null_struct, CoreError *err)
{
	int32_t		x1 = 1;
	int32_t		x2 = 2;
	LanceArray *items = ls->children[0];

	return lance_array_push_bytes(items, "a", 1, err) == CORE_OK &&
		lance_array_append_nulls(items, 1, err) == CORE_OK &&
		lance_array_push_bytes(items, "", 0, err) == CORE_OK &&
		lance_array_push_list_end(ls, err) == CORE_OK &&
		lance_array_append_nulls(ls, 1, err) == CORE_OK &&
		lance_array_push_list_end(ls, err) == CORE_OK &&
		lance_array_push_fixed(stc->children[0], &x1, err) == CORE_OK &&
		lance_array_push_bytes(stc->children[1], "p", 1, err) == CORE_OK &&
		lance_array_push_struct_end(stc, err) == CORE_OK &&
		lance_array_append_nulls(stc->children[0], 1, err) == CORE_OK &&
		lance_array_push_bytes(stc->children[1], "q", 1, err) == CORE_OK &&
		lance_array_push_struct_end(stc, err) == CORE_OK &&
		(null_struct
		 ? lance_array_append_nulls(stc, 1, err) == CORE_OK
		 : (lance_array_push_fixed(stc->children[0], &x2, err) == CORE_OK &&
			lance_array_append_nulls(stc->children[1], 1, err) == CORE_OK &&
			lance_array_push_struct_end(stc, err) == CORE_OK));
}

static bool
string_is(const LanceArray *a, int64_t r, const char *s)
{
	int64_t		len = lance_array_offset(a, r + 1) - lance_array_offset(a, r);

	return lance_array_is_valid(a, r) && len == (int64_t) strlen(s) &&
		memcmp(a->values + lance_array_offset(a, r), s, (size_t) len) == 0;
}

/*
 * Read all rows of a file written under "t" (dataset root) back through
 * the fragment reader, as a fragment of that one file.
 */
static CoreStatus
read_written(Storage *st, const LanceWrittenFile *file, const LanceField **fields, int nfields,
			 int64_t rows, LanceArray **got, CoreError *err)
{
	LanceFragmentRef frag;
	LanceDataFileRef df;
	LanceFragmentReader *reader = NULL;
	char		path[96];
	CoreStatus	status;

	memset(&frag, 0, sizeof(frag));
	memset(&df, 0, sizeof(df));
	snprintf(path, sizeof(path), "data/%s", file->name);
	df.path = path;
	df.num_fields = file->num_fields;
	df.field_ids = file->field_ids;
	df.column_indices = file->column_indices;
	df.major = file->major;
	df.minor = file->minor;
	df.size_bytes = file->size_bytes;
	frag.physical_rows = (uint64_t) rows;
	frag.num_files = 1;
	frag.files = &df;
	/* the reader refers to frag: it is closed before frag goes */
	status = lance_fragment_reader_open(st, "t", &frag, fields, nfields, &reader, err);
	if (status == CORE_OK)
		status = lance_fragment_reader_read(reader, 0, rows, got, err);
	if (reader != NULL)
		lance_fragment_reader_close(reader);
	return status;
}

static void
nested_round_trip(LanceFileVersion fv)
{
	Storage    *st = temp_storage();
	LanceSchema *schema = NULL;
	LanceArray *cols[2] = {NULL, NULL};
	LanceArray *got[2] = {NULL, NULL};
	LanceWrittenFile *file = NULL;
	const LanceField *fields[2];
	CoreError	err;
	bool		v20 = fv == LANCE_FILE_V2_0;
	int32_t		x;

	CHECK(st != NULL);
	CHECK(lance_schema_build(nested_fields, 5, "test", &schema, &err) == CORE_OK);
	CHECK_MSG(lance_write_check_schema(schema, &err) == CORE_OK, "%s", err.msg);
	fields[0] = lance_schema_top(schema, 0);
	fields[1] = lance_schema_top(schema, 1);
	CHECK(lance_array_new_for_field(fields[0], &cols[0], &err) == CORE_OK);
	CHECK(lance_array_new_for_field(fields[1], &cols[1], &err) == CORE_OK);
	CHECK_MSG(push_nested_rows(cols[0], cols[1], !v20, &err), "%s", err.msg);
	CHECK_MSG(lance_datafile_write(st, "t", schema, fv, cols, 3, &file, &err) == CORE_OK,
			  "%s", err.msg);

	CHECK_MSG(read_written(st, file, fields, 2, 3, got, &err) == CORE_OK, "%s", err.msg);

	/* the list of strings */
	CHECK(lance_array_is_valid(got[0], 0) && !lance_array_is_valid(got[0], 1) &&
		  lance_array_is_valid(got[0], 2));
	CHECK(lance_array_offset(got[0], 1) - lance_array_offset(got[0], 0) == 3);
	CHECK(lance_array_offset(got[0], 3) == lance_array_offset(got[0], 2));
	CHECK(string_is(got[0]->children[0], lance_array_offset(got[0], 0), "a"));
	CHECK(!lance_array_is_valid(got[0]->children[0], lance_array_offset(got[0], 0) + 1));
	CHECK(string_is(got[0]->children[0], lance_array_offset(got[0], 0) + 2, ""));
	/* the struct */
	CHECK(lance_array_is_valid(got[1], 0) && lance_array_is_valid(got[1], 1));
	CHECK(lance_array_is_valid(got[1], 2) == v20);
	memcpy(&x, got[1]->children[0]->values, sizeof(x));
	CHECK(x == 1 && !lance_array_is_valid(got[1]->children[0], 1));
	CHECK(string_is(got[1]->children[1], 0, "p") && string_is(got[1]->children[1], 1, "q"));
	if (v20)
	{
		memcpy(&x, got[1]->children[0]->values + 2 * sizeof(x), sizeof(x));
		CHECK(x == 2 && !lance_array_is_valid(got[1]->children[1], 2));
	}

	for (int i = 0; i < 2; i++)
	{
		lance_array_free(cols[i]);
		lance_array_free(got[i]);
	}
	lance_written_file_free(file);
	lance_schema_free(schema);
	drop_storage(st);
}

UNIT_TEST(written_lists_of_strings_and_structs_read_back_equal_in_2_0)
{
	nested_round_trip(LANCE_FILE_V2_0);
}

UNIT_TEST(written_lists_of_strings_and_structs_read_back_equal_in_2_1)
{
	nested_round_trip(LANCE_FILE_V2_1);
}

UNIT_TEST(written_lists_of_strings_and_structs_read_back_equal_in_2_2)
{
	nested_round_trip(LANCE_FILE_V2_2);
}

/*
 * list<list<int64>> rows drawn at random: null and empty rows, inner
 * lists null, empty or of 1 to 4 items, null items.  The first inner list
 * of row r is null, empty or not as r % 3 says, so the page breaks of a
 * file (every ~4096 level pairs in 2.1, ~32767 in 2.2) fall on rows that
 * start each way.
 */
static bool
push_random_lists(LanceArray *ll, int64_t rows, uint64_t seed, CoreError *err)
{
	LanceArray *inner = ll->children[0];
	uint64_t	x = seed;
	bool		ok = true;

	for (int64_t r = 0; r < rows && ok; r++)
	{
		int			n;

		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		if (x % 10 == 0)
		{
			ok = lance_array_append_nulls(ll, 1, err) == CORE_OK;
			continue;
		}
		n = (int) (x >> 8) % 5;
		for (int j = 0; j < n && ok; j++)
		{
			int			kind = j == 0 ? (int) (r % 3) : (int) ((x >> (12 + 3 * j)) % 6);

			x ^= x << 13, x ^= x >> 7, x ^= x << 17;
			if (kind == 0)
				ok = lance_array_append_nulls(inner, 1, err) == CORE_OK;
			else
			{
				int			k = kind == 1 ? 0 : 1 + (int) (x % 4);

				for (int i = 0; i < k && ok; i++)
				{
					int64_t		v = (int64_t) (x >> (8 * i)) - 4096;

					ok = ((x >> (40 + i)) & 7) == 0
						? lance_array_append_nulls(inner->children[0], 1, err) == CORE_OK
						: lance_array_push_fixed(inner->children[0], &v, err) == CORE_OK;
				}
				ok = ok && lance_array_push_list_end(inner, err) == CORE_OK;
			}
		}
		ok = ok && lance_array_push_list_end(ll, err) == CORE_OK;
	}
	return ok;
}

/* Whether list entry r of a and of b hold the same items (recursively). */
static bool
same_list(const LanceArray *a, int64_t ra, const LanceArray *b, int64_t rb)
{
	int64_t		na = lance_array_offset(a, ra + 1) - lance_array_offset(a, ra);
	int64_t		nb = lance_array_offset(b, rb + 1) - lance_array_offset(b, rb);

	if (lance_array_is_valid(a, ra) != lance_array_is_valid(b, rb) || na != nb)
		return false;
	for (int64_t i = 0; i < na; i++)
	{
		const LanceArray *ia = a->children[0];
		const LanceArray *ib = b->children[0];
		int64_t		ja = lance_array_offset(a, ra) + i;
		int64_t		jb = lance_array_offset(b, rb) + i;

		if (ia->type->id == LANCE_TYPE_LIST ? !same_list(ia, ja, ib, jb)
			: lance_array_is_valid(ia, ja) != lance_array_is_valid(ib, jb) ||
			(lance_array_is_valid(ia, ja) &&
			 memcmp(ia->values + 8 * ja, ib->values + 8 * jb, 8) != 0))
			return false;
	}
	return true;
}

static void
random_lists_of_lists_round_trip(LanceFileVersion fv, int64_t rows)
{
	static const LanceFieldSpec spec[] = {
		{0, -1, "ll", "list", true},
		{1, 0, "item", "list", true},
		{2, 1, "item", "int64", true},
	};
	Storage    *st = temp_storage();
	LanceSchema *schema = NULL;
	LanceArray *col = NULL;
	LanceArray *got = NULL;
	LanceWrittenFile *file = NULL;
	const LanceField *field;
	CoreError	err;

	CHECK(st != NULL);
	CHECK(lance_schema_build(spec, 3, "test", &schema, &err) == CORE_OK);
	CHECK_MSG(lance_write_check_schema(schema, &err) == CORE_OK, "%s", err.msg);
	field = lance_schema_top(schema, 0);
	CHECK(lance_array_new_for_field(field, &col, &err) == CORE_OK);
	CHECK_MSG(push_random_lists(col, rows, 0x9e3779b97f4a7c15u + (uint64_t) fv, &err), "%s", err.msg);
	CHECK_MSG(lance_datafile_write(st, "t", schema, fv, &col, rows, &file, &err) == CORE_OK,
			  "%s", err.msg);
	CHECK_MSG(read_written(st, file, &field, 1, rows, &got, &err) == CORE_OK,
			  "%s", err.msg);
	CHECK(got->length == rows);
	for (int64_t r = 0; r < rows; r++)
		CHECK_MSG(same_list(col, r, got, r), "row %" PRId64 " reads back different", r);
	lance_array_free(col);
	lance_array_free(got);
	lance_written_file_free(file);
	lance_schema_free(schema);
	drop_storage(st);
}

UNIT_TEST(random_lists_of_lists_read_back_equal_across_pages_in_2_0)
{
	random_lists_of_lists_round_trip(LANCE_FILE_V2_0, 4000);
}

UNIT_TEST(random_lists_of_lists_read_back_equal_across_pages_in_2_1)
{
	random_lists_of_lists_round_trip(LANCE_FILE_V2_1, 4000);
}

UNIT_TEST(random_lists_of_lists_read_back_equal_across_pages_in_2_2)
{
	random_lists_of_lists_round_trip(LANCE_FILE_V2_2, 20000);
}

UNIT_TEST(created_dataset_keeps_list_items_and_struct_members)
{
	Storage    *st = temp_storage();
	LanceFieldSpec bad[] = {{0, -1, "ls", "list", true}, {0, 1, "item", "string", true}};
	LanceDataset *ds;
	const LanceField *ls;
	const LanceField *stf;
	CoreError	err;

	CHECK(st != NULL);
	CHECK_MSG(lance_dataset_create(st, "t.lance", nested_fields, 5, LANCE_FILE_V2_1, &err) == CORE_OK,
			  "%s", err.msg);
	CHECK(lance_dataset_open(st, "t.lance", 0, &ds, &err) == CORE_OK);
	CHECK(lance_schema_num_top(lance_dataset_schema(ds)) == 2);
	ls = lance_schema_top(lance_dataset_schema(ds), 0);
	stf = lance_schema_top(lance_dataset_schema(ds), 1);
	CHECK(ls->type.id == LANCE_TYPE_LIST && ls->num_children == 1 &&
		  ls->children[0]->type.id == LANCE_TYPE_STRING);
	CHECK(stf->type.id == LANCE_TYPE_STRUCT && stf->num_children == 2 &&
		  strcmp(stf->children[1]->name, "y") == 0 && stf->children[1]->id == 4);
	lance_dataset_close(ds);
	/* a child must name a field before it as its parent */
	CHECK(lance_dataset_create(st, "u.lance", bad, 2, LANCE_FILE_V2_1, &err) == CORE_ERR_INVALID);
	CHECK_MSG(strstr(err.msg, "\"item\"") != NULL, "%s", err.msg);
	drop_storage(st);
}

UNIT_TEST(a_null_struct_is_refused_in_2_0)
{
	Storage    *st = temp_storage();
	LanceSchema *schema = NULL;
	LanceArray *cols[2] = {NULL, NULL};
	LanceWrittenFile *file = NULL;
	CoreError	err;

	CHECK(st != NULL);
	CHECK(lance_schema_build(nested_fields, 5, "test", &schema, &err) == CORE_OK);
	CHECK(lance_array_new_for_field(lance_schema_top(schema, 0), &cols[0], &err) == CORE_OK);
	CHECK(lance_array_new_for_field(lance_schema_top(schema, 1), &cols[1], &err) == CORE_OK);
	CHECK(push_nested_rows(cols[0], cols[1], true, &err));
	CHECK(lance_datafile_write(st, "t", schema, LANCE_FILE_V2_0, cols, 3, &file, &err) ==
		  CORE_ERR_UNSUPPORTED);
	CHECK_MSG(strstr(err.msg, "\"st\"") != NULL && strstr(err.msg, "2.0") != NULL, "%s", err.msg);
	lance_array_free(cols[0]);
	lance_array_free(cols[1]);
	lance_schema_free(schema);
	drop_storage(st);
}

UNIT_TEST(restore_makes_a_new_version_with_the_old_rows)
{
	Storage    *st = temp_storage();
	CoreError	err;
	uint64_t	v;
	uint64_t	made;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	CHECK(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_2, &err) == CORE_OK);
	CHECK(append_rows(st, "t.lance", 0, 10, 0, &v, &err));
	CHECK(append_rows(st, "t.lance", 10, 10, 0, &v, &err));
	CHECK(v == 3);
	CHECK_MSG(lance_dataset_restore(st, "t.lance", 2, &made, &err) == CORE_OK, "%s", err.msg);
	CHECK(made == 4);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 10 && sum == 45);
	/* appends after a restore get fragment ids never used before */
	CHECK_MSG(append_rows(st, "t.lance", 100, 1, 0, &v, &err), "%s", err.msg);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 11);
	CHECK(lance_dataset_restore(st, "t.lance", 99, &made, &err) == CORE_ERR_NOT_FOUND);
	drop_storage(st);
}

UNIT_TEST(cleanup_removes_old_versions_and_keeps_the_newest_readable)
{
	Storage    *st = temp_storage();
	CoreError	err;
	uint64_t	v;
	LanceCleanupStats stats;
	LanceVersionList *versions;
	int64_t		count;
	int64_t		sum;
	char		msg[256];
	char		dir[600];
	Storage    *dst;
	LanceWriter *wr;

	CHECK(st != NULL);
	CHECK(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_0, &err) == CORE_OK);
	CHECK(append_rows(st, "t.lance", 0, 50, 0, &v, &err));
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	CHECK(lance_writer_compact(wr, &count, &err) == CORE_OK);
	CHECK(count == 0);				/* one fragment, no deletions */
	for (int i = 0; i < 50; i++)
		CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, i), &err) == CORE_OK);
	CHECK(lance_writer_commit(wr, &v, &err) == CORE_OK);
	lance_writer_free(wr);
	CHECK(append_rows(st, "t.lance", 50, 5, 0, &v, &err));

	snprintf(dir, sizeof(dir), "%s/t.lance", storage_root(st));
	CHECK(storage_open(dir, &dst, &err) == CORE_OK);
	CHECK_MSG(lance_dataset_cleanup(dst, (int64_t) time(NULL) + 3600, &stats, &err) == CORE_OK,
			  "%s", err.msg);
	storage_close(dst);
	CHECK(stats.versions_removed == 3);
	CHECK(stats.files_removed >= 1);	/* the data file of the deleted fragment */
	CHECK(lance_versions_list(st, "t.lance", &versions, &err) == CORE_OK);
	CHECK(versions->count == 1 && versions->entries[0].version == 4);
	lance_versions_free(versions);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 5);
	drop_storage(st);
}

/*
 * Make the dataset's data/ folder unusable (a file takes its place, so a
 * data file cannot be created), or put it back.
 */
static bool
break_data_dir(Storage *st, bool broken)
{
	char		dir[600];
	char		saved[620];
	FILE	   *f;

	snprintf(dir, sizeof(dir), "%s/t.lance/data", storage_root(st));
	snprintf(saved, sizeof(saved), "%s.saved", dir);
	if (!broken)
		return unlink(dir) == 0 && rename(saved, dir) == 0;
	if (rename(dir, saved) != 0 || (f = fopen(dir, "w")) == NULL)
		return false;
	fclose(f);
	return true;
}

/* A writer of the 10-row dataset t.lance that cuts files of 100 rows. */
static LanceWriter *
writer_of_100_row_files(Storage *st, CoreError *err)
{
	LanceWriteOptions opts = {100, 0};
	LanceWriter *wr;
	uint64_t	v;

	if (lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_2,
							 err) != CORE_OK ||
		!append_rows(st, "t.lance", 0, 10, 0, &v, err) ||
		lance_writer_open(st, "t.lance", &opts, &wr, err) != CORE_OK)
		return NULL;
	if (lance_writer_prepare_append(wr, err) != CORE_OK)
	{
		lance_writer_free(wr);
		return NULL;
	}
	return wr;
}

/* Push rows [from, to); the status of the first push that fails. */
static CoreStatus
push_rows(LanceWriter *wr, int64_t from, int64_t to, CoreError *err)
{
	for (int64_t i = from; i < to; i++)
	{
		CoreStatus	status = push_row(wr, i, err);

		if (status != CORE_OK)
			return status;
	}
	return CORE_OK;
}

UNIT_TEST(failed_background_write_is_reported_at_the_next_flush_and_at_commit)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	uint64_t	v;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	wr = writer_of_100_row_files(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(break_data_dir(st, true));
	/* row 109 fills the first file, whose write fails in the background */
	CHECK(push_rows(wr, 10, 110, &err) == CORE_OK);
	CHECK(push_rows(wr, 110, 210, &err) != CORE_OK);
	CHECK_MSG(strstr(err.msg, "t.lance/data") != NULL, "%s", err.msg);
	CHECK(lance_writer_has_changes(wr));
	CHECK(lance_writer_commit(wr, &v, &err) != CORE_OK);
	CHECK_MSG(strstr(err.msg, "t.lance/data") != NULL, "%s", err.msg);
	lance_writer_free(wr);
	CHECK(break_data_dir(st, false));
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 10 && sum == 45);
	drop_storage(st);
}

UNIT_TEST(rollback_forgives_a_failed_background_write_of_rows_after_the_savepoint)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = writer_of_100_row_files(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	/* rows 10..109 go to a file; the savepoint waits until it is written */
	CHECK(push_rows(wr, 10, 110, &err) == CORE_OK);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	CHECK(break_data_dir(st, true));
	/* the file of rows 110..209 fails in the background */
	CHECK(push_rows(wr, 110, 250, &err) == CORE_OK);
	lance_writer_rollback_savepoint(wr);
	CHECK(break_data_dir(st, false));
	commit_and_check(st, wr, 110, 109 * 110 / 2);
	drop_storage(st);
}

UNIT_TEST(rollback_takes_back_the_earlier_rows_of_a_failed_background_write)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = writer_of_100_row_files(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(push_rows(wr, 10, 60, &err) == CORE_OK);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	CHECK(break_data_dir(st, true));
	/* the file of rows 10..109, half of them buffered before the savepoint */
	CHECK(push_rows(wr, 60, 130, &err) == CORE_OK);
	/* the failure is seen by the next file's flush */
	CHECK(push_rows(wr, 130, 210, &err) != CORE_OK);
	lance_writer_rollback_savepoint(wr);
	CHECK(break_data_dir(st, false));
	commit_and_check(st, wr, 60, 59 * 60 / 2);
	drop_storage(st);
}

/* Whether rows [from, to) of fragment 0 are all deleted (or all not). */
static bool
deleted_range(LanceWriter *wr, uint32_t from, uint32_t to, bool deleted)
{
	for (uint32_t i = from; i < to; i++)
		if (lance_writer_deleted(wr, LANCE_ROW_ADDR(0, i)) != deleted)
			return false;
	return true;
}

UNIT_TEST(rollback_puts_back_a_deletion_set_grown_past_4096_offsets_across_nested_savepoints)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	uint64_t	v;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	CHECK(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_2,
							   &err) == CORE_OK);
	CHECK_MSG(append_rows(st, "t.lance", 0, 5000, 0, &v, &err), "%s", err.msg);
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	for (uint32_t i = 0; i < 4000; i++)
		CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, i), &err) == CORE_OK);
	/* outer savepoint: 4000 deleted; the inner one adds past 4096 */
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	for (uint32_t i = 4000; i < 4050; i++)
		CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, i), &err) == CORE_OK);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	for (uint32_t i = 4050; i < 4200; i++)
		CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, i), &err) == CORE_OK);
	lance_writer_rollback_savepoint(wr);
	CHECK(deleted_range(wr, 0, 4050, true) && deleted_range(wr, 4050, 4200, false));
	/* deleted again and kept by the inner release, then the outer rollback */
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	for (uint32_t i = 4050; i < 4300; i++)
		CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, i), &err) == CORE_OK);
	lance_writer_release_savepoint(wr);
	CHECK(deleted_range(wr, 0, 4300, true));
	lance_writer_rollback_savepoint(wr);
	CHECK(deleted_range(wr, 0, 4000, true) && deleted_range(wr, 4000, 5000, false));
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 1000 && sum == (int64_t) (4000 + 4999) * 1000 / 2);
	drop_storage(st);
}

UNIT_TEST(inner_savepoints_released_under_an_outer_one_keep_no_copies_of_a_set)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	uint64_t	v;

	CHECK(st != NULL);
	CHECK(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_2,
							   &err) == CORE_OK);
	CHECK_MSG(append_rows(st, "t.lance", 0, 5000, 0, &v, &err), "%s", err.msg);
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	for (uint32_t i = 0; i < 3000; i++)
		CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, i), &err) == CORE_OK);
	/* a PL/pgSQL loop with an EXCEPTION block inside an outer one */
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 3000), &err) == CORE_OK);
	CHECK(lance_writer_undo_entries(wr) == 1);
	for (uint32_t i = 3001; i < 5000; i++)
	{
		CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
		CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, i), &err) == CORE_OK);
		lance_writer_release_savepoint(wr);
	}
	/* the outer savepoint's copy alone: not one per released turn */
	CHECK_MSG(lance_writer_undo_entries(wr) == 1, "%lld copies held",
			  (long long) lance_writer_undo_entries(wr));
	CHECK(deleted_range(wr, 0, 5000, true));
	lance_writer_rollback_savepoint(wr);
	CHECK(deleted_range(wr, 0, 3000, true) && deleted_range(wr, 3000, 5000, false));
	CHECK_MSG(lance_writer_commit(wr, &v, &err) == CORE_OK, "%s", err.msg);
	lance_writer_free(wr);
	drop_storage(st);
}

/* Whether exactly the rows of fragment frag listed in want are deleted. */
static bool
deleted_exactly(LanceWriter *wr, uint32_t frag, uint32_t rows, const uint32_t *want, int nwant)
{
	for (uint32_t i = 0; i < rows; i++)
	{
		bool		listed = false;

		for (int j = 0; j < nwant; j++)
			listed |= want[j] == i;
		if (lance_writer_deleted(wr, LANCE_ROW_ADDR(frag, i)) != listed)
			return false;
	}
	return true;
}

UNIT_TEST(an_entry_a_release_moved_down_is_put_back_by_the_outer_rollback)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	uint64_t	v;
	const uint32_t a_before[] = {1};
	const uint32_t b_before[] = {5};
	const uint32_t a_released[] = {1, 2, 3};
	const uint32_t b_released[] = {3, 5};

	CHECK(st != NULL);
	CHECK(lance_dataset_create(st, "t.lance", test_fields, NUM_TEST_FIELDS, LANCE_FILE_V2_2,
							   &err) == CORE_OK);
	CHECK_MSG(append_rows(st, "t.lance", 0, 10, 0, &v, &err), "%s", err.msg);
	CHECK_MSG(append_rows(st, "t.lance", 10, 10, 0, &v, &err), "%s", err.msg);
	CHECK(lance_writer_open(st, "t.lance", NULL, &wr, &err) == CORE_OK);
	/* both sets exist before the outer savepoint, so changing them copies */
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 1), &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 5), &err) == CORE_OK);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 2), &err) == CORE_OK);
	/* A's inner copy is dropped by the release, B's moved down */
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(0, 3), &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 3), &err) == CORE_OK);
	lance_writer_release_savepoint(wr);
	CHECK(lance_writer_undo_entries(wr) == 2);
	/* B's moved entry is the one this savepoint's copy chains to */
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	CHECK(lance_writer_delete(wr, LANCE_ROW_ADDR(1, 4), &err) == CORE_OK);
	lance_writer_rollback_savepoint(wr);
	CHECK(deleted_exactly(wr, 0, 10, a_released, 3) &&
		  deleted_exactly(wr, 1, 10, b_released, 2));
	lance_writer_rollback_savepoint(wr);
	CHECK(deleted_exactly(wr, 0, 10, a_before, 1) && deleted_exactly(wr, 1, 10, b_before, 1));
	CHECK(lance_writer_undo_entries(wr) == 0);
	lance_writer_free(wr);
	drop_storage(st);
}

UNIT_TEST(freeing_a_writer_while_a_file_is_written_in_the_background_commits_nothing)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	wr = writer_of_100_row_files(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	/* row 109 fills a file, row 110 waits in the buffer */
	CHECK(push_rows(wr, 10, 111, &err) == CORE_OK);
	lance_writer_free(wr);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 10 && sum == 45);
	drop_storage(st);
}

/*
 * A storage whose data file uploads stall, polling the cancel callback as
 * an object store's do between network waits, until the test opens the
 * gate (or about 10 s pass: a test that fails must not hang).
 */
static const StorageOps *gate_real_ops;
static StorageOps gate_ops;
static bool gate_open;
static bool gate_cancel_flag;
static int	gate_polls;
static int	gate_canceled;
static int	gate_written;

static bool
gate_cancel(void *arg)
{
	return __atomic_load_n(&gate_cancel_flag, __ATOMIC_ACQUIRE);
}

static CoreStatus
gate_put(Storage *st, const char *path, const uint8_t *data, size_t size, bool if_absent,
		 CoreError *err)
{
	if (strstr(path, "/data/") != NULL)
	{
		for (int i = 0; i < 10000 && !__atomic_load_n(&gate_open, __ATOMIC_ACQUIRE); i++)
		{
			__atomic_add_fetch(&gate_polls, 1, __ATOMIC_ACQ_REL);
			if (storage_canceled(st))
			{
				__atomic_add_fetch(&gate_canceled, 1, __ATOMIC_ACQ_REL);
				return core_error(err, CORE_ERR_CANCELED, "%s: canceled", path);
			}
			usleep(1000);
		}
		__atomic_add_fetch(&gate_written, 1, __ATOMIC_ACQ_REL);
	}
	return gate_real_ops->put(st, path, data, size, if_absent, err);
}

/* Route st's uploads through gate_put, its cancel through gate_cancel. */
static void
gate_storage(Storage *st)
{
	gate_real_ops = st->ops;
	gate_ops = *st->ops;
	gate_ops.put = gate_put;
	st->ops = &gate_ops;
	storage_set_cancel(st, gate_cancel, NULL);
	gate_open = false;
	gate_cancel_flag = false;
	gate_polls = gate_canceled = gate_written = 0;
}

/* writer_of_100_row_files with st's uploads gated (gate_storage). */
static LanceWriter *
gated_writer_of_100_row_files(Storage *st, CoreError *err)
{
	LanceWriter *wr = writer_of_100_row_files(st, err);

	if (wr != NULL)
		gate_storage(st);
	return wr;
}

/* Put st's own uploads back (no thread uses st now), then drop it. */
static void
drop_gated_storage(Storage *st)
{
	st->ops = gate_real_ops;
	drop_storage(st);
}

/* Wait until the stalled upload has polled the cancel callback n times. */
static bool
gate_wait_polls(int n)
{
	for (int i = 0; i < 10000; i++)
	{
		if (__atomic_load_n(&gate_polls, __ATOMIC_ACQUIRE) >= n)
			return true;
		usleep(1000);
	}
	return false;
}

UNIT_TEST(a_cancel_while_the_caller_does_other_work_leaves_the_background_write_alone)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = gated_writer_of_100_row_files(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	/* rows 10..109 go to a file whose upload stalls */
	CHECK(push_rows(wr, 10, 111, &err) == CORE_OK);
	/* another statement is canceled, and its cancel serviced, meanwhile */
	__atomic_store_n(&gate_cancel_flag, true, __ATOMIC_RELEASE);
	CHECK(gate_wait_polls(5));
	__atomic_store_n(&gate_cancel_flag, false, __ATOMIC_RELEASE);
	__atomic_store_n(&gate_open, true, __ATOMIC_RELEASE);
	CHECK(gate_canceled == 0);
	commit_and_check(st, wr, 111, 110 * 111 / 2);
	drop_gated_storage(st);
}

UNIT_TEST(a_cancel_while_the_caller_waits_for_the_background_write_stops_the_wait_only)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	uint64_t	v;

	CHECK(st != NULL);
	wr = gated_writer_of_100_row_files(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(push_rows(wr, 10, 111, &err) == CORE_OK);
	CHECK(gate_wait_polls(1));
	__atomic_store_n(&gate_cancel_flag, true, __ATOMIC_RELEASE);
	/* the commit's wait stops; the write goes on until the abort frees */
	CHECK(lance_writer_commit(wr, &v, &err) == CORE_ERR_CANCELED);
	CHECK(gate_canceled == 0 && gate_written == 0);
	lance_writer_free(wr);
	CHECK(gate_canceled == 1 && gate_written == 0);
	drop_gated_storage(st);
}

UNIT_TEST(freeing_a_writer_abandons_its_background_write_without_a_cancel)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;
	int64_t		count;
	int64_t		sum;
	char		msg[256];

	CHECK(st != NULL);
	wr = gated_writer_of_100_row_files(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(push_rows(wr, 10, 111, &err) == CORE_OK);
	CHECK(gate_wait_polls(1));
	/* an abort: the backend's cancel flag was cleared when it raised */
	lance_writer_free(wr);
	CHECK(gate_canceled == 1 && gate_written == 0);
	CHECK_MSG(scan_all(st, "t.lance", &count, &sum, msg, sizeof(msg)), "%s", msg);
	CHECK(count == 10 && sum == 45);
	drop_gated_storage(st);
}

UNIT_TEST(a_savepoint_canceled_while_it_waits_leaves_the_earlier_rows_to_the_commit)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = gated_writer_of_100_row_files(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	/* a COPY: rows 10..109 go to a file whose upload stalls */
	CHECK(push_rows(wr, 10, 111, &err) == CORE_OK);
	CHECK(gate_wait_polls(1));
	/* the next statement's savepoint waits for it, and is canceled */
	__atomic_store_n(&gate_cancel_flag, true, __ATOMIC_RELEASE);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_ERR_CANCELED);
	__atomic_store_n(&gate_cancel_flag, false, __ATOMIC_RELEASE);
	__atomic_store_n(&gate_open, true, __ATOMIC_RELEASE);
	CHECK(gate_canceled == 0);
	commit_and_check(st, wr, 111, 110 * 111 / 2);
	CHECK(gate_written == 2);
	drop_gated_storage(st);
}

UNIT_TEST(rolling_back_a_savepoint_abandons_a_write_holding_rows_from_before_it)
{
	Storage    *st = temp_storage();
	CoreError	err;
	LanceWriter *wr;

	CHECK(st != NULL);
	wr = gated_writer_of_100_row_files(st, &err);
	CHECK_MSG(wr != NULL, "%s", err.msg);
	CHECK(push_rows(wr, 10, 60, &err) == CORE_OK);
	CHECK(lance_writer_savepoint(wr, &err) == CORE_OK);
	/* the stalled file holds rows 10..109, 50 of them from before */
	CHECK(push_rows(wr, 60, 130, &err) == CORE_OK);
	CHECK(gate_wait_polls(1));
	/* an abort rolls back each savepoint first: it must not wait */
	lance_writer_rollback_savepoint(wr);
	CHECK(gate_canceled == 1 && gate_written == 0);
	/* the rows from before the savepoint are buffered again */
	__atomic_store_n(&gate_open, true, __ATOMIC_RELEASE);
	commit_and_check(st, wr, 60, 59 * 60 / 2);
	drop_gated_storage(st);
}

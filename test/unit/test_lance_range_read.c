/*
 * test_lance_range_read.c
 *	  Pages read a range of rows at a time (fragment.c): full-zip vector
 *	  pages read by byte range, with and without control bytes, and
 *	  mini-block pages decoded a few chunks at a time.  Whatever the batch
 *	  size, and for single rows taken by address, the rows must be the ones
 *	  written.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lance/commit.h"
#include "lance/dataset.h"
#include "lance_testutil.h"
#include "unit.h"

/* Wide enough (384 bytes) that the writer makes full-zip pages. */
#define DIM 96
#define ROWS_FIRST 6000
#define ROWS_SECOND 1500

static const LanceFieldSpec fields[] = {
	{0, -1, "id", "int64", false},
	{0, -1, "x", "int32", true},
	{0, -1, "s", "string", true},
	{0, -1, "v", "fixed_size_list:float:96", true},	/* nulls: control bytes */
	{0, -1, "u", "fixed_size_list:float:96", false},	/* none: bare values */
};
#define NUM_FIELDS ((int) (sizeof(fields) / sizeof(fields[0])))

static bool
x_null(int64_t id)
{
	return id % 7 == 3;
}

static bool
s_null(int64_t id)
{
	return id % 11 == 2;
}

static bool
v_null(int64_t id)
{
	return id % 17 == 5;
}

static CoreStatus
push_row(LanceWriter *wr, int64_t id, CoreError *err)
{
	int32_t		x = (int32_t) (id * 3);
	char		s[32];
	float		v[DIM];
	float		u[DIM];
	CoreStatus	st;

	for (int k = 0; k < DIM; k++)
	{
		v[k] = (float) (id + k);
		u[k] = (float) (id * 2 - k);
	}
	snprintf(s, sizeof(s), "row-%" PRId64 "-%s", id, id % 3 ? "abc" : "defghij");
	st = lance_array_push_fixed(lance_writer_column(wr, 0), &id, err);
	if (st == CORE_OK)
		st = x_null(id) ? lance_array_append_nulls(lance_writer_column(wr, 1), 1, err)
			: lance_array_push_fixed(lance_writer_column(wr, 1), &x, err);
	if (st == CORE_OK)
		st = s_null(id) ? lance_array_append_nulls(lance_writer_column(wr, 2), 1, err)
			: lance_array_push_bytes(lance_writer_column(wr, 2), s, strlen(s), err);
	if (st == CORE_OK)
		st = v_null(id) ? lance_array_append_nulls(lance_writer_column(wr, 3), 1, err)
			: lance_array_push_fsl(lance_writer_column(wr, 3), v, err);
	if (st == CORE_OK)
		st = lance_array_push_fsl(lance_writer_column(wr, 4), u, err);
	if (st == CORE_OK)
		st = lance_writer_row_done(wr, err);
	return st;
}

/* Whether row r of the batch holds what push_row wrote for its id. */
static bool
row_matches(const LanceBatch *b, int64_t r, int64_t *id_out)
{
	int64_t		id = ((const int64_t *) b->columns[0]->values)[r];
	const LanceArray *s = b->columns[2];
	const float *v = (const float *) b->columns[3]->children[0]->values + r * DIM;
	const float *u = (const float *) b->columns[4]->children[0]->values + r * DIM;
	char		want[32];

	*id_out = id;
	if (lance_array_is_valid(b->columns[1], r) == x_null(id) ||
		(!x_null(id) && ((const int32_t *) b->columns[1]->values)[r] != (int32_t) (id * 3)))
		return false;
	snprintf(want, sizeof(want), "row-%" PRId64 "-%s", id, id % 3 ? "abc" : "defghij");
	if (lance_array_is_valid(s, r) == s_null(id) ||
		(!s_null(id) &&
		 (lance_array_offset(s, r + 1) - lance_array_offset(s, r) != (int64_t) strlen(want) ||
		  memcmp(s->values + lance_array_offset(s, r), want, strlen(want)) != 0)))
		return false;
	if (lance_array_is_valid(b->columns[3], r) == v_null(id))
		return false;
	for (int k = 0; k < DIM; k++)
		if ((!v_null(id) && v[k] != (float) (id + k)) || u[k] != (float) (id * 2 - k))
			return false;
	return lance_array_is_valid(b->columns[4], r);
}

/* A dataset of two fragments (ROWS_FIRST and ROWS_SECOND rows) in dir. */
static bool
make_dataset(const char *dir, LanceFileVersion fv, Storage **st, char *msg, size_t msglen)
{
	LanceWriteOptions opts = {ROWS_FIRST, 0};
	LanceWriter *wr = NULL;
	CoreError	err;
	uint64_t	version;
	bool		ok;

	ok = storage_open(dir, st, &err) == CORE_OK &&
		lance_dataset_create(*st, "t.lance", fields, NUM_FIELDS, fv, &err) == CORE_OK &&
		lance_writer_open(*st, "t.lance", &opts, &wr, &err) == CORE_OK &&
		lance_writer_prepare_append(wr, &err) == CORE_OK;
	for (int64_t id = 0; ok && id < ROWS_FIRST + ROWS_SECOND; id++)
		ok = push_row(wr, id, &err) == CORE_OK;
	ok = ok && lance_writer_commit(wr, &version, &err) == CORE_OK;
	if (!ok)
		snprintf(msg, msglen, "%s", err.msg);
	lance_writer_free(wr);
	return ok;
}

/* Scan with batches of batch_rows: every row must match, ids in order. */
static bool
scan_matches(Storage *st, int64_t batch_rows, char *msg, size_t msglen)
{
	LanceDataset *ds = NULL;
	LanceScanner *sc = NULL;
	LanceBatch *b = NULL;
	LanceScanOptions opts;
	CoreError	err;
	int64_t		next = 0;
	bool		ok;

	memset(&opts, 0, sizeof(opts));
	opts.batch_rows = batch_rows;
	ok = lance_dataset_open(st, "t.lance", 0, &ds, &err) == CORE_OK &&
		lance_scanner_open(ds, &opts, &sc, &err) == CORE_OK;
	if (!ok)
		snprintf(msg, msglen, "%s", err.msg);
	while (ok && (ok = lance_scanner_next(sc, &b, &err) == CORE_OK) && b)
	{
		for (int64_t r = 0; ok && r < b->num_rows; r++)
		{
			int64_t		id;

			ok = row_matches(b, r, &id) && id == next++;
			if (!ok)
				snprintf(msg, msglen, "batches of %" PRId64 ": row with id %" PRId64 " differs",
						 batch_rows, id);
		}
		lance_batch_free(b);
	}
	if (!ok && b == NULL && msg[0] == '\0')
		snprintf(msg, msglen, "%s", err.msg);
	if (ok && next != ROWS_FIRST + ROWS_SECOND)
	{
		snprintf(msg, msglen, "batches of %" PRId64 ": %" PRId64 " rows", batch_rows, next);
		ok = false;
	}
	lance_scanner_close(sc);
	lance_dataset_close(ds);
	return ok;
}

static void
every_batch_size(LanceFileVersion fv)
{
	static const int64_t sizes[] = {1, 7, 2047, 5999, 0};
	char		dir[256];
	char		msg[512] = "";
	Storage    *st = NULL;

	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK_MSG(make_dataset(dir, fv, &st, msg, sizeof(msg)), "%s", msg);
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		CHECK_MSG(scan_matches(st, sizes[i], msg, sizeof(msg)), "%s", msg);
	storage_close(st);
	tu_rmtree(dir);
}

UNIT_TEST(range_reads_of_2_1_pages_give_the_written_rows_at_every_batch_size)
{
	every_batch_size(LANCE_FILE_V2_1);
}

UNIT_TEST(range_reads_of_2_2_pages_give_the_written_rows_at_every_batch_size)
{
	every_batch_size(LANCE_FILE_V2_2);
}

UNIT_TEST(take_of_scattered_rows_reads_each_one_by_range)
{
	/* backwards, across fragments and chunks, with a repeat */
	static const int64_t ids[] = {7499, 6000, 5999, 4100, 17 * 3 + 5, 2048, 2047, 3, 0, 4100};
	int			n = (int) (sizeof(ids) / sizeof(ids[0]));
	uint64_t	addrs[sizeof(ids) / sizeof(ids[0])];
	char		dir[256];
	char		msg[512] = "";
	Storage    *st = NULL;
	LanceDataset *ds;
	LanceBatch *b;
	CoreError	err;

	for (int i = 0; i < n; i++)
		addrs[i] = ids[i] < ROWS_FIRST ? LANCE_ROW_ADDR(0, ids[i]) :
			LANCE_ROW_ADDR(1, ids[i] - ROWS_FIRST);
	CHECK(tu_tempdir(dir, sizeof(dir)));
	CHECK_MSG(make_dataset(dir, LANCE_FILE_V2_2, &st, msg, sizeof(msg)), "%s", msg);
	CHECK_MSG(lance_dataset_open(st, "t.lance", 0, &ds, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(lance_dataset_take(ds, addrs, n, NULL, 0, &b, &err) == CORE_OK, "%s", err.msg);
	CHECK(b->num_rows == n);
	for (int i = 0; i < n; i++)
	{
		int64_t		id;

		CHECK_MSG(row_matches(b, i, &id) && id == ids[i], "take %d: id %" PRId64 " differs", i, id);
	}
	lance_batch_free(b);
	lance_dataset_close(ds);
	storage_close(st);
	tu_rmtree(dir);
}

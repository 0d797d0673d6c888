/*-------------------------------------------------------------------------
 *
 * test_take_vectors.c
 *	  Vectors read row by row equal the rows the general take returns.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lance/dataset.h"
#include "lance/take_vectors.h"
#include "lance_testutil.h"
#include "unit.h"

UNIT_TEST(vectors_10k_rows_read_one_by_one_equal_the_take_of_those_rows)
{
	char		path[1024];
	Storage    *st = NULL;
	LanceDataset *ds = NULL;
	LanceBatch *batch = NULL;
	const char *cols[] = {"vec"};
	uint64_t	addrs[6];
	float	   *direct;
	const LanceManifest *m;
	const LanceField *field;
	CoreError	err;
	CoreStatus	status;

	if (!tu_fixture_path("vectors_10k.lance", path, sizeof(path)))
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	CHECK_MSG(storage_open(path, &st, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(lance_dataset_open(st, "", 0, &ds, &err) == CORE_OK, "%s", err.msg);
	m = lance_dataset_manifest(ds);
	field = lance_schema_find_top(lance_dataset_schema(ds), "vec");
	CHECK(field != NULL && m->num_fragments >= 2);

	/* rows of both fragments, out of order, one twice */
	addrs[0] = LANCE_ROW_ADDR(m->fragments[1].id, 7);
	addrs[1] = LANCE_ROW_ADDR(m->fragments[0].id, 0);
	addrs[2] = LANCE_ROW_ADDR(m->fragments[0].id, m->fragments[0].physical_rows - 1);
	addrs[3] = LANCE_ROW_ADDR(m->fragments[1].id, 1234);
	addrs[4] = LANCE_ROW_ADDR(m->fragments[0].id, 4096);
	addrs[5] = addrs[0];
	direct = malloc(sizeof(float) * 6 * field->type.fixed_size);
	status = lance_take_vectors(st, "", m, field, addrs, 6, direct, &err);
	CHECK_MSG(status == CORE_OK, "%s: %s", core_status_name(status), err.msg);
	CHECK_MSG(lance_dataset_take(ds, addrs, 6, cols, 1, &batch, &err) == CORE_OK, "%s", err.msg);
	CHECK(memcmp(direct, batch->columns[0]->children[0]->values,
				 sizeof(float) * 6 * field->type.fixed_size) == 0);

	lance_batch_free(batch);
	free(direct);
	lance_dataset_close(ds);
	storage_close(st);
}

UNIT_TEST(a_column_that_is_not_a_float_vector_is_refused_before_reading)
{
	char		path[1024];
	Storage    *st = NULL;
	LanceDataset *ds = NULL;
	uint64_t	addr = 0;
	float		out[4];
	CoreError	err;
	CoreStatus	status;

	if (!tu_fixture_path("vectors_10k.lance", path, sizeof(path)))
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	CHECK_MSG(storage_open(path, &st, &err) == CORE_OK, "%s", err.msg);
	CHECK_MSG(lance_dataset_open(st, "", 0, &ds, &err) == CORE_OK, "%s", err.msg);
	status = lance_take_vectors(st, "", lance_dataset_manifest(ds),
								lance_schema_find_top(lance_dataset_schema(ds), "label"),
								&addr, 1, out, &err);
	CHECK_MSG(status == CORE_ERR_UNSUPPORTED, "%s: %s", core_status_name(status), err.msg);
	CHECK_MSG(strstr(err.msg, "label") != NULL, "%s", err.msg);
	lance_dataset_close(ds);
	storage_close(st);
}

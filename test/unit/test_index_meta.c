/*-------------------------------------------------------------------------
 *
 * test_index_meta.c
 *	  The index section of LanceDB-written manifests, and broken ones.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lance/dataset.h"
#include "lance/index_meta.h"
#include "unit.h"

/* The index list of a fixture table's newest version, or NULL if skipped. */
static LanceIndexList *
ListFixture(const char *table, CoreStatus *status, CoreError *err)
{
	const char *dir = unit_fixture_dir();
	char		path[4096];
	Storage    *st = NULL;
	LanceDataset *ds = NULL;
	LanceIndexList *list = NULL;

	*status = CORE_OK;
	if (dir == NULL)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", dir, table);
	if ((*status = storage_open(path, &st, err)) == CORE_OK &&
		(*status = lance_dataset_open(st, "", 0, &ds, err)) == CORE_OK)
		*status = lance_index_list_read(st, lance_dataset_manifest(ds)->name, &list, err);
	if (ds)
		lance_dataset_close(ds);
	if (st)
		storage_close(st);
	return list;
}

UNIT_TEST(vectors_10k_lists_its_btree_index_on_id_covering_both_fragments)
{
	CoreStatus	status;
	CoreError	err;
	LanceIndexList *list = ListFixture("vectors_10k.lance", &status, &err);
	const LanceIndexInfo *ix;

	if (list == NULL && status == CORE_OK)
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	CHECK_MSG(status == CORE_OK, "%s", err.msg);
	CHECK(list->count == 1);
	ix = &list->indexes[0];
	CHECK_MSG(strcmp(ix->name, "id_idx") == 0, "name %s", ix->name);
	CHECK_MSG(strcmp(ix->details_type, "BTreeIndexDetails") == 0, "type %s", ix->details_type);
	/* id is the schema's first field, id 0 */
	CHECK(ix->num_fields == 1 && ix->field_ids[0] == 0);
	CHECK(ix->has_fragments && ix->num_fragments == 2);
	CHECK(ix->fragment_ids[0] == 0 && ix->fragment_ids[1] == 1);
	CHECK(strlen(ix->uuid) == 36 && ix->uuid[8] == '-');
	lance_index_list_free(list);
}

UNIT_TEST(a_dataset_without_indexes_lists_none)
{
	CoreStatus	status;
	CoreError	err;
	LanceIndexList *list = ListFixture("vectors_small_v2_0.lance", &status, &err);

	if (list == NULL && status == CORE_OK)
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	CHECK_MSG(status == CORE_OK, "%s", err.msg);
	CHECK(list->count == 0);
	lance_index_list_free(list);
}

UNIT_TEST(an_index_section_past_the_end_is_an_error_naming_the_file)
{
	/*
	 * A manifest protobuf {index_section: 1000} (field 6, varint) at 0,
	 * then the footer pointing at it, in a 27-byte file.
	 */
	uint8_t		file[4 + 3 + 16] = {3, 0, 0, 0, 0x30, 0xe8, 0x07};
	LanceIndexList *list = NULL;
	CoreError	err;

	memset(file + 7, 0, 8);		/* manifest position 0 */
	file[15] = 0;
	file[16] = 2;				/* major/minor version */
	file[17] = 0;
	file[18] = 0;
	memcpy(file + 19, "LANC", 4);
	CHECK(lance_index_list_parse(file, sizeof(file), "m.manifest", &list, &err) == CORE_ERR_CORRUPT);
	CHECK(list == NULL);
	CHECK_MSG(strstr(err.msg, "m.manifest") != NULL && strstr(err.msg, "index section") != NULL,
			  "%s", err.msg);
}

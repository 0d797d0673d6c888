/*-------------------------------------------------------------------------
 *
 * test_index_ivf.c
 *	  Opening a LanceDB IVF index: what is not one is refused in a way
 *	  the FDW turns into a flat search, never read as one.
 *
 * Indexes LanceDB really built are searched in test/interop
 * (search_index_interop.mjs), against LanceDB's own indexed search.
 *
 *-------------------------------------------------------------------------
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lance/index_ivf.h"
#include "lance_testutil.h"
#include "unit.h"

#define UUID "0b5a2c1e-0000-4000-8000-000000000001"

/*
 * A copy of vectors_10k whose _indices/UUID/index.idx is `bytes` (or one
 * of the dataset's own data files when bytes is NULL); false to skip.
 */
static bool
MakeIndexDir(char *dir, size_t dirlen, char *ds, size_t dslen, const uint8_t *bytes, size_t len)
{
	char		data[1200];
	char		idx[1400];
	char		file[1600];
	uint8_t    *own = NULL;
	bool		ok;

	if (!tu_copy_fixture("vectors_10k.lance", dir, dirlen, ds, dslen))
		return false;
	snprintf(idx, sizeof(idx), "%s/_indices", ds);
	mkdir(idx, 0755);
	snprintf(idx, sizeof(idx), "%s/_indices/" UUID, ds);
	mkdir(idx, 0755);
	if (bytes == NULL)
	{
		snprintf(data, sizeof(data), "%s/data", ds);
		if (!tu_find_file(data, ".lance", file, sizeof(file)) || (own = tu_read(file, &len)) == NULL)
			return false;
		bytes = own;
	}
	snprintf(file, sizeof(file), "%s/index.idx", idx);
	ok = tu_write(file, bytes, len);
	free(own);
	return ok;
}

/* Open the index in the dataset at ds; the status, the message in err. */
static CoreStatus
OpenIndex(const char *ds, CoreError *err)
{
	Storage    *st;
	LanceIvfIndex *ix = NULL;
	CoreStatus	status = storage_open(ds, &st, err);

	if (status != CORE_OK)
		return status;
	status = lance_ivf_open(st, "", UUID, &ix, err);
	lance_ivf_close(ix);
	storage_close(st);
	return status;
}

UNIT_TEST(a_data_file_as_index_is_unsupported_naming_the_missing_metadata)
{
	char		dir[1024];
	char		ds[1100];
	CoreError	err;
	CoreStatus	status;

	if (!MakeIndexDir(dir, sizeof(dir), ds, sizeof(ds), NULL, 0))
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	status = OpenIndex(ds, &err);
	CHECK_MSG(status == CORE_ERR_UNSUPPORTED, "status %s: %s", core_status_name(status), err.msg);
	CHECK_MSG(strstr(err.msg, "index.idx") && strstr(err.msg, "lance:index"), "%s", err.msg);
	tu_rmtree(dir);
}

UNIT_TEST(an_index_file_without_a_lance_footer_is_corrupt_naming_the_file)
{
	static const uint8_t junk[64] = "not a lance file";
	char		dir[1024];
	char		ds[1100];
	CoreError	err;
	CoreStatus	status;

	if (!MakeIndexDir(dir, sizeof(dir), ds, sizeof(ds), junk, sizeof(junk)))
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	status = OpenIndex(ds, &err);
	CHECK_MSG(status == CORE_ERR_CORRUPT, "status %s: %s", core_status_name(status), err.msg);
	CHECK_MSG(strstr(err.msg, "index.idx") && strstr(err.msg, "footer"), "%s", err.msg);
	tu_rmtree(dir);
}

UNIT_TEST(a_missing_index_directory_is_not_found)
{
	char		dir[1024];
	char		ds[1100];
	CoreError	err;
	CoreStatus	status;

	if (!tu_copy_fixture("vectors_10k.lance", dir, sizeof(dir), ds, sizeof(ds)))
	{
		printf("    (skipped: no LANCEDB_FIXTURES)\n");
		return;
	}
	status = OpenIndex(ds, &err);
	CHECK_MSG(status == CORE_ERR_NOT_FOUND, "status %s: %s", core_status_name(status), err.msg);
	tu_rmtree(dir);
}

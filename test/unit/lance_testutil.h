/*-------------------------------------------------------------------------
 *
 * lance_testutil.h
 *	  Helpers for the Lance reader tests: scratch copies of fixture
 *	  datasets that a test may damage, and whole-file reads and writes.
 *
 * Header-only (static inline) like fixture_file.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_TEST_LANCE_TESTUTIL_H
#define LANCEDB_TEST_LANCE_TESTUTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

/* A fresh empty directory under $TMPDIR (or /tmp); path into buf. */
static inline bool
tu_tempdir(char *buf, size_t len)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(buf, len, "%s/lance_unit_XXXXXX", tmp && *tmp ? tmp : "/tmp");
	return mkdtemp(buf) != NULL;
}

static inline void
tu_rmtree(const char *dir)
{
	char		cmd[1200];

	if (dir && strstr(dir, "lance_unit_"))
	{
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", dir);
	}
}

/*
 * Copy the fixture dataset `table` ("types_v2_2.lance") into a new temp
 * dir; *dir receives the temp dir, *ds the dataset path.  False (the test
 * should skip) when fixtures are not configured or the table is missing.
 */
static inline bool
tu_copy_fixture(const char *table, char *dir, size_t dirlen, char *ds, size_t dslen)
{
	const char *fx = unit_fixture_dir();
	char		src[1024];
	char		cmd[3200];
	struct stat sb;

	if (fx == NULL)
		return false;
	snprintf(src, sizeof(src), "%s/%s", fx, table);
	if (stat(src, &sb) != 0 || !tu_tempdir(dir, dirlen))
		return false;
	snprintf(ds, dslen, "%s/%s", dir, table);
	snprintf(cmd, sizeof(cmd), "cp -r '%s' '%s'", src, ds);
	return system(cmd) == 0;
}

/* The path of a fixture table (not copied); false when not configured. */
static inline bool
tu_fixture_path(const char *table, char *buf, size_t len)
{
	const char *fx = unit_fixture_dir();
	struct stat sb;

	if (fx == NULL)
		return false;
	snprintf(buf, len, "%s/%s", fx, table);
	return stat(buf, &sb) == 0;
}

/* The first entry of dir whose name ends with suffix (sorted order). */
static inline bool
tu_find_file(const char *dir, const char *suffix, char *buf, size_t len)
{
	struct dirent **names;
	int			n = scandir(dir, &names, NULL, alphasort);
	bool		found = false;

	if (n < 0)
		return false;
	for (int i = 0; i < n; i++)
	{
		size_t		nl = strlen(names[i]->d_name);
		size_t		sl = strlen(suffix);

		if (!found && nl >= sl && strcmp(names[i]->d_name + nl - sl, suffix) == 0 &&
			names[i]->d_name[0] != '.')
		{
			snprintf(buf, len, "%s/%s", dir, names[i]->d_name);
			found = true;
		}
		free(names[i]);
	}
	free(names);
	return found;
}

static inline uint8_t *
tu_read(const char *path, size_t *len)
{
	FILE	   *f = fopen(path, "rb");
	uint8_t    *buf = NULL;
	long		size;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0)
	{
		buf = malloc(size ? (size_t) size : 1);
		if (buf && fread(buf, 1, (size_t) size, f) != (size_t) size)
		{
			free(buf);
			buf = NULL;
		}
		*len = (size_t) size;
	}
	fclose(f);
	return buf;
}

static inline bool
tu_write(const char *path, const uint8_t *data, size_t len)
{
	FILE	   *f = fopen(path, "wb");
	bool		ok;

	if (f == NULL)
		return false;
	ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok;
}

#endif							/* LANCEDB_TEST_LANCE_TESTUTIL_H */

/*-------------------------------------------------------------------------
 *
 * fixture_file.h
 *	  Read a file of the LanceDB fixtures (LANCEDB_FIXTURES) whole.
 *
 * Header-only (static inline) so a test file includes it without a new
 * object; used by the codec and deletion tests.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_TEST_FIXTURE_FILE_H
#define LANCEDB_TEST_FIXTURE_FILE_H

#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

/*
 * Read the first file matching pattern (relative to the fixture
 * directory) into a malloc'd buffer; its path goes to path (if not NULL).
 * NULL when the fixtures are not set or nothing matches.
 */
static inline uint8_t *
fixture_read(const char *pattern, size_t *len, char *path, size_t path_size)
{
	const char *dir = unit_fixture_dir();
	char		full[1024];
	glob_t		g;
	FILE	   *f;
	uint8_t    *buf = NULL;
	long		size;

	if (dir == NULL)
		return NULL;
	snprintf(full, sizeof(full), "%s/%s", dir, pattern);
	if (glob(full, 0, NULL, &g) != 0 || g.gl_pathc == 0)
		return NULL;
	if (path)
		snprintf(path, path_size, "%s", g.gl_pathv[0]);
	f = fopen(g.gl_pathv[0], "rb");
	globfree(&g);
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 &&
		fseek(f, 0, SEEK_SET) == 0)
	{
		buf = malloc(size ? size : 1);
		if (buf && fread(buf, 1, size, f) != (size_t) size)
		{
			free(buf);
			buf = NULL;
		}
		*len = (size_t) size;
	}
	fclose(f);
	return buf;
}

#endif							/* LANCEDB_TEST_FIXTURE_FILE_H */

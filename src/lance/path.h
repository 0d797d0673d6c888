/*-------------------------------------------------------------------------
 *
 * path.h
 *	  Joining and checking the relative paths a dataset names.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_PATH_H
#define LANCEDB_LANCE_PATH_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"

/* dir + "/" + name in a new string ("" dir gives name); NULL on OOM. */
static inline char *
lance_path_join(const char *dir, const char *name)
{
	size_t		dlen = dir ? strlen(dir) : 0;
	size_t		nlen = strlen(name);
	char	   *out;

	while (dlen > 0 && dir[dlen - 1] == '/')
		dlen--;
	out = core_malloc(dlen + nlen + 2);
	if (out == NULL)
		return NULL;
	if (dlen == 0)
		memcpy(out, name, nlen + 1);
	else
	{
		memcpy(out, dir, dlen);
		out[dlen] = '/';
		memcpy(out + dlen + 1, name, nlen + 1);
	}
	return out;
}

/*
 * Whether a path from a manifest is safe to follow: non-empty, relative,
 * no '..' component, no control characters.
 */
static inline bool
lance_path_is_safe(const char *path)
{
	const char *p = path;

	if (path == NULL || *path == '\0' || *path == '/')
		return false;
	for (const char *c = path; *c; c++)
		if ((unsigned char) *c < 0x20)
			return false;
	while (*p)
	{
		size_t		len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		p += len;
		while (*p == '/')
			p++;
	}
	return true;
}

#endif							/* LANCEDB_LANCE_PATH_H */

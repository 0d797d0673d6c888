/*-------------------------------------------------------------------------
 *
 * alloc.c
 *	  The core's allocation helpers.
 *
 *-------------------------------------------------------------------------
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void *
core_malloc(size_t size)
{
	return malloc(size ? size : 1);
}

void *
core_calloc(size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	return calloc(count ? count : 1, size ? size : 1);
}

void *
core_mallocarray(size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	return core_malloc(count * size);
}

void *
core_realloc(void *ptr, size_t size)
{
	return realloc(ptr, size ? size : 1);
}

char *
core_strdup(const char *s)
{
	size_t		len = strlen(s) + 1;
	char	   *copy = core_malloc(len);

	if (copy)
		memcpy(copy, s, len);
	return copy;
}

bool
core_grow(void **p, size_t *cap, size_t need, size_t elem)
{
	size_t		nc;
	void	   *np;

	if (need <= *cap)
		return true;
	nc = *cap ? *cap : 16;
	while (nc < need)
	{
		if (nc > SIZE_MAX / 2)
			return false;
		nc *= 2;
	}
	if (elem && nc > SIZE_MAX / elem)
		return false;
	np = core_realloc(*p, nc * elem);
	if (np == NULL)
		return false;
	*p = np;
	*cap = nc;
	return true;
}

void
core_free(void *ptr)
{
	free(ptr);
}

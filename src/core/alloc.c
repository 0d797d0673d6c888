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

void
core_free(void *ptr)
{
	free(ptr);
}

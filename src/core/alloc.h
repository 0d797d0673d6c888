/*-------------------------------------------------------------------------
 *
 * alloc.h
 *	  The core's allocation helpers.
 *
 * Plain malloc/free underneath; the helpers check the size arithmetic
 * (count * size never wraps) and return NULL rather than abort, so callers
 * turn a failure into CORE_ERR_NOMEM.  Sizes that come from a file must
 * also be capped by what the file can hold before they get here.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_CORE_ALLOC_H
#define LANCEDB_CORE_ALLOC_H

#include <stdbool.h>
#include <stddef.h>

extern void *core_malloc(size_t size);
extern void *core_calloc(size_t count, size_t size);		/* zeroed */
extern void *core_mallocarray(size_t count, size_t size);	/* not zeroed */
extern void *core_realloc(void *ptr, size_t size);
extern char *core_strdup(const char *s);

/*
 * Make *p (an array of elem-byte items with room for *cap) hold at least
 * need items, doubling the room; false, leaving it as it was, when memory
 * or the size arithmetic runs out.
 */
extern bool core_grow(void **p, size_t *cap, size_t need, size_t elem);
extern void core_free(void *ptr);

#endif							/* LANCEDB_CORE_ALLOC_H */

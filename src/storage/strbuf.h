/*-------------------------------------------------------------------------
 *
 * strbuf.h
 *	  A growable string for building requests, URLs and signatures.
 *
 * Appends never fail loudly: the first allocation failure marks the
 * buffer broken, later appends do nothing, and strbuf_finish returns
 * NULL, so a caller checks once at the end.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_STRBUF_H
#define LANCEDB_STORAGE_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

typedef struct StrBuf
{
	char	   *data;
	size_t		len;
	size_t		cap;
	bool		broken;
} StrBuf;

extern void strbuf_init(StrBuf *sb);
extern void strbuf_append(StrBuf *sb, const char *s);
extern void strbuf_append_len(StrBuf *sb, const char *s, size_t len);
extern void strbuf_appendf(StrBuf *sb, const char *fmt,...)
			__attribute__((format(printf, 2, 3)));
extern void strbuf_append_char(StrBuf *sb, char c);

/* Hand over the string (NULL if any append failed; the buffer is reset). */
extern char *strbuf_finish(StrBuf *sb);

/* Free what was built (after a failure, or when the string is unwanted). */
extern void strbuf_free(StrBuf *sb);

#endif							/* LANCEDB_STORAGE_STRBUF_H */

/*-------------------------------------------------------------------------
 *
 * strbuf.c
 *	  A growable string for building requests, URLs and signatures.
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "storage/strbuf.h"

void
strbuf_init(StrBuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
	sb->broken = false;
}

static bool
reserve(StrBuf *sb, size_t extra)
{
	size_t		need;
	char	   *grown;
	size_t		ncap;

	if (sb->broken)
		return false;
	need = sb->len + extra + 1;
	if (need < sb->len)
	{
		sb->broken = true;
		return false;
	}
	if (need <= sb->cap)
		return true;
	ncap = sb->cap ? sb->cap : 64;
	while (ncap < need)
		ncap *= 2;
	grown = core_realloc(sb->data, ncap);
	if (grown == NULL)
	{
		sb->broken = true;
		return false;
	}
	sb->data = grown;
	sb->cap = ncap;
	return true;
}

void
strbuf_append_len(StrBuf *sb, const char *s, size_t len)
{
	if (!reserve(sb, len))
		return;
	memcpy(sb->data + sb->len, s, len);
	sb->len += len;
	sb->data[sb->len] = '\0';
}

void
strbuf_append(StrBuf *sb, const char *s)
{
	strbuf_append_len(sb, s, strlen(s));
}

void
strbuf_append_char(StrBuf *sb, char c)
{
	strbuf_append_len(sb, &c, 1);
}

void
strbuf_appendf(StrBuf *sb, const char *fmt,...)
{
	va_list		ap;
	int			n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !reserve(sb, (size_t) n))
	{
		sb->broken = true;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(sb->data + sb->len, (size_t) n + 1, fmt, ap);
	va_end(ap);
	sb->len += (size_t) n;
}

char *
strbuf_finish(StrBuf *sb)
{
	char	   *s;

	if (sb->broken)
	{
		strbuf_free(sb);
		return NULL;
	}
	if (!reserve(sb, 0))
	{
		strbuf_free(sb);
		return NULL;
	}
	sb->data[sb->len] = '\0';	/* nothing was appended: still a string */
	s = sb->data;
	strbuf_init(sb);
	return s;
}

void
strbuf_free(StrBuf *sb)
{
	core_free(sb->data);
	strbuf_init(sb);
}

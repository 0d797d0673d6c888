/*-------------------------------------------------------------------------
 *
 * xml_scan.c
 *	  Just enough XML to read the stores' listings and error bodies.
 *
 * Elements of one name do not nest in these documents (a <Prefix> inside
 * <CommonPrefixes> is found by first taking the <CommonPrefixes> span and
 * then searching within it), so an element ends at the first matching
 * close tag.
 *
 *-------------------------------------------------------------------------
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "storage/strbuf.h"
#include "storage/xml_scan.h"

/* Whether data[i..] starts "<tag" followed by '>', '/', or a space. */
static bool
opens(const char *data, size_t len, size_t i, const char *tag, size_t tlen)
{
	char		after;

	if (i + 1 + tlen >= len || data[i] != '<' || memcmp(data + i + 1, tag, tlen) != 0)
		return false;
	after = data[i + 1 + tlen];
	return after == '>' || after == '/' || after == ' ' || after == '\t' ||
		after == '\r' || after == '\n';
}

bool
xml_next(XmlSpan within, size_t *pos, const char *tag, XmlSpan *inner)
{
	size_t		tlen = strlen(tag);
	const char *d = within.data;
	size_t		len = within.len;

	for (size_t i = *pos; i < len; i++)
	{
		size_t		j;
		size_t		start;

		if (!opens(d, len, i, tag, tlen))
			continue;
		/* the end of the open tag */
		for (j = i + 1 + tlen; j < len && d[j] != '>'; j++)
			;
		if (j >= len)
			return false;
		if (d[j - 1] == '/')
		{
			inner->data = d + j + 1;
			inner->len = 0;
			*pos = j + 1;
			return true;
		}
		start = j + 1;
		for (size_t k = start; k + 3 + tlen <= len; k++)
		{
			if (d[k] == '<' && d[k + 1] == '/' && memcmp(d + k + 2, tag, tlen) == 0 &&
				d[k + 2 + tlen] == '>')
			{
				inner->data = d + start;
				inner->len = k - start;
				*pos = k + 3 + tlen;
				return true;
			}
		}
		return false;
	}
	return false;
}

char *
xml_decode(XmlSpan span)
{
	StrBuf		sb;
	static const struct
	{
		const char *name;
		char		c;
	}			entities[] = {{"amp;", '&'}, {"lt;", '<'}, {"gt;", '>'}, {"quot;", '"'}, {"apos;", '\''}};

	strbuf_init(&sb);
	for (size_t i = 0; i < span.len; i++)
	{
		const char *p = span.data + i;
		size_t		left = span.len - i;
		bool		done = false;

		if (*p != '&')
		{
			strbuf_append_char(&sb, *p);
			continue;
		}
		for (size_t e = 0; e < sizeof(entities) / sizeof(entities[0]) && !done; e++)
		{
			size_t		n = strlen(entities[e].name);

			if (left > n && memcmp(p + 1, entities[e].name, n) == 0)
			{
				strbuf_append_char(&sb, entities[e].c);
				i += n;
				done = true;
			}
		}
		if (!done && left > 3 && p[1] == '#')
		{
			const char *semi = memchr(p, ';', left);
			char		num[16];
			unsigned long cp;
			char	   *end;

			if (semi && (size_t) (semi - p) < sizeof(num) + 2)
			{
				size_t		nlen = (size_t) (semi - p) - 2;

				memcpy(num, p + 2, nlen);
				num[nlen] = '\0';
				if (num[0] == 'x' || num[0] == 'X')
					cp = strtoul(num + 1, &end, 16);
				else
					cp = strtoul(num, &end, 10);
				if (*end == '\0' && end != num && cp > 0 && cp <= 0x10FFFF)
				{
					/* UTF-8 */
					if (cp < 0x80)
						strbuf_append_char(&sb, (char) cp);
					else if (cp < 0x800)
					{
						strbuf_append_char(&sb, (char) (0xC0 | (cp >> 6)));
						strbuf_append_char(&sb, (char) (0x80 | (cp & 0x3F)));
					}
					else if (cp < 0x10000)
					{
						strbuf_append_char(&sb, (char) (0xE0 | (cp >> 12)));
						strbuf_append_char(&sb, (char) (0x80 | ((cp >> 6) & 0x3F)));
						strbuf_append_char(&sb, (char) (0x80 | (cp & 0x3F)));
					}
					else
					{
						strbuf_append_char(&sb, (char) (0xF0 | (cp >> 18)));
						strbuf_append_char(&sb, (char) (0x80 | ((cp >> 12) & 0x3F)));
						strbuf_append_char(&sb, (char) (0x80 | ((cp >> 6) & 0x3F)));
						strbuf_append_char(&sb, (char) (0x80 | (cp & 0x3F)));
					}
					i += (size_t) (semi - p);
					done = true;
				}
			}
		}
		if (!done)
			strbuf_append_char(&sb, '&');
	}
	return strbuf_finish(&sb);
}

char *
xml_text(XmlSpan within, const char *tag)
{
	size_t		pos = 0;
	XmlSpan		inner;

	if (!xml_next(within, &pos, tag, &inner))
		return NULL;
	return xml_decode(inner);
}

/*-------------------------------------------------------------------------
 *
 * xml_scan.h
 *	  Just enough XML to read the stores' listings and error bodies.
 *
 * S3, GCS and Azure answer with small, flat XML documents; what we need
 * is "the text of the next <Key> after here" and "the next <Contents>
 * element, to look inside".  The scanner walks a byte range that it never
 * reads past, ignores namespaces and attributes, and decodes the five
 * predefined entities and numeric character references.  It is not a
 * validating parser: a malformed body simply yields no more elements.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_STORAGE_XML_SCAN_H
#define LANCEDB_STORAGE_XML_SCAN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct XmlSpan
{
	const char *data;
	size_t		len;
} XmlSpan;

/*
 * Find the next element named tag within *within, starting at *pos;
 * *inner gets its content (between the tags; empty for <tag/>) and *pos
 * moves past its end.  False when there is none.
 */
extern bool xml_next(XmlSpan within, size_t *pos, const char *tag, XmlSpan *inner);

/* The decoded text of the first element named tag in within, or NULL. */
extern char *xml_text(XmlSpan within, const char *tag);

/* Decode entities in a span into a new string (NULL when out of memory). */
extern char *xml_decode(XmlSpan span);

#endif							/* LANCEDB_STORAGE_XML_SCAN_H */

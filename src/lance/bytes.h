/*-------------------------------------------------------------------------
 *
 * bytes.h
 *	  The one bounds-checked way to look at bytes that came from a file.
 *
 * A ByteSpan is a pointer and a length; every sub-span and every integer
 * read goes through these helpers, which return false instead of reading
 * past the end.  Call sites turn false into an error that says what was
 * being read.  Integers are little-endian, as everywhere in Lance.
 *
 * A ByteCursor walks a span front to back (chunk headers, framed buffers).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_BYTES_H
#define LANCEDB_LANCE_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ByteSpan
{
	const uint8_t *data;
	uint64_t	len;
} ByteSpan;

typedef struct ByteCursor
{
	ByteSpan	span;
	uint64_t	pos;
} ByteCursor;

static inline ByteSpan
span_make(const uint8_t *data, uint64_t len)
{
	ByteSpan	s = {data, len};

	return s;
}

/* Whether [off, off + len) lies within a span of span_len bytes. */
static inline bool
span_range_ok(uint64_t span_len, uint64_t off, uint64_t len)
{
	return off <= span_len && len <= span_len - off;
}

/* The sub-span [off, off + len), or false when it does not fit. */
static inline bool
span_sub(ByteSpan s, uint64_t off, uint64_t len, ByteSpan *out)
{
	if (!span_range_ok(s.len, off, len))
		return false;
	out->data = s.data + off;
	out->len = len;
	return true;
}

/* Read an unsigned little-endian integer of `width` bytes (1..8). */
static inline bool
span_uint(ByteSpan s, uint64_t off, unsigned width, uint64_t *out)
{
	uint64_t	v = 0;

	if (width == 0 || width > 8 || !span_range_ok(s.len, off, width))
		return false;
	for (unsigned i = 0; i < width; i++)
		v |= (uint64_t) s.data[off + i] << (8 * i);
	*out = v;
	return true;
}

static inline bool
span_u16(ByteSpan s, uint64_t off, uint16_t *out)
{
	uint64_t	v;

	if (!span_uint(s, off, 2, &v))
		return false;
	*out = (uint16_t) v;
	return true;
}

static inline bool
span_u32(ByteSpan s, uint64_t off, uint32_t *out)
{
	uint64_t	v;

	if (!span_uint(s, off, 4, &v))
		return false;
	*out = (uint32_t) v;
	return true;
}

static inline bool
span_u64(ByteSpan s, uint64_t off, uint64_t *out)
{
	return span_uint(s, off, 8, out);
}

static inline ByteCursor
cursor_make(ByteSpan s)
{
	ByteCursor	c = {s, 0};

	return c;
}

static inline uint64_t
cursor_left(const ByteCursor *c)
{
	return c->span.len - c->pos;
}

/* Take the next len bytes as a span. */
static inline bool
cursor_take(ByteCursor *c, uint64_t len, ByteSpan *out)
{
	if (!span_sub(c->span, c->pos, len, out))
		return false;
	c->pos += len;
	return true;
}

static inline bool
cursor_uint(ByteCursor *c, unsigned width, uint64_t *out)
{
	if (!span_uint(c->span, c->pos, width, out))
		return false;
	c->pos += width;
	return true;
}

/* Skip to the next multiple of align (a power of two) from the span start. */
static inline bool
cursor_align(ByteCursor *c, uint64_t align)
{
	uint64_t	next = (c->pos + align - 1) & ~(align - 1);

	if (next < c->pos || next > c->span.len)
		return false;
	c->pos = next;
	return true;
}

#endif							/* LANCEDB_LANCE_BYTES_H */

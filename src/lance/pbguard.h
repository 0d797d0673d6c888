/*-------------------------------------------------------------------------
 *
 * pbguard.h
 *	  A nesting-depth check for protobuf bytes, run before protobuf-c.
 *
 * protobuf-c unpacks nested messages recursively with no depth limit, so
 * a hostile page encoding made of a few kilobytes of nested wrappers
 * could exhaust the stack.  This walker needs no schema: it treats every
 * length-delimited field whose bytes look like a message as one, which
 * over-estimates the true depth, never under-estimates it.  Each level
 * rescans its bytes at most once per ancestor, so the cost is bounded by
 * len * max_depth.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_PBGUARD_H
#define LANCEDB_LANCE_PBGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Deepest message nesting any Lance message we read needs, with margin. */
#define LANCE_PB_MAX_DEPTH 48

static inline bool
pbguard_varint(const uint8_t *p, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t	v = 0;

	for (int shift = 0; shift < 64 && *pos < len; shift += 7)
	{
		uint8_t		b = p[(*pos)++];

		v |= (uint64_t) (b & 0x7f) << shift;
		if (!(b & 0x80))
		{
			*out = v;
			return true;
		}
	}
	return false;
}

/*
 * The depth of the deepest plausible message nesting in p[0..len), as far
 * as `limit`; returns -1 when the bytes are not a well-formed message.
 */
static inline int
pbguard_depth(const uint8_t *p, size_t len, int limit)
{
	size_t		pos = 0;
	int			deepest = 0;

	if (limit <= 0)
		return 1;
	while (pos < len)
	{
		uint64_t	key;
		uint64_t	n;

		if (!pbguard_varint(p, len, &pos, &key) || (key >> 3) == 0)
			return -1;
		switch (key & 7)
		{
			case 0:
				if (!pbguard_varint(p, len, &pos, &n))
					return -1;
				break;
			case 1:
				if (len - pos < 8)
					return -1;
				pos += 8;
				break;
			case 5:
				if (len - pos < 4)
					return -1;
				pos += 4;
				break;
			case 2:
				{
					int			d;

					if (!pbguard_varint(p, len, &pos, &n) || n > len - pos)
						return -1;
					d = n > 0 ? pbguard_depth(p + pos, (size_t) n, limit - 1) : 0;
					if (d + 1 > deepest)
						deepest = d + 1;
					if (deepest > limit)
						return deepest;
					pos += n;
					break;
				}
			default:
				return -1;
		}
	}
	return deepest;
}

/* Whether protobuf-c may safely unpack these bytes. */
static inline bool
pbguard_ok(const uint8_t *p, size_t len)
{
	return pbguard_depth(p, len, LANCE_PB_MAX_DEPTH) <= LANCE_PB_MAX_DEPTH;
}

#endif							/* LANCEDB_LANCE_PBGUARD_H */

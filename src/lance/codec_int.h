/*-------------------------------------------------------------------------
 *
 * codec_int.h
 *	  Helpers shared by the codec files: little-endian loads and stores,
 *	  native value arrays of 8..64 bits, and the one bounds check.
 *
 * Internal to src/lance/codec_*.c and deletion.c; not part of the API.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_CODEC_INT_H
#define LANCEDB_LANCE_CODEC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/error.h"

/*
 * Lance files are little-endian and the decoded arrays are native; on a
 * little-endian host (every platform Postgres ships on that we target) a
 * flat buffer is its own decoded array, which the codecs rely on.
 */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Lance codecs assume a little-endian host"
#endif

static inline uint16_t
codec_ld16(const uint8_t *p)
{
	uint16_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t
codec_ld32(const uint8_t *p)
{
	uint32_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint64_t
codec_ld64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline void
codec_st32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, sizeof(v));
}

static inline void
codec_st64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, sizeof(v));
}

/* Load an unsigned little-endian integer of `bytes` (1, 2, 4 or 8) bytes. */
static inline uint64_t
codec_ld(const uint8_t *p, unsigned bytes)
{
	switch (bytes)
	{
		case 1:
			return p[0];
		case 2:
			return codec_ld16(p);
		case 4:
			return codec_ld32(p);
		default:
			return codec_ld64(p);
	}
}

/* Element i of a native array of `bits`-bit unsigned integers. */
static inline uint64_t
codec_get(const void *arr, unsigned bits, size_t i)
{
	switch (bits)
	{
		case 8:
			return ((const uint8_t *) arr)[i];
		case 16:
			return ((const uint16_t *) arr)[i];
		case 32:
			return ((const uint32_t *) arr)[i];
		default:
			return ((const uint64_t *) arr)[i];
	}
}

static inline void
codec_put(void *arr, unsigned bits, size_t i, uint64_t v)
{
	switch (bits)
	{
		case 8:
			((uint8_t *) arr)[i] = (uint8_t) v;
			break;
		case 16:
			((uint16_t *) arr)[i] = (uint16_t) v;
			break;
		case 32:
			((uint32_t *) arr)[i] = (uint32_t) v;
			break;
		default:
			((uint64_t *) arr)[i] = v;
			break;
	}
}

static inline bool
codec_word_bits_ok(unsigned bits)
{
	return bits == 8 || bits == 16 || bits == 32 || bits == 64;
}

/*
 * The bounds check: does a buffer of len bytes hold `need` bytes at `off`?
 * Written so that no sum can wrap.
 */
static inline bool
codec_has(size_t len, size_t off, size_t need)
{
	return off <= len && need <= len - off;
}

/* a * b without wrapping; false when it would. */
static inline bool
codec_mul(size_t a, size_t b, size_t *r)
{
	return !__builtin_mul_overflow(a, b, r);
}

/*
 * Report that `what` of the `enc` encoding needs `need` bytes at offset
 * `off` but the buffer has only `len`.
 */
extern CoreStatus codec_short(CoreError *err, const char *enc, const char *what,
							  size_t off, size_t need, size_t len);

/* Reject a value width other than 8/16/32/64. */
extern CoreStatus codec_bad_bits(CoreError *err, const char *enc, unsigned bits);

#endif							/* LANCEDB_LANCE_CODEC_INT_H */

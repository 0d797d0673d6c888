/*-------------------------------------------------------------------------
 *
 * bm25_codec.h
 *	  Byte buffers, varints and bit packing for BM25 posting lists.
 *
 * Posting blocks store up to BM25_BLOCK_SIZE documents; each column (doc-id
 * gaps, term frequencies, document lengths) is bit-packed with the width of
 * its largest value, so a block of small gaps costs a few bits per entry.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_KERNELS_BM25_CODEC_H
#define LANCEDB_KERNELS_BM25_CODEC_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define BM25_BLOCK_SIZE 128

/* A growable byte buffer; ok turns false once an allocation fails. */
typedef struct Bm25Buf
{
	uint8_t    *data;
	size_t		len;
	size_t		cap;
	bool		ok;
} Bm25Buf;

extern void bm25_buf_init(Bm25Buf *b);
extern void bm25_buf_free(Bm25Buf *b);
extern bool bm25_buf_reserve(Bm25Buf *b, size_t extra);
extern void bm25_buf_put(Bm25Buf *b, const void *src, size_t len);
extern void bm25_buf_put_u8(Bm25Buf *b, uint8_t v);
extern void bm25_buf_put_u16(Bm25Buf *b, uint16_t v);
extern void bm25_buf_put_u32(Bm25Buf *b, uint32_t v);
extern void bm25_buf_put_u64(Bm25Buf *b, uint64_t v);
extern void bm25_buf_put_varint(Bm25Buf *b, uint64_t v);

/* Little-endian loads from a byte pointer the caller has bounds-checked. */
static inline uint16_t
bm25_get_u16(const uint8_t *p)
{
	return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint32_t
bm25_get_u32(const uint8_t *p)
{
	return (uint32_t) p[0] | ((uint32_t) p[1] << 8) |
		((uint32_t) p[2] << 16) | ((uint32_t) p[3] << 24);
}

static inline uint64_t
bm25_get_u64(const uint8_t *p)
{
	return (uint64_t) bm25_get_u32(p) | ((uint64_t) bm25_get_u32(p + 4) << 32);
}

/*
 * Read a varint from [*p, end); false when it runs past end or is longer
 * than ten bytes.
 */
extern bool bm25_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v);

/* v rounded up to a float, for bounds that must stay upper bounds. */
static inline float
bm25_float_up(double v)
{
	float		f = (float) v;
	uint32_t	bits;

	if ((double) f >= v)
		return f;
	/* a float from +0 to below FLT_MAX: the next one up is the next pattern */
	memcpy(&bits, &f, sizeof(bits));
	if (bits >= 0x7F7FFFFFu)
		return nextafterf(f, INFINITY);
	bits++;
	memcpy(&f, &bits, sizeof(bits));
	return f;
}

/* Bits needed for v (0 for 0). */
extern int	bm25_bit_width(uint64_t v);

/* Bytes that n values of width bits take. */
static inline size_t
bm25_packed_size(size_t n, int width)
{
	return (n * (size_t) width + 7) / 8;
}

/* Pack n values (each < 2^width, width 0..64) after the buffer's end. */
extern void bm25_pack(Bm25Buf *b, const uint64_t *vals, size_t n, int width);

/*
 * Unpack n values of width bits from src, which holds at least
 * bm25_packed_size(n, width) bytes.
 */
extern void bm25_unpack(const uint8_t *src, uint64_t *vals, size_t n, int width);

#endif							/* LANCEDB_KERNELS_BM25_CODEC_H */

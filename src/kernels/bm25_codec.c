/*-------------------------------------------------------------------------
 *
 * bm25_codec.c
 *	  Byte buffers, varints and bit packing for BM25 posting lists.
 *
 *-------------------------------------------------------------------------
 */
#include "kernels/bm25_codec.h"

#include <endian.h>
#include <string.h>

#include "core/alloc.h"

void
bm25_buf_init(Bm25Buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->ok = true;
}

void
bm25_buf_free(Bm25Buf *b)
{
	core_free(b->data);
	bm25_buf_init(b);
}

bool
bm25_buf_reserve(Bm25Buf *b, size_t extra)
{
	size_t		need;
	size_t		ncap;
	uint8_t    *nd;

	if (!b->ok)
		return false;
	need = b->len + extra;
	if (need < b->len)
		return (b->ok = false);
	if (need <= b->cap)
		return true;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
	{
		if (ncap > SIZE_MAX / 2)
			return (b->ok = false);
		ncap *= 2;
	}
	nd = core_realloc(b->data, ncap);
	if (nd == NULL)
		return (b->ok = false);
	b->data = nd;
	b->cap = ncap;
	return true;
}

void
bm25_buf_put(Bm25Buf *b, const void *src, size_t len)
{
	if (len == 0 || !bm25_buf_reserve(b, len))
		return;
	memcpy(b->data + b->len, src, len);
	b->len += len;
}

void
bm25_buf_put_u8(Bm25Buf *b, uint8_t v)
{
	bm25_buf_put(b, &v, 1);
}

void
bm25_buf_put_u16(Bm25Buf *b, uint16_t v)
{
	uint8_t		x[2] = {(uint8_t) v, (uint8_t) (v >> 8)};

	bm25_buf_put(b, x, 2);
}

void
bm25_buf_put_u32(Bm25Buf *b, uint32_t v)
{
	uint8_t		x[4];

	for (int i = 0; i < 4; i++)
		x[i] = (uint8_t) (v >> (8 * i));
	bm25_buf_put(b, x, 4);
}

void
bm25_buf_put_u64(Bm25Buf *b, uint64_t v)
{
	bm25_buf_put_u32(b, (uint32_t) v);
	bm25_buf_put_u32(b, (uint32_t) (v >> 32));
}

void
bm25_buf_put_varint(Bm25Buf *b, uint64_t v)
{
	uint8_t		x[10];
	int			n = 0;

	do
	{
		uint8_t		c = v & 0x7f;

		v >>= 7;
		x[n++] = c | (v ? 0x80 : 0);
	} while (v);
	bm25_buf_put(b, x, n);
}

bool
bm25_get_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	const uint8_t *s = *p;
	uint64_t	r = 0;

	for (int shift = 0; shift < 70; shift += 7)
	{
		uint8_t		c;

		if (s >= end)
			return false;
		c = *s++;
		r |= (uint64_t) (c & 0x7f) << shift;
		if (!(c & 0x80))
		{
			*p = s;
			*v = r;
			return true;
		}
	}
	return false;
}

int
bm25_bit_width(uint64_t v)
{
	return v ? 64 - __builtin_clzll(v) : 0;
}

/*
 * Values go in low bits first.  A 64-bit value of up to 64 bits may span
 * nine bytes, so the bits are emitted through a byte-at-a-time accumulator
 * that is flushed whenever it holds eight bits or more.
 */
void
bm25_pack(Bm25Buf *b, const uint64_t *vals, size_t n, int width)
{
	size_t		nbytes = bm25_packed_size(n, width);
	uint8_t    *out;
	unsigned __int128 acc = 0;
	int			nbits = 0;
	size_t		o = 0;

	if (nbytes == 0 || !bm25_buf_reserve(b, nbytes))
		return;
	out = b->data + b->len;
	for (size_t i = 0; i < n; i++)
	{
		uint64_t	v = width == 64 ? vals[i] : (vals[i] & ((UINT64_C(1) << width) - 1));

		acc |= (unsigned __int128) v << nbits;
		nbits += width;
		while (nbits >= 8)
		{
			out[o++] = (uint8_t) acc;
			acc >>= 8;
			nbits -= 8;
		}
	}
	if (nbits > 0)
		out[o++] = (uint8_t) acc;
	b->len += o;
}

void
bm25_unpack(const uint8_t *src, uint64_t *vals, size_t n, int width)
{
	uint64_t	mask = width == 64 ? UINT64_MAX : ((UINT64_C(1) << width) - 1);
	size_t		bit = 0;
	size_t		nbytes = bm25_packed_size(n, width);
	size_t		i = 0;

	if (width == 0)
	{
		memset(vals, 0, n * sizeof(uint64_t));
		return;
	}

	/*
	 * Fast path: one unaligned 8-byte load per value, while those 8 bytes
	 * stay inside the packed data and the value cannot straddle them.
	 */
	if (width <= 56)
	{
		for (; i < n; i++, bit += width)
		{
			uint64_t	w;

			if ((bit >> 3) + 8 > nbytes)
				break;
			memcpy(&w, src + (bit >> 3), 8);
			vals[i] = (le64toh(w) >> (bit & 7)) & mask;
		}
	}
	for (; i < n; i++)
	{
		size_t		byte = bit >> 3;
		int			shift = (int) (bit & 7);
		int			need = (shift + width + 7) / 8;
		unsigned __int128 acc = 0;

		for (int k = 0; k < need; k++)
			acc |= (unsigned __int128) src[byte + k] << (8 * k);
		vals[i] = (uint64_t) (acc >> shift) & mask;
		bit += width;
	}
}

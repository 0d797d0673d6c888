/*-------------------------------------------------------------------------
 *
 * codec_fsst.c
 *	  FSST string decompression with lance's symbol-table serialization
 *	  (FORMAT.md 12.6).
 *
 * FSST replaces common substrings of up to 8 bytes with one-byte codes: a
 * compressed byte c < 255 stands for symbol c, the byte 255 escapes the
 * next byte, which stands for itself.  Lance serializes the table as
 *
 *		u64 info = "FSST" << 32 | enabled << 24 | suffix_lim << 16
 *				   | terminator << 8 | nsymbols
 *		nsymbols x u64 symbol (its bytes in little-endian order)
 *		nsymbols x u8 symbol length
 *
 * inside a fixed 2312-byte buffer (the rest is zero).  A table that is not
 * enabled means the strings were stored as they are.
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "core/alloc.h"
#include "lance/codec.h"
#include "lance/codec_int.h"

#define FSST_MAGIC 0x46535354u	/* "FSST" */
#define FSST_ESCAPE 255

CoreStatus
lance_fsst_parse_table(const uint8_t *buf, size_t len, LanceFsstTable *table,
					   CoreError *err)
{
	const char *enc = "fsst";
	uint64_t	info;
	unsigned	n;
	unsigned	i;

	memset(table, 0, sizeof(*table));
	if (len < 8)
		return codec_short(err, enc, "the symbol table header", 0, 8, len);
	info = codec_ld64(buf);
	if ((uint32_t) (info >> 32) != FSST_MAGIC)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: symbol table starts with %016llx, not the FSST magic",
						  enc, (unsigned long long) info);
	table->enabled = (info >> 24) & 1;
	n = info & 0xff;
	if (n > LANCE_FSST_MAX_SYMBOLS)
		return core_error(err, CORE_ERR_CORRUPT,
						  "%s: %u symbols, at most %d allowed",
						  enc, n, LANCE_FSST_MAX_SYMBOLS);
	if (!codec_has(len, 8, (size_t) n * 9))
		return codec_short(err, enc, "the symbols and their lengths", 8,
						   (size_t) n * 9, len);
	for (i = 0; i < n; i++)
	{
		uint8_t		slen = buf[8 + (size_t) n * 8 + i];

		if (slen < 1 || slen > 8)
			return core_error(err, CORE_ERR_CORRUPT,
							  "%s: symbol %u has length %u at offset %zu, expected 1..8",
							  enc, i, slen, 8 + (size_t) n * 8 + i);
		table->symbols[i] = codec_ld64(buf + 8 + (size_t) i * 8);
		table->lengths[i] = slen;
	}
	table->nsymbols = n;
	return CORE_OK;
}

/*
 * Size of one string once expanded, checking every code.
 */
static CoreStatus
ExpandedSize(const LanceFsstTable *t, const uint8_t *in, size_t len,
			 size_t value, uint64_t *size, CoreError *err)
{
	uint64_t	total = 0;
	size_t		i = 0;

	while (i < len)
	{
		uint8_t		c = in[i];

		if (c == FSST_ESCAPE)
		{
			if (i + 1 >= len)
				return core_error(err, CORE_ERR_CORRUPT,
								  "fsst: value %zu ends in an escape byte", value);
			total += 1;
			i += 2;
		}
		else
		{
			if (c >= t->nsymbols)
				return core_error(err, CORE_ERR_CORRUPT,
								  "fsst: value %zu byte %zu is code %u, the table has %u symbols",
								  value, i, c, t->nsymbols);
			total += t->lengths[c];
			i += 1;
		}
	}
	*size = total;
	return CORE_OK;
}

CoreStatus
lance_fsst_decode(const LanceFsstTable *table, const uint64_t *offsets,
				  const uint8_t *bytes, size_t n, size_t max_out,
				  uint64_t *out_offsets, uint8_t **out_bytes, size_t *out_len,
				  CoreError *err)
{
	uint64_t	total = 0;
	uint8_t    *out;
	size_t		pos;
	size_t		v;
	CoreStatus	st;

	*out_bytes = NULL;
	*out_len = 0;
	/* pass 1: offsets and the output size */
	out_offsets[0] = 0;
	for (v = 0; v < n; v++)
	{
		uint64_t	size = 0;

		if (offsets[v + 1] < offsets[v])
			return core_error(err, CORE_ERR_CORRUPT,
							  "fsst: offsets of value %zu go backwards", v);
		if (table->enabled)
		{
			st = ExpandedSize(table, bytes + offsets[v], offsets[v + 1] - offsets[v],
							  v, &size, err);
			if (st != CORE_OK)
				return st;
		}
		else
			size = offsets[v + 1] - offsets[v];
		total += size;
		if (total > max_out)
			return core_error(err, CORE_ERR_CORRUPT,
							  "fsst: strings expand past the limit of %zu bytes",
							  max_out);
		out_offsets[v + 1] = total;
	}
	/* 8 spare bytes: every symbol is stored as a whole 8-byte word */
	out = core_malloc(total + 8);
	if (out == NULL)
		return core_error(err, CORE_ERR_NOMEM,
						  "fsst: cannot allocate %llu bytes for strings",
						  (unsigned long long) total);
	/* pass 2: expand (every code was checked in pass 1) */
	if (!table->enabled)
	{
		if (total)
			memcpy(out, bytes + offsets[0], total);
	}
	else
	{
		const uint8_t *in = bytes + offsets[0];
		const uint8_t *end = bytes + offsets[n];

		pos = 0;
		while (in < end)
		{
			uint8_t		c = *in++;

			if (c == FSST_ESCAPE)
				out[pos++] = *in++;
			else
			{
				uint64_t	sym = table->symbols[c];

				/* one fixed-size store; the next symbol overwrites the overhang */
				memcpy(out + pos, &sym, sizeof(sym));
				pos += table->lengths[c];
			}
		}
	}
	*out_bytes = out;
	*out_len = total;
	return CORE_OK;
}

size_t
lance_fsst_table_size(const LanceFsstTable *table)
{
	return LANCE_FSST_TABLE_BYTES;
}

void
lance_fsst_write_table(const LanceFsstTable *table, uint8_t *out)
{
	uint64_t	info = ((uint64_t) FSST_MAGIC << 32) |
		((uint64_t) (table->enabled ? 1 : 0) << 24) | table->nsymbols;
	unsigned	i;

	memset(out, 0, LANCE_FSST_TABLE_BYTES);
	codec_st64(out, info);
	for (i = 0; i < table->nsymbols; i++)
	{
		codec_st64(out + 8 + (size_t) i * 8, table->symbols[i]);
		out[8 + (size_t) table->nsymbols * 8 + i] = table->lengths[i];
	}
}

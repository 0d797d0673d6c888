/*-------------------------------------------------------------------------
 *
 * decode21.c
 *	  Pages of Lance file formats 2.1 and 2.2 (PageLayout, FORMAT.md
 *	  sections 11 and 12).
 *
 * A page of a leaf column holds, for every value slot, a repetition level
 * (where lists start) and a definition level (which ancestor, if any, is
 * null or an empty list), plus the values of the visible slots.  Three
 * layouts carry them:
 *
 *	  mini-block  chunks of a few KiB, each with its own levels and values;
 *				  the values may be dictionary indices
 *	  full-zip	  one stream, per slot a control word (levels) and the value
 *	  constant	  no values at all (all null) or one scalar for every slot
 *
 * Decoding a page is three steps:
 *	  1. decode levels and values (compressive encodings, via codec.h);
 *	  2. unravel the levels against the field's path (top-level field down
 *		 to this leaf) into validity bitmaps and list offsets per node;
 *	  3. assemble a path array: the top-level type with, at every struct,
 *		 only the child on the way to this leaf.
 *
 * Every count read from the file is checked against what its buffer could
 * hold before memory is allocated for it.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/codec.h"
#include "lance/decode.h"
#include "lance/pbguard.h"
#include "lance_enc21.pb-c.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the Lance decoders assume a little-endian host"
#endif

/* Rep/def layer kinds (RepDefLayer) */
#define LAYER_ALL_VALID_ITEM		1
#define LAYER_ALL_VALID_LIST		2
#define LAYER_NULLABLE_ITEM			3
#define LAYER_NULLABLE_LIST			4
#define LAYER_EMPTYABLE_LIST		5
#define LAYER_NULL_AND_EMPTY_LIST	6

/* Nesting of a leaf under its top-level field, at most. */
#define MAX_PATH 64

typedef CoreStatus Status;
typedef Le21__CompressiveEncoding Enc;

typedef struct Dec21
{
	const char *what;
	LanceFileVersion version;
	CoreError  *err;
} Dec21;

/*
 * Decoded values of one buffer (or one chunk).  Fixed width: n values of
 * `bits` bits (1 = LSB-first bitmap) at data.  Variable width: n + 1
 * normalized offsets into data.  fsl_dim > 0: n rows of fsl_dim items of
 * `bits` bits each, with an optional item validity bitmap.
 */
typedef struct Raw
{
	bool		is_var;
	unsigned	bits;
	uint64_t	n;
	const uint8_t *data;
	uint64_t	data_len;
	uint64_t   *offsets;
	uint32_t	fsl_dim;
	const uint8_t *item_validity;
	void	   *own[4];			/* allocations backing the pointers above */
} Raw;

static void
raw_free(Raw *r)
{
	core_free(r->offsets);
	for (int i = 0; i < 4; i++)
		core_free(r->own[i]);
	memset(r, 0, sizeof(*r));
}

/* Keep p alive as long as r; false when r has no room (a bug). */
static bool
raw_own(Raw *r, void *p)
{
	for (int i = 0; i < 4; i++)
		if (r->own[i] == NULL)
		{
			r->own[i] = p;
			return true;
		}
	return false;
}

/* Hand every allocation of src to dst (src is then empty). */
static void
raw_take(Raw *dst, Raw *src)
{
	raw_free(dst);
	*dst = *src;
	memset(src, 0, sizeof(*src));
}

static const char *
encoding_name(const Enc *enc)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field(&le21__compressive_encoding__descriptor,
												(unsigned) enc->compression_case);

	return fd ? fd->name : "none";
}

static Status
refuse(Dec21 *d, const Enc *enc, const char *context)
{
	if (enc == NULL || enc->compression_case == LE21__COMPRESSIVE_ENCODING__COMPRESSION__NOT_SET)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: missing %s encoding", d->what, context);
	return core_error(d->err, CORE_ERR_UNSUPPORTED,
					  "%s: encoding \"%s\" is not supported for %s",
					  d->what, encoding_name(enc), context);
}

/* Prefix a codec's message with our place. */
static Status
codec_failed(Dec21 *d, Status status)
{
	core_error_prefix(d->err, "%s", d->what);
	return status;
}

static bool
fixed_bytes(uint64_t n, unsigned bits, uint64_t *out)
{
	if (bits == 1)
	{
		*out = (n + 7) / 8;
		return true;
	}
	if (bits == 0 || bits % 8 != 0 || n > UINT64_MAX / (bits / 8))
		return false;
	*out = n * (bits / 8);
	return true;
}

static bool
is_word_bits(uint64_t bits)
{
	return bits == 8 || bits == 16 || bits == 32 || bits == 64;
}

static Status
check_compression(Dec21 *d, const Le21__BufferCompression *bc, const char *what)
{
	if (bc != NULL)
		return core_error(d->err, CORE_ERR_UNSUPPORTED,
						  "%s: %s with buffer compression (scheme %d) is not supported",
						  d->what, what, bc->scheme);
	return CORE_OK;
}

/* Decompress a whole buffer (general encoding). */
static Status
decompress(Dec21 *d, const Le21__BufferCompression *bc, ByteSpan in, uint8_t **out,
		   uint64_t *out_len)
{
	size_t		len = 0;
	Status		status;

	if (bc == NULL || (bc->scheme != LANCE_COMPRESSION_LZ4 && bc->scheme != LANCE_COMPRESSION_ZSTD))
		return core_error(d->err, CORE_ERR_UNSUPPORTED, "%s: general compression scheme %d is not supported",
						  d->what, bc ? bc->scheme : 0);
	status = lance_decompress((LanceCompression) bc->scheme, in.data, (size_t) in.len,
							  (size_t) LANCE_MAX_PAGE_BYTES, out, &len, d->err);
	if (status != CORE_OK)
		return codec_failed(d, status);
	*out_len = len;
	return CORE_OK;
}

/* ---------------------------------------------------------------------
 * Compressive encodings
 * ---------------------------------------------------------------------
 */

static Status decode_block(Dec21 *d, const Enc *enc, ByteSpan buf, uint64_t n, Raw *out);

/* flat: raw values, borrowed from the buffer. */
static Status
decode_flat(Dec21 *d, const Le21__Flat *fl, ByteSpan buf, uint64_t n, Raw *out)
{
	uint64_t	bytes;
	Status		status = check_compression(d, fl->data, "flat values");

	if (status != CORE_OK)
		return status;
	if (fl->bits_per_value > 65536 || !fixed_bytes(n, (unsigned) fl->bits_per_value, &bytes))
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: flat encoding of %" PRIu64 " bits per value",
						  d->what, fl->bits_per_value);
	if (buf.len < bytes)
		return core_error(d->err, CORE_ERR_CORRUPT,
						  "%s: %" PRIu64 " flat values of %" PRIu64 " bits need %" PRIu64 " bytes, the buffer has %" PRIu64,
						  d->what, n, fl->bits_per_value, bytes, buf.len);
	out->bits = (unsigned) fl->bits_per_value;
	out->n = n;
	out->data = buf.data;
	out->data_len = bytes;
	return CORE_OK;
}

/* An owned output buffer for n values of bits bits, if plausible. */
static Status
alloc_values(Dec21 *d, uint64_t n, unsigned bits, Raw *out, uint8_t **buf)
{
	uint64_t	bytes;

	if (!fixed_bytes(n, bits, &bytes) || bytes > LANCE_MAX_PAGE_BYTES)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: %" PRIu64 " values of %u bits are too many",
						  d->what, n, bits);
	*buf = core_malloc((size_t) bytes + 8);
	if (*buf == NULL)
		return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory for %" PRIu64 " values", d->what, n);
	if (!raw_own(out, *buf))
	{
		core_free(*buf);
		return core_error(d->err, CORE_ERR_INVALID, "%s: too many buffers", d->what);
	}
	out->bits = bits;
	out->n = n;
	out->data = *buf;
	out->data_len = bytes;
	return CORE_OK;
}

/* inline_bitpacking: records of [W word][FastLanes block] per 1024 values. */
static Status
decode_inline_bp(Dec21 *d, const Le21__InlineBitpacking *bp, ByteSpan buf, uint64_t n, Raw *out)
{
	unsigned	bits = (unsigned) bp->uncompressed_bits_per_value;
	uint8_t    *values;
	Status		status = check_compression(d, bp->values, "inline bitpacking");

	if (status != CORE_OK)
		return status;
	if (!is_word_bits(bp->uncompressed_bits_per_value))
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: inline bitpacking of %" PRIu64 "-bit values",
						  d->what, bp->uncompressed_bits_per_value);
	/* every record of up to 1024 values takes at least its width word */
	if ((n + 1023) / 1024 > buf.len / (bits / 8))
		return core_error(d->err, CORE_ERR_CORRUPT,
						  "%s: %" PRIu64 " bitpacked values cannot fit in %" PRIu64 " bytes",
						  d->what, n, buf.len);
	status = alloc_values(d, n, bits, out, &values);
	if (status != CORE_OK)
		return status;
	status = lance_inline_bitpack_decode(buf.data, (size_t) buf.len, bits, (size_t) n, values,
										 NULL, d->err);
	return status == CORE_OK ? CORE_OK : codec_failed(d, status);
}

/* out_of_line_bitpacking: one width for the buffer (block context). */
static Status
decode_ool_bp(Dec21 *d, const Le21__OutOfLineBitpacking *bp, ByteSpan buf, uint64_t n, Raw *out)
{
	unsigned	bits = (unsigned) bp->uncompressed_bits_per_value;
	uint64_t	width;
	uint8_t    *values;
	Status		status;

	if (!is_word_bits(bp->uncompressed_bits_per_value))
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: out-of-line bitpacking of %" PRIu64 "-bit values",
						  d->what, bp->uncompressed_bits_per_value);
	if (bp->values == NULL || bp->values->compression_case != LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT)
		return refuse(d, bp->values, "the width of out-of-line bitpacking");
	width = bp->values->flat->bits_per_value;
	if (width > bits)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: packed width %" PRIu64 " above %u bits",
						  d->what, width, bits);
	if (width > 0 && n / 1024 > buf.len / (128 * width))
		return core_error(d->err, CORE_ERR_CORRUPT,
						  "%s: %" PRIu64 " values of %" PRIu64 " bits cannot fit in %" PRIu64 " bytes",
						  d->what, n, width, buf.len);
	status = alloc_values(d, n, bits, out, &values);
	if (status != CORE_OK)
		return status;
	status = lance_ool_bitpack_decode(buf.data, (size_t) buf.len, bits, (unsigned) width,
									  (size_t) n, values, d->err);
	return status == CORE_OK ? CORE_OK : codec_failed(d, status);
}

/* Bits of the run values of an rle encoding. */
static Status
rle_bits(Dec21 *d, const Le21__Rle *rle, unsigned *bits)
{
	if (rle->values == NULL || rle->values->compression_case != LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
		!is_word_bits(rle->values->flat->bits_per_value))
		return refuse(d, rle->values, "run values");
	if (rle->run_lengths && (rle->run_lengths->compression_case != LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
							 rle->run_lengths->flat->bits_per_value != 8))
		return refuse(d, rle->run_lengths, "run lengths");
	*bits = (unsigned) rle->values->flat->bits_per_value;
	return CORE_OK;
}

/* Variable offsets width (32 or 64) from its flat encoding. */
static Status
variable_bits(Dec21 *d, const Le21__Variable *var, unsigned *bits)
{
	Status		status = check_compression(d, var->values, "variable-width values");

	if (status != CORE_OK)
		return status;
	if (var->offsets == NULL || var->offsets->compression_case != LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
		(var->offsets->flat->bits_per_value != 32 && var->offsets->flat->bits_per_value != 64))
		return refuse(d, var->offsets, "variable-width offsets");
	*bits = (unsigned) var->offsets->flat->bits_per_value;
	return CORE_OK;
}

/* Expand FSST-compressed strings in place of in (variable, n values). */
static Status
fsst_expand(Dec21 *d, const Le21__Fsst *fsst, Raw *in)
{
	LanceFsstTable table;
	uint64_t   *offsets;
	uint8_t    *bytes = NULL;
	size_t		len = 0;
	Status		status;
	uint64_t	cap;

	status = lance_fsst_parse_table(fsst->symbol_table.data, fsst->symbol_table.len, &table, d->err);
	if (status != CORE_OK)
		return codec_failed(d, status);
	if (!in->is_var)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: fsst over fixed-width values", d->what);
	offsets = core_mallocarray((size_t) in->n + 1, sizeof(uint64_t));
	if (offsets == NULL)
		return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
	/* a code expands to at most 8 bytes */
	cap = in->data_len > LANCE_MAX_PAGE_BYTES / 8 ? LANCE_MAX_PAGE_BYTES : in->data_len * 8 + 8;
	status = lance_fsst_decode(&table, in->offsets, in->data, (size_t) in->n, (size_t) cap,
							   offsets, &bytes, &len, d->err);
	if (status != CORE_OK)
	{
		core_free(offsets);
		return codec_failed(d, status);
	}
	core_free(in->offsets);
	in->offsets = offsets;
	in->data = bytes;
	in->data_len = len;
	if (!raw_own(in, bytes))
	{
		core_free(bytes);
		in->data = NULL;
		return core_error(d->err, CORE_ERR_INVALID, "%s: too many buffers", d->what);
	}
	return CORE_OK;
}

/* Normalized offsets for n variable values. */
static Status
alloc_offsets(Dec21 *d, uint64_t n, Raw *out)
{
	if (n > LANCE_MAX_PAGE_BYTES / 8)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: %" PRIu64 " variable values are too many",
						  d->what, n);
	out->offsets = core_mallocarray((size_t) n + 1, sizeof(uint64_t));
	if (out->offsets == NULL)
		return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
	out->is_var = true;
	out->n = n;
	return CORE_OK;
}

static Status decode_miniblock(Dec21 *d, const Enc *enc, const ByteSpan *bufs, int nbufs,
							   uint64_t n, Raw *out);

/*
 * Mini-block context: n values from a chunk's value buffers.
 */
static Status
decode_miniblock_impl(Dec21 *d, const Enc *enc, const ByteSpan *bufs, int nbufs, uint64_t n,
					  Raw *out)
{
	Status		status;

	memset(out, 0, sizeof(*out));
	if (enc == NULL)
		return refuse(d, enc, "mini-block values");
	if (nbufs < 1)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: mini-block chunk without value buffers", d->what);
	switch (enc->compression_case)
	{
		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT:
			return decode_flat(d, enc->flat, bufs[0], n, out);

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
			return decode_inline_bp(d, enc->inline_bitpacking, bufs[0], n, out);

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_RLE:
			{
				unsigned	bits;
				uint8_t    *values;

				status = rle_bits(d, enc->rle, &bits);
				if (status != CORE_OK)
					return status;
				if (nbufs < 2)
					return core_error(d->err, CORE_ERR_CORRUPT, "%s: rle chunk needs 2 buffers, has %d",
									  d->what, nbufs);
				if (n > bufs[1].len * 255)
					return core_error(d->err, CORE_ERR_CORRUPT,
									  "%s: %" PRIu64 " values cannot come from %" PRIu64 " runs",
									  d->what, n, bufs[1].len);
				status = alloc_values(d, n, bits, out, &values);
				if (status != CORE_OK)
					return status;
				status = lance_rle_decode(bufs[0].data, (size_t) bufs[0].len, bufs[1].data,
										  (size_t) bufs[1].len, bits, (size_t) n, values, d->err);
				return status == CORE_OK ? CORE_OK : codec_failed(d, status);
			}

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE:
			{
				unsigned	bits;
				const uint8_t *bytes;

				status = variable_bits(d, enc->variable, &bits);
				if (status != CORE_OK)
					return status;
				if (n + 1 > bufs[0].len / (bits / 8))
					return core_error(d->err, CORE_ERR_CORRUPT,
									  "%s: %" PRIu64 " variable values cannot fit in %" PRIu64 " bytes",
									  d->what, n, bufs[0].len);
				status = alloc_offsets(d, n, out);
				if (status != CORE_OK)
					return status;
				status = lance_variable_decode_miniblock(bufs[0].data, (size_t) bufs[0].len, bits,
														 (size_t) n, out->offsets, &bytes, d->err);
				if (status != CORE_OK)
					return codec_failed(d, status);
				out->data = bytes;
				out->data_len = out->offsets[n];
				return CORE_OK;
			}

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_FSST:
			if (enc->fsst->values == NULL)
				return refuse(d, NULL, "fsst values");
			status = decode_miniblock(d, enc->fsst->values, bufs, nbufs, n, out);
			if (status != CORE_OK)
				return status;
			return fsst_expand(d, enc->fsst, out);

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL:
			{
				ByteSpan	local[8];
				uint8_t    *plain;
				uint64_t	plain_len;
				Raw			inner;

				if (nbufs > 8)
					return core_error(d->err, CORE_ERR_CORRUPT, "%s: %d value buffers", d->what, nbufs);
				status = decompress(d, enc->general->compression, bufs[0], &plain, &plain_len);
				if (status != CORE_OK)
					return status;
				memcpy(local, bufs, sizeof(ByteSpan) * (size_t) nbufs);
				local[0] = span_make(plain, plain_len);
				status = decode_miniblock(d, enc->general->values, local, nbufs, n, &inner);
				if (status != CORE_OK || !raw_own(&inner, plain))
				{
					core_free(plain);
					raw_free(&inner);
					return status != CORE_OK ? status :
						core_error(d->err, CORE_ERR_INVALID, "%s: too many buffers", d->what);
				}
				raw_take(out, &inner);
				return CORE_OK;
			}

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST:
			{
				const Le21__FixedSizeList *fsl = enc->fixed_size_list;
				uint64_t	dim = fsl->items_per_value;
				const uint8_t *validity = NULL;

				if (dim == 0 || dim > INT32_MAX || n > LANCE_MAX_PAGE_BYTES / dim)
					return core_error(d->err, CORE_ERR_CORRUPT, "%s: fixed_size_list of %" PRIu64 " items",
									  d->what, dim);
				if (fsl->has_validity)
				{
					if (nbufs < 2 || bufs[0].len < (n * dim + 7) / 8)
						return core_error(d->err, CORE_ERR_CORRUPT,
										  "%s: fixed_size_list item validity missing or short", d->what);
					validity = bufs[0].data;
					bufs++;
					nbufs--;
				}
				status = decode_miniblock(d, fsl->values, bufs, nbufs, n * dim, out);
				if (status != CORE_OK)
					return status;
				if (out->is_var || out->fsl_dim)
					return core_error(d->err, CORE_ERR_UNSUPPORTED,
									  "%s: fixed_size_list of variable or nested items", d->what);
				out->n = n;
				out->fsl_dim = (uint32_t) dim;
				out->item_validity = validity;
				return CORE_OK;
			}

		default:
			return refuse(d, enc, "mini-block values");
	}
}

/* Decode and, on failure, free whatever the output had taken. */
static Status
decode_miniblock(Dec21 *d, const Enc *enc, const ByteSpan *bufs, int nbufs, uint64_t n, Raw *out)
{
	Status		status = decode_miniblock_impl(d, enc, bufs, nbufs, n, out);

	if (status != CORE_OK)
		raw_free(out);
	return status;
}

/*
 * Block context: one buffer holding all n values (levels, dictionaries).
 */
static Status
decode_block_impl(Dec21 *d, const Enc *enc, ByteSpan buf, uint64_t n, Raw *out)
{
	Status		status;

	memset(out, 0, sizeof(*out));
	if (enc == NULL)
		return refuse(d, enc, "a block");
	switch (enc->compression_case)
	{
		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT:
			return decode_flat(d, enc->flat, buf, n, out);

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_INLINE_BITPACKING:
			return decode_inline_bp(d, enc->inline_bitpacking, buf, n, out);

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_OUT_OF_LINE_BITPACKING:
			return decode_ool_bp(d, enc->out_of_line_bitpacking, buf, n, out);

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_RLE:
			{
				unsigned	bits;
				uint8_t    *values;

				status = rle_bits(d, enc->rle, &bits);
				if (status != CORE_OK)
					return status;
				if (n > buf.len * 255)
					return core_error(d->err, CORE_ERR_CORRUPT,
									  "%s: %" PRIu64 " values cannot come from %" PRIu64 " bytes of runs",
									  d->what, n, buf.len);
				status = alloc_values(d, n, bits, out, &values);
				if (status != CORE_OK)
					return status;
				status = lance_rle_decode_block(buf.data, (size_t) buf.len, bits, (size_t) n, values, d->err);
				return status == CORE_OK ? CORE_OK : codec_failed(d, status);
			}

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE:
			{
				unsigned	bits;
				const uint8_t *bytes;

				status = variable_bits(d, enc->variable, &bits);
				if (status != CORE_OK)
					return status;
				if (n + 1 > buf.len / 4)
					return core_error(d->err, CORE_ERR_CORRUPT,
									  "%s: %" PRIu64 " variable values cannot fit in %" PRIu64 " bytes",
									  d->what, n, buf.len);
				status = alloc_offsets(d, n, out);
				if (status != CORE_OK)
					return status;
				status = lance_variable_decode_block(buf.data, (size_t) buf.len, (size_t) n,
													 out->offsets, &bytes, d->err);
				if (status != CORE_OK)
					return codec_failed(d, status);
				out->data = bytes;
				out->data_len = out->offsets[n];
				return CORE_OK;
			}

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_FSST:
			if (enc->fsst->values == NULL)
				return refuse(d, NULL, "fsst values");
			status = decode_block(d, enc->fsst->values, buf, n, out);
			if (status != CORE_OK)
				return status;
			return fsst_expand(d, enc->fsst, out);

		case LE21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL:
			{
				uint8_t    *plain;
				uint64_t	plain_len;
				Raw			inner;

				status = decompress(d, enc->general->compression, buf, &plain, &plain_len);
				if (status != CORE_OK)
					return status;
				status = decode_block(d, enc->general->values, span_make(plain, plain_len), n, &inner);
				if (status != CORE_OK || !raw_own(&inner, plain))
				{
					core_free(plain);
					raw_free(&inner);
					return status != CORE_OK ? status :
						core_error(d->err, CORE_ERR_INVALID, "%s: too many buffers", d->what);
				}
				raw_take(out, &inner);
				return CORE_OK;
			}

		default:
			return refuse(d, enc, "a block");
	}
}

static Status
decode_block(Dec21 *d, const Enc *enc, ByteSpan buf, uint64_t n, Raw *out)
{
	Status		status = decode_block_impl(d, enc, buf, n, out);

	if (status != CORE_OK)
		raw_free(out);
	return status;
}

/* Levels of a block: n u16 values appended to *levels. */
static Status
decode_levels(Dec21 *d, const Enc *enc, ByteSpan buf, uint64_t n, uint16_t *levels)
{
	Raw			raw;
	Status		status;

	if (n == 0)
		return CORE_OK;
	status = decode_block(d, enc, buf, n, &raw);
	if (status != CORE_OK)
		return status;
	if (raw.is_var || raw.fsl_dim || (raw.bits != 8 && raw.bits != 16 && raw.bits != 32))
	{
		raw_free(&raw);
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: levels of %u bits", d->what, raw.bits);
	}
	status = lance_levels_to_u16(raw.data, raw.bits, (size_t) n, levels, d->err);
	raw_free(&raw);
	return status == CORE_OK ? CORE_OK : codec_failed(d, status);
}

/* ---------------------------------------------------------------------
 * Raw values into arrays
 * ---------------------------------------------------------------------
 */

/* Append raw values to a leaf array of the leaf's type. */
static Status
append_raw(Dec21 *d, LanceArray *a, const Raw *r)
{
	const LanceType *t = a->type;
	Status		status;
	int64_t		n = (int64_t) r->n;

	if (r->n == 0)
		return CORE_OK;
	if (r->n > INT32_MAX)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: %" PRIu64 " values in one chunk", d->what, r->n);
	switch (t->id)
	{
		case LANCE_TYPE_NULL:
			return lance_array_append_nulls(a, n, d->err);

		case LANCE_TYPE_BOOL:
			if (r->is_var || r->fsl_dim || r->bits != 1)
				break;
			status = lance_array_reserve(a, n, 0, d->err);
			if (status != CORE_OK)
				return status;
			lance_bits_copy(a->values, a->length, r->data, 0, n);
			a->length += n;
			a->values_size = (a->length + 7) / 8;
			return CORE_OK;

		case LANCE_TYPE_STRING:
		case LANCE_TYPE_LARGE_STRING:
		case LANCE_TYPE_BINARY:
		case LANCE_TYPE_LARGE_BINARY:
			{
				uint64_t	base = r->offsets[0];
				uint64_t	bytes = r->offsets[n] - base;
				int64_t		dbase;
				bool		large = lance_array_large_offsets(a);

				if (!r->is_var)
					break;
				if (r->offsets[n] < base || r->offsets[n] > r->data_len)
					return core_error(d->err, CORE_ERR_CORRUPT, "%s: variable offsets out of range", d->what);
				status = lance_array_reserve(a, n, (int64_t) bytes, d->err);
				if (status != CORE_OK)
					return status;
				dbase = lance_array_offset(a, a->length);
				if (!large && (uint64_t) dbase + bytes > INT32_MAX)
					return core_error(d->err, CORE_ERR_UNSUPPORTED,
									  "%s: more than 2 GiB of strings in one page", d->what);
				for (int64_t i = 1; i <= n; i++)
				{
					int64_t		o = dbase + (int64_t) (r->offsets[i] - base);

					if (r->offsets[i] < r->offsets[i - 1])
						return core_error(d->err, CORE_ERR_CORRUPT, "%s: variable offsets go backwards",
										  d->what);
					if (large)
						((int64_t *) a->offsets)[a->length + i] = o;
					else
						((int32_t *) a->offsets)[a->length + i] = (int32_t) o;
				}
				if (bytes)
					memcpy(a->values + a->values_size, r->data + base, (size_t) bytes);
				a->values_size += (int64_t) bytes;
				a->length += n;
				return CORE_OK;
			}

		case LANCE_TYPE_FIXED_SIZE_LIST:
			{
				LanceArray *child = a->children[0];
				const LanceType *it = t->item;
				int64_t		items = n * t->fixed_size;
				unsigned	ibits = it->id == LANCE_TYPE_BOOL ? 1 : (unsigned) it->byte_width * 8;
				Raw			flat = *r;

				if (r->is_var)
					break;
				if (r->fsl_dim == 0)
				{
					/* whole rows as one wide value */
					if (ibits == 1 || r->bits != ibits * (unsigned) t->fixed_size)
						break;
				}
				else if (r->fsl_dim != (uint32_t) t->fixed_size || r->bits != ibits)
					break;
				memset(flat.own, 0, sizeof(flat.own));
				flat.offsets = NULL;
				flat.fsl_dim = 0;
				flat.bits = ibits;
				flat.n = (uint64_t) items;
				if (r->item_validity)
				{
					int64_t		start = child->length;

					status = append_raw(d, child, &flat);
					if (status != CORE_OK)
						return status;
					if (child->validity == NULL)
					{
						child->validity = core_malloc((size_t) ((child->cap_rows + 7) / 8 + 1));
						if (child->validity == NULL)
							return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
						memset(child->validity, 0xff, (size_t) ((child->cap_rows + 7) / 8 + 1));
					}
					lance_bits_copy(child->validity, start, r->item_validity, 0, items);
					child->null_count += lance_bits_count_zeros(r->item_validity, items);
				}
				else
				{
					status = append_raw(d, child, &flat);
					if (status != CORE_OK)
						return status;
				}
				a->length += n;
				return CORE_OK;
			}

		case LANCE_TYPE_LIST:
		case LANCE_TYPE_LARGE_LIST:
		case LANCE_TYPE_STRUCT:
			break;

		default:
			if (r->is_var || r->fsl_dim || r->bits != (unsigned) t->byte_width * 8)
				break;
			status = lance_array_reserve(a, n, 0, d->err);
			if (status != CORE_OK)
				return status;
			memcpy(a->values + a->length * t->byte_width, r->data, (size_t) (n * t->byte_width));
			a->length += n;
			a->values_size = a->length * t->byte_width;
			return CORE_OK;
	}
	return core_error(d->err, CORE_ERR_CORRUPT, "%s: %s values decoded as %s%u-bit data",
					  d->what, lance_type_name(t->id), r->is_var ? "variable " : "", r->bits);
}

/* A growable vector of u64 (dictionary indices). */
typedef struct U64Vec
{
	uint64_t   *v;
	uint64_t	n;
	uint64_t	cap;
} U64Vec;

static Status
u64vec_append_raw(Dec21 *d, U64Vec *vec, const Raw *r)
{
	if (r->is_var || r->fsl_dim || !is_word_bits(r->bits))
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: dictionary indices of %u bits", d->what, r->bits);
	if (vec->n + r->n > vec->cap)
	{
		uint64_t	cap = vec->cap ? vec->cap : 1024;
		uint64_t   *grown;

		while (cap < vec->n + r->n)
			cap *= 2;
		if (cap > LANCE_MAX_PAGE_BYTES / 8)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: too many dictionary indices", d->what);
		grown = core_realloc(vec->v, (size_t) cap * 8);
		if (grown == NULL)
			return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
		vec->v = grown;
		vec->cap = cap;
	}
	for (uint64_t i = 0; i < r->n; i++)
	{
		uint64_t	x;

		switch (r->bits)
		{
			case 8:
				x = r->data[i];
				break;
			case 16:
				x = ((const uint16_t *) (const void *) r->data)[i];
				break;
			case 32:
				x = ((const uint32_t *) (const void *) r->data)[i];
				break;
			default:
				memcpy(&x, r->data + i * 8, 8);
				break;
		}
		vec->v[vec->n++] = x;
	}
	return CORE_OK;
}

/* A growable vector of u16 levels. */
typedef struct Levels
{
	uint16_t   *v;
	uint64_t	n;
	uint64_t	cap;
} Levels;

static Status
levels_reserve(Dec21 *d, Levels *l, uint64_t more)
{
	/* allocate even for zero levels: callers write at l->v + l->n */
	if (l->v == NULL || l->n + more > l->cap)
	{
		uint64_t	cap = l->cap ? l->cap : 1024;
		uint16_t   *grown;

		while (cap < l->n + more)
			cap *= 2;
		if (cap > LANCE_MAX_PAGE_BYTES / 2)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: too many levels", d->what);
		grown = core_realloc(l->v, (size_t) cap * 2);
		if (grown == NULL)
			return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
		l->v = grown;
		l->cap = cap;
	}
	return CORE_OK;
}

/* ---------------------------------------------------------------------
 * Unravelling levels into validity and offsets
 * ---------------------------------------------------------------------
 */

typedef struct Node
{
	const LanceField *field;
	bool		is_list;
	int			null_level;		/* def level meaning "null here", or -1 */
	int			empty_level;	/* def level meaning "empty list here", or -1 */
	/* what the node has built */
	int64_t		length;
	int64_t		nulls;
	int64_t		cap;
	uint8_t    *validity;		/* LSB-first, 1 = valid */
	int64_t    *starts;			/* lists: child length when each element began */
	bool		open;			/* lists: the last element takes more items */
} Node;

typedef struct Path
{
	int			depth;			/* nodes: top-level field .. leaf */
	Node		nodes[MAX_PATH];
	int			num_lists;
	int			list_node[MAX_PATH];	/* node index of the k-th list, outermost first */
	int			max_def;
	int			first_list_level;	/* lowest def level a list layer owns, or INT_MAX */
} Path;

static void
path_free(Path *p)
{
	for (int j = 0; j < p->depth; j++)
	{
		core_free(p->nodes[j].validity);
		core_free(p->nodes[j].starts);
	}
}

/*
 * Set up the path from top to leaf and give each node its def levels from
 * the layers (innermost first).  With no layers at all every node is
 * all-valid.
 */
static Status
path_init(Dec21 *d, Path *p, const LanceField *top, const LanceField *leaf,
		  const int32_t *layers, size_t nlayers)
{
	const LanceField *chain[MAX_PATH];
	int			n = 0;
	int			level = 1;

	memset(p, 0, sizeof(*p));
	for (const LanceField *f = leaf; f; f = f->parent)
	{
		if (n == MAX_PATH)
			return core_error(d->err, CORE_ERR_UNSUPPORTED, "%s: field nested too deeply", d->what);
		chain[n++] = f;
		if (f == top)
			break;
	}
	if (chain[n - 1] != top)
		return core_error(d->err, CORE_ERR_INVALID, "%s: leaf is not under its field", d->what);
	p->depth = n;
	p->first_list_level = INT32_MAX;
	for (int j = 0; j < n; j++)
	{
		Node	   *node = &p->nodes[j];

		node->field = chain[n - 1 - j];
		node->is_list = node->field->type.id == LANCE_TYPE_LIST ||
			node->field->type.id == LANCE_TYPE_LARGE_LIST;
		node->null_level = -1;
		node->empty_level = -1;
		if (node->is_list)
			p->list_node[p->num_lists++] = j;
	}
	if (nlayers == 0)
	{
		if (p->num_lists > 0)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: a list column without layers", d->what);
		return CORE_OK;
	}
	if (nlayers != (size_t) n)
		return core_error(d->err, CORE_ERR_CORRUPT,
						  "%s: %zu rep/def layers for a field path of depth %d", d->what, nlayers, n);
	for (size_t k = 0; k < nlayers; k++)
	{
		Node	   *node = &p->nodes[n - 1 - (int) k];
		int			layer = layers[k];
		bool		list_layer = layer == LAYER_ALL_VALID_LIST || layer == LAYER_NULLABLE_LIST ||
			layer == LAYER_EMPTYABLE_LIST || layer == LAYER_NULL_AND_EMPTY_LIST;

		if (layer < LAYER_ALL_VALID_ITEM || layer > LAYER_NULL_AND_EMPTY_LIST)
			return core_error(d->err, CORE_ERR_UNSUPPORTED, "%s: unknown rep/def layer %d", d->what, layer);
		if (list_layer != node->is_list)
			return core_error(d->err, CORE_ERR_CORRUPT,
							  "%s: layer %zu is a %s layer but field \"%s\" is %s",
							  d->what, k, list_layer ? "list" : "item", node->field->name,
							  lance_type_name(node->field->type.id));
		if (layer == LAYER_NULLABLE_ITEM || layer == LAYER_NULLABLE_LIST ||
			layer == LAYER_NULL_AND_EMPTY_LIST)
			node->null_level = level++;
		if (layer == LAYER_EMPTYABLE_LIST || layer == LAYER_NULL_AND_EMPTY_LIST)
			node->empty_level = level++;
		/* layers go inside out, so the first list layer with levels has the lowest */
		if (list_layer && p->first_list_level == INT32_MAX &&
			(node->null_level > 0 || node->empty_level > 0))
			p->first_list_level = node->null_level > 0 ? node->null_level : node->empty_level;
	}
	p->max_def = level - 1;
	return CORE_OK;
}

/* Append one element to a node: valid or null; lists record their start. */
static Status
node_push(Dec21 *d, Path *p, int j, bool valid)
{
	Node	   *node = &p->nodes[j];

	if (node->length == node->cap)
	{
		int64_t		cap = node->cap ? node->cap * 2 : 256;
		uint8_t    *v = core_realloc(node->validity, (size_t) ((cap + 7) / 8));

		if (v == NULL)
			return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
		node->validity = v;
		if (node->is_list)
		{
			int64_t    *s = core_realloc(node->starts, (size_t) cap * sizeof(int64_t));

			if (s == NULL)
				return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
			node->starts = s;
		}
		node->cap = cap;
	}
	lance_bit_set(node->validity, node->length, valid);
	if (!valid)
		node->nulls++;
	if (node->is_list)
		node->starts[node->length] = j + 1 < p->depth ? p->nodes[j + 1].length : 0;
	node->length++;
	return CORE_OK;
}

/*
 * Append `count` valid elements to a node that is not a list, a byte of
 * the bitmap at a time: a page without levels (a non-nullable scalar, the
 * common case) would otherwise cost a node_push per row.
 */
static Status
node_push_valid_run(Dec21 *d, Node *node, uint64_t count)
{
	int64_t		i = node->length;
	int64_t		end;

	if (count > (UINT64_C(1) << 40))
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: page claims %" PRIu64 " rows, more than a file can hold",
						  d->what, count);
	end = node->length + (int64_t) count;
	if (end > node->cap)
	{
		int64_t		cap = node->cap ? node->cap : 256;
		uint8_t    *v;

		while (cap < end)
			cap *= 2;
		v = core_realloc(node->validity, (size_t) ((cap + 7) / 8));
		if (v == NULL)
			return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
		node->validity = v;
		node->cap = cap;
	}
	for (; i < end && (i & 7) != 0; i++)
		lance_bit_set(node->validity, i, true);
	if (end - i >= 8)
	{
		memset(node->validity + i / 8, 0xff, (size_t) ((end - i) / 8));
		i += (end - i) / 8 * 8;
	}
	for (; i < end; i++)
		lance_bit_set(node->validity, i, true);
	node->length = end;
	return CORE_OK;
}

/*
 * Walk the levels (rep may be NULL: no lists; def may be NULL: no nulls;
 * with neither, `count` rows, each valid down to the leaf).
 */
static Status
unravel(Dec21 *d, Path *p, const uint16_t *rep, const uint16_t *def, uint64_t count)
{
	int			R = p->num_lists;
	Status		status;

	/* the common case, a top-level leaf: def 0 = valid, its null level = null */
	if (p->depth == 1 && rep == NULL)
	{
		Node	   *node = &p->nodes[0];
		int64_t		n = (int64_t) count;

		if (count > INT32_MAX)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: %" PRIu64 " levels", d->what, count);
		node->validity = core_malloc((size_t) ((n + 7) / 8 + 1));
		if (node->validity == NULL)
			return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
		memset(node->validity, 0xff, (size_t) ((n + 7) / 8 + 1));
		node->cap = n;
		node->length = n;
		for (int64_t i = 0; def && i < n; i++)
		{
			if (def[i] == 0)
				continue;
			if (def[i] != node->null_level)
				return core_error(d->err, CORE_ERR_CORRUPT, "%s: level %" PRId64 ": definition %d above %d",
								  d->what, i, def[i], p->max_def);
			lance_bit_set(node->validity, i, false);
			node->nulls++;
		}
		return CORE_OK;
	}

	if (rep == NULL && R > 0)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: list column without repetition levels", d->what);
	if (rep == NULL && def == NULL)
	{
		/* no lists, no nulls: every node gets `count` valid elements */
		for (int j = 0; j < p->depth; j++)
		{
			status = node_push_valid_run(d, &p->nodes[j], count);
			if (status != CORE_OK)
				return status;
		}
		return CORE_OK;
	}
	for (uint64_t i = 0; i < count; i++)
	{
		int			r = rep ? rep[i] : R;
		int			dl = def ? def[i] : 0;
		int			j_start;
		int			j_term = -1;
		bool		term_empty = false;

		if (r > R)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: level %" PRIu64 ": repetition %d above %d",
							  d->what, i, r, R);
		if (r == R)
			j_start = 0;
		else
		{
			int			ln = p->list_node[R - r - 1];

			if (!p->nodes[ln].open)
				return core_error(d->err, CORE_ERR_CORRUPT,
								  "%s: level %" PRIu64 " continues a list that is null, empty or not started",
								  d->what, i);
			j_start = ln + 1;
		}
		if (dl > 0)
		{
			if (dl > p->max_def)
				return core_error(d->err, CORE_ERR_CORRUPT, "%s: level %" PRIu64 ": definition %d above %d",
								  d->what, i, dl, p->max_def);
			for (int j = 0; j < p->depth; j++)
			{
				if (p->nodes[j].null_level == dl)
					j_term = j;
				else if (p->nodes[j].empty_level == dl)
				{
					j_term = j;
					term_empty = true;
				}
			}
			if (j_term < j_start)
				return core_error(d->err, CORE_ERR_CORRUPT,
								  "%s: level %" PRIu64 ": definition %d contradicts repetition %d",
								  d->what, i, dl, r);
		}
		for (int j = j_start; j < p->depth; j++)
		{
			Node	   *node = &p->nodes[j];

			if (j == j_term)
			{
				status = node_push(d, p, j, term_empty);
				if (status != CORE_OK)
					return status;
				if (node->is_list)
				{
					node->open = false;
					break;
				}
				/* a null struct: its descendants get null elements down to a list */
				for (int k = j + 1; k < p->depth; k++)
				{
					status = node_push(d, p, k, false);
					if (status != CORE_OK)
						return status;
					if (p->nodes[k].is_list)
					{
						p->nodes[k].open = false;
						break;
					}
				}
				break;
			}
			status = node_push(d, p, j, true);
			if (status != CORE_OK)
				return status;
			if (node->is_list)
				node->open = true;
		}
	}
	return CORE_OK;
}

/*
 * Build the path array from the unravelled nodes and the leaf values
 * (leaf->length must equal the leaf node's length).  Takes leaf.
 */
static Status
assemble(Dec21 *d, Path *p, LanceArray *leaf, uint64_t rows, LanceArray **out)
{
	LanceArray *child = leaf;
	Status		status;

	*out = NULL;
	if (p->nodes[0].length != (int64_t) rows)
	{
		lance_array_free(leaf);
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: levels describe %" PRId64 " rows, the page has %" PRIu64,
						  d->what, p->nodes[0].length, rows);
	}
	for (int j = p->depth - 1; j >= 0; j--)
	{
		Node	   *node = &p->nodes[j];
		LanceArray *a;

		if (j == p->depth - 1)
			a = leaf;
		else
		{
			status = lance_array_new_node(&node->field->type, 1, &a, d->err);
			if (status != CORE_OK)
			{
				lance_array_free(child);
				return status;
			}
			a->children[0] = child;
			a->length = node->length;
			if (node->is_list)
			{
				bool		large = node->field->type.id == LANCE_TYPE_LARGE_LIST;
				void	   *offs = core_mallocarray((size_t) node->length + 1, large ? 8 : 4);

				if (offs == NULL)
				{
					lance_array_free(a);
					return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
				}
				core_free(a->offsets);
				a->offsets = offs;
				for (int64_t i = 0; i <= node->length; i++)
				{
					int64_t		o = i < node->length ? node->starts[i] : child->length;

					if (!large && o > INT32_MAX)
					{
						lance_array_free(a);
						return core_error(d->err, CORE_ERR_UNSUPPORTED, "%s: list items overflow int32", d->what);
					}
					if (large)
						((int64_t *) offs)[i] = o;
					else
						((int32_t *) offs)[i] = (int32_t) o;
				}
			}
			a->cap_rows = a->length;
		}
		if (node->nulls > 0)
		{
			/* the leaf may already carry validity (all-null pages) */
			if (a->validity)
			{
				for (int64_t i = 0; i < (node->length + 7) / 8; i++)
					a->validity[i] &= node->validity[i];
				a->null_count = lance_bits_count_zeros(a->validity, a->length);
			}
			else
			{
				a->validity = node->validity;
				node->validity = NULL;
				a->null_count = node->nulls;
				if (a->cap_rows > node->cap)
				{
					/* the array may grow later: the bitmap must cover its capacity */
					uint8_t    *v = core_realloc(a->validity, (size_t) ((a->cap_rows + 7) / 8));

					if (v == NULL)
					{
						lance_array_free(a);
						return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
					}
					a->validity = v;
				}
			}
		}
		child = a;
	}
	*out = child;
	return lance_array_validate(child, d->what, d->err);
}

/* ---------------------------------------------------------------------
 * Layouts
 * ---------------------------------------------------------------------
 */

/* The array type a leaf's values go into: the leaf field's own type. */
static Status
new_leaf(Dec21 *d, const LanceField *leaf, LanceArray **out)
{
	return lance_array_new_for_type(&leaf->type, out, d->err);
}

/* Mark every element of the leaf null (all-null pages). */
static Status
leaf_all_null(Dec21 *d, LanceArray *a)
{
	int64_t		bytes = (a->cap_rows > a->length ? a->cap_rows : a->length) / 8 + 1;

	core_free(a->validity);
	a->validity = core_calloc((size_t) bytes, 1);
	if (a->validity == NULL)
		return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
	a->null_count = a->length;
	return CORE_OK;
}

/*
 * Dictionary entries for the visible slots.  A null slot's index may be
 * anything (even past the dictionary): it takes entry 0, and assemble()
 * then marks it null from the levels.
 */
static Status
gather_dictionary(Dec21 *d, const Path *p, const LanceArray *dict, const U64Vec *idx,
				  LanceArray *out)
{
	const Node *leaf = &p->nodes[p->depth - 1];
	int64_t    *rows;
	Status		status;

	if (dict->length == 0)
	{
		if (leaf->nulls != (int64_t) idx->n)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: non-null values with an empty dictionary",
							  d->what);
		return lance_array_append_nulls(out, (int64_t) idx->n, d->err);
	}
	rows = core_mallocarray((size_t) (idx->n ? idx->n : 1), sizeof(int64_t));
	if (rows == NULL)
		return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
	for (uint64_t i = 0; i < idx->n; i++)
	{
		bool		valid = leaf->validity == NULL || lance_bit_get(leaf->validity, (int64_t) i);

		if (!valid)
			rows[i] = 0;
		else if (idx->v[i] >= (uint64_t) dict->length)
		{
			core_free(rows);
			return core_error(d->err, CORE_ERR_CORRUPT,
							  "%s: value %" PRIu64 " uses dictionary entry %" PRIu64 " of %" PRId64,
							  d->what, i, idx->v[i], dict->length);
		}
		else
			rows[i] = (int64_t) idx->v[i];
	}
	status = lance_array_append_rows(out, dict, rows, (int64_t) idx->n, d->err);
	core_free(rows);
	return status;
}

/*
 * Where a mini-block page's chunks are: chunk k holds values [value[k],
 * value[k + 1]) and its bytes are [byte[k], byte[k + 1]) of the chunk
 * buffer.  Without repetition a value is a row, so the map also says which
 * chunks a range of rows needs.
 */
typedef struct ChunkMap
{
	uint64_t	nchunks;
	uint64_t   *value;			/* nchunks + 1 */
	uint64_t   *byte;			/* nchunks + 1 */
} ChunkMap;

static void
chunk_map_free(ChunkMap *map)
{
	core_free(map->value);
	core_free(map->byte);
	memset(map, 0, sizeof(*map));
}

/* The checks every mini-block page passes before its chunks are read. */
static Status
check_miniblock_page(Dec21 *d, const Le21__MiniBlockLayout *mb, const LancePageData *data)
{
	bool		has_dict = mb->dictionary != NULL;
	int			nvalbufs = mb->num_buffers ? (int) mb->num_buffers : 1;
	int			need_bufs = 2 + (has_dict ? 1 : 0) + (mb->repetition_index_depth > 0 ? 1 : 0);

	if (data->num_buffers < need_bufs)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: mini-block page has %d buffers, needs %d",
						  d->what, data->num_buffers, need_bufs);
	if (nvalbufs > 8)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: %d value buffers per chunk", d->what, nvalbufs);
	if (mb->has_large_chunk && d->version < LANCE_FILE_V2_2)
		return core_error(d->err, CORE_ERR_CORRUPT,
						  "%s: large mini-block chunks are not part of the 2.1 format", d->what);
	return CORE_OK;
}

/* Read the chunk metadata words into a map, checking sizes and counts. */
static Status
chunk_map_build(Dec21 *d, const Le21__MiniBlockLayout *mb, const LancePageData *data,
				ChunkMap *map)
{
	unsigned	word_bytes = mb->has_large_chunk ? 4 : 2;
	ByteSpan	meta = data->buffers[0];
	ByteSpan	chunks = data->buffers[1];
	uint64_t	items_left = mb->num_items;

	memset(map, 0, sizeof(*map));
	if (meta.len % word_bytes != 0)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: chunk metadata of %" PRIu64 " bytes is not a multiple of %u",
						  d->what, meta.len, word_bytes);
	map->nchunks = meta.len / word_bytes;
	map->value = core_mallocarray((size_t) map->nchunks + 1, sizeof(uint64_t));
	map->byte = core_mallocarray((size_t) map->nchunks + 1, sizeof(uint64_t));
	if (map->value == NULL || map->byte == NULL)
	{
		chunk_map_free(map);
		return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
	}
	map->value[0] = 0;
	map->byte[0] = 0;
	for (uint64_t k = 0; k < map->nchunks; k++)
	{
		uint64_t	word = 0;
		uint64_t	size;
		uint64_t	nvals;

		span_uint(meta, k * word_bytes, word_bytes, &word);
		size = ((word >> 4) + 1) * 8;
		/* byte[k] <= chunks.len holds by induction */
		if (size > chunks.len - map->byte[k])
		{
			Status		status = core_error(d->err, CORE_ERR_CORRUPT,
											"%s chunk %" PRIu64 ": chunk %" PRIu64 " of %" PRIu64 " bytes at %" PRIu64 " runs past the chunk buffer of %" PRIu64,
											d->what, k, k, size, map->byte[k], chunks.len);

			chunk_map_free(map);
			return status;
		}
		nvals = (k + 1 == map->nchunks) ? items_left : (UINT64_C(1) << (word & 0xF));
		if (nvals > items_left)
		{
			chunk_map_free(map);
			return core_error(d->err, CORE_ERR_CORRUPT,
							  "%s chunk %" PRIu64 ": chunk %" PRIu64 " holds %" PRIu64 " values, only %" PRIu64 " of the page's %" PRIu64 " are left",
							  d->what, k, k, nvals, items_left, (uint64_t) mb->num_items);
		}
		items_left -= nvals;
		map->value[k + 1] = map->value[k] + nvals;
		map->byte[k + 1] = map->byte[k] + size;
	}
	if (items_left != 0)
	{
		chunk_map_free(map);
		return core_error(d->err, CORE_ERR_CORRUPT,
						  "%s: chunks hold %" PRIu64 " values fewer than the page's %" PRIu64,
						  d->what, items_left, (uint64_t) mb->num_items);
	}
	return CORE_OK;
}

/* What the chunks of a mini-block page decode to, before unravelling. */
typedef struct ChunkAcc
{
	Levels		rep;
	Levels		def;
	U64Vec		idx;			/* dictionary indices, with a dictionary */
	LanceArray *vals;			/* values, without one */
} ChunkAcc;

static void
chunk_acc_free(ChunkAcc *acc)
{
	core_free(acc->rep.v);
	core_free(acc->def.v);
	core_free(acc->idx.v);
	lance_array_free(acc->vals);
	memset(acc, 0, sizeof(*acc));
}

/*
 * Decode chunk k's levels and values onto the accumulator; `bytes` holds
 * bytes [bytes_at, bytes_at + bytes.len) of the chunk buffer, chunk k's
 * among them.
 */
static Status
decode_chunk(Dec21 *d, const Le21__MiniBlockLayout *mb, ByteSpan bytes, uint64_t bytes_at,
			 const ChunkMap *map, uint64_t k, ChunkAcc *acc)
{
	bool		large = mb->has_large_chunk;
	bool		has_rep = mb->rep_compression != NULL;
	bool		has_def = mb->def_compression != NULL;
	int			nvalbufs = mb->num_buffers ? (int) mb->num_buffers : 1;
	uint64_t	size = map->byte[k + 1] - map->byte[k];
	uint64_t	nvals = map->value[k + 1] - map->value[k];
	ByteSpan	chunk;
	ByteCursor	c;
	uint64_t	nlevels = 0;
	uint64_t	rep_size = 0;
	uint64_t	def_size = 0;
	uint64_t	vsize[8];
	ByteSpan	rep_bytes = {0};
	ByteSpan	def_bytes = {0};
	ByteSpan	vbufs[8];
	Raw			raw;
	Status		status;

	if (map->byte[k] < bytes_at || !span_sub(bytes, map->byte[k] - bytes_at, size, &chunk))
		goto short_chunk;
	c = cursor_make(chunk);
	if (!cursor_uint(&c, 2, &nlevels) ||
		(has_rep && !cursor_uint(&c, 2, &rep_size)) ||
		(has_def && !cursor_uint(&c, 2, &def_size)))
		goto short_chunk;
	for (int b = 0; b < nvalbufs; b++)
		if (!cursor_uint(&c, large ? 4 : 2, &vsize[b]))
			goto short_chunk;
	if (!cursor_align(&c, 8))
		goto short_chunk;
	if (has_rep && (!cursor_take(&c, rep_size, &rep_bytes) || !cursor_align(&c, 8)))
		goto short_chunk;
	if (has_def && (!cursor_take(&c, def_size, &def_bytes) || !cursor_align(&c, 8)))
		goto short_chunk;
	for (int b = 0; b < nvalbufs; b++)
	{
		if (!cursor_take(&c, vsize[b], &vbufs[b]))
			goto short_chunk;
		if (b + 1 < nvalbufs && !cursor_align(&c, 8))
			goto short_chunk;
	}

	if (has_rep)
	{
		if ((status = levels_reserve(d, &acc->rep, nlevels)) != CORE_OK ||
			(status = decode_levels(d, mb->rep_compression, rep_bytes, nlevels,
									acc->rep.v + acc->rep.n)) != CORE_OK)
			return status;
		acc->rep.n += nlevels;
	}
	if (has_def)
	{
		if ((status = levels_reserve(d, &acc->def, nlevels)) != CORE_OK ||
			(status = decode_levels(d, mb->def_compression, def_bytes, nlevels,
									acc->def.v + acc->def.n)) != CORE_OK)
			return status;
		acc->def.n += nlevels;
	}

	status = decode_miniblock(d, mb->value_compression, vbufs, nvalbufs, nvals, &raw);
	if (status != CORE_OK)
		return status;
	status = acc->vals ? append_raw(d, acc->vals, &raw) : u64vec_append_raw(d, &acc->idx, &raw);
	raw_free(&raw);
	return status;

short_chunk:
	return core_error(d->err, CORE_ERR_CORRUPT,
					  "%s: chunk %" PRIu64 " (%" PRIu64 " bytes) is shorter than its header says",
					  d->what, k, size);
}

/*
 * Decode chunks [k0, k1) onto the accumulator, naming each in messages
 * (bytes, at bytes_at of the chunk buffer, holds them).
 */
static Status
decode_chunks(Dec21 *d, const Le21__MiniBlockLayout *mb, ByteSpan bytes, uint64_t bytes_at,
			  const ChunkMap *map, uint64_t k0, uint64_t k1, ChunkAcc *acc)
{
	const char *page_what = d->what;
	char		chunk_what[600];
	Status		status = CORE_OK;

	for (uint64_t k = k0; k < k1 && status == CORE_OK; k++)
	{
		snprintf(chunk_what, sizeof(chunk_what), "%s chunk %" PRIu64, page_what, k);
		d->what = chunk_what;
		status = decode_chunk(d, mb, bytes, bytes_at, map, k, acc);
	}
	d->what = page_what;
	return status;
}

/* The page's dictionary, decoded as an array of the leaf's type. */
static Status
decode_dictionary(Dec21 *d, const Le21__MiniBlockLayout *mb, const LancePageData *data,
				  const LanceField *leaf, LanceArray **out)
{
	const char *page_what = d->what;
	char		dict_what[600];
	ByteSpan	dict_buf = data->buffers[2];
	Raw			raw;
	Status		status;

	*out = NULL;
	if (mb->num_dictionary_items > dict_buf.len * 8 + 1024)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: implausible dictionary of %" PRIu64 " items",
						  d->what, (uint64_t) mb->num_dictionary_items);
	snprintf(dict_what, sizeof(dict_what), "%s dictionary", page_what);
	d->what = dict_what;
	status = decode_block(d, mb->dictionary, dict_buf, mb->num_dictionary_items, &raw);
	if (status == CORE_OK)
	{
		status = new_leaf(d, leaf, out);
		if (status == CORE_OK)
			status = append_raw(d, *out, &raw);
		raw_free(&raw);
	}
	d->what = page_what;
	if (status != CORE_OK)
	{
		lance_array_free(*out);
		*out = NULL;
	}
	return status;
}

/*
 * Unravel the accumulated levels and turn the values (or the dictionary
 * entries the indices pick) into the path array of `rows` rows.
 */
static Status
finish_chunks(Dec21 *d, const Le21__MiniBlockLayout *mb, const LanceField *top,
			  const LanceField *leaf, ChunkAcc *acc, const LanceArray *dict, uint64_t rows,
			  LanceArray **out)
{
	bool		has_rep = mb->rep_compression != NULL;
	bool		has_def = mb->def_compression != NULL;
	Path		path;
	Status		status;

	*out = NULL;
	status = path_init(d, &path, top, leaf, mb->layers, mb->n_layers);
	if (status != CORE_OK)
		return status;
	if (has_rep || has_def)
		status = unravel(d, &path, has_rep ? acc->rep.v : NULL, has_def ? acc->def.v : NULL,
						 has_rep ? acc->rep.n : acc->def.n);
	else
		status = unravel(d, &path, NULL, NULL, rows);
	if (status == CORE_OK && dict)
	{
		if (acc->idx.n != (uint64_t) path.nodes[path.depth - 1].length)
			status = core_error(d->err, CORE_ERR_CORRUPT,
								"%s: %" PRIu64 " dictionary indices for %" PRId64 " value slots",
								d->what, acc->idx.n, path.nodes[path.depth - 1].length);
		else if ((status = new_leaf(d, leaf, &acc->vals)) == CORE_OK)
			status = gather_dictionary(d, &path, dict, &acc->idx, acc->vals);
	}
	if (status == CORE_OK && acc->vals->length != path.nodes[path.depth - 1].length)
		status = core_error(d->err, CORE_ERR_CORRUPT,
							"%s: %" PRId64 " values for %" PRId64 " value slots",
							d->what, acc->vals->length, path.nodes[path.depth - 1].length);
	if (status == CORE_OK)
	{
		status = assemble(d, &path, acc->vals, rows, out);
		acc->vals = NULL;
	}
	path_free(&path);
	return status;
}

static Status
decode_miniblock_layout(Dec21 *d, const Le21__MiniBlockLayout *mb, const LancePageData *data,
						uint64_t rows, const LanceField *top, const LanceField *leaf,
						LanceArray **out)
{
	ChunkMap	map;
	ChunkAcc	acc;
	LanceArray *dict = NULL;
	Status		status;

	*out = NULL;
	memset(&acc, 0, sizeof(acc));
	if ((status = check_miniblock_page(d, mb, data)) != CORE_OK ||
		(status = chunk_map_build(d, mb, data, &map)) != CORE_OK)
		return status;
	if (mb->dictionary == NULL)
		status = new_leaf(d, leaf, &acc.vals);
	if (status == CORE_OK)
		status = decode_chunks(d, mb, data->buffers[1], 0, &map, 0, map.nchunks, &acc);
	if (status == CORE_OK && mb->dictionary)
		status = decode_dictionary(d, mb, data, leaf, &dict);
	if (status == CORE_OK)
		status = finish_chunks(d, mb, top, leaf, &acc, dict, rows, out);
	lance_array_free(dict);
	chunk_acc_free(&acc);
	chunk_map_free(&map);
	return status;
}

/* A growable byte buffer for the full-zip stream's values. */
typedef struct ByteVec
{
	uint8_t    *v;
	uint64_t	n;
	uint64_t	cap;
} ByteVec;

/* Make the vector n bytes long (new bytes uninitialized). */
static Status
bytevec_resize(Dec21 *d, ByteVec *b, uint64_t n)
{
	if (n > b->cap)
	{
		uint64_t	cap = b->cap ? b->cap : 4096;
		uint8_t    *grown;

		while (cap < n)
			cap *= 2;
		if (cap > LANCE_MAX_PAGE_BYTES)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: page values exceed the limit", d->what);
		grown = core_realloc(b->v, (size_t) cap);
		if (grown == NULL)
			return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
		b->v = grown;
		b->cap = cap;
	}
	b->n = n;
	return CORE_OK;
}

static Status
bytevec_push(Dec21 *d, ByteVec *b, const uint8_t *p, uint64_t len)
{
	uint64_t	at = b->n;
	Status		status = bytevec_resize(d, b, b->n + len);

	if (status == CORE_OK && len)
		memcpy(b->v + at, p, (size_t) len);
	return status;
}

/*
 * Full-zip: per level a control word (rep high, def low bits) and, for a
 * visible slot, its value: fixed width (null items too) or, for variable
 * width, a length and bytes (valid items only).
 */
static Status
decode_fullzip_layout(Dec21 *d, const Le21__FullZipLayout *fz, const LancePageData *data,
					  uint64_t rows, const LanceField *top, const LanceField *leaf,
					  LanceArray **out)
{
	unsigned	ctrl_bits = fz->bits_rep + fz->bits_def;
	unsigned	ctrl_bytes = ctrl_bits == 0 ? 0 : ctrl_bits <= 8 ? 1 : ctrl_bits <= 16 ? 2 : 4;
	bool		variable = fz->details_case == LE21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_OFFSET;
	uint64_t	nlevels = fz->num_items;
	const Enc  *vc = fz->value_compression;
	ByteCursor	c;
	Levels		rep = {0};
	Levels		def = {0};
	ByteVec		bytes = {0};
	ByteVec		validity = {0};
	uint64_t   *offsets = NULL;
	uint64_t	noffsets = 0;
	uint64_t	nvalues = 0;
	LanceArray *vals = NULL;
	Path		path;
	Status		status;
	unsigned	value_bytes = 0;
	unsigned	len_bytes = 0;
	uint32_t	fsl_dim = 0;
	unsigned	item_bits = 0;
	bool		fsl_validity = false;
	const Le21__BufferCompression *per_value = NULL;
	const uint8_t *in_place = NULL;

	*out = NULL;
	memset(&path, 0, sizeof(path));
	if (data->num_buffers < 1)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: full-zip page without buffers", d->what);
	if (fz->bits_rep > 16 || fz->bits_def > 16 || ctrl_bits > 32)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: full-zip control word of %u + %u bits",
						  d->what, fz->bits_rep, fz->bits_def);
	if (nlevels > data->buffers[0].len)
		return core_error(d->err, CORE_ERR_CORRUPT,
						  "%s: %" PRIu64 " full-zip levels cannot fit in %" PRIu64 " bytes",
						  d->what, nlevels, data->buffers[0].len);

	/* what one value looks like */
	if (variable)
	{
		const Enc  *inner = vc;

		if (fz->bits_per_offset != 32 && fz->bits_per_offset != 64)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: full-zip lengths of %u bits",
							  d->what, fz->bits_per_offset);
		len_bytes = fz->bits_per_offset / 8;
		if (inner && inner->compression_case == LE21__COMPRESSIVE_ENCODING__COMPRESSION_GENERAL)
		{
			per_value = inner->general->compression;
			inner = inner->general->values;
		}
		if (inner == NULL || inner->compression_case != LE21__COMPRESSIVE_ENCODING__COMPRESSION_VARIABLE)
			return refuse(d, inner, "full-zip variable-width values");
		if (!lance_type_has_offsets(leaf->type.id) || !lance_field_is_leaf(leaf))
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: variable full-zip values for a %s column",
							  d->what, lance_type_name(leaf->type.id));
	}
	else if (fz->details_case == LE21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE)
	{
		const Enc  *inner = vc;

		if (fz->bits_per_value == 0 || fz->bits_per_value % 8 != 0)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: full-zip values of %u bits",
							  d->what, fz->bits_per_value);
		value_bytes = fz->bits_per_value / 8;
		if (inner && inner->compression_case == LE21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST)
		{
			fsl_dim = (uint32_t) inner->fixed_size_list->items_per_value;
			fsl_validity = inner->fixed_size_list->has_validity;
			inner = inner->fixed_size_list->values;
			if (fsl_dim == 0 || inner == NULL ||
				inner->compression_case != LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT)
				return refuse(d, inner, "full-zip fixed_size_list items");
			item_bits = (unsigned) inner->flat->bits_per_value;
			if (item_bits % 8 != 0 || item_bits == 0 ||
				(uint64_t) value_bytes != (fsl_validity ? (fsl_dim + 7) / 8 : 0) + (uint64_t) fsl_dim * item_bits / 8)
				return core_error(d->err, CORE_ERR_CORRUPT,
								  "%s: full-zip value of %u bytes does not hold %u items of %u bits",
								  d->what, value_bytes, fsl_dim, item_bits);
		}
		else if (inner == NULL || inner->compression_case != LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
				 inner->flat->bits_per_value != fz->bits_per_value)
			return refuse(d, inner, "full-zip fixed-width values");
	}
	else
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: full-zip layout without a value width", d->what);

	status = path_init(d, &path, top, leaf, fz->layers, fz->n_layers);
	if (status != CORE_OK)
		return status;
	if (ctrl_bytes == 0 && path.max_def > 0)
	{
		status = core_error(d->err, CORE_ERR_CORRUPT, "%s: nullable full-zip column without control words", d->what);
		goto done;
	}
	if ((ctrl_bytes && ((status = levels_reserve(d, &rep, nlevels)) != CORE_OK ||
						(status = levels_reserve(d, &def, nlevels)) != CORE_OK)))
		goto done;
	if (variable)
	{
		offsets = core_mallocarray((size_t) nlevels + 1, sizeof(uint64_t));
		if (offsets == NULL)
		{
			status = core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
			goto done;
		}
		offsets[0] = 0;
	}

	c = cursor_make(data->buffers[0]);
	if (ctrl_bytes == 0 && !variable && !fsl_validity)
	{
		/* no levels, fixed width: the stream is just the values, used in place */
		if (nlevels > data->buffers[0].len / value_bytes)
			goto short_stream;
		in_place = data->buffers[0].data;
		nvalues = nlevels;
		nlevels = 0;			/* skip the loop below */
	}
	for (uint64_t i = 0; i < nlevels; i++)
	{
		uint64_t	ctrl = 0;
		unsigned	r = 0;
		unsigned	dl = 0;
		bool		visible;

		if (ctrl_bytes)
		{
			if (!cursor_uint(&c, ctrl_bytes, &ctrl))
				goto short_stream;
			dl = (unsigned) (ctrl & ((1u << fz->bits_def) - 1));
			r = (unsigned) (ctrl >> fz->bits_def) & ((1u << fz->bits_rep) - 1);
			rep.v[rep.n++] = (uint16_t) r;
			def.v[def.n++] = (uint16_t) dl;
		}
		visible = (int) dl < path.first_list_level;
		if (!visible)
			continue;
		if (variable)
		{
			if (dl == 0)
			{
				uint64_t	len;
				ByteSpan	v;

				if (!cursor_uint(&c, len_bytes, &len) || !cursor_take(&c, len, &v))
					goto short_stream;
				if (per_value)
				{
					uint8_t    *plain;
					uint64_t	plain_len;

					status = decompress(d, per_value, v, &plain, &plain_len);
					if (status != CORE_OK)
						goto done;
					status = bytevec_push(d, &bytes, plain, plain_len);
					core_free(plain);
				}
				else
					status = bytevec_push(d, &bytes, v.data, v.len);
				if (status != CORE_OK)
					goto done;
			}
			offsets[++noffsets] = bytes.n;
		}
		else
		{
			ByteSpan	v;

			if (!cursor_take(&c, value_bytes, &v))
				goto short_stream;
			if (fsl_validity)
			{
				uint64_t	vb = (fsl_dim + 7) / 8;

				/* each row's item bits join one bitmap of all items */
				status = bytevec_resize(d, &validity, ((nvalues + 1) * fsl_dim + 7) / 8);
				if (status != CORE_OK)
					goto done;
				lance_bits_copy(validity.v, (int64_t) (nvalues * fsl_dim), v.data, 0, fsl_dim);
				status = bytevec_push(d, &bytes, v.data + vb, v.len - vb);
			}
			else
				status = bytevec_push(d, &bytes, v.data, v.len);
			if (status != CORE_OK)
				goto done;
		}
		nvalues++;
	}
	if (nvalues != fz->num_visible_items && fz->num_visible_items != 0)
	{
		status = core_error(d->err, CORE_ERR_CORRUPT,
							"%s: %" PRIu64 " visible values, the layout says %u",
							d->what, nvalues, fz->num_visible_items);
		goto done;
	}

	status = unravel(d, &path, ctrl_bytes && fz->bits_rep ? rep.v : NULL,
					 ctrl_bytes && fz->bits_def ? def.v : NULL, ctrl_bytes ? nlevels : rows);
	if (status != CORE_OK)
		goto done;
	if (ctrl_bytes == 0 && nvalues != rows)
	{
		status = core_error(d->err, CORE_ERR_CORRUPT, "%s: %" PRIu64 " full-zip values for %" PRIu64 " rows",
							d->what, nlevels, rows);
		goto done;
	}
	status = new_leaf(d, leaf, &vals);
	if (status != CORE_OK)
		goto done;
	{
		Raw			raw;

		memset(&raw, 0, sizeof(raw));
		raw.n = nvalues;
		raw.data = in_place ? in_place : bytes.v ? bytes.v : (const uint8_t *) "";
		raw.data_len = in_place ? nvalues * value_bytes : bytes.n;
		if (variable)
		{
			raw.is_var = true;
			raw.offsets = offsets;
		}
		else if (fsl_dim)
		{
			raw.bits = item_bits;
			raw.fsl_dim = fsl_dim;
			raw.item_validity = fsl_validity ? validity.v : NULL;
		}
		else
			raw.bits = fz->bits_per_value;
		status = append_raw(d, vals, &raw);
		if (status != CORE_OK)
			goto done;
	}
	status = assemble(d, &path, vals, rows, out);
	vals = NULL;
	goto done;

short_stream:
	status = core_error(d->err, CORE_ERR_CORRUPT,
						"%s: full-zip stream of %" PRIu64 " bytes ends before its %" PRIu64 " levels do",
						d->what, data->buffers[0].len, nlevels);
done:
	lance_array_free(vals);
	core_free(offsets);
	core_free(bytes.v);
	core_free(validity.v);
	core_free(rep.v);
	core_free(def.v);
	path_free(&path);
	return status;
}

/*
 * Copy a constant page's raw u16 rep and def level buffers.  Either may be
 * empty (no lists, or no nulls); when both are present they hold one level
 * per slot each.
 */
static Status
raw_levels(Dec21 *d, ByteSpan rb, ByteSpan db, Levels *rep, Levels *def, uint64_t *nlevels)
{
	Status		status;

	if (db.len % 2 || rb.len % 2 || (rb.len && db.len && rb.len != db.len))
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: constant page level buffers of %" PRIu64 " and %" PRIu64 " bytes",
						  d->what, rb.len, db.len);
	*nlevels = (rb.len ? rb.len : db.len) / 2;
	if ((status = levels_reserve(d, def, *nlevels)) != CORE_OK ||
		(status = levels_reserve(d, rep, *nlevels)) != CORE_OK)
		return status;
	if (db.len)
	{
		memcpy(def->v, db.data, (size_t) db.len);
		def->n = *nlevels;
	}
	if (rb.len)
	{
		memcpy(rep->v, rb.data, (size_t) rb.len);
		rep->n = *nlevels;
	}
	return CORE_OK;
}

/*
 * Constant layout (2.1 all-null, 2.2 constant): no values, or one scalar
 * for every visible slot.  Levels are raw u16 buffers (2.1, and 2.2 pages
 * without level compression: the buffers are then [scalar?, rep, def]) or
 * encoded (2.2 with rep/def compression).
 */
static Status
decode_constant_layout(Dec21 *d, const Le21__ConstantLayout *cl, const LancePageData *data,
					   uint64_t rows, const LanceField *top, const LanceField *leaf,
					   LanceArray **out)
{
	Path		path;
	Levels		rep = {0};
	Levels		def = {0};
	uint64_t	nlevels = 0;
	LanceArray *vals = NULL;
	LanceArray *scalar = NULL;
	Status		status;
	int			next_buf = 0;
	int			level_bufs;
	bool		encoded_levels = cl->rep_compression || cl->def_compression;
	bool		has_scalar = false;
	ByteSpan	scalar_bytes = {0};

	*out = NULL;
	memset(&path, 0, sizeof(path));
	status = path_init(d, &path, top, leaf, cl->layers, cl->n_layers);
	if (status != CORE_OK)
		return status;

	/*
	 * Count the level buffers so that what is left over is the scalar: a
	 * 2.1 page, or a 2.2 page without level compression, has either none or
	 * the raw rep and def pair.
	 */
	if (d->version >= LANCE_FILE_V2_2 && encoded_levels)
		level_bufs = (cl->rep_compression ? 1 : 0) + (cl->def_compression ? 1 : 0);
	else
		level_bufs = data->num_buffers >= 2 ? 2 : 0;

	if (cl->has_inline_value)
	{
		has_scalar = true;
		scalar_bytes = span_make(cl->inline_value.data, cl->inline_value.len);
	}
	else if (data->num_buffers > level_bufs && d->version >= LANCE_FILE_V2_2)
	{
		has_scalar = true;
		scalar_bytes = data->buffers[0];
		next_buf = 1;
	}

	if (level_bufs == 2 && !encoded_levels)
	{
		if (next_buf + 2 != data->num_buffers)
		{
			status = core_error(d->err, CORE_ERR_CORRUPT, "%s: constant page of %d buffers", d->what,
								data->num_buffers);
			goto done;
		}
		status = raw_levels(d, data->buffers[next_buf], data->buffers[next_buf + 1], &rep, &def, &nlevels);
		if (status != CORE_OK)
			goto done;
	}
	else if (d->version >= LANCE_FILE_V2_2)
	{
		if (encoded_levels)
		{
			if (cl->rep_compression && cl->def_compression && cl->num_rep_values != cl->num_def_values)
			{
				status = core_error(d->err, CORE_ERR_CORRUPT, "%s: %" PRIu64 " rep levels but %" PRIu64 " def levels",
									d->what, cl->num_rep_values, cl->num_def_values);
				goto done;
			}
			nlevels = cl->rep_compression ? cl->num_rep_values : cl->num_def_values;
			if (nlevels > LANCE_MAX_PAGE_BYTES / 16 || nlevels > rows * 65536 + 65536)
			{
				status = core_error(d->err, CORE_ERR_CORRUPT, "%s: %" PRIu64 " levels", d->what, nlevels);
				goto done;
			}
			if (cl->rep_compression)
			{
				if (next_buf >= data->num_buffers ||
					(status = levels_reserve(d, &rep, nlevels)) != CORE_OK ||
					(status = decode_levels(d, cl->rep_compression, data->buffers[next_buf],
											nlevels, rep.v)) != CORE_OK)
				{
					if (next_buf >= data->num_buffers)
						status = core_error(d->err, CORE_ERR_CORRUPT, "%s: missing rep level buffer", d->what);
					goto done;
				}
				rep.n = nlevels;
				next_buf++;
			}
			if (cl->def_compression)
			{
				if (next_buf >= data->num_buffers ||
					(status = levels_reserve(d, &def, nlevels)) != CORE_OK ||
					(status = decode_levels(d, cl->def_compression, data->buffers[next_buf],
											nlevels, def.v)) != CORE_OK)
				{
					if (next_buf >= data->num_buffers)
						status = core_error(d->err, CORE_ERR_CORRUPT, "%s: missing def level buffer", d->what);
					goto done;
				}
				def.n = nlevels;
			}
		}
	}

	if (rep.n || def.n)
		status = unravel(d, &path, rep.n ? rep.v : NULL, def.n ? def.v : NULL, nlevels);
	else
		status = unravel(d, &path, NULL, NULL, rows);
	if (status != CORE_OK)
		goto done;

	status = new_leaf(d, leaf, &vals);
	if (status != CORE_OK)
		goto done;
	if (!has_scalar)
	{
		status = lance_array_append_nulls(vals, path.nodes[path.depth - 1].length, d->err);
		if (status == CORE_OK)
			status = leaf_all_null(d, vals);
		if (status != CORE_OK)
			goto done;
	}
	else
	{
		Raw			raw;
		const LanceType *t = &leaf->type;
		int64_t		slots = path.nodes[path.depth - 1].length;

		memset(&raw, 0, sizeof(raw));
		raw.n = 1;
		if (lance_type_has_offsets(t->id))
		{
			LanceScalarBuffers sb;
			const uint8_t *v;
			size_t		vlen;
			uint64_t	offs[2];

			if (cl->has_inline_value)
			{
				v = scalar_bytes.data;
				vlen = (size_t) scalar_bytes.len;
			}
			else if ((status = lance_scalar_parse(scalar_bytes.data, (size_t) scalar_bytes.len, &sb, d->err)) != CORE_OK ||
					 (status = lance_scalar_binary(&sb, &v, &vlen, d->err)) != CORE_OK)
			{
				status = codec_failed(d, status);
				goto done;
			}
			offs[0] = 0;
			offs[1] = vlen;
			raw.is_var = true;
			raw.data = v;
			raw.data_len = vlen;
			raw.offsets = offs;
			status = new_leaf(d, leaf, &scalar);
			if (status == CORE_OK)
				status = append_raw(d, scalar, &raw);
			raw.offsets = NULL;
		}
		else
		{
			const uint8_t *v = scalar_bytes.data;
			uint64_t	vlen = scalar_bytes.len;
			unsigned	bits = t->id == LANCE_TYPE_BOOL ? 1 : (unsigned) t->byte_width * 8;
			uint8_t		boolbyte;

			if (!cl->has_inline_value)
			{
				LanceScalarBuffers sb;

				if ((status = lance_scalar_parse(v, (size_t) vlen, &sb, d->err)) != CORE_OK)
				{
					status = codec_failed(d, status);
					goto done;
				}
				if (sb.nbuffers == 0)
				{
					status = core_error(d->err, CORE_ERR_CORRUPT, "%s: constant scalar without buffers", d->what);
					goto done;
				}
				v = sb.data[sb.nbuffers - 1];
				vlen = sb.len[sb.nbuffers - 1];
			}
			if (t->id == LANCE_TYPE_BOOL)
			{
				if (vlen < 1)
				{
					status = core_error(d->err, CORE_ERR_CORRUPT, "%s: empty bool constant", d->what);
					goto done;
				}
				boolbyte = v[0] & 1;
				v = &boolbyte;
			}
			else if (bits == 0 || vlen != bits / 8)
			{
				status = core_error(d->err, CORE_ERR_CORRUPT,
									"%s: constant of %" PRIu64 " bytes for a %s column",
									d->what, vlen, lance_type_name(t->id));
				goto done;
			}
			if (t->id == LANCE_TYPE_FIXED_SIZE_LIST)
			{
				raw.fsl_dim = (uint32_t) t->fixed_size;
				raw.bits = (unsigned) t->item->byte_width * 8;
			}
			else
				raw.bits = bits;
			raw.data = v;
			raw.data_len = vlen;
			status = new_leaf(d, leaf, &scalar);
			if (status == CORE_OK)
				status = append_raw(d, scalar, &raw);
		}
		if (status != CORE_OK)
			goto done;
		if ((uint64_t) slots * (uint64_t) (scalar->values_size + 16) > LANCE_MAX_PAGE_BYTES)
		{
			status = core_error(d->err, CORE_ERR_UNSUPPORTED, "%s: constant page of %" PRId64 " values is too large",
								d->what, slots);
			goto done;
		}
		{
			int64_t    *zeros = core_calloc((size_t) (slots ? slots : 1), sizeof(int64_t));

			if (zeros == NULL)
			{
				status = core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
				goto done;
			}
			status = lance_array_append_rows(vals, scalar, zeros, slots, d->err);
			core_free(zeros);
			if (status != CORE_OK)
				goto done;
		}
	}
	status = assemble(d, &path, vals, rows, out);
	vals = NULL;

done:
	lance_array_free(vals);
	lance_array_free(scalar);
	core_free(rep.v);
	core_free(def.v);
	path_free(&path);
	return status;
}

CoreStatus
lance_decode21_page(const char *what, LanceFileVersion version, ByteSpan encoding,
					const LancePageData *data, uint64_t rows, const LanceField *top,
					const LanceField *leaf, LanceArray **out, CoreError *err)
{
	Dec21		d = {what, version, err};
	Le21__PageLayout *layout;
	Status		status;

	*out = NULL;
	if (rows > UINT32_MAX)
		return core_error(err, CORE_ERR_CORRUPT, "%s: page of %" PRIu64 " rows", what, rows);
	if (!pbguard_ok(encoding.data, encoding.len))
		return core_error(err, CORE_ERR_CORRUPT, "%s: page layout is nested too deeply", what);
	layout = le21__page_layout__unpack(NULL, encoding.len, encoding.data);
	if (layout == NULL)
		return core_error(err, CORE_ERR_CORRUPT, "%s: page layout protobuf does not parse", what);
	switch (layout->layout_case)
	{
		case LE21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT:
			status = decode_miniblock_layout(&d, layout->mini_block_layout, data, rows, top, leaf, out);
			break;
		case LE21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT:
			status = decode_fullzip_layout(&d, layout->full_zip_layout, data, rows, top, leaf, out);
			break;
		case LE21__PAGE_LAYOUT__LAYOUT_CONSTANT_LAYOUT:
			status = decode_constant_layout(&d, layout->constant_layout, data, rows, top, leaf, out);
			break;
		case LE21__PAGE_LAYOUT__LAYOUT_BLOB_LAYOUT:
			status = core_error(err, CORE_ERR_UNSUPPORTED, "%s: the blob page layout is not supported", what);
			break;
		case LE21__PAGE_LAYOUT__LAYOUT_SPARSE_LAYOUT:
			status = core_error(err, CORE_ERR_UNSUPPORTED, "%s: the sparse page layout is not supported", what);
			break;
		default:
			status = core_error(err, CORE_ERR_CORRUPT, "%s: page layout of unknown kind", what);
			break;
	}
	le21__page_layout__free_unpacked(layout, NULL);
	return status;
}

/* Bits of one value of a fixed-width leaf type, or 0 (bool, nested, variable). */
static unsigned
leaf_value_bits(const LanceType *t)
{
	if (t->id == LANCE_TYPE_BOOL || t->id == LANCE_TYPE_NULL || lance_type_has_offsets(t->id) ||
		t->id == LANCE_TYPE_STRUCT || t->id == LANCE_TYPE_FIXED_SIZE_LIST || t->byte_width <= 0)
		return 0;
	return (unsigned) t->byte_width * 8;
}

bool
lance_decode21_stride_page(ByteSpan encoding, uint64_t rows, uint64_t buffer_len,
						   const LanceField *field, LanceStridePage *out)
{
	Le21__PageLayout *layout;
	const Le21__FullZipLayout *fz;
	const Enc  *vc;
	bool		ok = false;

	if (field->parent != NULL || !lance_field_is_leaf(field) ||
		!pbguard_ok(encoding.data, encoding.len))
		return false;
	layout = le21__page_layout__unpack(NULL, encoding.len, encoding.data);
	if (layout == NULL)
		return false;
	fz = layout->full_zip_layout;
	if (layout->layout_case != LE21__PAGE_LAYOUT__LAYOUT_FULL_ZIP_LAYOUT ||
		fz->details_case != LE21__FULL_ZIP_LAYOUT__DETAILS_BITS_PER_VALUE ||
		fz->bits_rep != 0 || fz->bits_def > 1 || fz->n_layers > 1 ||
		fz->bits_per_value == 0 || fz->bits_per_value % 8 != 0 ||
		fz->num_items != rows ||
		(fz->num_visible_items != 0 && fz->num_visible_items != rows))
		goto done;
	/* one control bit is "null", and only a nullable item layer has one */
	if (fz->n_layers == 1 &&
		fz->layers[0] != (fz->bits_def ? LAYER_NULLABLE_ITEM : LAYER_ALL_VALID_ITEM))
		goto done;
	if (fz->n_layers == 0 && fz->bits_def)
		goto done;

	/* the values: plain numbers, or fixed_size_lists of them with no item nulls */
	vc = fz->value_compression;
	if (vc && vc->compression_case == LE21__COMPRESSIVE_ENCODING__COMPRESSION_FIXED_SIZE_LIST)
	{
		const Le21__FixedSizeList *fsl = vc->fixed_size_list;
		const LanceType *t = &field->type;

		if (t->id != LANCE_TYPE_FIXED_SIZE_LIST || fsl->has_validity || fsl->values == NULL ||
			fsl->values->compression_case != LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
			fsl->items_per_value != (uint64_t) t->fixed_size ||
			leaf_value_bits(t->item) == 0 ||
			fsl->values->flat->bits_per_value != leaf_value_bits(t->item) ||
			(uint64_t) t->fixed_size * leaf_value_bits(t->item) != fz->bits_per_value)
			goto done;
	}
	else if (vc == NULL || vc->compression_case != LE21__COMPRESSIVE_ENCODING__COMPRESSION_FLAT ||
			 vc->flat->bits_per_value != fz->bits_per_value ||
			 leaf_value_bits(&field->type) != fz->bits_per_value)
		goto done;

	out->ctrl_bytes = fz->bits_def ? 1 : 0;
	out->value_bytes = fz->bits_per_value / 8;
	out->stride = out->ctrl_bytes + out->value_bytes;
	ok = rows <= buffer_len / out->stride;

done:
	le21__page_layout__free_unpacked(layout, NULL);
	return ok;
}

CoreStatus
lance_decode21_stride_rows(const LanceStridePage *page, const uint8_t *rows, uint64_t n,
						   LanceArray *out, CoreError *err)
{
	int64_t		first = out->length;
	uint8_t    *dest;
	Status		status;

	if (n > INT32_MAX)
		return core_error(err, CORE_ERR_INVALID, "%" PRIu64 " rows in one read", n);
	if (page->ctrl_bytes != 1)
		return core_error(err, CORE_ERR_INVALID, "rows without control bytes are read in place");
	status = lance_array_extend_fixed(out, (int64_t) n, &dest, err);
	if (status != CORE_OK)
		return status;
	for (uint64_t i = 0; i < n; i++)
	{
		const uint8_t *row = rows + i * page->stride;

		memcpy(dest + i * page->value_bytes, row + 1, page->value_bytes);
		if ((row[0] & 1) && (status = lance_array_set_null(out, first + (int64_t) i, err)) != CORE_OK)
			return status;
	}
	return CORE_OK;
}

/* ---------------------------------------------------------------------
 * Mini-block pages read a range of rows at a time
 * ---------------------------------------------------------------------
 */

struct LanceChunkedPage
{
	char	   *what;
	LanceFileVersion version;
	Le21__PageLayout *layout;
	LanceChunkFetch fetch;		/* where chunk bytes come from */
	void	   *fetch_arg;
	const LanceField *field;
	ChunkMap	map;			/* without repetition: values are rows */
	LanceArray *dict;			/* decoded once, or NULL */
	/* the last chunks decoded: rows [win_start, win_start + window->length) */
	LanceArray *window;
	uint64_t	win_start;
};

void
lance_decode21_chunked_free(LanceChunkedPage *pg)
{
	if (pg == NULL)
		return;
	if (pg->layout)
		le21__page_layout__free_unpacked(pg->layout, NULL);
	chunk_map_free(&pg->map);
	lance_array_free(pg->dict);
	lance_array_free(pg->window);
	core_free(pg->what);
	core_free(pg);
}

/* The page's layout if it is a mini-block page that can be read by rows. */
static Le21__PageLayout *
chunked_layout(ByteSpan encoding, uint64_t rows, const LanceField *field)
{
	Le21__PageLayout *layout;
	const Le21__MiniBlockLayout *mb;

	if (field->parent != NULL || !lance_field_is_leaf(field) ||
		!pbguard_ok(encoding.data, encoding.len))
		return NULL;
	layout = le21__page_layout__unpack(NULL, encoding.len, encoding.data);
	if (layout == NULL)
		return NULL;
	mb = layout->mini_block_layout;
	/* without repetition each value is a row, so rows map to chunks */
	if (layout->layout_case != LE21__PAGE_LAYOUT__LAYOUT_MINI_BLOCK_LAYOUT ||
		mb->rep_compression != NULL || mb->repetition_index_depth > 0 || mb->num_items != rows)
	{
		le21__page_layout__free_unpacked(layout, NULL);
		return NULL;
	}
	return layout;
}

bool
lance_decode21_chunked_page(ByteSpan encoding, uint64_t rows, const LanceField *field)
{
	Le21__PageLayout *layout = chunked_layout(encoding, rows, field);

	if (layout == NULL)
		return false;
	le21__page_layout__free_unpacked(layout, NULL);
	return true;
}

CoreStatus
lance_decode21_chunked_open(const char *what, LanceFileVersion version, ByteSpan encoding,
							const LancePageData *data, uint64_t rows, const LanceField *field,
							LanceChunkFetch fetch, void *fetch_arg, LanceChunkedPage **out,
							CoreError *err)
{
	Dec21		d = {what, version, err};
	LanceChunkedPage *pg;
	const Le21__MiniBlockLayout *mb;
	Status		status;

	*out = NULL;
	pg = core_calloc(1, sizeof(LanceChunkedPage));
	if (pg == NULL)
		return core_error(err, CORE_ERR_NOMEM, "%s: out of memory", what);
	pg->layout = chunked_layout(encoding, rows, field);
	if (pg->layout == NULL)
	{
		core_free(pg);
		return core_error(err, CORE_ERR_INVALID, "%s: not a mini-block page to read by rows", what);
	}
	mb = pg->layout->mini_block_layout;
	pg->what = core_strdup(what);
	pg->version = version;
	pg->fetch = fetch;
	pg->fetch_arg = fetch_arg;
	pg->field = field;
	if (pg->what == NULL)
		status = core_error(err, CORE_ERR_NOMEM, "%s: out of memory", what);
	else if ((status = check_miniblock_page(&d, mb, data)) == CORE_OK &&
			 (status = chunk_map_build(&d, mb, data, &pg->map)) == CORE_OK && mb->dictionary)
		status = decode_dictionary(&d, mb, data, field, &pg->dict);
	if (status != CORE_OK)
	{
		lance_decode21_chunked_free(pg);
		return status;
	}
	*out = pg;
	return CORE_OK;
}

/* The chunk holding row `row` (< the page's rows): the last starting at or before it. */
static uint64_t
chunk_of_row(const ChunkMap *map, uint64_t row)
{
	uint64_t	lo = 0;
	uint64_t	hi = map->nchunks - 1;

	while (lo < hi)
	{
		uint64_t	mid = lo + (hi - lo + 1) / 2;

		if (map->value[mid] <= row)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

/* Decode the chunks holding rows [start, start + count) as the window. */
static Status
decode_window(LanceChunkedPage *pg, uint64_t start, uint64_t count, CoreError *err)
{
	Dec21		d = {pg->what, pg->version, err};
	const Le21__MiniBlockLayout *mb = pg->layout->mini_block_layout;
	uint64_t	k0 = chunk_of_row(&pg->map, start);
	uint64_t	k1 = chunk_of_row(&pg->map, start + count - 1) + 1;
	ChunkAcc	acc;
	ByteSpan	bytes;
	Status		status = CORE_OK;

	lance_array_free(pg->window);
	pg->window = NULL;
	memset(&acc, 0, sizeof(acc));
	if (pg->dict == NULL)
		status = new_leaf(&d, pg->field, &acc.vals);
	if (status == CORE_OK)
		status = pg->fetch(pg->fetch_arg, pg->map.byte[k0], pg->map.byte[k1] - pg->map.byte[k0],
						   &bytes, err);
	if (status == CORE_OK)
		status = decode_chunks(&d, mb, bytes, pg->map.byte[k0], &pg->map, k0, k1, &acc);
	if (status == CORE_OK)
		status = finish_chunks(&d, mb, pg->field, pg->field, &acc, pg->dict,
							   pg->map.value[k1] - pg->map.value[k0], &pg->window);
	chunk_acc_free(&acc);
	pg->win_start = pg->map.value[k0];
	return status;
}

CoreStatus
lance_decode21_chunked_rows(LanceChunkedPage *pg, uint64_t start, uint64_t count,
							LanceArray *out, CoreError *err)
{
	if (start > pg->map.value[pg->map.nchunks] || count > pg->map.value[pg->map.nchunks] - start)
		return core_error(err, CORE_ERR_INVALID, "%s: rows [%" PRIu64 ", +%" PRIu64 ") of a page of %" PRIu64,
						  pg->what, start, count, pg->map.value[pg->map.nchunks]);
	while (count > 0)
	{
		uint64_t	take;
		Status		status;

		if (pg->window == NULL || start < pg->win_start ||
			start >= pg->win_start + (uint64_t) pg->window->length)
		{
			status = decode_window(pg, start, count, err);
			if (status != CORE_OK)
				return status;
		}
		take = pg->win_start + (uint64_t) pg->window->length - start;
		if (take > count)
			take = count;
		status = lance_array_append(out, pg->window, (int64_t) (start - pg->win_start),
									(int64_t) take, err);
		if (status != CORE_OK)
			return status;
		start += take;
		count -= take;
	}
	return CORE_OK;
}

/*-------------------------------------------------------------------------
 *
 * decode20.c
 *	  Pages of Lance file format 2.0 (ArrayEncoding, FORMAT.md section 10).
 *
 * What LanceDB writes in 2.0, and all we accept:
 *
 *	  fixed width, bool   nullable{no_nulls|some_nulls|all_nulls} around flat
 *	  string, binary      binary{indices, bytes, null_adjustment}, or
 *						  dictionary{u8 indices (0 = null), binary items}
 *	  fixed_size_list     nullable{... fixed_size_list{dim, items}}
 *	  list                list{u64 end offsets, null_offset_adjustment,
 *						  num_items}; the items are the next column
 *	  struct              struct{} with no buffers; members are columns
 *
 * Everything else (fsst, bitpacked, constant, ...) exists in the protobuf
 * but is only written when a field asks for it; those are refused naming
 * the encoding.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/decode.h"
#include "lance/pbguard.h"
#include "lance_enc20.pb-c.h"

typedef struct Dec20
{
	const char *what;
	const LancePageData *data;
	CoreError  *err;
} Dec20;

/* Raw fixed-width values of a flat encoding, possibly with validity. */
typedef struct Flat20
{
	unsigned	bits;
	ByteSpan	values;			/* exactly the bytes of n values */
	ByteSpan	validity;		/* len 0: all valid */
	bool		all_null;
} Flat20;


static const char *
encoding_name(const Le20__ArrayEncoding *enc)
{
	const ProtobufCFieldDescriptor *fd =
		protobuf_c_message_descriptor_get_field(&le20__array_encoding__descriptor,
												(unsigned) enc->array_encoding_case);

	return fd ? fd->name : "none";
}

static CoreStatus
unexpected(Dec20 *d, const Le20__ArrayEncoding *enc, const char *expected)
{
	if (enc->array_encoding_case == LE20__ARRAY_ENCODING__ARRAY_ENCODING__NOT_SET)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: empty 2.0 encoding where %s was expected",
						  d->what, expected);
	return core_error(d->err, CORE_ERR_UNSUPPORTED,
					  "%s: 2.0 encoding \"%s\" is not supported here (expected %s)",
					  d->what, encoding_name(enc), expected);
}

/* The page buffer a Buffer message names. */
static CoreStatus
page_buffer(Dec20 *d, const Le20__Buffer *buf, ByteSpan *out)
{
	uint32_t	idx = buf ? buf->buffer_index : 0;
	int32_t		type = buf ? buf->buffer_type : 0;

	if (type != 0)
		return core_error(d->err, CORE_ERR_UNSUPPORTED,
						  "%s: values in a %s buffer are not supported (only page buffers)",
						  d->what, type == 1 ? "column" : "global");
	if (idx >= (uint32_t) d->data->num_buffers)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: encoding names buffer %u of %d",
						  d->what, idx, d->data->num_buffers);
	*out = d->data->buffers[idx];
	return CORE_OK;
}

/* Bytes taken by n values of `bits` bits. */
static bool
flat_bytes(uint64_t n, unsigned bits, uint64_t *out)
{
	if (bits == 0 || (bits != 1 && bits % 8 != 0))
		return false;
	if (bits == 1)
		*out = (n + 7) / 8;
	else
	{
		if (n > UINT64_MAX / (bits / 8))
			return false;
		*out = n * (bits / 8);
	}
	return true;
}

/* n raw values of a flat encoding, through any nullable wrappers. */
static CoreStatus
flat_values(Dec20 *d, const Le20__ArrayEncoding *enc, uint64_t n, Flat20 *out)
{
	CoreStatus	status;

	memset(out, 0, sizeof(*out));
	if (enc->array_encoding_case == LE20__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE)
	{
		const Le20__Nullable *nb = enc->nullable;

		switch (nb->nullability_case)
		{
			case LE20__NULLABLE__NULLABILITY_NO_NULLS:
				if (nb->no_nulls->values == NULL)
					break;
				return flat_values(d, nb->no_nulls->values, n, out);
			case LE20__NULLABLE__NULLABILITY_SOME_NULLS:
				{
					Flat20		validity;

					if (nb->some_nulls->validity == NULL || nb->some_nulls->values == NULL)
						break;
					status = flat_values(d, nb->some_nulls->validity, n, &validity);
					if (status != CORE_OK)
						return status;
					if (validity.bits != 1 || validity.validity.len || validity.all_null)
						return core_error(d->err, CORE_ERR_CORRUPT,
										  "%s: validity must be a plain 1-bit flat buffer, found %u bits",
										  d->what, validity.bits);
					status = flat_values(d, nb->some_nulls->values, n, out);
					if (status != CORE_OK)
						return status;
					if (out->validity.len)
						return core_error(d->err, CORE_ERR_CORRUPT, "%s: nested validity", d->what);
					out->validity = validity.values;
					return CORE_OK;
				}
			case LE20__NULLABLE__NULLABILITY_ALL_NULLS:
				out->all_null = true;
				return CORE_OK;
			default:
				break;
		}
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: nullable encoding without values", d->what);
	}
	if (enc->array_encoding_case != LE20__ARRAY_ENCODING__ARRAY_ENCODING_FLAT)
		return unexpected(d, enc, "flat values");
	{
		const Le20__Flat *fl = enc->flat;
		uint64_t	bytes;
		ByteSpan	buf;

		if (fl->compression && fl->compression->scheme && fl->compression->scheme[0])
			return core_error(d->err, CORE_ERR_UNSUPPORTED,
							  "%s: flat values compressed with \"%s\" are not supported",
							  d->what, fl->compression->scheme);
		if (fl->bits_per_value > 4096 * 64 || !flat_bytes(n, (unsigned) fl->bits_per_value, &bytes))
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: flat encoding with %" PRIu64 " bits per value",
							  d->what, fl->bits_per_value);
		status = page_buffer(d, fl->buffer, &buf);
		if (status != CORE_OK)
			return status;
		if (buf.len < bytes)
			return core_error(d->err, CORE_ERR_CORRUPT,
							  "%s: %" PRIu64 " values of %u bits need %" PRIu64 " bytes, the buffer has %" PRIu64,
							  d->what, n, (unsigned) fl->bits_per_value, bytes, buf.len);
		out->bits = (unsigned) fl->bits_per_value;
		out->values = span_make(buf.data, bytes);
		return CORE_OK;
	}
}

/* Set an array's validity from a bitmap of n bits (AND with any it has). */
static CoreStatus
apply_validity(Dec20 *d, LanceArray *a, const uint8_t *bits, uint64_t n)
{
	uint64_t	bytes = (n + 7) / 8;

	if (a->validity == NULL)
	{
		a->validity = core_malloc(bytes ? bytes : 1);
		if (a->validity == NULL)
			return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
		memcpy(a->validity, bits, bytes);
	}
	else
	{
		for (uint64_t i = 0; i < bytes; i++)
			a->validity[i] &= bits[i];
	}
	a->null_count = lance_bits_count_zeros(a->validity, (int64_t) n);
	return CORE_OK;
}

/* A fresh array of n fixed-width or bool values from raw flat bytes. */
static CoreStatus
fill_fixed(Dec20 *d, LanceArray *a, const Flat20 *f, uint64_t n)
{
	const LanceType *t = a->type;
	unsigned	want = t->id == LANCE_TYPE_BOOL ? 1 : (unsigned) t->byte_width * 8;
	CoreStatus	status;

	if (f->all_null)
		return lance_array_append_nulls(a, (int64_t) n, d->err);
	if (f->bits != want)
		return core_error(d->err, CORE_ERR_CORRUPT,
						  "%s: %s values stored with %u bits, expected %u",
						  d->what, lance_type_name(t->id), f->bits, want);
	status = lance_array_reserve(a, (int64_t) n, 0, d->err);
	if (status != CORE_OK)
		return status;
	memcpy(a->values, f->values.data, f->values.len);
	a->values_size = (int64_t) f->values.len;
	a->length = (int64_t) n;
	if (f->validity.len)
	{
		if (f->validity.len < (n + 7) / 8)
			return core_error(d->err, CORE_ERR_CORRUPT, "%s: validity too short", d->what);
		return apply_validity(d, a, f->validity.data, n);
	}
	return CORE_OK;
}

/* n u64 values (offsets, indices) from a flat-64 encoding. */
static CoreStatus
u64_values(Dec20 *d, const Le20__ArrayEncoding *enc, uint64_t n, const uint8_t **out)
{
	Flat20		f;
	CoreStatus	status = flat_values(d, enc, n, &f);

	if (status != CORE_OK)
		return status;
	if (f.all_null || f.validity.len || f.bits != 64)
		return core_error(d->err, CORE_ERR_CORRUPT,
						  "%s: offsets must be non-null 64-bit values, found %u bits", d->what, f.bits);
	*out = f.values.data;
	return CORE_OK;
}

static uint64_t
load_u64(const uint8_t *p, uint64_t i)
{
	uint64_t	v = 0;

	for (int b = 7; b >= 0; b--)
		v = (v << 8) | p[i * 8 + (uint64_t) b];
	return v;
}

static void
store_offset(LanceArray *a, int64_t i, int64_t v)
{
	if (lance_array_large_offsets(a))
		((int64_t *) a->offsets)[i] = v;
	else
		((int32_t *) a->offsets)[i] = (int32_t) v;
}

/*
 * End offsets with a null adjustment (binary values and list rows):
 * ends[i] >= adj marks row i null with end ends[i] - adj.  Fills a's
 * offsets (starting at 0) and validity; *total receives the last end.
 */
static CoreStatus
fill_end_offsets(Dec20 *d, LanceArray *a, const uint8_t *ends, uint64_t n, uint64_t adj,
				 uint64_t limit, uint64_t *total)
{
	uint64_t	prev = 0;
	int64_t		max_off = lance_array_large_offsets(a) ? INT64_MAX : INT32_MAX;
	CoreStatus	status = lance_array_reserve(a, (int64_t) n, 0, d->err);
	bool		any_null = false;

	if (status != CORE_OK)
		return status;
	store_offset(a, 0, 0);
	for (uint64_t i = 0; i < n; i++)
	{
		uint64_t	e = load_u64(ends, i);
		bool		is_null = adj > 0 && e >= adj;

		if (is_null)
		{
			e -= adj;
			if (!any_null)
			{
				/* materialise validity: every earlier row was valid */
				a->validity = core_malloc((size_t) ((n + 7) / 8));
				if (a->validity == NULL)
					return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
				memset(a->validity, 0xff, (size_t) ((n + 7) / 8));
				any_null = true;
			}
			lance_bit_set(a->validity, (int64_t) i, false);
			a->null_count++;
		}
		if (e < prev || e > limit || (int64_t) e > max_off)
			return core_error(d->err, CORE_ERR_CORRUPT,
							  "%s: row %" PRIu64 " ends at %" PRIu64 ", expected between %" PRIu64 " and %" PRIu64,
							  d->what, i, e, prev, limit);
		store_offset(a, (int64_t) i + 1, (int64_t) e);
		prev = e;
	}
	a->length = (int64_t) n;
	*total = prev;
	return CORE_OK;
}

/* string/binary values of a binary encoding. */
static CoreStatus
decode_binary(Dec20 *d, const Le20__Binary *bin, uint64_t n, LanceArray *a)
{
	const uint8_t *ends;
	Flat20		bytes;
	uint64_t	total;
	CoreStatus	status;

	if (bin->indices == NULL || bin->bytes == NULL)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: binary encoding lacks indices or bytes", d->what);
	status = u64_values(d, bin->indices, n, &ends);
	if (status != CORE_OK)
		return status;
	/* the bytes are a flat 8-bit array of unstated length: take the buffer */
	if (bin->bytes->array_encoding_case != LE20__ARRAY_ENCODING__ARRAY_ENCODING_FLAT ||
		bin->bytes->flat->bits_per_value != 8)
		return unexpected(d, bin->bytes, "flat 8-bit bytes");
	memset(&bytes, 0, sizeof(bytes));
	status = page_buffer(d, bin->bytes->flat->buffer, &bytes.values);
	if (status != CORE_OK)
		return status;
	status = fill_end_offsets(d, a, ends, n, bin->null_adjustment, bytes.values.len, &total);
	if (status != CORE_OK)
		return status;
	a->values = core_malloc((size_t) (total ? total : 1));
	if (a->values == NULL)
		return core_error(d->err, CORE_ERR_NOMEM, "%s: out of memory", d->what);
	memcpy(a->values, bytes.values.data, (size_t) total);
	a->values_size = (int64_t) total;
	a->cap_values = (int64_t) total;
	return CORE_OK;
}

static CoreStatus decode_array(Dec20 *d, const Le20__ArrayEncoding *enc, uint64_t n,
							   LanceArray *a, uint64_t *num_items);

/* Dictionary: u8 (or wider) indices, 0 = null, k = items[k - 1]. */
static CoreStatus
decode_dictionary(Dec20 *d, const Le20__Dictionary *dict, uint64_t n, LanceArray *a)
{
	Flat20		idx;
	LanceArray *items = NULL;
	CoreStatus	status;
	unsigned	width;

	if (dict->indices == NULL || dict->items == NULL)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: dictionary lacks indices or items", d->what);
	status = flat_values(d, dict->indices, n, &idx);
	if (status != CORE_OK)
		return status;
	if (idx.all_null)
		return lance_array_append_nulls(a, (int64_t) n, d->err);
	if (idx.validity.len || (idx.bits != 8 && idx.bits != 16 && idx.bits != 32))
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: dictionary indices of %u bits", d->what, idx.bits);
	if (dict->num_dictionary_items > d->data->buffers[0].len + (uint64_t) INT32_MAX)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: implausible dictionary of %u items",
						  d->what, dict->num_dictionary_items);
	status = lance_array_new_like(a, &items, d->err);
	if (status != CORE_OK)
		return status;
	status = decode_array(d, dict->items, dict->num_dictionary_items, items, NULL);
	if (status != CORE_OK)
		goto done;
	width = idx.bits / 8;
	for (uint64_t i = 0; i < n; i++)
	{
		uint64_t	k = 0;

		for (unsigned b = 0; b < width; b++)
			k |= (uint64_t) idx.values.data[i * width + b] << (8 * b);
		if (k == 0)
			status = lance_array_append_nulls(a, 1, d->err);
		else if (k > (uint64_t) items->length)
			status = core_error(d->err, CORE_ERR_CORRUPT,
								"%s: row %" PRIu64 " uses dictionary entry %" PRIu64 " of %" PRId64,
								d->what, i, k, items->length);
		else
			status = lance_array_append(a, items, (int64_t) k - 1, 1, d->err);
		if (status != CORE_OK)
			goto done;
	}
done:
	lance_array_free(items);
	return status;
}

/*
 * Decode n rows of enc into the empty array a (whose type says what to
 * expect).  List pages report their item count in *num_items.
 */
static CoreStatus
decode_array(Dec20 *d, const Le20__ArrayEncoding *enc, uint64_t n, LanceArray *a,
			 uint64_t *num_items)
{
	LanceTypeId id = a->type->id;
	CoreStatus	status;

	if (enc == NULL)
		return core_error(d->err, CORE_ERR_CORRUPT, "%s: missing encoding", d->what);

	/* a nullable wrapper around anything but flat values */
	if (enc->array_encoding_case == LE20__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE &&
		(lance_type_has_offsets(id) || id == LANCE_TYPE_FIXED_SIZE_LIST || id == LANCE_TYPE_STRUCT))
	{
		const Le20__Nullable *nb = enc->nullable;

		switch (nb->nullability_case)
		{
			case LE20__NULLABLE__NULLABILITY_NO_NULLS:
				return decode_array(d, nb->no_nulls->values, n, a, num_items);
			case LE20__NULLABLE__NULLABILITY_SOME_NULLS:
				{
					Flat20		validity;

					status = flat_values(d, nb->some_nulls->validity
										 ? nb->some_nulls->validity : nb->some_nulls->values,
										 n, &validity);
					if (status != CORE_OK)
						return status;
					if (nb->some_nulls->validity == NULL || validity.bits != 1 ||
						validity.validity.len || validity.all_null)
						return core_error(d->err, CORE_ERR_CORRUPT,
										  "%s: validity must be a plain 1-bit flat buffer", d->what);
					status = decode_array(d, nb->some_nulls->values, n, a, num_items);
					if (status != CORE_OK)
						return status;
					return apply_validity(d, a, validity.values.data, n);
				}
			case LE20__NULLABLE__NULLABILITY_ALL_NULLS:
				if (num_items)
					*num_items = 0;
				return lance_array_append_nulls(a, (int64_t) n, d->err);
			default:
				return core_error(d->err, CORE_ERR_CORRUPT, "%s: nullable encoding without values",
								  d->what);
		}
	}

	switch (id)
	{
		case LANCE_TYPE_NULL:
			return lance_array_append_nulls(a, (int64_t) n, d->err);

		case LANCE_TYPE_STRING:
		case LANCE_TYPE_LARGE_STRING:
		case LANCE_TYPE_BINARY:
		case LANCE_TYPE_LARGE_BINARY:
			if (enc->array_encoding_case == LE20__ARRAY_ENCODING__ARRAY_ENCODING_BINARY)
				return decode_binary(d, enc->binary, n, a);
			if (enc->array_encoding_case == LE20__ARRAY_ENCODING__ARRAY_ENCODING_DICTIONARY)
				return decode_dictionary(d, enc->dictionary, n, a);
			return unexpected(d, enc, "binary or dictionary");

		case LANCE_TYPE_FIXED_SIZE_LIST:
			{
				const Le20__FixedSizeList *fsl = enc->fixed_size_list;
				uint64_t	dim = (uint64_t) a->type->fixed_size;

				if (enc->array_encoding_case != LE20__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_LIST)
					return unexpected(d, enc, "fixed_size_list");
				if (fsl->dimension != dim)
					return core_error(d->err, CORE_ERR_CORRUPT,
									  "%s: fixed_size_list of dimension %u, the schema says %" PRIu64,
									  d->what, fsl->dimension, dim);
				if (n > UINT64_MAX / dim)
					return core_error(d->err, CORE_ERR_CORRUPT, "%s: too many items", d->what);
				status = decode_array(d, fsl->items, n * dim, a->children[0], NULL);
				if (status != CORE_OK)
					return status;
				a->length = (int64_t) n;
				return CORE_OK;
			}

		case LANCE_TYPE_LIST:
		case LANCE_TYPE_LARGE_LIST:
			{
				const Le20__List *ls = enc->list;
				const uint8_t *ends;
				uint64_t	total;

				if (enc->array_encoding_case != LE20__ARRAY_ENCODING__ARRAY_ENCODING_LIST)
					return unexpected(d, enc, "list");
				if (num_items == NULL)
					return core_error(d->err, CORE_ERR_UNSUPPORTED, "%s: nested list in one page", d->what);
				status = u64_values(d, ls->offsets, n, &ends);
				if (status != CORE_OK)
					return status;
				status = fill_end_offsets(d, a, ends, n, ls->null_offset_adjustment,
										  ls->num_items, &total);
				if (status != CORE_OK)
					return status;
				*num_items = ls->num_items;
				return CORE_OK;
			}

		case LANCE_TYPE_STRUCT:
			if (enc->array_encoding_case != LE20__ARRAY_ENCODING__ARRAY_ENCODING_STRUCT)
				return unexpected(d, enc, "struct");
			a->length = (int64_t) n;
			return CORE_OK;

		default:
			{
				Flat20		f;

				status = flat_values(d, enc, n, &f);
				if (status != CORE_OK)
					return status;
				return fill_fixed(d, a, &f, n);
			}
	}
}

CoreStatus
lance_decode20_page(const char *what, ByteSpan encoding, const LancePageData *data,
					uint64_t rows, const LanceField *field, LanceArray **out,
					uint64_t *num_items, CoreError *err)
{
	Dec20		d = {what, data, err};
	Le20__ArrayEncoding *enc;
	LanceArray *a = NULL;
	CoreStatus	status;
	uint64_t	items = 0;

	*out = NULL;
	if (num_items)
		*num_items = 0;
	if (rows > UINT32_MAX)
		return core_error(err, CORE_ERR_CORRUPT, "%s: page of %" PRIu64 " rows", what, rows);
	if (!pbguard_ok(encoding.data, encoding.len))
		return core_error(err, CORE_ERR_CORRUPT, "%s: page encoding is nested too deeply", what);
	enc = le20__array_encoding__unpack(NULL, encoding.len, encoding.data);
	if (enc == NULL)
		return core_error(err, CORE_ERR_CORRUPT, "%s: page encoding protobuf does not parse", what);

	status = lance_array_new_for_field(field, &a, err);
	if (status == CORE_OK)
		status = decode_array(&d, enc, rows, a, &items);
	le20__array_encoding__free_unpacked(enc, NULL);
	if (status == CORE_OK && a->length != (int64_t) rows)
		status = core_error(err, CORE_ERR_CORRUPT, "%s: decoded %" PRId64 " rows, the page has %" PRIu64,
							what, a->length, rows);
	if (status != CORE_OK)
	{
		lance_array_free(a);
		return status;
	}
	if (num_items)
		*num_items = items;
	*out = a;
	return CORE_OK;
}

CoreStatus
lance_decode20_list_items(const char *what, ByteSpan encoding, uint64_t *num_items,
						  CoreError *err)
{
	Le20__ArrayEncoding *enc;
	const Le20__ArrayEncoding *e;
	CoreStatus	status = CORE_OK;

	*num_items = 0;
	if (!pbguard_ok(encoding.data, encoding.len))
		return core_error(err, CORE_ERR_CORRUPT, "%s: page encoding is nested too deeply", what);
	enc = le20__array_encoding__unpack(NULL, encoding.len, encoding.data);
	if (enc == NULL)
		return core_error(err, CORE_ERR_CORRUPT, "%s: page encoding protobuf does not parse", what);
	e = enc;
	/* look through nullable wrappers; an all-null page has no items */
	while (e && e->array_encoding_case == LE20__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE)
	{
		const Le20__Nullable *nb = e->nullable;

		if (nb->nullability_case == LE20__NULLABLE__NULLABILITY_NO_NULLS)
			e = nb->no_nulls->values;
		else if (nb->nullability_case == LE20__NULLABLE__NULLABILITY_SOME_NULLS)
			e = nb->some_nulls->values;
		else
			e = NULL;
	}
	if (e && e->array_encoding_case == LE20__ARRAY_ENCODING__ARRAY_ENCODING_LIST)
		*num_items = e->list->num_items;
	else if (e)
		status = core_error(err, CORE_ERR_CORRUPT, "%s: a list column page is encoded as \"%s\"",
							what, encoding_name(e));
	le20__array_encoding__free_unpacked(enc, NULL);
	return status;
}

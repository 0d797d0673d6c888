/*-------------------------------------------------------------------------
 *
 * writer20.c
 *	  Page encodings of file version 2.0 (FORMAT.md 10).
 *
 * Exactly the shapes LanceDB 0.39 writes for these types:
 *
 *	  fixed width, bool	nullable{no_nulls{flat} | some_nulls{validity flat 1,
 *						values flat}}; buffers: [validity,] values
 *	  string, binary	binary{indices nullable{no_nulls{flat 64}}, bytes
 *						flat 8, null_adjustment = bytes + 1}; buffers:
 *						end offsets, bytes
 *	  fixed_size_list	nullable{...{fixed_size_list{dim, nullable{flat}}}}
 *						with the row validity outside and the items'
 *						validity inside (items of a null row are null)
 *	  list				list{offsets nullable{no_nulls{flat 64}}}; its items
 *						are the next column, a leaf
 *	  struct			struct{}, no buffers; its members are the next
 *						columns
 *
 *-------------------------------------------------------------------------
 */
#include <string.h>

#include "core/alloc.h"
#include "lance/writer_int.h"
#include "lance_enc20.pb-c.h"

uint8_t *
writer_validity(const LanceArray *a, int64_t start, int64_t n, bool *oom)
{
	uint8_t    *bits;

	*oom = false;
	if (a->validity == NULL || n == 0)
		return NULL;
	bits = core_calloc((size_t) (n + 7) / 8, 1);
	if (bits == NULL)
	{
		*oom = true;
		return NULL;
	}
	lance_bits_copy(bits, 0, a->validity, start, n);
	if (lance_bits_count_zeros(bits, n) == 0)
	{
		core_free(bits);
		return NULL;
	}
	return bits;
}

uint8_t *
writer_fixed_values(const LanceArray *a, int64_t start, int64_t n, size_t *len)
{
	uint8_t    *buf;

	if (a->type->id == LANCE_TYPE_BOOL)
	{
		*len = (size_t) (n + 7) / 8;
		buf = core_calloc(*len ? *len : 1, 1);
		if (buf != NULL && n > 0)
			lance_bits_copy(buf, 0, a->values, start, n);
		return buf;
	}
	*len = (size_t) (n * a->type->byte_width);
	buf = core_malloc(*len ? *len : 1);
	if (buf != NULL && *len > 0)
		memcpy(buf, a->values + start * a->type->byte_width, *len);
	return buf;
}

/* flat{bits, page buffer index} */
static Le20__ArrayEncoding *
flat(WArena *ar, uint64_t bits, uint32_t index)
{
	Le20__Buffer *b = WNEW(ar, Le20__Buffer, LE20__BUFFER__INIT);
	Le20__Flat *f = WNEW(ar, Le20__Flat, LE20__FLAT__INIT);
	Le20__ArrayEncoding *e = WNEW(ar, Le20__ArrayEncoding, LE20__ARRAY_ENCODING__INIT);

	if (e == NULL)
		return NULL;
	b->has_buffer_index = 1;
	b->buffer_index = index;
	f->has_bits_per_value = 1;
	f->bits_per_value = bits;
	f->buffer = b;
	e->array_encoding_case = LE20__ARRAY_ENCODING__ARRAY_ENCODING_FLAT;
	e->flat = f;
	return e;
}

/* Wrap values in nullable: no_nulls, or some_nulls with validity. */
static Le20__ArrayEncoding *
nullable(WArena *ar, Le20__ArrayEncoding *validity, Le20__ArrayEncoding *values)
{
	Le20__Nullable *nb = WNEW(ar, Le20__Nullable, LE20__NULLABLE__INIT);
	Le20__ArrayEncoding *e = WNEW(ar, Le20__ArrayEncoding, LE20__ARRAY_ENCODING__INIT);

	if (e == NULL || values == NULL)
		return NULL;
	if (validity)
	{
		Le20__SomeNull *sn = WNEW(ar, Le20__SomeNull, LE20__SOME_NULL__INIT);

		if (sn == NULL)
			return NULL;
		sn->validity = validity;
		sn->values = values;
		nb->nullability_case = LE20__NULLABLE__NULLABILITY_SOME_NULLS;
		nb->some_nulls = sn;
	}
	else
	{
		Le20__NoNull *nn = WNEW(ar, Le20__NoNull, LE20__NO_NULL__INIT);

		if (nn == NULL)
			return NULL;
		nn->values = values;
		nb->nullability_case = LE20__NULLABLE__NULLABILITY_NO_NULLS;
		nb->no_nulls = nn;
	}
	e->array_encoding_case = LE20__ARRAY_ENCODING__ARRAY_ENCODING_NULLABLE;
	e->nullable = nb;
	return e;
}

/* A nullable flat leaf: buffers [validity,] values appended to the page. */
static Le20__ArrayEncoding *
leaf(WFile *w, WArena *ar, const LanceArray *a, int64_t start, int64_t n, WPage *p)
{
	bool		oom;
	uint8_t    *validity = writer_validity(a, start, n, &oom);
	size_t		len;
	uint8_t    *values;
	Le20__ArrayEncoding *venc = NULL;
	Le20__ArrayEncoding *values_enc;
	bool		ok;

	if (oom)
		return NULL;
	values = writer_fixed_values(a, start, n, &len);
	ok = values != NULL;
	if (ok && validity)
	{
		venc = flat(ar, 1, (uint32_t) p->nbuf);
		ok = venc && writer_page_buffer(w, p, validity, (size_t) (n + 7) / 8);
	}
	values_enc = ok ? flat(ar, a->type->id == LANCE_TYPE_BOOL ? 1 : (uint64_t) a->type->byte_width * 8,
						   (uint32_t) p->nbuf) : NULL;
	ok = ok && values_enc && writer_page_buffer(w, p, values, len);
	core_free(values);
	core_free(validity);
	return ok ? nullable(ar, venc, values_enc) : NULL;
}

/*
 * The end offsets of rows [start, start + n) of a string, binary or list
 * array as a page buffer, counted from the page's first byte or item; a
 * null row stores its end plus the page's total + 1, the adjustment both
 * binary and list carry (FORMAT.md 10.3, 10.6).  Returns their encoding,
 * nullable{no_nulls{flat 64}}, and the page's total.
 */
static Le20__ArrayEncoding *
end_offsets(WFile *w, WArena *ar, const LanceArray *a, int64_t start, int64_t n, WPage *p,
			uint64_t *total)
{
	int64_t		base = lance_array_offset(a, start);
	uint64_t   *ends = core_malloc((size_t) (n ? n : 1) * sizeof(uint64_t));
	Le20__ArrayEncoding *e;
	bool		ok;

	*total = (uint64_t) (lance_array_offset(a, start + n) - base);
	if (ends == NULL)
		return NULL;
	for (int64_t i = 0; i < n; i++)
	{
		ends[i] = (uint64_t) (lance_array_offset(a, start + i + 1) - base);
		if (!lance_array_is_valid(a, start + i))
			ends[i] += *total + 1;
	}
	e = nullable(ar, NULL, flat(ar, 64, (uint32_t) p->nbuf));
	ok = e && writer_page_buffer(w, p, ends, (size_t) n * sizeof(uint64_t));
	core_free(ends);
	return ok ? e : NULL;
}

/* binary{indices, bytes, null_adjustment} for strings and binaries. */
static Le20__ArrayEncoding *
binary(WFile *w, WArena *ar, const LanceArray *a, int64_t start, int64_t n, WPage *p)
{
	Le20__Binary *bin = WNEW(ar, Le20__Binary, LE20__BINARY__INIT);
	Le20__ArrayEncoding *e = WNEW(ar, Le20__ArrayEncoding, LE20__ARRAY_ENCODING__INIT);
	uint64_t	total = 0;

	if (e == NULL || (bin->indices = end_offsets(w, ar, a, start, n, p, &total)) == NULL)
		return NULL;
	bin->bytes = flat(ar, 8, (uint32_t) p->nbuf);
	if (bin->bytes == NULL ||
		!writer_page_buffer(w, p, a->values + lance_array_offset(a, start), (size_t) total))
		return NULL;
	bin->has_null_adjustment = 1;
	bin->null_adjustment = total + 1;
	e->array_encoding_case = LE20__ARRAY_ENCODING__ARRAY_ENCODING_BINARY;
	e->binary = bin;
	return e;
}

/* nullable{fixed_size_list{dim, nullable{flat}}} for vectors. */
static Le20__ArrayEncoding *
fixed_size_list(WFile *w, WArena *ar, const LanceArray *a, int64_t start, int64_t n, WPage *p)
{
	int64_t		dim = a->type->fixed_size;
	bool		oom;
	uint8_t    *validity = writer_validity(a, start, n, &oom);
	Le20__ArrayEncoding *venc = NULL;
	Le20__FixedSizeList *fsl = WNEW(ar, Le20__FixedSizeList, LE20__FIXED_SIZE_LIST__INIT);
	Le20__ArrayEncoding *e = WNEW(ar, Le20__ArrayEncoding, LE20__ARRAY_ENCODING__INIT);
	bool		ok = !oom && e;

	if (ok && validity)
	{
		venc = flat(ar, 1, (uint32_t) p->nbuf);
		ok = venc && writer_page_buffer(w, p, validity, (size_t) (n + 7) / 8);
	}
	core_free(validity);
	if (!ok)
		return NULL;
	fsl->has_dimension = 1;
	fsl->dimension = (uint32_t) dim;
	fsl->items = leaf(w, ar, a->children[0], start * dim, n * dim, p);
	if (fsl->items == NULL)
		return NULL;
	e->array_encoding_case = LE20__ARRAY_ENCODING__ARRAY_ENCODING_FIXED_SIZE_LIST;
	e->fixed_size_list = fsl;
	return nullable(ar, venc, e);
}

/*
 * list{offsets, null_offset_adjustment, num_items} (FORMAT.md 10.6); the
 * items go in the next column.
 */
static Le20__ArrayEncoding *
list(WFile *w, WArena *ar, const LanceArray *a, int64_t start, int64_t n, WPage *p)
{
	Le20__List *ls = WNEW(ar, Le20__List, LE20__LIST__INIT);
	Le20__ArrayEncoding *e = WNEW(ar, Le20__ArrayEncoding, LE20__ARRAY_ENCODING__INIT);
	uint64_t	total = 0;

	if (e == NULL || (ls->offsets = end_offsets(w, ar, a, start, n, p, &total)) == NULL)
		return NULL;
	ls->has_null_offset_adjustment = 1;
	ls->null_offset_adjustment = total + 1;
	ls->has_num_items = 1;
	ls->num_items = total;
	e->array_encoding_case = LE20__ARRAY_ENCODING__ARRAY_ENCODING_LIST;
	e->list = ls;
	return e;
}

/* struct{} (FORMAT.md 10.7): no buffers, the members are columns of their own. */
static Le20__ArrayEncoding *
simple_struct(WArena *ar)
{
	Le20__SimpleStruct *ss = WNEW(ar, Le20__SimpleStruct, LE20__SIMPLE_STRUCT__INIT);
	Le20__ArrayEncoding *e = WNEW(ar, Le20__ArrayEncoding, LE20__ARRAY_ENCODING__INIT);

	if (e == NULL)
		return NULL;
	e->array_encoding_case = LE20__ARRAY_ENCODING__ARRAY_ENCODING_STRUCT;
	e->struct_ = ss;
	return e;
}

CoreStatus
writer20_page(WFile *w, const LanceArray *a, int64_t start, int64_t n, WPage *p)
{
	WArena		ar;
	Le20__ArrayEncoding *enc;
	bool		ok;

	memset(&ar, 0, sizeof(ar));
	switch (a->type->id)
	{
		case LANCE_TYPE_STRING:
		case LANCE_TYPE_LARGE_STRING:
		case LANCE_TYPE_BINARY:
		case LANCE_TYPE_LARGE_BINARY:
			enc = binary(w, &ar, a, start, n, p);
			break;
		case LANCE_TYPE_FIXED_SIZE_LIST:
			enc = fixed_size_list(w, &ar, a, start, n, p);
			break;
		case LANCE_TYPE_LIST:
			enc = list(w, &ar, a, start, n, p);
			break;
		case LANCE_TYPE_STRUCT:
			enc = simple_struct(&ar);
			break;
		default:
			enc = leaf(w, &ar, a, start, n, p);
			break;
	}
	ok = enc != NULL && !ar.failed &&
		writer_pack_any("/lance.encodings.ArrayEncoding", &enc->base, &p->enc, &p->enc_len);
	warena_free(&ar);
	if (!ok)
		return core_error(w->err, CORE_ERR_NOMEM, "out of memory writing %s", w->what);
	return CORE_OK;
}

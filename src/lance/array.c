/*-------------------------------------------------------------------------
 *
 * array.c
 *	  Arrow-shaped arrays: creating, growing by appending rows, checking.
 *
 *-------------------------------------------------------------------------
 */
#include <inttypes.h>
#include <string.h>

#include "core/alloc.h"
#include "lance/array.h"

bool
lance_type_has_offsets(LanceTypeId id)
{
	switch (id)
	{
		case LANCE_TYPE_STRING:
		case LANCE_TYPE_LARGE_STRING:
		case LANCE_TYPE_BINARY:
		case LANCE_TYPE_LARGE_BINARY:
		case LANCE_TYPE_LIST:
		case LANCE_TYPE_LARGE_LIST:
			return true;
		default:
			return false;
	}
}

/* Bytes per value stored in `values` itself (0: bitmap, bytes or none). */
static int64_t
own_value_width(const LanceType *t)
{
	switch (t->id)
	{
		case LANCE_TYPE_NULL:
		case LANCE_TYPE_BOOL:
		case LANCE_TYPE_FIXED_SIZE_LIST:
		case LANCE_TYPE_STRUCT:
			return 0;
		default:
			return lance_type_has_offsets(t->id) ? 0 : t->byte_width;
	}
}

static bool
is_var_bytes(LanceTypeId id)
{
	return id == LANCE_TYPE_STRING || id == LANCE_TYPE_LARGE_STRING ||
		id == LANCE_TYPE_BINARY || id == LANCE_TYPE_LARGE_BINARY;
}

static bool
is_list(LanceTypeId id)
{
	return id == LANCE_TYPE_LIST || id == LANCE_TYPE_LARGE_LIST;
}

void
lance_bits_copy(uint8_t *dst, int64_t d, const uint8_t *src, int64_t s, int64_t count)
{
	if ((d & 7) == 0 && (s & 7) == 0)
	{
		int64_t		bytes = count >> 3;

		memcpy(dst + (d >> 3), src + (s >> 3), (size_t) bytes);
		d += bytes << 3;
		s += bytes << 3;
		count -= bytes << 3;
	}
	for (int64_t i = 0; i < count; i++)
		lance_bit_set(dst, d + i, lance_bit_get(src, s + i));
}

int64_t
lance_bits_count_zeros(const uint8_t *bits, int64_t n)
{
	int64_t		ones = 0;
	int64_t		full = n >> 3;

	for (int64_t i = 0; i < full; i++)
		ones += __builtin_popcount(bits[i]);
	for (int64_t i = full << 3; i < n; i++)
		ones += lance_bit_get(bits, i);
	return n - ones;
}

void
lance_array_free(LanceArray *a)
{
	if (a == NULL)
		return;
	for (int i = 0; i < a->num_children; i++)
		lance_array_free(a->children[i]);
	core_free(a->children);
	core_free(a->validity);
	core_free(a->offsets);
	core_free(a->values);
	core_free(a);
}

/* An empty array with room for its children pointers and offsets[0]. */
static CoreStatus
array_alloc(const LanceType *type, int num_children, LanceArray **out, CoreError *err)
{
	LanceArray *a = core_calloc(1, sizeof(LanceArray));

	*out = NULL;
	if (a == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory for an array");
	a->type = type;
	if (num_children > 0)
	{
		a->children = core_calloc((size_t) num_children, sizeof(LanceArray *));
		if (a->children == NULL)
		{
			core_free(a);
			return core_error(err, CORE_ERR_NOMEM, "out of memory for an array");
		}
	}
	if (lance_type_has_offsets(type->id))
	{
		a->offsets = core_calloc(1, lance_array_large_offsets(a) ? 8 : 4);
		if (a->offsets == NULL)
		{
			core_free(a->children);
			core_free(a);
			return core_error(err, CORE_ERR_NOMEM, "out of memory for an array");
		}
	}
	*out = a;
	return CORE_OK;
}

CoreStatus
lance_array_new_node(const LanceType *type, int num_children, LanceArray **out, CoreError *err)
{
	CoreStatus	status = array_alloc(type, num_children, out, err);

	if (status == CORE_OK)
		(*out)->num_children = num_children;
	return status;
}

CoreStatus
lance_array_new_for_type(const LanceType *type, LanceArray **out, CoreError *err)
{
	CoreStatus	status;

	if (type->id == LANCE_TYPE_STRUCT || is_list(type->id))
		return core_error(err, CORE_ERR_INVALID, "a %s array needs its child fields",
						  lance_type_name(type->id));
	if (type->id == LANCE_TYPE_FIXED_SIZE_LIST)
	{
		status = array_alloc(type, 1, out, err);
		if (status != CORE_OK)
			return status;
		status = lance_array_new_for_type(type->item, &(*out)->children[0], err);
		if (status != CORE_OK)
		{
			lance_array_free(*out);
			*out = NULL;
			return status;
		}
		(*out)->num_children = 1;
		return CORE_OK;
	}
	return array_alloc(type, 0, out, err);
}

CoreStatus
lance_array_new_for_field(const LanceField *field, LanceArray **out, CoreError *err)
{
	CoreStatus	status;
	int			nkids;

	if (field->type.id != LANCE_TYPE_STRUCT && !is_list(field->type.id))
		return lance_array_new_for_type(&field->type, out, err);
	nkids = field->num_children;
	status = array_alloc(&field->type, nkids, out, err);
	if (status != CORE_OK)
		return status;
	for (int i = 0; i < nkids; i++)
	{
		status = lance_array_new_for_field(field->children[i], &(*out)->children[i], err);
		if (status != CORE_OK)
		{
			lance_array_free(*out);
			*out = NULL;
			return status;
		}
		(*out)->num_children = i + 1;
	}
	return CORE_OK;
}

CoreStatus
lance_array_new_like(const LanceArray *proto, LanceArray **out, CoreError *err)
{
	CoreStatus	status = array_alloc(proto->type, proto->num_children, out, err);

	if (status != CORE_OK)
		return status;
	for (int i = 0; i < proto->num_children; i++)
	{
		status = lance_array_new_like(proto->children[i], &(*out)->children[i], err);
		if (status != CORE_OK)
		{
			lance_array_free(*out);
			*out = NULL;
			return status;
		}
		(*out)->num_children = i + 1;
	}
	return CORE_OK;
}

/*
 * Grow buf to new_bytes.  The new part is left uninitialized: every append
 * writes the bytes of the rows it adds (nulls included), so zeroing would
 * only touch memory that is about to be overwritten.
 */
static bool
grow(void **buf, int64_t new_bytes)
{
	uint8_t    *p = core_realloc(*buf, (size_t) new_bytes);

	if (p == NULL)
		return false;
	*buf = p;
	return true;
}

CoreStatus
lance_array_reserve(LanceArray *a, int64_t rows, int64_t value_bytes, CoreError *err)
{
	int64_t		need = a->length + rows;

	if (rows < 0 || value_bytes < 0 || need < a->length || need > (INT64_C(1) << 40))
		return core_error(err, CORE_ERR_NOMEM, "array of %" PRId64 " rows is too large", need);
	if (need > a->cap_rows)
	{
		/* the first reservation is exact (a batch, a page); then doubling */
		int64_t		cap = a->cap_rows ? a->cap_rows : need;
		int64_t		width = own_value_width(a->type);

		while (cap < need)
			cap *= 2;
		if (a->validity && !grow((void **) &a->validity, (cap + 7) / 8))
			return core_error(err, CORE_ERR_NOMEM, "out of memory growing an array");
		if (a->offsets)
		{
			int64_t		w = lance_array_large_offsets(a) ? 8 : 4;

			if (!grow(&a->offsets, (cap + 1) * w))
				return core_error(err, CORE_ERR_NOMEM, "out of memory growing an array");
		}
		if (a->type->id == LANCE_TYPE_BOOL)
		{
			if (!grow((void **) &a->values, (cap + 7) / 8))
				return core_error(err, CORE_ERR_NOMEM, "out of memory growing an array");
		}
		else if (width > 0)
		{
			if (cap > INT64_MAX / width ||
				!grow((void **) &a->values, cap * width))
				return core_error(err, CORE_ERR_NOMEM, "out of memory growing an array");
		}
		a->cap_rows = cap;
	}
	if (is_var_bytes(a->type->id) && a->values_size + value_bytes > a->cap_values)
	{
		int64_t		want = a->values_size + value_bytes;
		int64_t		cap = a->cap_values ? a->cap_values : want;

		if (want > (INT64_C(1) << 42))
			return core_error(err, CORE_ERR_NOMEM, "array of %" PRId64 " bytes is too large", want);
		while (cap < want)
			cap *= 2;
		if (!grow((void **) &a->values, cap))
			return core_error(err, CORE_ERR_NOMEM, "out of memory growing an array");
		a->cap_values = cap;
	}
	return CORE_OK;
}

/* Give the array a validity bitmap with every existing row valid. */
static CoreStatus
materialize_validity(LanceArray *a, CoreError *err)
{
	int64_t		bytes = (a->cap_rows + 7) / 8;

	if (a->validity)
		return CORE_OK;
	a->validity = core_malloc((size_t) (bytes ? bytes : 1));
	if (a->validity == NULL)
		return core_error(err, CORE_ERR_NOMEM, "out of memory for a validity bitmap");
	memset(a->validity, 0xff, (size_t) (bytes ? bytes : 1));
	return CORE_OK;
}

static void
set_offset(LanceArray *a, int64_t i, int64_t v)
{
	if (lance_array_large_offsets(a))
		((int64_t *) a->offsets)[i] = v;
	else
		((int32_t *) a->offsets)[i] = (int32_t) v;
}

void
lance_array_truncate(LanceArray *a, int64_t n)
{
	int64_t		width = own_value_width(a->type);

	if (n < a->length)
	{
		a->length = n;
		if (a->type->id == LANCE_TYPE_NULL)
			a->null_count = n;
		else
			a->null_count = a->validity ? lance_bits_count_zeros(a->validity, n) : 0;
	}
	n = a->length;
	if (a->type->id == LANCE_TYPE_BOOL)
		a->values_size = (n + 7) / 8;
	else if (width > 0)
		a->values_size = n * width;
	else if (is_var_bytes(a->type->id))
		a->values_size = lance_array_offset(a, n);
	else if (is_list(a->type->id))
		lance_array_truncate(a->children[0], lance_array_offset(a, n));
	else if (a->type->id == LANCE_TYPE_FIXED_SIZE_LIST)
		lance_array_truncate(a->children[0], n * a->type->fixed_size);
	else if (a->type->id == LANCE_TYPE_STRUCT)
		for (int i = 0; i < a->num_children; i++)
			lance_array_truncate(a->children[i], n);
}

CoreStatus
lance_array_append(LanceArray *dst, const LanceArray *src, int64_t start, int64_t count,
				   CoreError *err)
{
	CoreStatus	status;
	int64_t		width = own_value_width(dst->type);
	int64_t		base = 0;
	int64_t		end = 0;

	if (start < 0 || count < 0 || start > src->length || count > src->length - start)
		return core_error(err, CORE_ERR_INVALID, "rows [%" PRId64 ", +%" PRId64 ") outside an array of %" PRId64,
						  start, count, src->length);
	if (dst->type->id != src->type->id || dst->num_children != src->num_children)
		return core_error(err, CORE_ERR_INVALID, "appending a %s array to a %s array",
						  lance_type_name(src->type->id), lance_type_name(dst->type->id));
	if (count == 0)
		return CORE_OK;
	if (src->offsets)
	{
		base = lance_array_offset(src, start);
		end = lance_array_offset(src, start + count);
	}
	status = lance_array_reserve(dst, count, is_var_bytes(dst->type->id) ? end - base : 0, err);
	if (status != CORE_OK)
		return status;

	/* validity */
	if (src->validity && src->null_count > 0)
	{
		status = materialize_validity(dst, err);
		if (status != CORE_OK)
			return status;
		lance_bits_copy(dst->validity, dst->length, src->validity, start, count);
		for (int64_t i = 0; i < count; i++)
			dst->null_count += !lance_bit_get(src->validity, start + i);
	}
	else if (dst->validity)
	{
		for (int64_t i = 0; i < count; i++)
			lance_bit_set(dst->validity, dst->length + i, true);
	}
	if (dst->type->id == LANCE_TYPE_NULL)
		dst->null_count += count;

	/* values */
	if (dst->type->id == LANCE_TYPE_BOOL)
		lance_bits_copy(dst->values, dst->length, src->values, start, count);
	else if (width > 0)
		memcpy(dst->values + dst->length * width, src->values + start * width,
			   (size_t) (count * width));
	else if (dst->offsets)
	{
		int64_t		dbase = lance_array_offset(dst, dst->length);

		if (!lance_array_large_offsets(dst) && dbase + (end - base) > INT32_MAX)
			return core_error(err, CORE_ERR_NOMEM,
							  "a %s column exceeds 2 GiB in one batch; use large_ types",
							  lance_type_name(dst->type->id));
		for (int64_t i = 1; i <= count; i++)
			set_offset(dst, dst->length + i, dbase + lance_array_offset(src, start + i) - base);
		if (is_var_bytes(dst->type->id))
		{
			if (end > base)
				memcpy(dst->values + dst->values_size, src->values + base, (size_t) (end - base));
			dst->values_size += end - base;
		}
		else
		{
			status = lance_array_append(dst->children[0], src->children[0], base, end - base, err);
			if (status != CORE_OK)
				return status;
		}
	}
	else if (dst->type->id == LANCE_TYPE_FIXED_SIZE_LIST)
	{
		int64_t		dim = dst->type->fixed_size;

		status = lance_array_append(dst->children[0], src->children[0], start * dim,
									count * dim, err);
		if (status != CORE_OK)
			return status;
	}
	else if (dst->type->id == LANCE_TYPE_STRUCT)
	{
		for (int i = 0; i < dst->num_children; i++)
		{
			status = lance_array_append(dst->children[i], src->children[i], start, count, err);
			if (status != CORE_OK)
				return status;
		}
	}
	if (width > 0)
		dst->values_size = (dst->length + count) * width;
	else if (dst->type->id == LANCE_TYPE_BOOL)
		dst->values_size = (dst->length + count + 7) / 8;
	dst->length += count;
	return CORE_OK;
}

CoreStatus
lance_array_append_rows(LanceArray *dst, const LanceArray *src, const int64_t *rows, int64_t n,
						CoreError *err)
{
	int64_t		width = own_value_width(dst->type);
	int64_t		bytes = 0;
	CoreStatus	status;

	if (dst->type->id != src->type->id || dst->num_children != src->num_children)
		return core_error(err, CORE_ERR_INVALID, "appending a %s array to a %s array",
						  lance_type_name(src->type->id), lance_type_name(dst->type->id));
	for (int64_t i = 0; i < n; i++)
	{
		if (rows[i] < 0 || rows[i] >= src->length)
			return core_error(err, CORE_ERR_INVALID, "row %" PRId64 " outside an array of %" PRId64,
							  rows[i], src->length);
		if (is_var_bytes(dst->type->id))
			bytes += lance_array_offset(src, rows[i] + 1) - lance_array_offset(src, rows[i]);
	}
	/* nested types: row by row */
	if (dst->num_children > 0 || dst->type->id == LANCE_TYPE_NULL)
	{
		for (int64_t i = 0; i < n; i++)
		{
			status = lance_array_append(dst, src, rows[i], 1, err);
			if (status != CORE_OK)
				return status;
		}
		return CORE_OK;
	}
	status = lance_array_reserve(dst, n, bytes, err);
	if (status != CORE_OK)
		return status;
	if (src->validity && src->null_count > 0)
	{
		status = materialize_validity(dst, err);
		if (status != CORE_OK)
			return status;
		for (int64_t i = 0; i < n; i++)
		{
			bool		valid = lance_bit_get(src->validity, rows[i]);

			lance_bit_set(dst->validity, dst->length + i, valid);
			dst->null_count += !valid;
		}
	}
	else if (dst->validity)
		for (int64_t i = 0; i < n; i++)
			lance_bit_set(dst->validity, dst->length + i, true);

	if (dst->type->id == LANCE_TYPE_BOOL)
	{
		for (int64_t i = 0; i < n; i++)
			lance_bit_set(dst->values, dst->length + i, lance_bit_get(src->values, rows[i]));
		dst->values_size = (dst->length + n + 7) / 8;
	}
	else if (width == 4)
	{
		uint32_t   *d = (uint32_t *) (void *) dst->values + dst->length;
		const uint32_t *sv = (const uint32_t *) (const void *) src->values;

		for (int64_t i = 0; i < n; i++)
			d[i] = sv[rows[i]];
		dst->values_size = (dst->length + n) * 4;
	}
	else if (width == 8)
	{
		uint64_t   *d = (uint64_t *) (void *) dst->values + dst->length;
		const uint64_t *sv = (const uint64_t *) (const void *) src->values;

		for (int64_t i = 0; i < n; i++)
			d[i] = sv[rows[i]];
		dst->values_size = (dst->length + n) * 8;
	}
	else if (width > 0)
	{
		for (int64_t i = 0; i < n; i++)
			memcpy(dst->values + (dst->length + i) * width, src->values + rows[i] * width,
				   (size_t) width);
		dst->values_size = (dst->length + n) * width;
	}
	else if (is_var_bytes(dst->type->id))
	{
		int64_t		at = lance_array_offset(dst, dst->length);

		if (!lance_array_large_offsets(dst) && at + bytes > INT32_MAX)
			return core_error(err, CORE_ERR_NOMEM,
							  "a %s column exceeds 2 GiB in one batch; use large_ types",
							  lance_type_name(dst->type->id));
		for (int64_t i = 0; i < n; i++)
		{
			int64_t		a = lance_array_offset(src, rows[i]);
			int64_t		len = lance_array_offset(src, rows[i] + 1) - a;

			if (len > 0)
				memcpy(dst->values + dst->values_size, src->values + a, (size_t) len);
			dst->values_size += len;
			at += len;
			set_offset(dst, dst->length + i + 1, at);
		}
	}
	dst->length += n;
	return CORE_OK;
}

/* The array holding a fixed-width array's bytes: itself, or an FSL's items. */
static LanceArray *
fixed_bytes_holder(LanceArray *a)
{
	if (a->type->id == LANCE_TYPE_FIXED_SIZE_LIST && a->num_children == 1)
		return a->children[0];
	return a;
}

CoreStatus
lance_array_extend_fixed(LanceArray *a, int64_t n, uint8_t **dest, CoreError *err)
{
	LanceArray *h = fixed_bytes_holder(a);
	int64_t		per_row = a == h ? 1 : a->type->fixed_size;
	int64_t		width = own_value_width(h->type);
	CoreStatus	status;

	*dest = NULL;
	if (width <= 0 || h->num_children > 0 || n < 0 || (per_row > 0 && n > INT64_MAX / per_row))
		return core_error(err, CORE_ERR_INVALID, "%s rows are not fixed-width bytes",
						  lance_type_name(a->type->id));
	if ((status = lance_array_reserve(a, n, 0, err)) != CORE_OK ||
		(h != a && (status = lance_array_reserve(h, n * per_row, 0, err)) != CORE_OK))
		return status;
	/* the new rows are valid until marked null */
	if (a->validity)
		for (int64_t i = 0; i < n; i++)
			lance_bit_set(a->validity, a->length + i, true);
	if (h != a && h->validity)
		for (int64_t i = 0; i < n * per_row; i++)
			lance_bit_set(h->validity, h->length + i, true);
	*dest = h->values + h->length * width;
	h->length += n * per_row;
	h->values_size = h->length * width;
	if (h != a)
		a->length += n;
	return CORE_OK;
}

CoreStatus
lance_array_set_null(LanceArray *a, int64_t i, CoreError *err)
{
	CoreStatus	status;

	if (i < 0 || i >= a->length)
		return core_error(err, CORE_ERR_INVALID, "row %" PRId64 " outside an array of %" PRId64,
						  i, a->length);
	if (!lance_array_is_valid(a, i))
		return CORE_OK;
	status = materialize_validity(a, err);
	if (status != CORE_OK)
		return status;
	lance_bit_set(a->validity, i, false);
	a->null_count++;
	return CORE_OK;
}

CoreStatus
lance_array_append_nulls(LanceArray *dst, int64_t count, CoreError *err)
{
	CoreStatus	status;
	int64_t		width = own_value_width(dst->type);

	if (count <= 0)
		return CORE_OK;
	status = lance_array_reserve(dst, count, 0, err);
	if (status != CORE_OK)
		return status;
	if (dst->type->id != LANCE_TYPE_NULL)
	{
		status = materialize_validity(dst, err);
		if (status != CORE_OK)
			return status;
		for (int64_t i = 0; i < count; i++)
			lance_bit_set(dst->validity, dst->length + i, false);
	}
	dst->null_count += count;
	if (dst->type->id == LANCE_TYPE_BOOL)
	{
		for (int64_t i = 0; i < count; i++)
			lance_bit_set(dst->values, dst->length + i, false);
		dst->values_size = (dst->length + count + 7) / 8;
	}
	else if (width > 0)
	{
		memset(dst->values + dst->length * width, 0, (size_t) (count * width));
		dst->values_size = (dst->length + count) * width;
	}
	else if (dst->offsets)
	{
		int64_t		last = lance_array_offset(dst, dst->length);

		for (int64_t i = 1; i <= count; i++)
			set_offset(dst, dst->length + i, last);
	}
	else if (dst->type->id == LANCE_TYPE_FIXED_SIZE_LIST)
	{
		status = lance_array_append_nulls(dst->children[0], count * dst->type->fixed_size, err);
		if (status != CORE_OK)
			return status;
	}
	else if (dst->type->id == LANCE_TYPE_STRUCT)
	{
		for (int i = 0; i < dst->num_children; i++)
		{
			status = lance_array_append_nulls(dst->children[i], count, err);
			if (status != CORE_OK)
				return status;
		}
	}
	dst->length += count;
	return CORE_OK;
}

CoreStatus
lance_array_validate(const LanceArray *a, const char *what, CoreError *err)
{
	int64_t		width = own_value_width(a->type);

	if (a->length < 0 || a->null_count < 0 || a->null_count > a->length)
		return core_error(err, CORE_ERR_CORRUPT, "%s: bad length %" PRId64 " or null count %" PRId64,
						  what, a->length, a->null_count);
	if (a->null_count > 0 && a->validity == NULL && a->type->id != LANCE_TYPE_NULL)
		return core_error(err, CORE_ERR_CORRUPT, "%s: nulls without a validity bitmap", what);
	if (a->type->id == LANCE_TYPE_BOOL && a->values_size < (a->length + 7) / 8)
		return core_error(err, CORE_ERR_CORRUPT, "%s: %" PRId64 " bool values in %" PRId64 " bytes",
						  what, a->length, a->values_size);
	if (width > 0 && a->values_size / width < a->length)
		return core_error(err, CORE_ERR_CORRUPT, "%s: %" PRId64 " values of %" PRId64 " bytes in %" PRId64 " bytes",
						  what, a->length, width, a->values_size);
	if (a->offsets)
	{
		int64_t		limit = is_var_bytes(a->type->id) ? a->values_size :
			(a->num_children == 1 ? a->children[0]->length : -1);
		int64_t		prev = lance_array_offset(a, 0);

		if (limit < 0)
			return core_error(err, CORE_ERR_CORRUPT, "%s: list without items", what);
		if (prev < 0)
			return core_error(err, CORE_ERR_CORRUPT, "%s: offset 0 is negative", what);
		for (int64_t i = 1; i <= a->length; i++)
		{
			int64_t		o = lance_array_offset(a, i);

			if (o < prev)
				return core_error(err, CORE_ERR_CORRUPT,
								  "%s: offset %" PRId64 " (%" PRId64 ") is below the one before (%" PRId64 ")",
								  what, i, o, prev);
			prev = o;
		}
		if (prev > limit)
			return core_error(err, CORE_ERR_CORRUPT, "%s: offsets reach %" PRId64 ", past the %" PRId64 " available",
							  what, prev, limit);
	}
	if (a->type->id == LANCE_TYPE_FIXED_SIZE_LIST &&
		(a->num_children != 1 || a->children[0]->length / a->type->fixed_size < a->length))
		return core_error(err, CORE_ERR_CORRUPT, "%s: fixed_size_list of %" PRId64 " rows lacks items",
						  what, a->length);
	if (a->type->id == LANCE_TYPE_STRUCT)
		for (int i = 0; i < a->num_children; i++)
			if (a->children[i]->length < a->length)
				return core_error(err, CORE_ERR_CORRUPT, "%s: struct member %d has %" PRId64 " rows, expected %" PRId64,
								  what, i, a->children[i]->length, a->length);
	for (int i = 0; i < a->num_children; i++)
	{
		CoreStatus	status = lance_array_validate(a->children[i], what, err);

		if (status != CORE_OK)
			return status;
	}
	return CORE_OK;
}

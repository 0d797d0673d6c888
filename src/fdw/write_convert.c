/*-------------------------------------------------------------------------
 *
 * write_convert.c
 *	  Postgres values to Lance values: the opposite direction of convert.c.
 *
 * A column is bound to its Lance field with the same converter the scan
 * uses (lance_converter_for), so a column that can be read can be
 * written, and a type mismatch is the same clear error.  Values are then
 * pushed onto the writer's Arrow-shaped row buffer, checked against the
 * field's range (an int8 column into an int32 field), its dimension
 * (vectors) and its nullability.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/int.h"
#include "datatype/timestamp.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "fdw/lance_write.h"
#include "types/vector.h"

#define UNIX_TO_PG_EPOCH_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)
#define UNIX_TO_PG_EPOCH_USECS ((int64) UNIX_TO_PG_EPOCH_DAYS * USECS_PER_DAY)

static pg_noinline void
report_out_of_range(const LanceField *field, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value %s is out of range for Lance field \"%s\" of type %s",
					what, field->name, field->logical_type)));
}

static pg_noinline void pg_attribute_noreturn()
report_unwritable(const LanceField *field)
{
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("writing Lance %s field \"%s\" is not supported",
					field->logical_type, field->name),
			 field->type.id == LANCE_TYPE_STRUCT
			 ? errhint("Declare the column as a composite type whose attributes are named after the struct's members.")
			 : 0));
}

static void
push_ok(CoreStatus status, CoreError *err)
{
	if (status != CORE_OK)
		lance_report_core_error(err);
}

/* An integer column value as int64 (numeric must be integral). */
static int64
datum_int64(Datum d, Oid typid, const LanceField *field, bool *is_u64, uint64 *u64)
{
	*is_u64 = false;
	switch (typid)
	{
		case INT2OID:
			return DatumGetInt16(d);
		case INT4OID:
			return DatumGetInt32(d);
		case INT8OID:
			return DatumGetInt64(d);
		default:
			{
				/* numeric: exact integers only, uint64 beyond int64 too */
				char	   *text = DatumGetCString(DirectFunctionCall1(numeric_out, d));
				char	   *end;

				errno = 0;
				if (text[0] != '-')
				{
					unsigned long long v = strtoull(text, &end, 10);

					if (errno == 0 && *end == '\0' && v > (unsigned long long) PG_INT64_MAX)
					{
						*is_u64 = true;
						*u64 = (uint64) v;
						return 0;
					}
				}
				errno = 0;
				{
					long long	v = strtoll(text, &end, 10);

					if (errno != 0 || *end != '\0')
						report_out_of_range(field, text);
					return (int64) v;
				}
			}
	}
}

/*
 * An integer as the bytes of a value of type t (the field's type, or its
 * items'), range-checked; buf has room for 8 bytes.
 */
static void
int_bytes(const LanceField *field, const LanceType *t, Datum d, Oid typid, uint8 *buf)
{
	bool		is_u64;
	uint64		u64 = 0;
	int64		v = datum_int64(d, typid, field, &is_u64, &u64);
	int64		lo;
	int64		hi;

	if (t->id == LANCE_TYPE_UINT64)
	{
		if (!is_u64 && v < 0)
			report_out_of_range(field, psprintf(INT64_FORMAT, v));
		if (!is_u64)
			u64 = (uint64) v;
		memcpy(buf, &u64, 8);
		return;
	}
	if (is_u64)
		report_out_of_range(field, psprintf(UINT64_FORMAT, u64));
	switch (t->id)
	{
		case LANCE_TYPE_INT8:
			lo = PG_INT8_MIN, hi = PG_INT8_MAX;
			break;
		case LANCE_TYPE_UINT8:
			lo = 0, hi = PG_UINT8_MAX;
			break;
		case LANCE_TYPE_INT16:
			lo = PG_INT16_MIN, hi = PG_INT16_MAX;
			break;
		case LANCE_TYPE_UINT16:
			lo = 0, hi = PG_UINT16_MAX;
			break;
		case LANCE_TYPE_INT32:
			lo = PG_INT32_MIN, hi = PG_INT32_MAX;
			break;
		case LANCE_TYPE_UINT32:
			lo = 0, hi = PG_UINT32_MAX;
			break;
		default:
			lo = PG_INT64_MIN, hi = PG_INT64_MAX;
			break;
	}
	if (v < lo || v > hi)
		report_out_of_range(field, psprintf(INT64_FORMAT, v));
	/* little-endian: the low bytes are the narrow value */
	memcpy(buf, &v, 8);
}

/*
 * A float as an IEEE half (binary16), rounded to nearest even; *overflow
 * when its magnitude rounds past the largest half, 65504.
 */
static uint16
float_to_half(float f, bool *overflow)
{
	uint32		x;
	uint32		absx;
	uint16		sign;
	uint32		mant;
	uint32		rest;
	uint32		h;

	memcpy(&x, &f, 4);
	sign = (uint16) ((x >> 16) & 0x8000);
	absx = x & 0x7fffffff;
	mant = absx & 0x7fffff;
	*overflow = false;
	if (absx >= 0x7f800000)		/* infinity, or NaN kept quiet */
		return sign | 0x7c00 | (absx > 0x7f800000 ? 0x200 | (mant >> 13) : 0);
	if (absx >= 0x477ff000)		/* 65520 and up round to infinity */
	{
		*overflow = true;
		return sign | 0x7c00;
	}
	if (absx < 0x38800000)
	{
		/* below 2^-14: a subnormal half, round(|f| * 2^24) */
		int			shift = 126 - (int) (absx >> 23);
		uint32		m = mant | ((absx >> 23) ? 0x800000 : 0);

		if (shift >= 32)
			return sign;
		h = m >> shift;
		rest = m & ((((uint32) 1) << shift) - 1);
		if (rest > (((uint32) 1) << (shift - 1)) ||
			(rest == (((uint32) 1) << (shift - 1)) && (h & 1)))
			h++;				/* may carry into the smallest normal: right */
		return sign | (uint16) h;
	}
	/* normal: rebias the exponent (127 -> 15), keep 10 mantissa bits */
	h = (((absx >> 23) - 112) << 10) | (mant >> 13);
	rest = mant & 0x1fff;
	if (rest > 0x1000 || (rest == 0x1000 && (h & 1)))
		h++;					/* a carry into the exponent is the right value */
	return sign | (uint16) h;
}

/*
 * A float or double as the bytes of a value of float type t (float16,
 * float32 or float64), range-checked; buf has room for 8 bytes.
 */
static void
float_bytes(const LanceField *field, const LanceType *t, double v, uint8 *buf)
{
	float		f = (float) v;
	bool		overflow = false;
	uint16		h;

	switch (t->id)
	{
		case LANCE_TYPE_FLOAT64:
			memcpy(buf, &v, 8);
			return;
		case LANCE_TYPE_FLOAT32:
			if (isinf(f) && !isinf(v))
				report_out_of_range(field, psprintf("%g", v));
			memcpy(buf, &f, 4);
			return;
		case LANCE_TYPE_FLOAT16:
			h = float_to_half(f, &overflow);
			if (overflow || (isinf(f) && !isinf(v)))
				report_out_of_range(field, psprintf("%g", v));
			memcpy(buf, &h, 2);
			return;
		default:
			report_unwritable(field);
	}
}

/*
 * The dotted path of conv's field from its column ("cost.amount",
 * "lines.item.price"), as Lance names nested fields; with the item of a
 * list of scalars, whose converter has no field, when field is that item.
 */
static char *
field_path(const LanceConverter *conv, const LanceField *field)
{
	char	   *path = conv->parent ? psprintf("%s.%s", field_path(conv->parent, conv->parent->field),
											  conv->field->name)
		: pstrdup(conv->field->name);

	return field == conv->field ? path : psprintf("%s.%s", path, field->name);
}

static pg_noinline void pg_attribute_noreturn()
report_decimal_range(const LanceConverter *conv, const LanceField *field, Datum d)
{
	const LanceType *t = &field->type;

	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("value %s is out of range for Lance field \"%s\" of type decimal(%d, %d)",
					DatumGetCString(DirectFunctionCall1(numeric_out, d)), field_path(conv, field),
					t->precision, t->scale),
			 errdetail("A field of precision %d, scale %d holds finite values that round to an absolute value less than 10^%d.",
					   t->precision, t->scale, t->precision - t->scale)));
}

/*
 * A numeric as the value of a decimal field: the unscaled integer (the
 * value times 10^scale, rounded half away from zero as a numeric(p, s)
 * column rounds) in the field's width, little-endian two's complement,
 * as Arrow stores decimals.  NaN, infinities and values that need more
 * digits than the field's precision are out of range.
 */
static void
decimal_bytes(const LanceConverter *conv, const LanceField *field, Datum d, uint8 *buf)
{
	const LanceType *t = &field->type;
	Numeric		num = DatumGetNumeric(d);
	char	   *text;
	char	   *digits;
	int			ndigits = 0;
	bool		negative;

	if (numeric_is_nan(num) || numeric_is_inf(num))
		report_decimal_range(conv, field, d);
	text = DatumGetCString(DirectFunctionCall1(numeric_out,
											   DirectFunctionCall2(numeric_round, d,
																   Int32GetDatum(t->scale))));
	negative = text[0] == '-';

	/* rounded to the scale, the digits without the point are the integer */
	digits = palloc(strlen(text) + 1);
	for (const char *c = text; *c; c++)
		if (*c >= '0' && *c <= '9' && (ndigits > 0 || *c != '0'))
			digits[ndigits++] = *c;
	/* a negative scale: the last -scale digits are zeros the field implies */
	ndigits = t->scale < 0 ? Max(ndigits + t->scale, 0) : ndigits;
	if (ndigits > t->precision)
		report_decimal_range(conv, field, d);
	memset(buf, 0, t->byte_width);
	for (int i = 0; i < ndigits; i++)
	{
		unsigned	carry = (unsigned) (digits[i] - '0');

		for (int b = 0; b < t->byte_width; b++)
		{
			unsigned	v = buf[b] * 10u + carry;

			buf[b] = (uint8) (v & 0xff);
			carry = v >> 8;
		}
	}
	if (negative)
		lance_decimal_negate(buf, t->byte_width);
}

/* Store an integer in the field's own width, range-checked. */
static void
push_int(LanceArray *a, const LanceField *field, Datum d, Oid typid, CoreError *err)
{
	uint8		buf[8];

	int_bytes(field, &field->type, d, typid, buf);
	push_ok(lance_array_push_fixed(a, buf, err), err);
}

/* Store a text value as UTF-8 bytes. */
static void
push_text(LanceArray *a, Datum d, CoreError *err)
{
	text	   *t = DatumGetTextPP(d);
	int			len = VARSIZE_ANY_EXHDR(t);
	char	   *utf8 = pg_server_to_any(VARDATA_ANY(t), len, PG_UTF8);

	/* a converted string comes back NUL-terminated, the input is not */
	push_ok(lance_array_push_bytes(a, utf8,
								   utf8 == VARDATA_ANY(t) ? (size_t) len : strlen(utf8),
								   err), err);
}

/*
 * Store a bytea value's bytes in field (conv's, or its list's item): a
 * fixed-size binary field's array has no offsets, so its values must be
 * exactly its width and go in as fixed-width values.
 */
static void
push_bytea(LanceArray *a, const LanceConverter *conv, const LanceField *field, Datum d,
		   CoreError *err)
{
	bytea	   *b = DatumGetByteaPP(d);
	int			len = VARSIZE_ANY_EXHDR(b);

	if (field->type.id != LANCE_TYPE_FIXED_SIZE_BINARY)
	{
		push_ok(lance_array_push_bytes(a, VARDATA_ANY(b), len, err), err);
		return;
	}
	if (len != field->type.fixed_size)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_LENGTH_MISMATCH),
				 errmsg("value of %d bytes does not fit Lance field \"%s\" of %d bytes",
						len, field_path(conv, field), field->type.fixed_size)));
	push_ok(lance_array_push_fixed(a, VARDATA_ANY(b), err), err);
}

/* Microseconds to a count of type t's unit (truncating toward -inf). */
static int64
from_usecs(const LanceField *field, const LanceType *t, int64 us)
{
	int64		r;

	switch (t->unit)
	{
		case LANCE_UNIT_S:
			return us >= 0 ? us / USECS_PER_SEC : -((-(us + 1)) / USECS_PER_SEC) - 1;
		case LANCE_UNIT_MS:
			return us >= 0 ? us / 1000 : -((-(us + 1)) / 1000) - 1;
		case LANCE_UNIT_NS:
			if (pg_mul_s64_overflow(us, 1000, &r))
				report_out_of_range(field, psprintf(INT64_FORMAT " microseconds", us));
			return r;
		default:
			return us;
	}
}

/*
 * A date, timestamp, time or interval (kind) as type t stores it, in its
 * width of 4 or 8 bytes: days or milliseconds since the Unix epoch, or a
 * count of t's unit since the epoch or midnight.  field names errors.
 */
static void
temporal_bytes(const LanceField *field, const LanceType *t, LanceConvKind kind, Datum d,
			   uint8 *buf)
{
	int64		v;

	switch (kind)
	{
		case CONV_DATE:
			if (DATE_NOT_FINITE(DatumGetDateADT(d)))
				report_out_of_range(field, "infinity");
			v = (int64) DatumGetDateADT(d) + UNIX_TO_PG_EPOCH_DAYS;
			if (t->id == LANCE_TYPE_DATE64)
				v *= 86400000;
			break;
		case CONV_TIMESTAMP:
			if (TIMESTAMP_NOT_FINITE(DatumGetTimestamp(d)))
				report_out_of_range(field, "infinity");
			v = from_usecs(field, t, DatumGetTimestamp(d) + UNIX_TO_PG_EPOCH_USECS);
			break;
		case CONV_TIME:
			v = from_usecs(field, t, DatumGetTimeADT(d));
			break;
		default:
			{
				Interval   *iv = DatumGetIntervalP(d);

				if (iv->month != 0 || iv->day != 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("interval with months or days cannot be stored in Lance duration field \"%s\"",
									field->name)));
				v = from_usecs(field, t, iv->time);
			}
	}
	if (t->byte_width == 4)
	{
		int32		v32 = (int32) v;

		if (v < PG_INT32_MIN || v > PG_INT32_MAX)
			report_out_of_range(field, psprintf(INT64_FORMAT, v));
		memcpy(buf, &v32, sizeof(v32));
	}
	else
		memcpy(buf, &v, sizeof(v));
}

/*
 * Store a one-dimensional Postgres array as one list value: for a
 * fixed_size_list exactly the list's size of non-null elements, for a
 * list any number, nulls only where the item field is nullable.  Each
 * element is converted to the item type.
 */
static void
push_array(const LanceConverter *conv, LanceArray *a, Datum d, CoreError *err)
{
	const LanceField *field = conv->field;
	bool		fixed = field->type.id == LANCE_TYPE_FIXED_SIZE_LIST;
	const LanceType *item = fixed ? field->type.item : &field->children[0]->type;
	bool		item_nullable = !fixed && field->children[0]->nullable;
	ArrayType  *arr = DatumGetArrayTypeP(d);
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	uint8	   *bytes;

	deconstruct_array(arr, conv->item->typid, conv->elmlen, conv->elmbyval, conv->elmalign,
					  &elems, &nulls, &n);
	if (ARR_NDIM(arr) > 1 || (fixed && n != field->type.fixed_size))
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 ARR_NDIM(arr) > 1
				 ? errmsg("array of %d dimensions does not fit Lance field \"%s\", a list",
						  ARR_NDIM(arr), field->name)
				 : errmsg("array of %d elements does not fit Lance field \"%s\" of %d elements",
						  n, field->name, field->type.fixed_size)));
	for (int i = 0; i < n; i++)
		if (nulls[i] && !item_nullable)
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("null element in an array for Lance field \"%s\", whose lists hold no nulls",
							field->name)));
	if (conv->item->kind == CONV_COMPOSITE)
	{
		/* each element a struct item, pushed member by member */
		for (int i = 0; i < n; i++)
		{
			if (nulls[i])
				push_ok(lance_array_append_nulls(a->children[0], 1, err), err);
			else
				lance_push_composite(conv->item, a->children[0], elems[i], err);
		}
		push_ok(lance_array_push_list_end(a, err), err);
		return;
	}
	if (!fixed && (conv->item->kind == CONV_TEXT || conv->item->kind == CONV_BYTEA))
	{
		/* variable-width items go onto the item array one by one */
		for (int i = 0; i < n; i++)
		{
			if (nulls[i])
				push_ok(lance_array_append_nulls(a->children[0], 1, err), err);
			else if (conv->item->kind == CONV_TEXT)
				push_text(a->children[0], elems[i], err);
			else
				push_bytea(a->children[0], conv, field->children[0], elems[i], err);
		}
		push_ok(lance_array_push_list_end(a, err), err);
		return;
	}
	bytes = palloc0((size_t) Max(n, 1) * item->byte_width + 8);
	for (int i = 0; i < n; i++)
	{
		uint8		buf[32];

		if (nulls[i])
			continue;
		switch (conv->item->kind)
		{
			case CONV_INT2:
			case CONV_INT4:
			case CONV_INT8:
				int_bytes(field, item, elems[i], conv->item->typid, buf);
				break;
			case CONV_NUMERIC:
				if (fixed || (item->id != LANCE_TYPE_DECIMAL128 && item->id != LANCE_TYPE_DECIMAL256))
					report_unwritable(field);
				decimal_bytes(conv, field->children[0], elems[i], buf);
				break;
			case CONV_FLOAT4:
				float_bytes(field, item, DatumGetFloat4(elems[i]), buf);
				break;
			case CONV_FLOAT8:
				float_bytes(field, item, DatumGetFloat8(elems[i]), buf);
				break;
			case CONV_DATE:
			case CONV_TIMESTAMP:
			case CONV_TIME:
			case CONV_INTERVAL:
				temporal_bytes(field, item, conv->item->kind, elems[i], buf);
				break;
			default:
				report_unwritable(field);
		}
		memcpy(bytes + (size_t) i * item->byte_width, buf, item->byte_width);
	}
	if (fixed)
		push_ok(lance_array_push_fsl(a, bytes, err), err);
	else
		push_ok(lance_array_push_list(a, bytes, nulls, n, err), err);
}

void
lance_push_datum(const LanceConverter *conv, LanceArray *a, Datum d, bool isnull,
				 CoreError *err)
{
	const LanceField *field = conv->field;

	if (isnull)
	{
		if (!field->nullable)
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("null value for Lance field \"%s\", which is not nullable",
							field->name)));
		push_ok(lance_array_append_nulls(a, 1, err), err);
		return;
	}
	switch (conv->kind)
	{
		case CONV_BOOL:
			push_ok(lance_array_push_bool(a, DatumGetBool(d), err), err);
			break;
		case CONV_INT2:
		case CONV_INT4:
		case CONV_INT8:
			push_int(a, field, d, conv->typid, err);
			break;
		case CONV_NUMERIC:
			if (field->type.id == LANCE_TYPE_DECIMAL128 || field->type.id == LANCE_TYPE_DECIMAL256)
			{
				uint8		buf[32];

				decimal_bytes(conv, field, d, buf);
				push_ok(lance_array_push_fixed(a, buf, err), err);
				break;
			}
			push_int(a, field, d, conv->typid, err);
			break;
		case CONV_FLOAT4:
		case CONV_FLOAT8:
			{
				uint8		buf[8];

				float_bytes(field, &field->type,
							conv->typid == FLOAT4OID ? DatumGetFloat4(d) : DatumGetFloat8(d), buf);
				push_ok(lance_array_push_fixed(a, buf, err), err);
				break;
			}
		case CONV_DATE:
		case CONV_TIMESTAMP:
		case CONV_TIME:
		case CONV_INTERVAL:
			{
				uint8		buf[8];

				temporal_bytes(field, &field->type, conv->kind, d, buf);
				push_ok(lance_array_push_fixed(a, buf, err), err);
				break;
			}
		case CONV_TEXT:
			push_text(a, d, err);
			break;
		case CONV_BYTEA:
			push_bytea(a, conv, field, d, err);
			break;
		case CONV_VECTOR:
			{
				Vector	   *v = (Vector *) PG_DETOAST_DATUM(d);

				if (v->dim != field->type.fixed_size)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_EXCEPTION),
							 errmsg("vector of %d dimensions does not fit Lance field \"%s\" of %d dimensions",
									v->dim, field->name, field->type.fixed_size)));
				push_ok(lance_array_push_fsl(a, v->x, err), err);
				break;
			}
		case CONV_ARRAY:
			push_array(conv, a, d, err);
			break;
		case CONV_COMPOSITE:
			lance_push_composite(conv, a, d, err);
			break;
		case CONV_JSONB:
			if (conv->item == NULL)
				report_unwritable(field);
			lance_push_jsonb_lists(conv, a, d, err);
			break;
		default:
			report_unwritable(field);
	}
}

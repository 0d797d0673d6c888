/*-------------------------------------------------------------------------
 *
 * convert.c
 *	  Lance types to Postgres types: the mapping, and values to Datums.
 *
 * Each Lance logical type has one natural Postgres type (the one IMPORT
 * FOREIGN SCHEMA declares; the table is in the README).  A column may also
 * be declared with a type that holds every value of the natural one: a
 * wider integer or numeric, double precision for real, timestamptz for a
 * timestamp without zone (read as UTC), real[] for a vector.  Narrower
 * declarations are refused when the scan starts, not row by row.
 *
 * Values are read straight from the decoded Arrow-shaped arrays.  Anything
 * a Postgres type cannot hold (a NaN in a vector, a timestamp past year
 * 294276, invalid UTF-8) is an error naming the field; the scan adds the
 * dataset, fragment and row in an error context.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "common/int.h"
#include "datatype/timestamp.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/float.h"
#include "utils/fmgroids.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "fdw/convert.h"
#include "types/vector.h"

/* Microseconds between the Unix epoch and Postgres' (2000-01-01). */
#define UNIX_TO_PG_EPOCH_USECS \
	((int64) (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * USECS_PER_DAY)
#define UNIX_TO_PG_EPOCH_DAYS (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE)

static void write_json(StringInfo buf, const LanceType *type, const LanceField *field,
					   const LanceArray *array, int64 row);

/* ---------------------------------------------------------------------
 * The mapping
 * ---------------------------------------------------------------------
 */

/* The schema our extension was created in (PG 15 does not export this). */
static Oid
extension_namespace(Oid ext)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(ext));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
		nsp = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/*
 * The OID of our vector type.  Not cached across calls: the extension may
 * be dropped and created again in one session.
 */
Oid
lance_vector_type_oid(void)
{
	Oid			ext = get_extension_oid("lancedb_fdw", true);

	if (!OidIsValid(ext))
		return InvalidOid;
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum("vector"),
						   ObjectIdGetDatum(extension_namespace(ext)));
}

static bool
is_float_vector(const LanceType *type)
{
	return type->id == LANCE_TYPE_FIXED_SIZE_LIST && type->item != NULL &&
		type->item->id == LANCE_TYPE_FLOAT32 &&
		type->fixed_size >= 1 && type->fixed_size <= VECTOR_MAX_DIM;
}

/* Whether a type converts to a scalar Postgres value (not array or jsonb). */
static bool
is_scalar(const LanceType *type)
{
	switch (type->id)
	{
		case LANCE_TYPE_FIXED_SIZE_LIST:
		case LANCE_TYPE_LIST:
		case LANCE_TYPE_LARGE_LIST:
		case LANCE_TYPE_STRUCT:
			return false;
		default:
			return true;
	}
}

/* The element type of a list or fixed-size list. */
static const LanceType *
list_item_type(const LanceType *type, const LanceField *field)
{
	if (type->id == LANCE_TYPE_FIXED_SIZE_LIST)
		return type->item;
	if (field != NULL && field->num_children == 1)
		return &field->children[0]->type;
	return NULL;
}

/* The natural conversion of a scalar Lance type. */
static LanceConvKind
scalar_kind(const LanceType *type)
{
	switch (type->id)
	{
		case LANCE_TYPE_BOOL:
			return CONV_BOOL;
		case LANCE_TYPE_INT8:
		case LANCE_TYPE_INT16:
		case LANCE_TYPE_UINT8:
			return CONV_INT2;
		case LANCE_TYPE_INT32:
		case LANCE_TYPE_UINT16:
			return CONV_INT4;
		case LANCE_TYPE_INT64:
		case LANCE_TYPE_UINT32:
			return CONV_INT8;
		case LANCE_TYPE_UINT64:
		case LANCE_TYPE_DECIMAL128:
		case LANCE_TYPE_DECIMAL256:
			return CONV_NUMERIC;
		case LANCE_TYPE_FLOAT16:
		case LANCE_TYPE_FLOAT32:
			return CONV_FLOAT4;
		case LANCE_TYPE_FLOAT64:
			return CONV_FLOAT8;
		case LANCE_TYPE_DATE32:
		case LANCE_TYPE_DATE64:
			return CONV_DATE;
		case LANCE_TYPE_TIMESTAMP:
			return CONV_TIMESTAMP;
		case LANCE_TYPE_TIME32:
		case LANCE_TYPE_TIME64:
			return CONV_TIME;
		case LANCE_TYPE_DURATION:
			return CONV_INTERVAL;
		case LANCE_TYPE_BINARY:
		case LANCE_TYPE_LARGE_BINARY:
		case LANCE_TYPE_FIXED_SIZE_BINARY:
			return CONV_BYTEA;
		case LANCE_TYPE_NULL:
		case LANCE_TYPE_STRING:
		case LANCE_TYPE_LARGE_STRING:
		default:
			return CONV_TEXT;
	}
}

static const char *
scalar_sql_name(const LanceType *type)
{
	switch (scalar_kind(type))
	{
		case CONV_BOOL:
			return "boolean";
		case CONV_INT2:
			return "smallint";
		case CONV_INT4:
			return "integer";
		case CONV_INT8:
			return "bigint";
		case CONV_NUMERIC:
			if (type->id == LANCE_TYPE_DECIMAL128 || type->id == LANCE_TYPE_DECIMAL256)
				return psprintf("numeric(%d,%d)", type->precision, type->scale);
			return "numeric";
		case CONV_FLOAT4:
			return "real";
		case CONV_FLOAT8:
			return "double precision";
		case CONV_DATE:
			return "date";
		case CONV_TIMESTAMP:
			return type->timezone ? "timestamp with time zone" : "timestamp without time zone";
		case CONV_TIME:
			return "time without time zone";
		case CONV_INTERVAL:
			return "interval";
		case CONV_BYTEA:
			return "bytea";
		default:
			return "text";
	}
}

static Oid
scalar_type_oid(const LanceType *type)
{
	switch (scalar_kind(type))
	{
		case CONV_BOOL:
			return BOOLOID;
		case CONV_INT2:
			return INT2OID;
		case CONV_INT4:
			return INT4OID;
		case CONV_INT8:
			return INT8OID;
		case CONV_NUMERIC:
			return NUMERICOID;
		case CONV_FLOAT4:
			return FLOAT4OID;
		case CONV_FLOAT8:
			return FLOAT8OID;
		case CONV_DATE:
			return DATEOID;
		case CONV_TIMESTAMP:
			return type->timezone ? TIMESTAMPTZOID : TIMESTAMPOID;
		case CONV_TIME:
			return TIMEOID;
		case CONV_INTERVAL:
			return INTERVALOID;
		case CONV_BYTEA:
			return BYTEAOID;
		default:
			return TEXTOID;
	}
}

char *
lance_field_sql_type(const LanceField *field)
{
	const LanceType *type = &field->type;
	const LanceType *item;

	if (is_float_vector(type))
		return psprintf("vector(%d)", type->fixed_size);
	if (is_scalar(type))
		return pstrdup(scalar_sql_name(type));
	item = list_item_type(type, field);
	if (item != NULL && is_scalar(item))
		return psprintf("%s[]", scalar_sql_name(item));
	return pstrdup("jsonb");
}

/*
 * Whether a scalar of natural kind `from` may be read into a column of
 * type `to`: the same type, or one that holds every value.
 */
static bool
scalar_fits(LanceConvKind from, Oid natural, Oid to, LanceConvKind *out)
{
	static const struct
	{
		LanceConvKind from;
		Oid			to;
		LanceConvKind kind;
	}			widen[] = {
		{CONV_INT2, INT4OID, CONV_INT4},
		{CONV_INT2, INT8OID, CONV_INT8},
		{CONV_INT2, NUMERICOID, CONV_NUMERIC},
		{CONV_INT4, INT8OID, CONV_INT8},
		{CONV_INT4, NUMERICOID, CONV_NUMERIC},
		{CONV_INT8, NUMERICOID, CONV_NUMERIC},
		{CONV_FLOAT4, FLOAT8OID, CONV_FLOAT8},
		{CONV_TIMESTAMP, TIMESTAMPOID, CONV_TIMESTAMP},
		{CONV_TIMESTAMP, TIMESTAMPTZOID, CONV_TIMESTAMP},
	};

	if (to == natural)
	{
		*out = from;
		return true;
	}
	for (int i = 0; i < lengthof(widen); i++)
	{
		if (widen[i].from == from && widen[i].to == to)
		{
			*out = widen[i].kind;
			return true;
		}
	}
	return false;
}

static void
report_type_mismatch(const LanceField *field, Oid typid, int32 typmod,
					 const char *relname, const char *attname)
{
	char	   *natural = lance_field_sql_type(field);

	ereport(ERROR,
			(errcode(ERRCODE_FDW_INVALID_DATA_TYPE),
			 errmsg("column \"%s\" of foreign table \"%s\" has type %s, which cannot hold Lance field \"%s\" of type %s",
					attname, relname, format_type_with_typemod(typid, typmod),
					field->name, field->logical_type),
			 errhint("Declare the column as %s, or create the table with IMPORT FOREIGN SCHEMA.",
					 natural)));
}

LanceConverter *
lance_converter_for(const LanceField *field, Oid typid, int32 typmod,
					const char *relname, const char *attname)
{
	LanceConverter *conv = palloc0(sizeof(LanceConverter));
	const LanceType *type = &field->type;
	const LanceType *item = list_item_type(type, field);

	conv->field = field;
	conv->typid = typid;
	conv->typmod = typmod;

	if (is_scalar(type))
	{
		if (!scalar_fits(scalar_kind(type), scalar_type_oid(type), typid, &conv->kind))
			report_type_mismatch(field, typid, typmod, relname, attname);
		if ((type->id == LANCE_TYPE_INT32 && conv->kind == CONV_INT4) ||
			(type->id == LANCE_TYPE_FLOAT32 && conv->kind == CONV_FLOAT4))
			conv->load_width = 4;
		else if ((type->id == LANCE_TYPE_INT64 && conv->kind == CONV_INT8) ||
				 (type->id == LANCE_TYPE_FLOAT64 && conv->kind == CONV_FLOAT8))
			conv->load_width = 8;
		return conv;
	}

	if (is_float_vector(type) && typid == lance_vector_type_oid())
	{
		if (typmod >= 0 && typmod != type->fixed_size)
			report_type_mismatch(field, typid, typmod, relname, attname);
		conv->kind = CONV_VECTOR;
		return conv;
	}

	if (item != NULL && is_scalar(item) && get_element_type(typid) != InvalidOid)
	{
		Oid			elemtype = get_element_type(typid);
		LanceConverter *ic = palloc0(sizeof(LanceConverter));

		if (!scalar_fits(scalar_kind(item), scalar_type_oid(item), elemtype, &ic->kind))
			report_type_mismatch(field, typid, typmod, relname, attname);
		ic->typid = elemtype;
		ic->typmod = -1;
		ic->parent = conv;
		conv->kind = CONV_ARRAY;
		conv->item = ic;
		get_typlenbyvalalign(elemtype, &conv->elmlen, &conv->elmbyval, &conv->elmalign);
		return conv;
	}

	if (type->id == LANCE_TYPE_STRUCT && get_typtype(typid) == TYPTYPE_COMPOSITE)
	{
		lance_composite_converter(conv, relname, attname);
		return conv;
	}
	/* a list of structs into an array of a composite type */
	if (type->id == LANCE_TYPE_LIST && item != NULL && item->id == LANCE_TYPE_STRUCT &&
		get_element_type(typid) != InvalidOid &&
		get_typtype(get_element_type(typid)) == TYPTYPE_COMPOSITE)
	{
		Oid			elemtype = get_element_type(typid);

		conv->kind = CONV_ARRAY;
		conv->item = lance_converter_for(field->children[0], elemtype, -1, relname, attname);
		conv->item->parent = conv;
		get_typlenbyvalalign(elemtype, &conv->elmlen, &conv->elmbyval, &conv->elmalign);
		return conv;
	}
	if (typid != JSONBOID)
		report_type_mismatch(field, typid, typmod, relname, attname);
	conv->kind = CONV_JSONB;
	/* a list of lists: each inner list is written as an array of its items */
	if (type->id == LANCE_TYPE_LIST && item != NULL &&
		(item->id == LANCE_TYPE_LIST || item->id == LANCE_TYPE_FIXED_SIZE_LIST))
	{
		const LanceType *leaf = list_item_type(item, field->children[0]);

		if (leaf != NULL && is_scalar(leaf))
		{
			Oid			infn;

			conv->item = lance_converter_for(field->children[0],
											 get_array_type(scalar_type_oid(leaf)), -1,
											 relname, attname);
			conv->item->parent = conv;
			getTypeInputInfo(conv->item->item->typid, &infn, &conv->item_ioparam);
			fmgr_info(infn, &conv->item_input);
		}
	}
	return conv;
}

/* ---------------------------------------------------------------------
 * Reading scalars out of arrays
 * ---------------------------------------------------------------------
 */

static pg_noinline void
report_value_error(const LanceType *type, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
			 errmsg("Lance %s value %s", lance_type_name(type->id), what)));
}

/* A signed integer of any width (the uint64 case is apart). */
static int64
read_int(const LanceType *type, const LanceArray *a, int64 row)
{
	const uint8 *p = a->values + row * type->byte_width;

	switch (type->id)
	{
		case LANCE_TYPE_INT8:
			return *(const int8 *) p;
		case LANCE_TYPE_UINT8:
			return *(const uint8 *) p;
		case LANCE_TYPE_INT16:
			{
				int16		v;

				memcpy(&v, p, 2);
				return v;
			}
		case LANCE_TYPE_UINT16:
			{
				uint16		v;

				memcpy(&v, p, 2);
				return v;
			}
		case LANCE_TYPE_INT32:
		case LANCE_TYPE_DATE32:
		case LANCE_TYPE_TIME32:
			{
				int32		v;

				memcpy(&v, p, 4);
				return v;
			}
		case LANCE_TYPE_UINT32:
			{
				uint32		v;

				memcpy(&v, p, 4);
				return v;
			}
		default:
			{
				int64		v;

				memcpy(&v, p, 8);
				return v;
			}
	}
}

/* An IEEE half-precision value as a float. */
static float
half_to_float(uint16 h)
{
	int			sign = (h >> 15) & 1;
	int			exp = (h >> 10) & 0x1f;
	int			mant = h & 0x3ff;
	float		v;

	if (exp == 0)
		v = ldexpf((float) mant, -24);
	else if (exp == 31)
		v = mant ? NAN : INFINITY;
	else
		v = ldexpf((float) (mant | 0x400), exp - 25);
	return sign ? -v : v;
}

static double
read_float(const LanceType *type, const LanceArray *a, int64 row)
{
	const uint8 *p = a->values + row * type->byte_width;

	if (type->id == LANCE_TYPE_FLOAT16)
	{
		uint16		h;

		memcpy(&h, p, 2);
		return half_to_float(h);
	}
	if (type->id == LANCE_TYPE_FLOAT32)
	{
		float		f;

		memcpy(&f, p, 4);
		return f;
	}
	{
		double		d;

		memcpy(&d, p, 8);
		return d;
	}
}

/* Scale a count of `unit` to microseconds, or report it out of range. */
static int64
to_usecs(const LanceType *type, int64 v)
{
	int64		r;

	switch (type->unit)
	{
		case LANCE_UNIT_S:
			if (pg_mul_s64_overflow(v, USECS_PER_SEC, &r))
				report_value_error(type, "is out of range for Postgres");
			return r;
		case LANCE_UNIT_MS:
			if (pg_mul_s64_overflow(v, 1000, &r))
				report_value_error(type, "is out of range for Postgres");
			return r;
		case LANCE_UNIT_NS:
			/* round toward minus infinity, as an instant truncates */
			return v >= 0 ? v / 1000 : -((-(v + 1)) / 1000) - 1;
		default:
			return v;
	}
}

void
lance_decimal_negate(uint8 *bytes, int len)
{
	unsigned	carry = 1;

	for (int b = 0; b < len; b++)
	{
		unsigned	v = (uint8) ~bytes[b] + carry;

		bytes[b] = (uint8) (v & 0xff);
		carry = v >> 8;
	}
}

/*
 * The decimal text of a little-endian two's-complement integer of `len`
 * bytes (16 or 32), with `scale` digits after the point (a negative scale
 * multiplies by 10^-scale).
 */
static char *
decimal_text(const uint8 *bytes, int len, int scale)
{
	uint8		magnitude[32];
	uint32		limbs[8];
	int			nlimbs = len / 4;
	bool		negative = (bytes[len - 1] & 0x80) != 0;
	char		digits[96];
	int			nd = 0;
	StringInfoData out;

	memcpy(magnitude, bytes, len);
	if (negative)
		lance_decimal_negate(magnitude, len);
	memcpy(limbs, magnitude, len);

	/* repeated division by 10 from the most significant limb down */
	for (;;)
	{
		uint64		rem = 0;
		bool		zero = true;

		for (int i = nlimbs - 1; i >= 0; i--)
		{
			uint64		cur = (rem << 32) | limbs[i];

			limbs[i] = (uint32) (cur / 10);
			rem = cur % 10;
			zero &= limbs[i] == 0;
		}
		digits[nd++] = (char) ('0' + rem);
		if (zero)
			break;
	}
	while (nd <= scale)
		digits[nd++] = '0';

	initStringInfo(&out);
	if (negative)
		appendStringInfoChar(&out, '-');
	for (int i = nd - 1; i >= 0; i--)
	{
		appendStringInfoChar(&out, digits[i]);
		if (i == scale && scale > 0)
			appendStringInfoChar(&out, '.');
	}
	/* a negative scale counts the zeros the stored integer leaves out */
	for (int i = 0; i < -scale; i++)
		appendStringInfoChar(&out, '0');
	return out.data;
}

/* The bytes of a string or binary value (not copied). */
static const char *
read_bytes(const LanceType *type, const LanceArray *a, int64 row, int64 *len)
{
	if (type->id == LANCE_TYPE_FIXED_SIZE_BINARY)
	{
		*len = type->fixed_size;
		return (const char *) a->values + row * type->fixed_size;
	}
	else
	{
		int64		start = lance_array_offset(a, row);

		*len = lance_array_offset(a, row + 1) - start;
		return (const char *) a->values + start;
	}
}

/*
 * UTF-8 from a file as a NUL-terminated string in the server's encoding;
 * invalid UTF-8 is an error.  The conversion hands back its input when the
 * encodings match, and a value's bytes in a page are not terminated.
 */
static char *
utf8_to_server(const char *bytes, int64 len)
{
	char	   *s;

	if (len > MaxAllocSize - 1)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Lance string value of %lld bytes is too long", (long long) len)));
	s = pg_any_to_server(bytes, (int) len, PG_UTF8);
	return s == bytes ? pnstrdup(bytes, len) : s;
}

/*
 * A text Datum of UTF-8 bytes from a file.  In a UTF-8 database (the usual
 * case) the bytes are checked where they lie and copied once, straight
 * into the text; pg_any_to_server would check them the same way but the
 * result would then be copied twice more (terminated, then into a text).
 */
static Datum
text_datum(const char *bytes, int64 len)
{
	if (GetDatabaseEncoding() != PG_UTF8)
		return PointerGetDatum(cstring_to_text(utf8_to_server(bytes, len)));
	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Lance string value of %lld bytes is too long", (long long) len)));
	(void) pg_verify_mbstr(PG_UTF8, bytes, (int) len, false);
	return PointerGetDatum(cstring_to_text_with_len(bytes, (int) len));
}

static Datum
bytea_datum(const char *bytes, int64 len)
{
	bytea	   *b;

	if (len > MaxAllocSize - VARHDRSZ)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Lance binary value of %lld bytes is too long", (long long) len)));
	b = palloc(len + VARHDRSZ);
	SET_VARSIZE(b, len + VARHDRSZ);
	memcpy(VARDATA(b), bytes, len);
	return PointerGetDatum(b);
}

static Datum
numeric_from_text(const char *text)
{
	return DirectFunctionCall3(numeric_in, CStringGetDatum(text),
							   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
}

/* An integer of the source type as a Datum of the column's kind. */
static Datum
int_datum(const LanceType *type, const LanceArray *a, int64 row, LanceConvKind kind)
{
	int64		v;

	if (type->id == LANCE_TYPE_UINT64)
	{
		uint64		u;

		memcpy(&u, a->values + row * 8, 8);
		return numeric_from_text(psprintf(UINT64_FORMAT, u));
	}
	v = read_int(type, a, row);
	switch (kind)
	{
		case CONV_INT2:
			return Int16GetDatum((int16) v);
		case CONV_INT4:
			return Int32GetDatum((int32) v);
		case CONV_INT8:
			return Int64GetDatum(v);
		default:
			return DirectFunctionCall1(int8_numeric, Int64GetDatum(v));
	}
}

static Datum
timestamp_datum(const LanceType *type, int64 raw)
{
	Timestamp	ts = to_usecs(type, raw);

	if (pg_sub_s64_overflow(ts, UNIX_TO_PG_EPOCH_USECS, &ts) || !IS_VALID_TIMESTAMP(ts))
		report_value_error(type, "is outside the range of a Postgres timestamp");
	return TimestampGetDatum(ts);
}

static Datum
date_datum(const LanceType *type, int64 raw)
{
	int64		days = raw;

	if (type->id == LANCE_TYPE_DATE64)
		days = raw >= 0 ? raw / 86400000 : -((-(raw + 1)) / 86400000) - 1;
	days -= UNIX_TO_PG_EPOCH_DAYS;
	if (days < PG_INT32_MIN || days > PG_INT32_MAX ||
		!IS_VALID_DATE((DateADT) days))
		report_value_error(type, "is outside the range of a Postgres date");
	return DateADTGetDatum((DateADT) days);
}

static Datum
scalar_datum(const LanceType *type, LanceConvKind kind, const LanceArray *a, int64 row)
{
	switch (kind)
	{
		case CONV_BOOL:
			return BoolGetDatum(lance_bit_get(a->values, row));
		case CONV_INT2:
		case CONV_INT4:
		case CONV_INT8:
			return int_datum(type, a, row, kind);
		case CONV_NUMERIC:
			if (type->id == LANCE_TYPE_DECIMAL128 || type->id == LANCE_TYPE_DECIMAL256)
				return numeric_from_text(decimal_text(a->values + row * type->byte_width,
													  type->byte_width, type->scale));
			return int_datum(type, a, row, kind);
		case CONV_FLOAT4:
			return Float4GetDatum((float4) read_float(type, a, row));
		case CONV_FLOAT8:
			return Float8GetDatum(read_float(type, a, row));
		case CONV_DATE:
			return date_datum(type, read_int(type, a, row));
		case CONV_TIMESTAMP:
			return timestamp_datum(type, read_int(type, a, row));
		case CONV_TIME:
			{
				int64		t = to_usecs(type, read_int(type, a, row));

				if (t < 0 || t > USECS_PER_DAY)
					report_value_error(type, "is not a time of day");
				return TimeADTGetDatum(t);
			}
		case CONV_INTERVAL:
			{
				Interval   *iv = palloc0(sizeof(Interval));

				iv->time = to_usecs(type, read_int(type, a, row));
				return IntervalPGetDatum(iv);
			}
		case CONV_BYTEA:
			{
				int64		len;
				const char *p = read_bytes(type, a, row, &len);

				return bytea_datum(p, len);
			}
		case CONV_TEXT:
		default:
			{
				int64		len;
				const char *p = read_bytes(type, a, row, &len);

				return text_datum(p, len);
			}
	}
}

/* ---------------------------------------------------------------------
 * Vectors, arrays and jsonb
 * ---------------------------------------------------------------------
 */

static Datum
vector_datum(const LanceConverter *conv, const LanceArray *a, int64 row)
{
	int			dim = conv->field->type.fixed_size;
	const LanceArray *items = a->children[0];
	Vector	   *v = VectorNew(dim);
	int64		first = row * dim;

	memcpy(v->x, items->values + first * sizeof(float), dim * sizeof(float));
	for (int i = 0; i < dim; i++)
	{
		if (!lance_array_is_valid(items, first + i) || !isfinite(v->x[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("Lance field \"%s\" holds %s at element %d, which type vector cannot store",
							conv->field->name,
							!lance_array_is_valid(items, first + i) ? "a null" :
							isnan(v->x[i]) ? "NaN" : "an infinite value", i + 1),
					 errhint("Declare the column as real[] to read such values.")));
	}
	return PointerGetDatum(v);
}

static Datum
array_datum(const LanceConverter *conv, const LanceArray *a, int64 row)
{
	const LanceType *type = &conv->field->type;
	const LanceType *item_type = list_item_type(type, conv->field);
	const LanceArray *items = a->children[0];
	int64		start;
	int64		count;
	Datum	   *elems;
	bool	   *nulls;
	int			dims[1];
	int			lbs[1] = {1};

	if (type->id == LANCE_TYPE_FIXED_SIZE_LIST)
	{
		start = row * type->fixed_size;
		count = type->fixed_size;
	}
	else
	{
		start = lance_array_offset(a, row);
		count = lance_array_offset(a, row + 1) - start;
	}
	if (count == 0)
		return PointerGetDatum(construct_empty_array(conv->item->typid));
	if (count > MaxArraySize)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("Lance list of %lld items in field \"%s\" exceeds the array size limit",
						(long long) count, conv->field->name)));

	elems = palloc(count * sizeof(Datum));
	nulls = palloc(count * sizeof(bool));
	for (int64 i = 0; i < count; i++)
	{
		nulls[i] = !lance_array_is_valid(items, start + i);
		if (nulls[i])
			elems[i] = (Datum) 0;
		else if (conv->item->kind == CONV_COMPOSITE)
			elems[i] = lance_composite_datum(conv->item, items, start + i);
		else
			elems[i] = scalar_datum(item_type, conv->item->kind, items, start + i);
	}
	dims[0] = (int) count;
	return PointerGetDatum(construct_md_array(elems, nulls, 1, dims, lbs, conv->item->typid,
											  conv->elmlen, conv->elmbyval, conv->elmalign));
}

/* A double as JSON: a number, or a string for NaN and the infinities. */
static void
write_json_double(StringInfo buf, double v)
{
	if (isnan(v))
		appendStringInfoString(buf, "\"NaN\"");
	else if (isinf(v))
		appendStringInfoString(buf, v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
	else
		appendStringInfoString(buf, float8out_internal(v));
}

static void
write_json_scalar(StringInfo buf, const LanceType *type, const LanceArray *a, int64 row)
{
	switch (type->id)
	{
		case LANCE_TYPE_BOOL:
			appendStringInfoString(buf, lance_bit_get(a->values, row) ? "true" : "false");
			break;
		case LANCE_TYPE_UINT64:
			{
				uint64		u;

				memcpy(&u, a->values + row * 8, 8);
				appendStringInfo(buf, UINT64_FORMAT, u);
				break;
			}
		case LANCE_TYPE_INT8:
		case LANCE_TYPE_INT16:
		case LANCE_TYPE_INT32:
		case LANCE_TYPE_INT64:
		case LANCE_TYPE_UINT8:
		case LANCE_TYPE_UINT16:
		case LANCE_TYPE_UINT32:
			appendStringInfo(buf, INT64_FORMAT, read_int(type, a, row));
			break;
		case LANCE_TYPE_FLOAT16:
		case LANCE_TYPE_FLOAT32:
		case LANCE_TYPE_FLOAT64:
			write_json_double(buf, read_float(type, a, row));
			break;
		case LANCE_TYPE_DECIMAL128:
		case LANCE_TYPE_DECIMAL256:
			appendStringInfoString(buf, decimal_text(a->values + row * type->byte_width,
													 type->byte_width, type->scale));
			break;
		case LANCE_TYPE_STRING:
		case LANCE_TYPE_LARGE_STRING:
			{
				int64		len;
				const char *p = read_bytes(type, a, row, &len);

				escape_json(buf, utf8_to_server(p, len));
				break;
			}
		case LANCE_TYPE_BINARY:
		case LANCE_TYPE_LARGE_BINARY:
		case LANCE_TYPE_FIXED_SIZE_BINARY:
			{
				int64		len;
				const uint8 *p = (const uint8 *) read_bytes(type, a, row, &len);

				appendStringInfoString(buf, "\"\\\\x");
				for (int64 i = 0; i < len; i++)
					appendStringInfo(buf, "%02x", p[i]);
				appendStringInfoChar(buf, '"');
				break;
			}
		case LANCE_TYPE_NULL:
			appendStringInfoString(buf, "null");
			break;
		default:
			{
				/*
				 * Dates and times as to_jsonb writes them: ISO 8601 whatever
				 * the session's DateStyle, so the text reads back the same
				 * anywhere; intervals in their Postgres text form.
				 */
				LanceConvKind kind = scalar_kind(type);
				Oid			typid = scalar_type_oid(type);
				Datum		d = scalar_datum(type, kind, a, row);

				if (typid == DATEOID || typid == TIMEOID || typid == TIMETZOID ||
					typid == TIMESTAMPOID || typid == TIMESTAMPTZOID)
				{
					char		iso[MAXDATELEN + 1];

					escape_json(buf, JsonEncodeDateTime(iso, d, typid, NULL));
				}
				else
				{
					Oid			outfn;
					bool		isvarlena;

					getTypeOutputInfo(typid, &outfn, &isvarlena);
					escape_json(buf, OidOutputFunctionCall(outfn, d));
				}
				break;
			}
	}
}

/* Value `row` of an array of any type as JSON text. */
static void
write_json(StringInfo buf, const LanceType *type, const LanceField *field,
		   const LanceArray *a, int64 row)
{
	check_stack_depth();
	if (!lance_array_is_valid(a, row))
	{
		appendStringInfoString(buf, "null");
		return;
	}
	switch (type->id)
	{
		case LANCE_TYPE_STRUCT:
			appendStringInfoChar(buf, '{');
			for (int i = 0; i < field->num_children; i++)
			{
				const LanceField *child = field->children[i];

				if (i > 0)
					appendStringInfoString(buf, ", ");
				escape_json(buf, child->name);
				appendStringInfoString(buf, ": ");
				write_json(buf, &child->type, child, a->children[i], row);
			}
			appendStringInfoChar(buf, '}');
			break;
		case LANCE_TYPE_FIXED_SIZE_LIST:
		case LANCE_TYPE_LIST:
		case LANCE_TYPE_LARGE_LIST:
			{
				bool		fixed = type->id == LANCE_TYPE_FIXED_SIZE_LIST;
				const LanceField *child = fixed ? NULL : field->children[0];
				const LanceType *item = fixed ? type->item : &child->type;
				int64		start = fixed ? row * type->fixed_size : lance_array_offset(a, row);
				int64		end = fixed ? start + type->fixed_size : lance_array_offset(a, row + 1);

				appendStringInfoChar(buf, '[');
				for (int64 i = start; i < end; i++)
				{
					if (i > start)
						appendStringInfoString(buf, ", ");
					write_json(buf, item, child, a->children[0], i);
				}
				appendStringInfoChar(buf, ']');
				break;
			}
		default:
			write_json_scalar(buf, type, a, row);
			break;
	}
}

static Datum
jsonb_datum(const LanceConverter *conv, const LanceArray *a, int64 row)
{
	StringInfoData buf;

	initStringInfo(&buf);
	write_json(&buf, &conv->field->type, conv->field, a, row);
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}

/* The Datum of a valid value that is not a plain load (see load_width). */
static pg_noinline Datum
convert_other(const LanceConverter *conv, const LanceArray *array, int64 row)
{
	switch (conv->kind)
	{
		case CONV_VECTOR:
			return vector_datum(conv, array, row);
		case CONV_ARRAY:
			return array_datum(conv, array, row);
		case CONV_JSONB:
			return jsonb_datum(conv, array, row);
		case CONV_COMPOSITE:
			return lance_composite_datum(conv, array, row);
		default:
			return scalar_datum(&conv->field->type, conv->kind, array, row);
	}
}

/*
 * Kept small, with the general dispatch out of line: a scan calls this
 * for every value, and most values are plain loads.
 */
Datum
lance_convert_value(const LanceConverter *conv, const LanceArray *array, int64 row,
					bool *isnull)
{
	if (!lance_array_is_valid(array, row))
	{
		*isnull = true;
		return (Datum) 0;
	}
	*isnull = false;
	/* a float's Datum is its bits, as Float4GetDatum and Float8GetDatum make it */
	if (conv->load_width == 4)
	{
		int32		v;

		memcpy(&v, array->values + row * 4, 4);
		return Int32GetDatum(v);
	}
	if (conv->load_width == 8)
	{
		int64		v;

		memcpy(&v, array->values + row * 8, 8);
		return Int64GetDatum(v);
	}
	return convert_other(conv, array, row);
}

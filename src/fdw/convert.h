/*-------------------------------------------------------------------------
 *
 * convert.h
 *	  Lance types to Postgres types: the mapping, and values to Datums.
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_FDW_CONVERT_H
#define LANCEDB_FDW_CONVERT_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "fmgr.h"
#include "lance/array.h"
#include "lance/schema.h"

/* How one Lance field becomes one Postgres column's values. */
typedef enum LanceConvKind
{
	CONV_BOOL,
	CONV_INT2,
	CONV_INT4,
	CONV_INT8,
	CONV_NUMERIC,				/* uint64 and decimals */
	CONV_FLOAT4,
	CONV_FLOAT8,
	CONV_TEXT,
	CONV_BYTEA,
	CONV_DATE,
	CONV_TIMESTAMP,				/* with or without time zone: same Datum */
	CONV_TIME,
	CONV_INTERVAL,
	CONV_VECTOR,				/* fixed_size_list<float32> */
	CONV_ARRAY,					/* list / fixed_size_list of a scalar, list
								 * of structs into a composite array */
	CONV_COMPOSITE,				/* struct, into a composite type */
	CONV_JSONB					/* struct, nested lists */
} LanceConvKind;

typedef struct LanceConverter
{
	LanceConvKind kind;
	/*
	 * 4 or 8 when a value converts by loading its bytes as the Datum (int,
	 * bigint, real, double precision read from their own Arrow width), else 0
	 */
	int			load_width;
	const LanceField *field;
	/* the converter of the enclosing struct or list; NULL for a column */
	const struct LanceConverter *parent;
	Oid			typid;			/* the column's type */
	int32		typmod;
	/*
	 * for CONV_ARRAY: how the items convert, and the element type; for
	 * CONV_JSONB of a list of lists, how an inner list is written (as an
	 * array of its items, write_jsonb.c), else NULL
	 */
	struct LanceConverter *item;
	int16		elmlen;
	bool		elmbyval;
	char		elmalign;
	/* for CONV_JSONB of a list of lists: the items' input function */
	FmgrInfo	item_input;
	Oid			item_ioparam;
	/* for CONV_COMPOSITE: the type, and per member its converter and attribute */
	TupleDesc	rowdesc;
	struct LanceConverter **members;	/* NULL for a member without attribute */
	int		   *member_attr;	/* 0-based attribute, -1 = none */
} LanceConverter;

/*
 * The Postgres type a field maps to, as SQL text ("bigint", "vector(128)",
 * "text[]", "jsonb"), for IMPORT FOREIGN SCHEMA and messages.
 */
extern char *lance_field_sql_type(const LanceField *field);

/*
 * A converter from the field to a column of type typid/typmod, or an error
 * naming both when the column's type cannot hold the field's values.
 */
extern LanceConverter *lance_converter_for(const LanceField *field, Oid typid, int32 typmod,
										   const char *relname, const char *attname);

/* Value `row` of a decoded array as a Datum of the converter's type. */
extern Datum lance_convert_value(const LanceConverter *conv, const LanceArray *array,
								 int64 row, bool *isnull);

/* convert_composite.c */
extern void lance_composite_converter(LanceConverter *conv, const char *relname,
									  const char *attname);
extern Datum lance_composite_datum(const LanceConverter *conv, const LanceArray *array,
								   int64 row);

/*
 * Negate a little-endian two's-complement integer of len bytes in place
 * (an Arrow decimal's unscaled value): invert, then add one.
 */
extern void lance_decimal_negate(uint8 *bytes, int len);

/* The OID of our vector type (InvalidOid when the extension is not installed). */
extern Oid	lance_vector_type_oid(void);

#endif							/* LANCEDB_FDW_CONVERT_H */

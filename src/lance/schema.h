/*-------------------------------------------------------------------------
 *
 * schema.h
 *	  A Lance schema: the field tree and each field's logical type.
 *
 * Lance stores the schema flattened in pre-order (a parent before its
 * children, linked by parent_id; top-level fields have parent -1) with a
 * type string per field ("int32", "timestamp:us:-", "fixed_size_list:
 * float:128", ... FORMAT.md section 6).  We parse that into a tree whose
 * nodes carry a parsed LanceType.
 *
 * Fixed-size lists of primitives are one field with no child in Lance;
 * their item type lives in LanceType.item.  Lists and structs have child
 * fields.
 *
 * The structs here are read-only descriptors: callers look at them but
 * never build or change them (the schema owns every pointer).
 *
 *-------------------------------------------------------------------------
 */
#ifndef LANCEDB_LANCE_SCHEMA_H
#define LANCEDB_LANCE_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include "core/error.h"

typedef enum LanceTypeId
{
	LANCE_TYPE_NULL,
	LANCE_TYPE_BOOL,
	LANCE_TYPE_INT8,
	LANCE_TYPE_INT16,
	LANCE_TYPE_INT32,
	LANCE_TYPE_INT64,
	LANCE_TYPE_UINT8,
	LANCE_TYPE_UINT16,
	LANCE_TYPE_UINT32,
	LANCE_TYPE_UINT64,
	LANCE_TYPE_FLOAT16,
	LANCE_TYPE_FLOAT32,
	LANCE_TYPE_FLOAT64,
	LANCE_TYPE_DATE32,			/* int32 days since 1970-01-01 */
	LANCE_TYPE_DATE64,			/* int64 milliseconds */
	LANCE_TYPE_TIME32,			/* int32 in unit (s or ms) */
	LANCE_TYPE_TIME64,			/* int64 in unit (us or ns) */
	LANCE_TYPE_TIMESTAMP,		/* int64 in unit, optional time zone */
	LANCE_TYPE_DURATION,		/* int64 in unit */
	LANCE_TYPE_DECIMAL128,		/* 16-byte little-endian two's complement */
	LANCE_TYPE_DECIMAL256,		/* 32-byte */
	LANCE_TYPE_FIXED_SIZE_BINARY,
	LANCE_TYPE_STRING,			/* utf8, int32 offsets */
	LANCE_TYPE_LARGE_STRING,	/* utf8, int64 offsets */
	LANCE_TYPE_BINARY,
	LANCE_TYPE_LARGE_BINARY,
	LANCE_TYPE_FIXED_SIZE_LIST,
	LANCE_TYPE_LIST,			/* int32 offsets */
	LANCE_TYPE_LARGE_LIST,		/* int64 offsets */
	LANCE_TYPE_STRUCT
} LanceTypeId;

typedef enum LanceTimeUnit
{
	LANCE_UNIT_NONE,
	LANCE_UNIT_S,
	LANCE_UNIT_MS,
	LANCE_UNIT_US,
	LANCE_UNIT_NS
} LanceTimeUnit;

typedef struct LanceType
{
	LanceTypeId id;
	/*
	 * Bytes per value for fixed-width types (bool: 0, it is a bitmap);
	 * for fixed_size_list the bytes of one whole list when the item is
	 * fixed width; 0 for variable-width and nested types.
	 */
	int32_t		byte_width;
	int32_t		fixed_size;		/* fixed_size_list dimension, fixed_size_binary width */
	int32_t		precision;		/* decimal */
	int32_t		scale;			/* decimal */
	LanceTimeUnit unit;			/* time, timestamp, duration */
	const char *timezone;		/* timestamp; NULL when none ("-") */
	const struct LanceType *item;	/* fixed_size_list item type */
} LanceType;

typedef struct LanceField
{
	int32_t		id;
	int32_t		parent_id;		/* -1 at top level */
	const char *name;
	const char *logical_type;	/* as stored */
	bool		nullable;
	LanceType	type;
	const struct LanceField *parent;	/* NULL at top level */
	int			num_children;
	const struct LanceField **children;
} LanceField;

typedef struct LanceSchema LanceSchema;

/* One field as it comes from a manifest or file descriptor. */
typedef struct LanceFieldSpec
{
	int32_t		id;
	int32_t		parent_id;
	const char *name;
	const char *logical_type;
	bool		nullable;
} LanceFieldSpec;

/*
 * Build a schema from fields in Lance's pre-order.  `where` names the
 * source for messages ("_versions/3.manifest").  Unknown logical types
 * are an UNSUPPORTED error naming the field and the type.
 */
extern CoreStatus lance_schema_build(const LanceFieldSpec *specs, int count, const char *where,
									 LanceSchema **out, CoreError *err);
extern void lance_schema_free(LanceSchema *schema);

/* Top-level fields, in schema (= scan column) order. */
extern int	lance_schema_num_top(const LanceSchema *schema);
extern const LanceField *lance_schema_top(const LanceSchema *schema, int i);

/* Every field, in pre-order. */
extern int	lance_schema_num_fields(const LanceSchema *schema);
extern const LanceField *lance_schema_field(const LanceSchema *schema, int i);

/* Lookups; NULL when absent.  Names match top-level fields exactly. */
extern const LanceField *lance_schema_find_id(const LanceSchema *schema, int32_t id);
extern const LanceField *lance_schema_find_top(const LanceSchema *schema, const char *name);

/* Whether a field is a leaf (no child fields: primitives, strings, FSL). */
extern bool lance_field_is_leaf(const LanceField *field);

/* A short name for a type id ("int32", "list", ...), for messages. */
extern const char *lance_type_name(LanceTypeId id);

/*
 * Parse a logical type string into *type.  Strings the type refers to
 * (time zone) and the FSL item type are allocated and must be released
 * with lance_type_release.  Returns false for an unknown type string.
 */
extern bool lance_type_parse(const char *logical_type, LanceType *type);
extern void lance_type_release(LanceType *type);

#endif							/* LANCEDB_LANCE_SCHEMA_H */
